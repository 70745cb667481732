//! Dalec's own example specs (tests/compat/dalec, from Dalec's docs) that need no network build
//! with kiln changed only in their `# syntax=` line: the package installs with dpkg in a
//! clean Debian 12 and its program runs (their own spec tests ran during the build).

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;

/// Builds `tests/compat/dalec/<file>` for bookworm/deb with kiln's syntax line, installs the
/// package `deb` and runs `command` there; returns its output.
fn builds_installs_and_runs(file: &str, deb: &str, command: &str) -> String {
    let spec_text =
        std::fs::read_to_string(repo_root().join("tests/compat/dalec").join(file)).unwrap();
    let (first, rest) = spec_text.split_once('\n').unwrap();
    assert!(first.starts_with("# syntax="), "{file}: {first}");
    let (dir, spec) = spec_in_tempdir(&format!("# syntax=kiln/frontend:dev\n{rest}"));
    let (out, o) = build_into(&spec, "bookworm/deb", dir.path(), &[]);
    assert!(o.status.success(), "{file}: {}", text(&o));
    let o = install_and_run(out.path(), "bookworm", deb, command);
    assert!(o.status.success(), "{file}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn dalecs_examples_build_unchanged_but_for_the_syntax_line() {
    if !engine_ready() {
        return;
    }
    let out = builds_installs_and_runs(
        "hello.inline.yml",
        "hello-inline_0.1.0-debian12u1_amd64.deb",
        "hello-inline --version",
    );
    assert!(out.contains("0.1.0"), "{out}");
    let out = builds_installs_and_runs(
        "patch-during-build.yml",
        "patched-hello_0.1.0-debian12u1_amd64.deb",
        "patched-hello --version",
    );
    assert!(out.starts_with("patched-hello 0.1.0"), "{out}");
    let out = builds_installs_and_runs(
        "config-and-systemd.yml",
        "cfgd_0.1.0-debian12u1_amd64.deb",
        "test -f /etc/cfgd/cfgd.conf && dpkg-query -W -f '${Maintainer}' cfgd",
    );
    assert_eq!(
        out,
        "Dalec Dummy Changelog <dalec@users.noreply.github.com>"
    );
}
