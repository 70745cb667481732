//! Named build contexts that replace the build worker, under Dalec's names: the image the
//! worker is made from (`debian:bookworm`), or a complete worker (`dalec-bookworm-worker`).

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::process::Command;

/// An image with a marker file.
const MARKED_IMAGE: &str = "FROM debian:bookworm\nRUN touch /etc/kiln-e2e-marker\n";

/// A spec whose build only succeeds on a worker made from the marked image.
const MARKED: &str = "# syntax=kiln/frontend:dev\nname: marked\nversion: \"1.0\"\nrevision: 1\nlicense: MIT\npackager: kiln <kiln@example.invalid>\ndescription: A package that needs a marked worker\nbuild:\n  steps:\n    - command: test -e /etc/kiln-e2e-marker && echo marked > marked\nartifacts:\n  docs:\n    marked:\n";

#[test]
fn the_worker_base_can_be_replaced() {
    if !engine_ready() {
        return;
    }
    let image = "kiln-e2e/debian-marked:bookworm";
    image_from_dockerfile(image, MARKED_IMAGE);
    let (dir, spec) = spec_in_tempdir(MARKED);
    let context = format!("debian:bookworm=docker-image://{image}");
    let (out, o) = build_into(
        &spec,
        "bookworm/deb",
        dir.path(),
        &["--build-context", &context],
    );
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("[kiln] the worker's base from --build-context debian:bookworm"),
        "{log}"
    );
    assert!(
        file_names(out.path())
            .iter()
            .any(|f| f.starts_with("marked_1.0-debian12u1_") && f.ends_with(".deb")),
        "{:?}",
        file_names(out.path())
    );
}

#[test]
fn a_complete_worker_is_used_as_it_is() {
    if !engine_ready() {
        return;
    }
    let spec = repo_root().join("specs/hello.yml");
    let worker = "kiln-e2e/worker:bookworm";
    let o = build(
        &spec,
        "bookworm/worker",
        &repo_root(),
        &["--load", "-t", worker],
    );
    assert!(o.status.success(), "{}", text(&o));
    let context = format!("dalec-bookworm-worker=docker-image://{worker}");
    let (out, o) = build_into_tempdir(&spec, "bookworm/deb", &["--build-context", &context]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("[kiln] the worker from --build-context dalec-bookworm-worker"),
        "{log}"
    );
    assert!(
        !log.contains("prepare build worker"),
        "the packaging tools were installed again:\n{log}"
    );
    let deb = "hello_2.10-debian12u1_amd64.deb";
    let run = install_and_run(out.path(), "bookworm", deb, "hello");
    assert_eq!(String::from_utf8_lossy(&run.stdout), "Hello, world!\n");
}

#[test]
fn a_worker_that_is_not_an_image_is_refused() {
    if !engine_ready() {
        return;
    }
    let spec = repo_root().join("specs/hello.yml");
    let context = format!(
        "dalec-bookworm-worker={}",
        repo_root().join("specs").display()
    );
    let (_out, o) = build_into_tempdir(&spec, "bookworm/deb", &["--build-context", &context]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains("--build-context dalec-bookworm-worker=local:dalec-bookworm-worker: the worker must be an image (docker-image://REF) or a bake target (target:NAME)"),
        "{log}"
    );
}

#[test]
fn image_base_is_the_containers_base() {
    if !engine_ready() {
        return;
    }
    let image = "kiln-e2e/debian-marked:bookworm";
    image_from_dockerfile(image, MARKED_IMAGE);
    let hello = std::fs::read_to_string(repo_root().join("specs/hello.yml")).expect("hello.yml");
    assert!(hello.contains("\nimage:\n"), "hello.yml has changed");
    let (dir, spec) =
        spec_in_tempdir(&hello.replace("\nimage:\n", &format!("\nimage:\n  base: {image}\n")));
    let tag = "kiln-e2e/hello:marked";
    let o = build(
        &spec,
        "bookworm/container",
        dir.path(),
        &["--load", "-t", tag],
    );
    assert!(o.status.success(), "{}", text(&o));
    let marker = run(Command::new("docker").args([
        "run",
        "--rm",
        "--entrypoint",
        "test",
        tag,
        "-e",
        "/etc/kiln-e2e-marker",
    ]));
    assert!(marker.status.success(), "the base's marker is missing");
    let run_hello = run(Command::new("docker").args(["run", "--rm", tag]));
    assert_eq!(
        String::from_utf8_lossy(&run_hello.stdout),
        "Hello, world!\n"
    );
}

#[test]
fn the_container_route_installs_prebuilt_packages() {
    if !engine_ready() {
        return;
    }
    let spec = repo_root().join("specs/hello.yml");
    let debs = build_to_dir(&spec, "bookworm/deb");
    let tag = "kiln-e2e/hello:prebuilt";
    let context = format!("bookworm-pkg={}", debs.path().display());
    let o = build(
        &spec,
        "bookworm/container",
        &repo_root(),
        &["--build-context", &context, "--load", "-t", tag],
    );
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("[kiln] prebuilt packages from --build-context bookworm-pkg"),
        "{log}"
    );
    assert!(
        !log.contains("dpkg-buildpackage"),
        "the package was built again:\n{log}"
    );
    let hello = run(Command::new("docker").args(["run", "--rm", tag]));
    assert_eq!(String::from_utf8_lossy(&hello.stdout), "Hello, world!\n");

    let empty = tempfile::tempdir().expect("temporary directory");
    let context = format!("pkg={}", empty.path().display());
    let o = build(
        &spec,
        "bookworm/container",
        &repo_root(),
        &["--build-context", &context],
    );
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains("kiln: no hello_*.deb among the packages to install"),
        "{log}"
    );
}
