//! Architecture invariants as tests (rust-analyzer's `tidy`): what ARCHITECTURE.md says must
//! never happen fails here when it does.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `[dependencies]` table of a crate's manifest (dev-dependencies excluded).
fn dependencies(krate: &str) -> String {
    let manifest = read(&root().join(krate).join("Cargo.toml"));
    let start = manifest
        .find("[dependencies]")
        .map_or(manifest.len(), |i| i);
    let rest = &manifest[start..];
    let end = rest[1..].find("\n[").map_or(rest.len(), |i| i + 1);
    rest[..end].to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_spec_crate_knows_nothing_of_buildkit_grpc_or_async() {
    let deps = dependencies("spec");
    for banned in [
        "kiln-buildkit",
        "tonic",
        "prost",
        "tokio",
        "bollard",
        "futures",
    ] {
        assert!(
            !deps.contains(banned),
            "kiln-spec depends on {banned}:\n{deps}"
        );
    }
}

#[test]
fn the_artifact_contract_depends_on_nothing() {
    let deps = dependencies("artifact");
    assert!(
        deps.lines()
            .skip(1)
            .all(|l| l.trim().is_empty() || l.starts_with('#')),
        "kiln-artifact has dependencies:\n{deps}"
    );
}

#[test]
fn no_family_code_in_build_request_or_plan() {
    let src = root().join("frontend/src");
    let mut files = Vec::new();
    rust_files(&src.join("build"), &mut files);
    rust_files(&src.join("request"), &mut files);
    files.push(src.join("plan.rs"));
    for file in files {
        let text = read(&file);
        // Tests may name Debian targets; the code may not hold a family's commands.
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or(&text)
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for banned in [
            "apt-get",
            "dpkg",
            "debhelper",
            "/etc/apt",
            "debian/",
            "family::deb",
        ] {
            assert!(
                !code.contains(banned),
                "{} holds family code ({banned}): it belongs in family/ or the distro row",
                file.display()
            );
        }
    }
}
