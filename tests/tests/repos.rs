//! `dependencies.extra_repos`: a signed local apt repository (a named context, mounted as
//! `data`), its key fetched over HTTP and its list inline give a build dependency, a runtime
//! dependency installed into the container, and the file a spec test checks.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::path::Path;
use std::process::Command;

/// Runs a host tool and panics with its output when it fails.
fn tool(cmd: &mut Command) -> std::process::Output {
    let o = run(cmd);
    assert!(o.status.success(), "{cmd:?}:\n{}", text(&o));
    o
}

/// A flat apt repository in `repo` holding `kiln-e2e-extra`, signed with a fresh key whose
/// public part is written to `keys/kiln-e2e.gpg`.
fn signed_repository(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(pkg.join("usr/share/kiln-e2e-extra")).unwrap();
    std::fs::write(
        pkg.join("DEBIAN/control"),
        "Package: kiln-e2e-extra\nVersion: 1.0\nArchitecture: all\nMaintainer: kiln <kiln@example.invalid>\nDescription: a package from the extra repository\n",
    )
    .unwrap();
    std::fs::write(
        pkg.join("usr/share/kiln-e2e-extra/marker"),
        "from the extra repository\n",
    )
    .unwrap();
    let repo = root.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    tool(
        Command::new("dpkg-deb")
            .args(["--build", "--root-owner-group"])
            .arg(&pkg)
            .arg(repo.join("kiln-e2e-extra_1.0_all.deb")),
    );
    let packages = tool(
        Command::new("dpkg-scanpackages")
            .args(["-m", "."])
            .current_dir(&repo),
    );
    std::fs::write(repo.join("Packages"), &packages.stdout).unwrap();
    let release = format!(
        "Origin: kiln-e2e\nLabel: kiln-e2e\nDate: Thu, 01 Jan 2026 00:00:00 UTC\nSHA256:\n {} {} Packages\n",
        sha256_hex(&repo.join("Packages")),
        packages.stdout.len()
    );
    std::fs::write(repo.join("Release"), release).unwrap();

    let home = root.join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let gpg = |args: &[&str]| {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", &home)
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args);
        cmd
    };
    tool(&mut gpg(&[
        "--quick-gen-key",
        "kiln e2e <e2e@kiln.invalid>",
        "ed25519",
        "sign",
        "never",
    ]));
    tool(
        gpg(&["--yes", "--clearsign", "-o"])
            .arg(repo.join("InRelease"))
            .arg(repo.join("Release")),
    );
    let keys = root.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    tool(gpg(&["--yes", "--export", "-o"]).arg(keys.join("kiln-e2e.gpg")));
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &home)
        .args(["--kill", "gpg-agent"])
        .status();
}

#[test]
fn extra_repositories_serve_build_runtime_and_test_dependencies() {
    if !engine_ready() {
        return;
    }
    let root = tempfile::tempdir().expect("temporary directory");
    signed_repository(root.path());
    let http = Server::http(&root.path().join("keys"));
    let template = std::fs::read_to_string(repo_root().join("tests/fixtures/extra-repos.yml"))
        .expect("fixture spec");
    let (dir, spec) = spec_in_tempdir(&template.replace("@HTTP_PORT@", &http.port.to_string()));
    let tag = "kiln-e2e/extra-user:bookworm";
    let context = format!("extrarepo={}", root.path().join("repo").display());
    let o = build(
        &spec,
        "bookworm/testing/container",
        dir.path(),
        &["--build-context", &context, "--load", "-t", tag],
    );
    assert!(o.status.success(), "{}", text(&o));
    let docs = run(Command::new("docker").args([
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        tag,
        "-c",
        "cat /usr/share/doc/extra-user/marker /usr/share/kiln-e2e-extra/marker; ls /etc/apt/sources.list.d /usr/share/keyrings",
    ]));
    let listing = String::from_utf8_lossy(&docs.stdout);
    assert!(docs.status.success(), "{}", text(&docs));
    assert_eq!(
        listing.matches("from the extra repository").count(),
        2,
        "the build dependency and the runtime dependency:\n{listing}"
    );
    assert!(
        !listing.contains("kiln-e2e"),
        "the repository's list or key stayed in the image:\n{listing}"
    );
}
