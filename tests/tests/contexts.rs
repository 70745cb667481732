//! Named build contexts that replace the build worker, under Dalec's names: the image the
//! worker is made from (`debian:bookworm`), or a complete worker (`dalec-bookworm-worker`).

use kiln_e2e::*;
use std::process::Command;

/// A spec whose build only succeeds on a worker made from the marked image.
const MARKED: &str = "# syntax=kiln/frontend:dev\nname: marked\nversion: \"1.0\"\nrevision: 1\nlicense: MIT\npackager: kiln <kiln@example.invalid>\ndescription: A package that needs a marked worker\nbuild:\n  steps:\n    - command: test -e /etc/kiln-e2e-marker && echo marked > marked\nartifacts:\n  docs:\n    marked:\n";

#[test]
fn the_worker_base_can_be_replaced() {
    if !engine_ready() {
        return;
    }
    let image = "kiln-e2e/debian-marked:bookworm";
    let mut docker = Command::new("docker");
    docker
        .args(["build", "-q", "-t", image, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = docker.spawn().expect("docker build");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"FROM debian:bookworm\nRUN touch /etc/kiln-e2e-marker\n")
            .expect("write Dockerfile");
    }
    let o = child.wait_with_output().expect("docker build");
    assert!(o.status.success(), "{}", text(&o));

    let (dir, spec) = spec_in_tempdir(MARKED);
    let context = format!("debian:bookworm=docker-image://{image}");
    let out = tempfile::tempdir().expect("temporary directory");
    let dest = format!("type=local,dest={}", out.path().display());
    let o = build(
        &spec,
        "bookworm/deb",
        dir.path(),
        &["--build-context", &context, "--output", &dest],
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
        log.contains("--build-context dalec-bookworm-worker=local:dalec-bookworm-worker: the worker must be an image (docker-image://REF)"),
        "{log}"
    );
}
