//! specs/hello.yml end to end: real engine, real dpkg, real program.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::process::Command;

fn hello_spec() -> std::path::PathBuf {
    repo_root().join("specs/hello.yml")
}

/// Builds the .deb for `distro`, installs it with dpkg in a clean container of that distro
/// and runs the program.
fn deb_installs_and_runs(distro: &str, version_id: &str) {
    if !engine_ready() {
        return;
    }
    let out = build_to_dir(&hello_spec(), &format!("{distro}/deb"));
    let deb = format!("hello_2.10-{version_id}u1_amd64.deb");
    let files = file_names(out.path());
    assert!(files.contains(&deb), "expected {deb} in {files:?}");

    let info = run(Command::new("dpkg-deb")
        .arg("--field")
        .arg(out.path().join(&deb)));
    let info = text(&info);
    assert!(
        info.contains(&format!("Version: 2.10-{version_id}u1")),
        "{info}"
    );
    assert!(
        info.contains("Maintainer: kiln maintainers <kiln@example.invalid>"),
        "{info}"
    );
    assert!(
        info.contains("Depends: libc6"),
        "shlibs dependency missing:\n{info}"
    );

    let o = install_and_run(
        out.path(),
        distro,
        &deb,
        "hello && hello --version | head -1 && test -f /usr/share/man/man1/hello.1.gz",
    );
    let shown = text(&o);
    assert!(o.status.success(), "install or run failed:\n{shown}");
    assert!(shown.contains("Hello, world!"), "{shown}");
    assert!(shown.contains("hello (GNU Hello) 2.10"), "{shown}");
    // Dalec's minimal image of the release and its testing image (the package built
    // above, from the cache).
    container_runs(distro, "container");
    container_runs(distro, "testing/container");
}

/// Builds `<distro>/<route>` of hello into the engine's images and runs the program there.
fn container_runs(distro: &str, route: &str) {
    let target = format!("{distro}/{route}");
    let tag = format!("kiln-e2e/hello:{}", target.replace('/', "-"));
    let o = build(
        &hello_spec(),
        &target,
        &repo_root(),
        &["--load", "-t", &tag],
    );
    assert!(o.status.success(), "{target}: {}", text(&o));
    let o = run(Command::new("docker").args(["run", "--rm", &tag]));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Hello, world!\n",
        "{target}: {}",
        text(&o)
    );
    run(Command::new("docker").args(["image", "rm", "-f", &tag]));
}

#[test]
fn bookworm_deb_installs_and_runs() {
    deb_installs_and_runs("bookworm", "debian12");
}

#[test]
fn trixie_deb_installs_and_runs() {
    deb_installs_and_runs("trixie", "debian13");
}

#[test]
fn bullseye_deb_installs_and_runs() {
    deb_installs_and_runs("bullseye", "debian11");
}

#[test]
fn forky_deb_installs_and_runs() {
    deb_installs_and_runs("forky", "debian14");
}

#[test]
fn bionic_deb_installs_and_runs() {
    deb_installs_and_runs("bionic", "ubuntu18.04");
}

#[test]
fn focal_deb_installs_and_runs() {
    deb_installs_and_runs("focal", "ubuntu20.04");
}

#[test]
fn jammy_deb_installs_and_runs() {
    deb_installs_and_runs("jammy", "ubuntu22.04");
}

#[test]
fn noble_deb_installs_and_runs() {
    deb_installs_and_runs("noble", "ubuntu24.04");
}

#[test]
fn resolute_deb_installs_and_runs() {
    deb_installs_and_runs("resolute", "ubuntu26.04");
}

#[test]
fn container_target_runs_the_program() {
    if !engine_ready() {
        return;
    }
    for target in ["bookworm/container", "bookworm/testing/container"] {
        // Not container_runs's tag: bookworm_deb_installs_and_runs builds and removes that
        // one in parallel with this test.
        let tag = format!("kiln-e2e/hello-post:{}", target.replace('/', "-"));
        let o = build(&hello_spec(), target, &repo_root(), &["-t", &tag]);
        assert!(
            o.status.success(),
            "build of {target} failed:\n{}",
            text(&o)
        );
        let o = run(Command::new("docker").args(["run", "--rm", &tag]));
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            "Hello, world!\n",
            "{}",
            text(&o)
        );
        // image.post.symlinks
        let o = run(Command::new("docker").args([
            "run",
            "--rm",
            "--entrypoint",
            "/usr/local/bin/hi",
            &tag,
        ]));
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            "Hello, world!\n",
            "{}",
            text(&o)
        );
        run(Command::new("docker").args(["image", "rm", "-f", &tag]));
    }
}

#[test]
fn second_unchanged_build_is_fully_cached() {
    if !engine_ready() {
        return;
    }
    let first = build_to_dir(&hello_spec(), "bookworm/deb");
    let (again, o) = build_into_tempdir(&hello_spec(), "bookworm/deb", &[]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert_eq!(
        uncached_kiln_steps(&log),
        Vec::<String>::new(),
        "steps ran again:\n{log}"
    );
    assert_eq!(file_names(first.path()), file_names(again.path()));
}

#[test]
fn worker_target_has_the_packaging_tools() {
    if !engine_ready() {
        return;
    }
    let o = build(
        &hello_spec(),
        "trixie/worker",
        &repo_root(),
        &["-t", "kiln-e2e/worker:trixie"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(Command::new("docker").args([
        "run",
        "--rm",
        "kiln-e2e/worker:trixie",
        "dpkg-buildpackage",
        "--version",
    ]));
    assert!(
        text(&o).contains("Debian dpkg-buildpackage"),
        "{}",
        text(&o)
    );
    run(Command::new("docker").args(["image", "rm", "-f", "kiln-e2e/worker:trixie"]));
}

#[test]
fn a_no_cache_rebuild_gives_byte_identical_packages() {
    if !engine_ready() {
        return;
    }
    let first = build_to_dir(&hello_spec(), "bookworm/deb");
    let (again, o) = build_into_tempdir(&hello_spec(), "bookworm/deb", &["--no-cache"]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("dpkg-buildpackage: info: source package hello"),
        "--no-cache must rebuild:\n{log}"
    );
    let names = file_names(first.path());
    // The source package too: its tarballs and .dsc.
    for want in [
        "hello_2.10-debian12u1_amd64.deb",
        "hello_2.10-debian12u1.dsc",
        "hello_2.10.orig.tar.xz",
        "hello_2.10-debian12u1.debian.tar.xz",
    ] {
        assert!(names.iter().any(|n| n == want), "no {want} in {names:?}");
    }
    for name in names {
        assert_eq!(
            sha256_hex(&first.path().join(&name)),
            sha256_hex(&again.path().join(&name)),
            "{name} is not reproducible"
        );
    }
}

#[test]
fn dalecs_own_test_framework_fixture_builds_and_its_tests_pass() {
    if !engine_ready() {
        return;
    }
    // Dalec's fixture as it is, `# syntax=` line included: BUILDKIT_SYNTAX picks kiln.
    let spec = repo_root().join("tests/compat/dalec/test-framework.yml");
    let o = build(
        &spec,
        "bookworm/deb",
        &repo_root(),
        &["--build-arg", "BUILDKIT_SYNTAX=kiln/frontend:dev"],
    );
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    // The build fails when a test fails; here both ran (or were cached from a passing run).
    assert!(log.contains("[kiln bookworm] test Check stdin"), "{log}");
    assert!(
        log.contains("[kiln bookworm] test Check multi-argument command"),
        "{log}"
    );
}

/// The image ID of two `--no-cache` builds of `target` (the config's digest: it holds the
/// layers' digests), and the image's `created`.
fn image_ids_of_two_clean_builds(target: &str) -> (String, String, String) {
    let tag = format!("kiln-e2e/hello:repro-{}", target.replace('/', "-"));
    let mut ids = Vec::new();
    for _ in 0..2 {
        let o = build(
            &hello_spec(),
            target,
            &repo_root(),
            &["--no-cache", "--load", "-t", &tag],
        );
        assert!(o.status.success(), "{}", text(&o));
        let o = run(Command::new("docker").args([
            "image",
            "inspect",
            "--format",
            "{{.Id}} {{.Created}}",
            &tag,
        ]));
        ids.push(String::from_utf8_lossy(&o.stdout).trim().to_string());
    }
    run(Command::new("docker").args(["image", "rm", "-f", &tag]));
    let created = ids[0].split_once(' ').map(|(_, c)| c.to_string());
    (ids[0].clone(), ids[1].clone(), created.unwrap_or_default())
}

#[test]
fn two_no_cache_container_builds_give_the_same_image() {
    if !engine_ready() {
        return;
    }
    for target in ["bookworm/testing/container", "bookworm/container"] {
        let (first, second, created) = image_ids_of_two_clean_builds(target);
        assert_eq!(first, second, "{target} is not reproducible");
        // The newest changelog entry of specs/hello.yml, not the clock.
        assert_eq!(created, "2026-11-28T00:00:00Z", "{target}");
    }
}

#[test]
fn the_minimal_container_holds_the_package_and_what_it_needs_in_one_layer() {
    if !engine_ready() {
        return;
    }
    let tag = "kiln-e2e/hello:minimal";
    let o = build(
        &hello_spec(),
        "bookworm/container",
        &repo_root(),
        &["--load", "-t", tag],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(Command::new("docker").args([
        "image",
        "inspect",
        "--format",
        "{{len .RootFS.Layers}}",
        tag,
    ]));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "1",
        "{}",
        text(&o)
    );
    // Every path in the image, from an exported container.
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("root.tar");
    let id = run(Command::new("docker").args(["create", tag]));
    let id = String::from_utf8_lossy(&id.stdout).trim().to_string();
    run(Command::new("docker").args(["export", "-o", tar.to_str().unwrap(), &id]));
    run(Command::new("docker").args(["rm", &id]));
    let listed = run(Command::new("tar").arg("-tf").arg(&tar));
    let paths: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| l.trim_end_matches('/').to_string())
        .collect();
    let has = |p: &str| paths.iter().any(|x| x == p);
    for want in [
        "usr/bin/hello",
        "usr/local/bin/hi",
        "var/lib/dpkg/status",
        "var/log",
        "usr/share/doc/hello/copyright",
    ] {
        assert!(has(want), "{want} missing from the minimal image");
    }
    // Unused: the package managers, the shell, their directories, the logs, others' documents.
    for gone in [
        "usr/bin/apt",
        "usr/bin/apt-get",
        "usr/bin/dpkg",
        "usr/bin/tar",
        "usr/bin/dash",
        "etc/apt",
        "var/lib/apt",
        "usr/share/locale",
        "usr/share/doc/base-files/README",
    ] {
        assert!(!has(gone), "{gone} is in the minimal image");
    }
    assert!(
        !paths.iter().any(|p| p.starts_with("var/log/")),
        "var/log is not empty"
    );
    // The dpkg database lists what is there, and only that.
    let o = run_in_container(
        "debian:bookworm",
        &[(dir.path(), "/x")],
        "mkdir /r && tar -xf /x/root.tar -C /r && dpkg-query --admindir=/r/var/lib/dpkg -W -f '${Package}\\n'",
    );
    let listed = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(listed.lines().any(|l| l == "hello"), "{}", text(&o));
    assert!(listed.lines().any(|l| l == "libc6"), "{listed}");
    assert!(
        !listed
            .lines()
            .any(|l| l == "dpkg" || l == "apt" || l == "bash"),
        "{listed}"
    );
    let o = run(Command::new("docker").args(["run", "--rm", tag]));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Hello, world!\n",
        "{}",
        text(&o)
    );
    run(Command::new("docker").args(["image", "rm", "-f", tag]));
}
