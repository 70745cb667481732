//! The container route's base image: the distro image, or the spec's `image.base` / one
//! `image.bases` entry (an image source, its `cmd` steps included).

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_buildkit::llb::definition_to_json;
use kiln_buildkit::options::BuildOpts;
use kiln_frontend::plan;

fn opts(target: &str) -> BuildOpts {
    let mut o = BuildOpts::default();
    o.opts.insert("target".into(), target.into());
    o
}

const HEAD: &str = "name: ab\nversion: \"1\"\npackager: a <a@b.c>\ndescription: d\nbuild:\n  steps:\n    - command: make\n";

fn planned(image: &str, target: &str) -> Result<(String, String), String> {
    let text = format!("{HEAD}{image}");
    plan::plan_text("spec.yml", &text, &opts(target), &Default::default())
        .map(|p| {
            (
                definition_to_json(&p.state.marshal()).to_string(),
                p.base_image,
            )
        })
        .map_err(|e| e.to_string())
}

#[test]
fn the_distro_image_is_the_testing_containers_base() {
    let (json, base) = planned("", "bookworm/testing/container").unwrap();
    assert_eq!(base, "docker.io/library/debian:bookworm");
    assert!(json.contains("ca-certificates"), "{json}");
}

#[test]
fn the_minimal_container_starts_from_nothing_unless_the_spec_names_a_base() {
    let (json, base) = planned("", "bookworm/container").unwrap();
    assert_eq!(base, "", "no base image config");
    assert!(json.contains("unpack the essential packages"), "{json}");
    assert!(json.contains("the image in one layer"), "{json}");
    // With image.base, Dalec's container installs into it: the testing container there.
    let (json, base) = planned(
        "image:\n  base: example.org/os/debian-slim:12\n",
        "bookworm/container",
    )
    .unwrap();
    assert_eq!(base, "example.org/os/debian-slim:12");
    assert!(!json.contains("unpack the essential packages"), "{json}");
}

#[test]
fn image_base_replaces_the_distro_image() {
    let (json, base) = planned(
        "image:\n  base: example.org/os/debian-slim:12\n",
        "bookworm/container",
    )
    .unwrap();
    assert_eq!(base, "example.org/os/debian-slim:12");
    assert!(
        json.contains("docker-image://example.org/os/debian-slim:12"),
        "{json}"
    );
}

#[test]
fn one_image_source_in_bases_is_the_base_with_its_steps() {
    let (json, base) = planned(
        "image:\n  bases:\n    - rootfs:\n        image:\n          ref: example.org/os/debian:12\n          cmd:\n            steps:\n              - command: touch /etc/marker\n",
        "bookworm/container",
    )
    .unwrap();
    assert_eq!(base, "example.org/os/debian:12");
    assert!(
        json.contains("docker-image://example.org/os/debian:12"),
        "{json}"
    );
    assert!(json.contains("touch /etc/marker"), "{json}");
}

#[test]
fn several_bases_are_refused_at_the_second() {
    let e = planned(
        "image:\n  bases:\n    - rootfs:\n        image:\n          ref: a.example/x:1\n    - rootfs:\n        image:\n          ref: b.example/y:1\n",
        "bookworm/container",
    )
    .unwrap_err();
    assert!(
        e.starts_with("spec.yml:13:7: image.bases lists 2 images: a Linux container has one base"),
        "{e}"
    );
}
