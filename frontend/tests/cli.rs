//! `kiln-frontend lint` on hostile files: the binary's exit code and the errors it prints.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use std::process::Command;

fn lint(name: &str, data: &[u8]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, data).expect("write spec");
    let out = Command::new(env!("CARGO_BIN_EXE_kiln-frontend"))
        .arg("lint")
        .arg(&path)
        .output()
        .expect("run kiln-frontend");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // The file name is the path as given; show it by its base name.
    let shown = stderr.replace(&path.display().to_string(), name);
    (out.status.code(), shown)
}

#[test]
fn lint_locates_invalid_utf8() {
    let (code, stderr) = lint("bad.yml", b"name: hello\nversion: \"1\xff\"\n");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with("bad.yml:2:12: invalid UTF-8 (byte 0xff); a spec must be UTF-8 text"),
        "{stderr}"
    );
}

#[test]
fn lint_rejects_an_alias_bomb_at_its_alias() {
    let mut bomb = format!("name: &a {}\nx-bomb: [", "x".repeat(64 << 10));
    bomb.push_str(&vec!["*a"; 20_000].join(", "));
    bomb.push_str("]\n");
    let (code, stderr) = lint("bomb.yml", bomb.as_bytes());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "bomb.yml:2:1022: the document is too large after expanding aliases (more than 16 MiB"
        ),
        "{}",
        &stderr[..stderr.len().min(300)]
    );
}

#[test]
fn lint_names_the_size_of_a_spec_too_large_to_build() {
    let mut text = String::from("name: big\nx-data: |\n");
    while text.len() <= 3 << 20 {
        text.push_str("  0123456789012345678901234567890123456789012345678901234567890123456789\n");
    }
    let (code, stderr) = lint("big.yml", text.as_bytes());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with("big.yml: the spec is 3.00 MiB ("),
        "{stderr}"
    );
    assert!(
        stderr.contains("more than the 3 MiB kiln builds"),
        "{stderr}"
    );
}
