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
    let o = install_and_run(out.path(), "trixie", deb, "kiln-cargo-demo");
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

#[test]
fn gomod_generator_fetches_a_module_from_a_git_server() {
    if !engine_ready() {
        return;
    }
    // Build containers reach this machine at the bridge gateway; Go module paths cannot
    // carry a port, so the server listens on port 80 there.
    let host = bridge_gateway();
    let dir = tempfile::tempdir().expect("temporary directory");
    let go_mod = format!(
        "module {host}/greeting

go 1.19
"
    );
    let greeting = "package greeting

func Hello() string { return \"hello from a module\" }
";
    bare_repo(
        dir.path(),
        "greeting",
        &[("go.mod", &go_mod), ("greeting.go", greeting)],
        Some("v1.0.0"),
    );
    let _server = Server::git_http(dir.path(), &host, 80, "-");

    let template =
        std::fs::read_to_string(repo_root().join("tests/fixtures/gomod-generator.yml")).unwrap();
    let spec = dir.path().join("spec.yml");
    std::fs::write(&spec, template.replace("@HOST@", &host)).unwrap();
    let out = dir.path().join("out");
    let dest = format!("type=local,dest={}", out.display());
    let o = build(&spec, "bookworm/deb", dir.path(), &["--output", &dest]);
    assert!(o.status.success(), "{}", text(&o));
    let deb = "kiln-gomod-demo_1.0-debian12u1_amd64.deb";
    let o = install_and_run(&out, "bookworm", deb, "kiln-gomod-demo");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "hello from a module\n",
        "{}",
        text(&o)
    );
}

#[test]
fn nodemod_generator_installs_node_modules_into_the_source() {
    if !engine_ready() {
        return;
    }
    let out = build_to_dir(
        &repo_root().join("tests/fixtures/nodemod-generator.yml"),
        "bookworm/deb",
    );
    let deb = out.path().join("kiln-nodemod-demo_1.0-debian12u1_all.deb");
    let extracted = out.path().join("x");
    let o = run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&extracted));
    assert!(o.status.success(), "{}", text(&o));
    let result =
        std::fs::read_to_string(extracted.join("usr/share/doc/kiln-nodemod-demo/result.txt"))
            .unwrap();
    assert_eq!(result, "is-number says true\n");
}
