//! `--platform`: a build for another platform uses that platform's images and args, a list of
//! platforms is checked as a whole, and platforms kiln cannot build are refused by name.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

mod common;

use common::opts;

use kiln_buildkit::llb::definition_to_json;
use kiln_buildkit::options::BuildOpts;
use kiln_frontend::{plan, resolve};
use serde_json::Value;

/// The architecture of every image source op in a target's LLB, by image.
fn image_architectures(text: &str, o: &BuildOpts) -> Vec<(String, String)> {
    let def = plan::plan_text("spec.yml", text, o, &Default::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .state
        .marshal();
    let json = definition_to_json(&def);
    let mut out = Vec::new();
    collect(&json, &mut out);
    out.sort();
    out.dedup();
    out
}

fn collect(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            let image = m
                .get("source")
                .and_then(|s| s.get("identifier"))
                .and_then(Value::as_str)
                .filter(|id| id.starts_with("docker-image://"));
            if let (Some(image), Some(arch)) = (
                image,
                m.get("platform")
                    .and_then(|p| p.get("Architecture"))
                    .and_then(Value::as_str),
            ) {
                out.push((image.to_string(), arch.to_string()));
            }
            m.values().for_each(|x| collect(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
        _ => {}
    }
}

const SPEC: &str = "name: ab\nversion: \"1\"\npackager: a <a@b.c>\ndescription: d\nargs:\n  TARGETARCH: \"\"\n  BUILDARCH: \"\"\nbuild:\n  env:\n    FOR: ${TARGETARCH}\n    ON: ${BUILDARCH}\n  steps:\n    - command: make\n";

#[test]
fn another_platform_builds_in_that_platforms_images() {
    let worker = "docker-image://docker.io/library/debian:bookworm".to_string();
    assert_eq!(
        image_architectures(SPEC, &opts("bookworm/deb", Some("linux/386"))),
        vec![(worker.clone(), "386".to_string())]
    );
    assert_eq!(
        image_architectures(SPEC, &opts("bookworm/container", Some("linux/arm64/v8"))),
        vec![(worker.clone(), "arm64".to_string())]
    );
    // Without --platform: the worker's own platform (linux/amd64 offline).
    assert_eq!(
        image_architectures(SPEC, &opts("bookworm/deb", None)),
        vec![(worker, "amd64".to_string())]
    );
}

#[test]
fn platform_args_name_the_target_and_the_build_platform() {
    let yaml = resolve::resolve_yaml("spec.yml", SPEC, &opts("bookworm", Some("linux/386")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        yaml.contains("FOR: '386'") || yaml.contains("FOR: \"386\""),
        "{yaml}"
    );
    assert!(yaml.contains("\"ON\": amd64"), "{yaml}");
}

#[test]
fn platforms_kiln_cannot_build_are_refused_by_name() {
    for (platform, message) in [
        (
            "linux/amd64,windows/amd64",
            "platform windows/amd64 is not supported: kiln builds Linux packages",
        ),
        ("linux/amd64/v2/x", "invalid platform \"linux/amd64/v2/x\""),
    ] {
        let e = plan::plan_text(
            "spec.yml",
            SPEC,
            &opts("bookworm/deb", Some(platform)),
            &Default::default(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains(message), "{platform}: {e}");
    }
}
