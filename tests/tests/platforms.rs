//! `--platform`: hello built for linux/386 (which x86_64 runs natively) is an i386 package
//! whose spec tests ran in an i386 container, and an i386 image that runs. The engine's mirror
//! (scripts/engine.sh) serves debian:bookworm for both platforms.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::process::Command;

#[test]
fn hello_builds_for_another_platform() {
    if !engine_ready() {
        return;
    }
    let spec = repo_root().join("specs/hello.yml");
    let (out, o) = build_into_tempdir(&spec, "bookworm/deb", &["--platform", "linux/386"]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    let deb = "hello_2.10-debian12u1_i386.deb";
    assert!(
        file_names(out.path()).contains(&deb.to_string()),
        "{:?}",
        file_names(out.path())
    );
    let arch = run(Command::new("dpkg-deb")
        .args(["-f"])
        .arg(out.path().join(deb))
        .arg("Architecture"));
    assert_eq!(String::from_utf8_lossy(&arch.stdout).trim(), "i386");
    // The spec's tests are part of the i386 build (run, or cached from a run that passed).
    assert!(
        log.contains("[kiln bookworm] test greets the world"),
        "{log}"
    );

    let tag = "kiln-e2e/hello:i386";
    let o = build(
        &spec,
        "bookworm/testing/container",
        &repo_root(),
        &["--platform", "linux/386", "--load", "-t", tag],
    );
    assert!(o.status.success(), "{}", text(&o));
    let image_arch = run(Command::new("docker").args([
        "image",
        "inspect",
        "-f",
        "{{.Os}}/{{.Architecture}}",
        tag,
    ]));
    assert_eq!(
        String::from_utf8_lossy(&image_arch.stdout).trim(),
        "linux/386"
    );
    let hello = run(Command::new("docker").args(["run", "--rm", "--platform", "linux/386", tag]));
    assert_eq!(
        String::from_utf8_lossy(&hello.stdout),
        "Hello, world!\n",
        "{}",
        text(&hello)
    );
    let dpkg = run(Command::new("docker").args([
        "run",
        "--rm",
        "--platform",
        "linux/386",
        "--entrypoint",
        "dpkg",
        tag,
        "--print-architecture",
    ]));
    assert_eq!(String::from_utf8_lossy(&dpkg.stdout).trim(), "i386");
}
