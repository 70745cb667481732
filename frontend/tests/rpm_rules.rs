//! What the RPM family asks of a spec, and its deps-only image: errors name the problem and
//! the spec line; the meta-package of `container/depsonly` carries the runtime dependencies,
//! with Dalec's defaults for a bare spec.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_buildkit::llb::definition_to_json;
use kiln_buildkit::options::BuildOpts;
use kiln_frontend::plan;

fn opts(target: &str) -> BuildOpts {
    let mut o = BuildOpts::default();
    o.opts.insert("target".into(), target.into());
    o
}

fn planned(text: &str, target: &str) -> Result<plan::Plan, String> {
    plan::plan_text("spec.yml", text, &opts(target), &Default::default()).map_err(|e| e.to_string())
}

/// The contents of the file the LLB writes at `path` that has `marker` in it.
fn written(plan: &plan::Plan, path: &str, marker: &str) -> String {
    let json = definition_to_json(&plan.state.marshal());
    let found = json["ops"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|op| {
            op["op"]["file"]["actions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|a| {
            a["mkfile"]["path"] == path
                && a["mkfile"]["data"]
                    .as_str()
                    .is_some_and(|d| d.contains(marker))
        })
        .unwrap_or_else(|| panic!("no {path} written in {json}"));
    found["mkfile"]["data"].as_str().unwrap().to_string()
}

const PACKAGE: &str = "name: demo\nversion: \"1.0\"\nlicense: MIT\ndescription: d\n";

#[test]
fn a_constraint_rpm_cannot_express_is_an_error_at_its_line() {
    let text =
        format!("{PACKAGE}dependencies:\n  runtime:\n    bash:\n      version: [\"!= 5\"]\n");
    let e = planned(&text, "almalinux9/rpm").err().unwrap();
    assert!(e.contains("spec.yml:8:"), "{e}");
    assert!(e.contains("RPM has <, <=, =, >= and > but no !="), "{e}");
}

#[test]
fn a_version_with_a_dash_is_an_error_at_its_line() {
    let text = PACKAGE.replace("\"1.0\"", "\"1.0-beta\"");
    let e = planned(&text, "fedora/rpm").err().unwrap();
    assert!(e.contains("spec.yml:2:"), "{e}");
    assert!(e.contains("invalid RPM version \"1.0-beta\""), "{e}");
}

#[test]
fn a_deps_only_image_needs_runtime_dependencies() {
    let text = format!("{PACKAGE}dependencies:\n  build:\n    gcc:\n");
    let e = planned(&text, "almalinux9/container/depsonly")
        .err()
        .unwrap();
    assert!(e.contains("spec.yml:5:"), "at `dependencies:`: {e}");
    assert!(e.contains("dependencies.runtime lists none"), "{e}");
}

#[test]
fn the_deps_only_meta_package_requires_the_runtime_dependencies() {
    let text = format!(
        "{PACKAGE}dependencies:\n  runtime:\n    bash:\n      version: [\">= 4\"]\n    jq:\n      arch: [amd64]\n"
    );
    let p = planned(&text, "rockylinux9/container/depsonly").unwrap();
    assert_eq!(p.base_image, "", "an empty root");
    let spec = written(&p, "/meta.spec", "runtime-deps");
    for want in [
        "Name: demo-runtime-deps\n",
        "Version: 1.0\n",
        "Release: 1%{?dist}\n",
        "License: MIT\n",
        "Requires: bash >= 4\n",
        "%ifarch x86_64\nRequires: jq\n%endif\n",
        "%files\n",
    ] {
        assert!(spec.contains(want), "{want:?} not in\n{spec}");
    }
}

#[test]
fn a_bare_spec_gets_dalecs_defaults_in_its_deps_only_image() {
    let p = planned(
        "dependencies:\n  runtime:\n    patch:\n    bash:\n",
        "azlinux3/container/depsonly",
    )
    .unwrap();
    let spec = written(&p, "/meta.spec", "runtime-deps");
    for want in [
        "Name: kiln-user-runtime-deps\n",
        "Version: 0.0.1\n",
        "Release: 1%{?dist}\n",
        "License: MIT\n",
        "Requires: bash\nRequires: patch\n",
    ] {
        assert!(spec.contains(want), "{want:?} not in\n{spec}");
    }
}
