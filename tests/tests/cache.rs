//! A build cache in a registry, imported into an empty builder: BuildKit hands the client's
//! `--cache-from` to the frontend, which must pass it on in its solves, or the import does
//! nothing and a CI run on a fresh builder rebuilds everything.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::process::Command;

/// The engine's private registry (scripts/engine.sh), which takes pushes on loopback.
fn registry() -> String {
    std::env::var("KILN_REGISTRY_ADDR").unwrap_or_else(|_| "127.0.0.1:5055".to_string())
}

#[test]
fn a_registry_cache_imported_into_an_empty_builder_gives_a_cached_build() {
    if !engine_ready() {
        return;
    }
    let spec = repo_root().join("specs/hello.yml");
    let cache = format!("{}/kiln-e2e/hello-cache:bookworm", registry());
    // Export: the image with its build cache inline, pushed to the registry.
    let o = build(
        &spec,
        "bookworm/testing/container",
        &repo_root(),
        &["-t", &cache, "--cache-to", "type=inline", "--push"],
    );
    assert!(o.status.success(), "export:\n{}", text(&o));
    // An empty builder: nothing of the build is left in its cache.
    let o = run(Command::new("docker").args(["builder", "prune", "-af"]));
    assert!(o.status.success(), "prune:\n{}", text(&o));
    // Import: every step of kiln's comes from the registry's cache.
    let from = format!("type=registry,ref={cache}");
    let o = build(
        &spec,
        "bookworm/testing/container",
        &repo_root(),
        &["--cache-from", &from],
    );
    let log = text(&o);
    assert!(o.status.success(), "import:\n{log}");
    assert!(log.contains("importing cache manifest from"), "{log}");
    let uncached = uncached_kiln_steps(&log);
    assert!(
        uncached.iter().all(
            |s| !s.contains("dpkg-buildpackage") && !s.contains("install hello into the image")
        ),
        "steps built again although the registry has their cache: {uncached:?}\n{log}"
    );
}
