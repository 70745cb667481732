//! Dependency generators against the real registries this machine reaches: crates.io for
//! `cargohome`, PyPI for `pip`. The builds themselves run without network.

use kiln_e2e::*;
use std::process::Command;

#[test]
fn cargohome_generator_feeds_an_offline_cargo_build() {
    if !engine_ready() {
        return;
    }
    // trixie's cargo speaks the sparse crates.io index (bookworm's is too old for it).
    let out = build_to_dir(
        &repo_root().join("tests/fixtures/cargo-generator.yml"),
        "trixie/deb",
    );
    let deb = "kiln-cargo-demo_1.0-debian13u1_amd64.deb";
    assert!(
        out.path().join(deb).exists(),
        "{:?}",
        file_names(out.path())
    );
    let mount = format!("{}:/pkgs:ro", out.path().display());
    let script = format!("dpkg -i /pkgs/{deb} >/dev/null && kiln-cargo-demo");
    let o = run(Command::new("docker").args([
        "run",
        "--rm",
        "-v",
        &mount,
        "debian:trixie",
        "sh",
        "-c",
        &script,
    ]));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "itoa formats 42\n",
        "{}",
        text(&o)
    );
}

#[test]
fn pip_generator_feeds_an_offline_pip_install() {
    if !engine_ready() {
        return;
    }
    let out = build_to_dir(
        &repo_root().join("tests/fixtures/pip-generator.yml"),
        "bookworm/deb",
    );
    let deb = out.path().join("kiln-pip-demo_1.0-debian12u1_all.deb");
    let listing = text(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)));
    assert!(
        listing.contains("./usr/share/kiln-pip-demo/vendor/six.py"),
        "{listing}"
    );
}
