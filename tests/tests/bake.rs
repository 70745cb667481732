//! `docker buildx bake`: every target of a spec in one command, as CI runs it.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::process::Command;

#[test]
fn bake_builds_every_distro_and_route_of_hello() {
    if !engine_ready() {
        return;
    }
    let out = tempfile::tempdir().expect("temporary directory");
    let dest = out.path().display().to_string();
    let o = bake(&[("OUT", dest.as_str())], &[]);
    assert!(o.status.success(), "bake failed:\n{}", text(&o));
    for (distro, suffix) in [("bookworm", "debian12u1"), ("trixie", "debian13u1")] {
        let dir = out.path().join(distro);
        let deb = format!("hello_2.10-{suffix}_amd64.deb");
        assert!(
            file_names(&dir).contains(&deb),
            "{distro}: {:?}",
            file_names(&dir)
        );
        let run = install_and_run(&dir, distro, &deb, "hello");
        assert_eq!(String::from_utf8_lossy(&run.stdout), "Hello, world!\n");
        let image = format!("hello:{distro}");
        let run = kiln_e2e::run(Command::new("docker").args(["run", "--rm", &image]));
        assert_eq!(
            String::from_utf8_lossy(&run.stdout),
            "Hello, world!\n",
            "{image}: {}",
            text(&run)
        );
    }
}

/// A package whose build only succeeds in the worker the bake file makes.
const NEEDS_BAKED_WORKER: &str = "# syntax=kiln/frontend:dev\nname: bake-marked\nversion: \"1.0\"\nrevision: 1\nlicense: MIT\npackager: kiln <kiln@example.invalid>\ndescription: A package built in a worker from another bake target\nbuild:\n  steps:\n    - command: test -e /etc/kiln-bake-worker && echo from the baked worker > marker\nartifacts:\n  docs:\n    marker:\n";

/// kiln's bookworm worker, plus a marker added by a Dockerfile target built on it, then a
/// package built in that worker: target contexts in both directions.
const BAKE_CHAIN: &str = r#"
target "kiln-worker" {
  context    = "@REPO@"
  dockerfile = "specs/hello.yml"
  target     = "bookworm/worker"
}
target "worker" {
  contexts          = { kiln-worker = "target:kiln-worker" }
  dockerfile-inline = "FROM kiln-worker\nRUN touch /etc/kiln-bake-worker\n"
}
target "deb" {
  context    = "@DIR@"
  dockerfile = "spec.yml"
  target     = "bookworm/deb"
  contexts   = { dalec-bookworm-worker = "target:worker" }
  output     = ["type=local,dest=@DIR@/out"]
}
"#;

#[test]
fn a_bake_target_can_be_the_worker_of_another() {
    if !engine_ready() {
        return;
    }
    // Dalec's CI pattern: build the worker once as a target, feed it to the package builds.
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("spec.yml"), NEEDS_BAKED_WORKER).expect("write spec");
    let file = dir.path().join("bake.hcl");
    let chain = BAKE_CHAIN
        .replace("@REPO@", &repo_root().display().to_string())
        .replace("@DIR@", &dir.path().display().to_string());
    std::fs::write(&file, chain).expect("write bake file");
    let o = bake_file(&file, &[], &["deb"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = dir.path().join("out");
    let deb = deb_of(&out, "bake-marked", "1.0");
    let run = install_and_run(
        &out,
        "bookworm",
        &deb,
        "cat /usr/share/doc/bake-marked/marker",
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "from the baked worker\n",
        "{}",
        text(&run)
    );
}
