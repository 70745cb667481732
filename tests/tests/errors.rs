//! What users see when something is wrong: the message and where it points.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::process::Command;

#[test]
fn unknown_target_lists_the_available_targets() {
    if !engine_ready() {
        return;
    }
    let o = build(
        &repo_root().join("specs/hello.yml"),
        "xenial/deb",
        &repo_root(),
        &[],
    );
    let log = text(&o);
    assert!(!o.status.success());
    assert!(
        log.contains("unknown target \"xenial/deb\"; available targets: bookworm/deb, bookworm/dsc, bookworm/container, bookworm/testing/container, bookworm/worker, trixie/deb"),
        "{log}"
    );
}

#[test]
fn http_digest_mismatch_fails_the_build() {
    if !engine_ready() {
        return;
    }
    let spec =
        std::fs::read_to_string(repo_root().join("specs/hello.yml")).expect("read hello.yml");
    let good = "sha256:31e066137a962676e89f69d1b65382de95a7ef7d914b8cb956f41ea72e0f516b";
    let bad = format!("sha256:{}", "0".repeat(64));
    assert!(spec.contains(good));
    let (dir, path) = spec_in_tempdir(&spec.replace(good, &bad));
    let dest = format!("type=local,dest={}", dir.path().join("out").display());
    let o = build(&path, "bookworm/deb", dir.path(), &["--output", &dest]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains(&format!("digest mismatch {good}: {bad}")),
        "{log}"
    );
    assert!(
        !dir.path()
            .join("out")
            .join("hello_2.10-debian12u1_amd64.deb")
            .exists()
    );
}

#[test]
fn spec_errors_point_at_the_line() {
    if !engine_ready() {
        return;
    }
    let spec = "# syntax=kiln/frontend:dev\nname: x\nversion: \"1\"\nsources:\n  a:\n    http:\n      url: http://example.invalid/a\n      digest: md5:0\n";
    let (dir, path) = spec_in_tempdir(spec);
    let o = build(&path, "bookworm/deb", dir.path(), &[]);
    let log = text(&o);
    assert!(!o.status.success());
    assert!(
        log.contains("spec.yml:8:15: invalid digest \"md5:0\": expected sha256:<64 hex digits>"),
        "{log}"
    );
    // BuildKit shows the spec's own line, marked.
    assert!(log.contains(">>>       digest: md5:0"), "{log}");
}

#[test]
fn print_targets_lists_the_routes() {
    if !engine_ready() {
        return;
    }
    let o = list_targets(&repo_root().join("specs/hello.yml"), &repo_root());
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("bookworm/deb"), "{log}");
    assert!(log.contains("trixie/container"), "{log}");
    assert!(log.contains("(default)"), "{log}");
}

#[test]
fn dalecs_subrequests_answer_through_buildx() {
    if !engine_ready() || buildx_version() < (0, 14) {
        return;
    }
    let call = |name: &str| {
        let o = run(Command::new("docker")
            .args([
                "buildx",
                "build",
                "-q",
                "--call",
                name,
                "--target",
                "bookworm/deb",
                "-f",
            ])
            .arg(repo_root().join("specs/hello.yml"))
            .arg(repo_root()));
        assert!(o.status.success(), "--call {name}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let resolved = call("dalec.resolve");
    assert!(
        resolved.trim_start().starts_with("- "),
        "a list of specs: {resolved}"
    );
    assert!(resolved.contains("name: hello"), "{resolved}");
    assert_eq!(call("dalec.defaultPlatform").trim(), "linux/amd64");
    let schema: serde_json::Value = serde_json::from_str(&call("dalec.schema")).unwrap();
    assert!(schema["properties"]["artifacts"].is_object(), "{schema}");
}

#[test]
fn failing_build_step_points_at_the_steps() {
    if !engine_ready() {
        return;
    }
    let spec = "# syntax=kiln/frontend:dev\nname: failing\nversion: \"1.0\"\npackager: kiln <kiln@example.invalid>\n\
description: A package whose build fails\nbuild:\n  steps:\n    - command: echo building\n    - command: |\n        echo about to fail\n        exit 3\n";
    let (dir, path) = spec_in_tempdir(spec);
    let o = build(&path, "bookworm/deb", dir.path(), &[]);
    let log = text(&o);
    assert!(!o.status.success());
    assert!(
        log.contains("+ exit 3"),
        "the step's own output is shown:\n{log}"
    );
    assert!(log.contains(">>>     - command: echo building"), "{log}");
    assert!(log.contains(">>>         exit 3"), "{log}");
}

#[test]
fn a_failing_spec_test_names_the_check_and_points_at_the_test() {
    if !engine_ready() {
        return;
    }
    let spec =
        std::fs::read_to_string(repo_root().join("specs/hello.yml")).expect("read hello.yml");
    assert!(spec.contains("equals: \"hi\\n\""));
    let (dir, path) = spec_in_tempdir(&spec.replace("equals: \"hi\\n\"", "equals: \"howdy\\n\""));
    let o = build(&path, "bookworm/deb", dir.path(), &[]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains("kiln test greets the world: step 2 stdout is not \"howdy\\n\""),
        "{log}"
    );
    assert!(log.contains(">>>   - name: greets the world"), "{log}");
    assert!(
        log.contains("process \"/bin/sh /run/kiln/test/run.sh\" did not complete successfully"),
        "{log}"
    );
}

#[test]
fn matches_checks_follow_go_regular_expressions() {
    if !engine_ready() {
        return;
    }
    // In Go (and so in Dalec) `$` without (?m) is the end of the whole output, which goes on
    // after the first line: this check must fail, where a per-line grep would pass it.
    let spec =
        std::fs::read_to_string(repo_root().join("specs/hello.yml")).expect("read hello.yml");
    let passing = r#""^hello \\(GNU Hello\\) \\d+\\.\\d+\\n""#;
    assert!(spec.contains(passing), "hello.yml has changed");
    let failing = r#""^hello \\(GNU Hello\\) \\d+\\.\\d+$""#;
    let (dir, path) = spec_in_tempdir(&spec.replace(passing, failing));
    let o = build(&path, "bookworm/deb", dir.path(), &[]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains(r#"kiln test greets the world: step 3 stdout does not match "^hello \\(GNU Hello\\) \\d+\\.\\d+$""#),
        "{log}"
    );
}

/// A spec padded with comment lines to about `bytes` bytes, with `tail` as its last lines.
fn padded_spec(bytes: usize, tail: &str) -> String {
    let mut spec = String::from("# syntax=kiln/frontend:dev\n");
    let line = format!("# {}\n", "x".repeat(98));
    while spec.len() < bytes {
        spec.push_str(&line);
    }
    spec.push_str(tail);
    spec
}

#[test]
fn a_spec_too_large_to_build_says_so_and_a_large_spec_error_keeps_its_line() {
    if !engine_ready() {
        return;
    }
    // 4.2 MB: past what BuildKit takes in one message; kiln says so up front.
    let spec = padded_spec(4_200_000, "name: big\nversion: \"1\"\n");
    let (dir, path) = spec_in_tempdir(&spec);
    let o = build(&path, "bookworm/deb", dir.path(), &[]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(log.contains("more than the 3 MiB kiln builds"), "{log}");
    assert!(!log.contains("message length too large"), "{log}");

    // 2.5 MB with an error on its last line: the error and its line still reach the user.
    let spec = padded_spec(
        2_500_000,
        "name: big\nversion: \"1\"\nsources:\n  a:\n    http:\n      url: http://example.invalid/a\n      digest: md5:0\n",
    );
    let line = spec.lines().count();
    let (dir, path) = spec_in_tempdir(&spec);
    let o = build(&path, "bookworm/deb", dir.path(), &[]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains(&format!("spec.yml:{line}:15: invalid digest \"md5:0\"")),
        "{}",
        &log[log.len().saturating_sub(3000)..]
    );
}
