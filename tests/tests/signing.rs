//! `package_config.signer`: the packages go to the signer frontend (here the phony
//! kiln/test-signer:dev, which returns them with a record of the request), its files come back
//! over the packages, and the container installs the signed ones.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::process::Command;

/// The signer's image, built by `make test-signer`.
const SIGNER: &str = "kiln/test-signer:dev";

fn signed_hello() -> (tempfile::TempDir, std::path::PathBuf) {
    let hello = std::fs::read_to_string(repo_root().join("specs/hello.yml")).expect("hello.yml");
    assert!(hello.contains("\nchangelog:\n"), "hello.yml has changed");
    let spec = hello.replace(
        "\nchangelog:\n",
        &format!("\npackage_config:\n  signer:\n    image: {SIGNER}\n    args:\n      SIGNING_KEY_ID: kiln-test-key\n\nchangelog:\n"),
    );
    spec_in_tempdir(&spec)
}

fn signer_ready() -> bool {
    image_ready(SIGNER, "test-signer")
}

#[test]
fn packages_go_through_the_signer() {
    if !engine_ready() || !signer_ready() {
        return;
    }
    let (dir, spec) = signed_hello();
    let (out, o) = build_into(&spec, "bookworm/deb", dir.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let record =
        std::fs::read_to_string(out.path().join("signed-by-test-signer")).unwrap_or_else(|e| {
            panic!(
                "no record from the signer ({e}): {:?}",
                file_names(out.path())
            )
        });
    assert!(record.contains("target=bookworm\n"), "{record}");
    assert!(
        record.contains("file=hello_2.10-debian12u1_amd64.deb\n"),
        "{record}"
    );
    assert!(
        record.contains("arg:SIGNING_KEY_ID=kiln-test-key\n"),
        "{record}"
    );
    let deb = "hello_2.10-debian12u1_amd64.deb";
    let run = install_and_run(out.path(), "bookworm", deb, "hello");
    assert_eq!(String::from_utf8_lossy(&run.stdout), "Hello, world!\n");

    // A build arg turns signing off, with a warning.
    let (out, o) = build_into(
        &spec,
        "bookworm/deb",
        dir.path(),
        &["--build-arg", "DALEC_SKIP_SIGNING=1"],
    );
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(!out.path().join("signed-by-test-signer").exists());
    assert!(
        log.contains("Signing disabled by build-arg \"DALEC_SKIP_SIGNING\""),
        "{log}"
    );
}

#[test]
fn the_container_installs_the_signed_packages() {
    if !engine_ready() || !signer_ready() {
        return;
    }
    let (dir, spec) = signed_hello();
    let o = build(
        &spec,
        "bookworm/container",
        dir.path(),
        &["--load", "-t", "kiln-e2e/hello:signed"],
    );
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("[kiln bookworm] signed packages"), "{log}");
    let hello = run(Command::new("docker").args(["run", "--rm", "kiln-e2e/hello:signed"]));
    assert_eq!(String::from_utf8_lossy(&hello.stdout), "Hello, world!\n");
}

#[test]
fn a_signing_config_file_names_the_signer() {
    if !engine_ready() || !signer_ready() {
        return;
    }
    let config = tempfile::tempdir().expect("temporary directory");
    std::fs::write(
        config.path().join("sign.yml"),
        format!("signer:\n  image: {SIGNER}\n  args:\n    FROM_FILE: \"yes\"\n"),
    )
    .expect("write the signing config");
    let context = format!("signcfg={}", config.path().display());
    let args = [
        "--build-context",
        context.as_str(),
        "--build-arg",
        "DALEC_SIGNING_CONFIG_CONTEXT_NAME=signcfg",
        "--build-arg",
        "DALEC_SIGNING_CONFIG_PATH=/sign.yml",
    ];
    // The spec names a signer too: the file wins, with a warning.
    let (dir, spec) = signed_hello();
    let (out, o) = build_into(&spec, "bookworm/deb", dir.path(), &args);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    let record = std::fs::read_to_string(out.path().join("signed-by-test-signer"))
        .unwrap_or_else(|e| panic!("no record from the signer ({e})"));
    assert!(record.contains("arg:FROM_FILE=yes\n"), "{record}");
    assert!(!record.contains("SIGNING_KEY_ID"), "{record}");
    assert!(
        log.contains("Spec signing config overwritten by config at path /sign.yml"),
        "{log}"
    );

    // A config that names no signer is an error that says so.
    std::fs::write(
        config.path().join("sign.yml"),
        "signer:\n  cmdline: /signer\n",
    )
    .unwrap();
    let (_out, o) = build_into(&spec, "bookworm/deb", dir.path(), &args);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains("/sign.yml: the signing config names no signer image"),
        "{log}"
    );
}
