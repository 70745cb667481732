//! `build.caches` in the package build's LLB: Go's build cache added for a Go build as Dalec
//! adds it, sccache taken from the build dependencies when they have it, and a platform that
//! has no sccache release refused at the cache's line.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

mod common;

use common::opts;

use kiln_buildkit::llb::definition_to_json;
use kiln_frontend::plan;

/// The LLB of bookworm/deb of `text` (for `platform`), as JSON text.
fn llb(text: &str, platform: Option<&str>) -> Result<String, String> {
    let planned = plan::plan_text(
        "spec.yml",
        text,
        &opts("bookworm/deb", platform),
        &Default::default(),
    )
    .map_err(|e| e.to_string())?;
    Ok(definition_to_json(&planned.state.marshal()).to_string())
}

/// A spec with these build dependencies and caches (YAML lines under `build:`).
fn spec(deps: &[&str], caches: &str) -> String {
    let deps: String = deps.iter().map(|d| format!("    {d}:\n")).collect();
    format!(
        "name: cached\nversion: \"1\"\npackager: a <a@b.c>\ndescription: d\nlicense: MIT\ndependencies:\n  build:\n{deps}build:\n{caches}  steps:\n    - command: make\n"
    )
}

#[test]
fn a_go_build_gets_gos_build_cache_unless_it_is_disabled() {
    for deps in [
        &["golang-go"][..],
        &["golang"],
        &["golang-1.22-go"],
        &["msft-golang"],
    ] {
        let json = llb(&spec(deps, ""), None).unwrap();
        assert!(
            json.contains("GOCACHE=/var/cache/kiln/go-build"),
            "{deps:?}"
        );
        assert!(
            json.contains("kiln-gobuild-bookworm-linux-amd64"),
            "{deps:?}"
        );
    }
    let json = llb(&spec(&["make"], ""), None).unwrap();
    assert!(!json.contains("GOCACHE"), "no Go, no Go cache");
    let disabled = "  caches:\n    - gobuild:\n        disabled: true\n";
    let json = llb(&spec(&["golang-go"], disabled), None).unwrap();
    assert!(!json.contains("GOCACHE"), "disabled");
    let scoped = "  caches:\n    - gobuild:\n        scope: s\n";
    let json = llb(&spec(&["golang-go"], scoped), None).unwrap();
    assert!(json.contains("kiln-gobuild-bookworm-linux-amd64-s"));
    assert!(
        !json.contains("kiln-gobuild-bookworm-linux-amd64\""),
        "the declared cache only"
    );
}

#[test]
fn sccache_from_the_build_dependencies_needs_no_download() {
    let caches = "  caches:\n    - rustsccache: {}\n";
    let json = llb(&spec(&["cargo", "sccache"], caches), None).unwrap();
    assert!(json.contains("RUSTC_WRAPPER=sccache"), "{json}");
    assert!(json.contains("SCCACHE_DIR=/var/cache/kiln/sccache"));
    assert!(!json.contains("github.com/mozilla/sccache"), "no download");

    let json = llb(&spec(&["cargo"], caches), Some("linux/arm64")).unwrap();
    assert!(json.contains("RUSTC_WRAPPER=/usr/local/libexec/kiln/sccache"));
    assert!(json.contains("sccache-v0.10.0-aarch64-unknown-linux-musl.tar.gz"));
    assert!(
        json.contains("sha256:d6a1ce4acd02b937cd61bc675a8be029a60f7bc167594c33d75732bbc0a07400")
    );
}

#[test]
fn a_platform_without_an_sccache_release_is_refused_at_the_cache() {
    let caches = "  caches:\n    - dir:\n        dest: /x\n    - rustsccache: {}\n";
    let e = llb(&spec(&["cargo"], caches), Some("linux/386")).unwrap_err();
    assert!(
        e.contains(
            "spec.yml:13:7: the rustsccache cache needs sccache, which has no v0.10.0 release for linux/386: add sccache to dependencies.build to use the distro's"
        ),
        "{e}"
    );
}
