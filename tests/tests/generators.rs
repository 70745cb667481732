//! Dependency generators against the real registries this machine reaches: crates.io for
//! `cargohome`, PyPI for `pip`. The builds themselves run without network.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::process::Command;

#[test]
fn debug_pip_shows_what_the_pip_generator_fetched() {
    if !engine_ready() {
        return;
    }
    let spec = repo_root().join("tests/fixtures/pip-generator.yml");
    let out = build_to_dir(&spec, "debug/pip");
    let names = file_names(out.path());
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("six-") && n.ends_with(".tar.gz")),
        "{names:?}"
    );
    // A spec without such a generator says so.
    let (_out, o) = build_into_tempdir(&spec, "debug/gomods", &[]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains("the spec has no gomod generator (sources.<name>.generate)"),
        "{log}"
    );
}

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

/// The gomod tests serve their module on port 80 of the bridge gateway: one at a time.
static PORT_80: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Builds tests/fixtures/gomod-generator.yml against a git server that requires `token` ("-":
/// none), with `auth` (YAML under the gomod generator, `@HOST@` for the host) and extra build
/// arguments; returns the build's output and the directory of the packages.
fn build_gomod_demo(
    token: &str,
    auth: &str,
    extra: &[&str],
) -> (std::process::Output, tempfile::TempDir) {
    let generator = if auth.is_empty() {
        "      - gomod: {}\n".to_string()
    } else {
        format!("      - gomod:\n          auth:\n{auth}")
    };
    build_gomod_spec(
        token,
        &|spec| spec.replace("      - gomod: {}\n", &generator),
        extra,
    )
}

/// [`build_gomod_demo`] with the fixture changed by `edit`. The git server also has a fork of
/// the module (`greeting-fork`, which keeps the module path and says "hello from a fork").
fn build_gomod_spec(
    token: &str,
    edit: &dyn Fn(String) -> String,
    extra: &[&str],
) -> (std::process::Output, tempfile::TempDir) {
    let _one_at_a_time = PORT_80.lock().unwrap_or_else(|p| p.into_inner());
    // Build containers reach this machine at the bridge gateway; Go module paths cannot
    // carry a port, so the server listens on port 80 there.
    let host = bridge_gateway();
    let dir = tempfile::tempdir().expect("temporary directory");
    let module = format!("{host}/greeting");
    go_greeting_module(dir.path(), "greeting", &module, "hello from a module");
    go_greeting_module(dir.path(), "greeting-fork", &module, "hello from a fork");
    let _server = Server::git_http(dir.path(), &host, 80, token);
    let template =
        std::fs::read_to_string(repo_root().join("tests/fixtures/gomod-generator.yml")).unwrap();
    assert!(
        template.contains("      - gomod: {}\n"),
        "the fixture has changed"
    );
    let spec = dir.path().join("spec.yml");
    std::fs::write(&spec, edit(template).replace("@HOST@", &host)).unwrap();
    let (out, o) = build_into(&spec, "bookworm/deb", dir.path(), extra);
    (o, out)
}

fn assert_gomod_demo_runs(o: &std::process::Output, out: &std::path::Path) {
    assert!(o.status.success(), "{}", text(o));
    assert_installed_program_prints(
        out,
        "bookworm",
        "kiln-gomod-demo_1.0-debian12u1_amd64.deb",
        "kiln-gomod-demo",
        "hello from a module\n",
    );
}

#[test]
fn gomod_generator_fetches_a_module_from_a_git_server() {
    if !engine_ready() {
        return;
    }
    let (o, out) = build_gomod_demo("-", "", &[]);
    assert_gomod_demo_runs(&o, out.path());
}

#[test]
fn gomod_generator_authenticates_to_private_hosts_with_secrets() {
    if !engine_ready() {
        return;
    }
    let secrets = tempfile::tempdir().expect("temporary directory");
    let token = secrets.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let header = secrets.path().join("header");
    std::fs::write(&header, format!("Basic {}", base64_of("anyone:s3cret"))).unwrap();
    for (kind, file) in [("token", &token), ("header", &header)] {
        let auth = format!("            \"@HOST@\":\n              {kind}: gomod-{kind}\n");
        let secret = format!("id=gomod-{kind},src={}", file.display());
        let (o, out) = build_gomod_demo("s3cret", &auth, &["--secret", &secret]);
        assert_gomod_demo_runs(&o, out.path());
    }
    // Without the secret (and without the cached download, which does not need it), the
    // build is refused: the message names the secret, what needs it and how to give it, and
    // the failing step shows the source's lines of the spec.
    let auth = "            \"@HOST@\":\n              token: gomod-token\n";
    let (o, _) = build_gomod_demo("s3cret", auth, &["--no-cache"]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains("kiln: secret \"gomod-token\" (the token for Go module host"),
        "{log}"
    );
    assert!(
        log.contains("pass --secret id=gomod-token,src=FILE"),
        "{log}"
    );
    assert!(log.contains("spec.yml:"), "no spec lines in:\n{log}");
}

#[test]
fn gomod_edits_replace_a_module_and_drop_a_requirement_before_the_build() {
    if !engine_ready() {
        return;
    }
    // The program requires a module no server has (dropped) and gets the fork of greeting.
    let edit = |spec: String| {
        spec.replace(
            "require @HOST@/greeting v1.0.0",
            "require (\n              \t@HOST@/greeting v1.0.0\n              \t@HOST@/missing v1.0.0\n              )",
        )
        .replace(
            "      - gomod: {}\n",
            "      - gomod:\n          edits:\n            drop: [\"@HOST@/missing\"]\n            replace:\n              - \"@HOST@/greeting => @HOST@/greeting-fork@v1.0.0\"\n",
        )
    };
    let (o, out) = build_gomod_spec("-", &edit, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_installed_program_prints(
        out.path(),
        "bookworm",
        "kiln-gomod-demo_1.0-debian12u1_amd64.deb",
        "kiln-gomod-demo",
        "hello from a fork\n",
    );
}

#[test]
fn gomod_with_a_versioned_go_package_finds_its_go() {
    if !engine_ready() {
        return;
    }
    // golang-1.19-go has no /usr/bin/go (golang-go makes that link): Go is found in
    // /usr/lib/go-1.19/bin, by the generator and by the build, as in Dalec.
    let edit = |spec: String| {
        assert!(spec.contains("    golang-go:\n"), "the fixture has changed");
        spec.replace("    golang-go:\n", "    golang-1.19-go:\n")
    };
    let (o, out) = build_gomod_spec("-", &edit, &[]);
    assert_gomod_demo_runs(&o, out.path());
}

/// Standard base64 of `text` (for an Authorization header).
fn base64_of(text: &str) -> String {
    let o = run(Command::new("sh").args(["-c", &format!("printf %s '{text}' | base64 -w0")]));
    String::from_utf8_lossy(&o.stdout).into_owned()
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
