//! lintian, Debian's package checker, on the packages of kiln's and Dalec's example specs
//! (bookworm): no errors, and the warnings exactly those in
//! `tests/fixtures/lintian/bookworm.expected` (`KILN_UPDATE_LINTIAN=1` rewrites it).

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;

/// The specs: kiln's own and Dalec's docs examples that build without network.
const SPECS: &[&str] = &[
    "specs/hello.yml",
    "tests/compat/dalec/hello.inline.yml",
    "tests/compat/dalec/patch-during-build.yml",
    "tests/compat/dalec/config-and-systemd.yml",
];

const LINTIAN_IMAGE: &str = "FROM debian:bookworm\n\
RUN apt-get update && apt-get install -y --no-install-recommends lintian && rm -rf /var/lib/apt/lists/*\n";

/// lintian's tags for the packages (binary and source) `spec` builds for bookworm, with
/// build ids (which change with the compiler's output) left out.
fn tags(spec: &str) -> Vec<String> {
    let written = std::fs::read_to_string(repo_root().join(spec)).unwrap();
    let rest = written.split_once('\n').map_or("", |(_, r)| r);
    let (dir, file) = spec_in_tempdir(&format!("# syntax=kiln/frontend:dev\n{rest}"));
    let (out, o) = build_into(&file, "bookworm/deb", dir.path(), &[]);
    assert!(o.status.success(), "{spec}: {}", text(&o));
    let o = run_in_container(
        "kiln-e2e/lintian:bookworm",
        &[(out.path(), "/p")],
        "cd /p && lintian --tag-display-limit 0 *.deb *.dsc 2>/dev/null; true",
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| match l.find("[usr/lib/debug/.build-id/") {
            Some(i) => format!("{}[usr/lib/debug/.build-id/…]", &l[..i]),
            None => l.to_string(),
        })
        .collect()
}

#[test]
fn lintian_finds_no_errors_in_the_example_packages() {
    if !engine_ready() {
        return;
    }
    image_from_dockerfile("kiln-e2e/lintian:bookworm", LINTIAN_IMAGE);
    let mut all = Vec::new();
    for spec in SPECS {
        let tags = tags(spec);
        let errors: Vec<&String> = tags.iter().filter(|t| t.starts_with("E: ")).collect();
        assert!(errors.is_empty(), "{spec}: lintian errors:\n{errors:#?}");
        all.extend(tags);
    }
    all.sort();
    let got = all.join("\n") + "\n";
    let expected_file = repo_root().join("tests/fixtures/lintian/bookworm.expected");
    if std::env::var_os("KILN_UPDATE_LINTIAN").is_some() {
        std::fs::write(&expected_file, &got).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_file).unwrap_or_default();
    assert_eq!(
        got,
        expected,
        "lintian's warnings changed: check them, then KILN_UPDATE_LINTIAN=1 rewrites {}",
        expected_file.display()
    );
}
