//! The signing rounds a plan asks for: one for Linux packages (the packages), two for
//! Windows zips and MSIs (the binaries before they are packed, as Dalec's contract has it,
//! then the zip or MSI), one for a Windows image (its binaries); each round's result is
//! copied over what was built, and what comes after is made of it.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_buildkit::llb::{FileActions, State, definition_to_json};
use kiln_buildkit::options::BuildOpts;
use kiln_frontend::plan::{self, Loaded, Prepared};
use kiln_frontend::request::signing::Stage;

const SPEC: &str = "name: ab\nversion: \"1.0\"\nlicense: MIT\ndescription: d\npackager: a <a@b.c>\n\
build:\n  steps:\n    - command: make\nartifacts:\n  binaries:\n    ab.exe:\n\
package_config:\n  signer:\n    image: example.org/signer:1\n";

fn opts(target: &str) -> BuildOpts {
    let mut o = BuildOpts::default();
    o.opts.insert("target".into(), target.into());
    o
}

/// A signer's result, told apart by its one file.
fn signed(name: &str) -> State {
    State::scratch().file(
        FileActions::new().mkfile(&format!("/{name}"), 0o644, Vec::new()),
        name,
    )
}

/// The stages of the rounds `target` asks for, each planned with the results of the ones
/// before, and the LLB of the plan with every round done.
fn rounds(target: &str) -> (Vec<Stage>, String) {
    let loaded = Loaded::load("spec.yml", SPEC).unwrap();
    let none = Default::default();
    let prepared = Prepared {
        built: &none,
        source_excludes: &[],
        image_base: 0,
    };
    let o = opts(target);
    let mut results = Vec::new();
    let mut stages = Vec::new();
    loop {
        let p = plan::plan_signed(&loaded, &o, &prepared, &results).unwrap();
        match p.signing {
            Some(round) => {
                assert!(stages.len() < 3, "{target}: rounds without end");
                stages.push(round.stage);
                results.push(signed(&format!("round-{}", stages.len())));
            }
            None => return (stages, definition_to_json(&p.state.marshal()).to_string()),
        }
    }
}

#[test]
fn linux_packages_are_signed_once() {
    let (stages, llb) = rounds("bookworm/deb");
    assert_eq!(stages, [Stage::Packages]);
    assert!(llb.contains("[kiln bookworm] signed packages"), "{llb}");
    assert!(llb.contains("/round-1"), "{llb}");
}

#[test]
fn windows_binaries_are_signed_before_they_are_packed_and_the_package_after() {
    for target in ["windowscross/zip", "windowscross/msi"] {
        let (stages, llb) = rounds(target);
        assert_eq!(stages, [Stage::Programs, Stage::Packages], "{target}");
        for (what, file) in [("binaries", "/round-1"), ("packages", "/round-2")] {
            assert!(
                llb.contains(&format!("[kiln windowscross] signed {what}")),
                "{target}: {what}"
            );
            assert!(llb.contains(file), "{target}: {file}");
        }
    }
    // The image is made of the signed binaries; it is no package to sign.
    let (stages, llb) = rounds("windowscross/container");
    assert_eq!(stages, [Stage::Programs]);
    assert!(llb.contains("[kiln windowscross] signed binaries"), "{llb}");
}

#[test]
fn a_build_arg_turns_every_round_off() {
    let loaded = Loaded::load("spec.yml", SPEC).unwrap();
    let none = Default::default();
    let prepared = Prepared {
        built: &none,
        source_excludes: &[],
        image_base: 0,
    };
    let mut o = opts("windowscross/zip");
    o.opts
        .insert("build-arg:DALEC_SKIP_SIGNING".into(), "1".into());
    let p = plan::plan_signed(&loaded, &o, &prepared, &[]).unwrap();
    assert!(p.signing.is_none());
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("Signing disabled by build-arg")),
        "{:?}",
        p.warnings
    );
}
