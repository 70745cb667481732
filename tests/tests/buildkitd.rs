//! kiln on a standalone BuildKit v0.32 (scripts/buildkitd.sh), as teams run it behind buildx's
//! `remote` driver or `buildctl`: the frontend image and the base images come from the private
//! registry, and the packages are the same bytes as on the Docker engine.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::path::Path;
use std::process::{Command, Output};

/// One test at a time on the daemon: a cache test prunes it, and a concurrent build would both
/// lose its cache and share steps with the import it checks.
static DAEMON: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    DAEMON
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The standalone daemon's address (`BUILDKIT_HOST`), when there is one; in CI there must be.
fn buildkit_host() -> Option<String> {
    match std::env::var("BUILDKIT_HOST") {
        Ok(h) if !h.is_empty() => Some(h),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but no standalone buildkitd: run `eval \"$(scripts/buildkitd.sh up)\"`")
        }
        _ => {
            eprintln!("skipping: no BUILDKIT_HOST (scripts/buildkitd.sh up)");
            None
        }
    }
}

fn registry() -> String {
    std::env::var("KILN_REGISTRY_ADDR").unwrap_or_else(|_| "127.0.0.1:5055".to_string())
}

/// Puts the frontend image into the registry the daemon pulls from; returns its ref there.
fn pushed_frontend() -> String {
    let reference = format!("{}/{FRONTEND_IMAGE}", registry());
    let o = run(Command::new("docker").args(["tag", FRONTEND_IMAGE, &reference]));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(Command::new("docker").args(["push", "-q", &reference]));
    assert!(o.status.success(), "{}", text(&o));
    reference
}

fn hello_deb(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("hello_2.10-debian12u1_amd64.deb"))
        .unwrap_or_else(|e| panic!("no .deb in {}: {e}: {:?}", dir.display(), file_names(dir)))
}

#[test]
fn buildctl_and_the_remote_driver_build_the_same_deb_as_docker() {
    let _daemon = one_at_a_time();
    if !engine_ready() {
        return;
    }
    let Some(host) = buildkit_host() else { return };
    let frontend = pushed_frontend();
    let root = repo_root();

    // buildctl, with kiln as a gateway frontend.
    let by_buildctl = tempfile::tempdir().unwrap();
    let o = run(Command::new("buildctl")
        .args(["--addr", &host, "build", "--frontend", "gateway.v0"])
        .args(["--opt", &format!("source={frontend}")])
        .args([
            "--opt",
            "filename=hello.yml",
            "--opt",
            "target=bookworm/deb",
        ])
        .arg("--local")
        .arg(format!("context={}", root.display()))
        .arg("--local")
        .arg(format!("dockerfile={}", root.join("specs").display()))
        .arg("--output")
        .arg(format!("type=local,dest={}", by_buildctl.path().display())));
    assert!(o.status.success(), "buildctl build:\n{}", text(&o));
    let deb = hello_deb(by_buildctl.path());

    // The .deb installs and runs on the distro.
    let o = install_and_run(
        by_buildctl.path(),
        "bookworm",
        "hello_2.10-debian12u1_amd64.deb",
        "hello",
    );
    assert!(text(&o).contains("Hello, world!"), "{}", text(&o));

    // buildx's remote driver on the same daemon (over tcp), with the syntax line as usual.
    let (by_remote, o) = RemoteBuilder::create().build_hello(&frontend, &[]);
    assert!(o.status.success(), "buildx remote build:\n{}", text(&o));
    assert_eq!(
        hello_deb(by_remote.path()),
        deb,
        "remote driver and buildctl differ"
    );

    // And the Docker engine's own BuildKit gives the same bytes.
    let by_docker = build_to_dir(&root.join("specs/hello.yml"), "bookworm/deb");
    assert_eq!(
        hello_deb(by_docker.path()),
        deb,
        "the standalone daemon's .deb differs from the Docker engine's"
    );
}

/// A buildx builder with the `remote` driver on the standalone daemon (over tcp); removed when
/// dropped.
struct RemoteBuilder(&'static str);

impl RemoteBuilder {
    fn create() -> RemoteBuilder {
        let tcp =
            std::env::var("KILN_BUILDKITD_TCP").unwrap_or_else(|_| "tcp://127.0.0.1:1234".into());
        let builder = RemoteBuilder("kiln-e2e-remote");
        let _ = run(Command::new("docker").args(["buildx", "rm", builder.0]));
        let o = run(Command::new("docker").args([
            "buildx", "create", "--name", builder.0, "--driver", "remote", &tcp,
        ]));
        assert!(o.status.success(), "buildx create:\n{}", text(&o));
        builder
    }

    /// `docker buildx build` of hello's bookworm/deb on this builder, kiln named by
    /// `BUILDKIT_SYNTAX`, into a new directory, with extra arguments.
    fn build_hello(&self, frontend: &str, extra: &[&str]) -> (tempfile::TempDir, Output) {
        let root = repo_root();
        let out = tempfile::tempdir().unwrap();
        let dest = format!("type=local,dest={}", out.path().display());
        let syntax = format!("BUILDKIT_SYNTAX={frontend}");
        let mut args = vec![
            "--builder",
            self.0,
            "--build-arg",
            &syntax,
            "--output",
            &dest,
        ];
        args.extend_from_slice(extra);
        let o = build(&root.join("specs/hello.yml"), "bookworm/deb", &root, &args);
        (out, o)
    }
}

impl Drop for RemoteBuilder {
    fn drop(&mut self) {
        let _ = run(Command::new("docker").args(["buildx", "rm", self.0]));
    }
}

/// `buildctl build` of `spec` (a file of the repository) for `target`, kiln as gateway
/// frontend, with plain progress, extra arguments and `output` (`None`: a local directory,
/// returned). Returns the directory and the command's output.
fn buildctl(
    host: &str,
    frontend: &str,
    spec: &str,
    target: &str,
    extra: &[&str],
    output: Option<&str>,
) -> (tempfile::TempDir, std::process::Output) {
    let root = repo_root();
    let path = root.join(spec);
    let dir = path.parent().unwrap();
    let file = path.file_name().unwrap().to_string_lossy();
    let out = tempfile::tempdir().unwrap();
    let local = format!("type=local,dest={}", out.path().display());
    let o = run(Command::new("buildctl")
        .args(["--addr", host, "build", "--progress", "plain"])
        .args(["--frontend", "gateway.v0"])
        .args(["--opt", &format!("source={frontend}")])
        .args(["--opt", &format!("filename={file}")])
        .args(["--opt", &format!("target={target}")])
        .arg("--local")
        .arg(format!("context={}", root.display()))
        .arg("--local")
        .arg(format!("dockerfile={}", dir.display()))
        .args(extra)
        .args(["--output", output.unwrap_or(&local)]));
    (out, o)
}

/// [`buildctl`] of hello's bookworm/deb into a local directory.
fn buildctl_hello(
    host: &str,
    frontend: &str,
    extra: &[&str],
) -> (tempfile::TempDir, std::process::Output) {
    buildctl(
        host,
        frontend,
        "specs/hello.yml",
        "bookworm/deb",
        extra,
        None,
    )
}

#[test]
fn a_systemd_spec_builds_for_both_distros_and_installs() {
    let _daemon = one_at_a_time();
    if !engine_ready() {
        return;
    }
    let Some(host) = buildkit_host() else { return };
    let frontend = pushed_frontend();
    for (distro, id) in [("bookworm", "debian12"), ("trixie", "debian13")] {
        let (out, o) = buildctl(
            &host,
            &frontend,
            "tests/fixtures/install-layout.yml",
            &format!("{distro}/deb"),
            &[],
            None,
        );
        assert!(o.status.success(), "{distro}:\n{}", text(&o));
        let deb = format!("kiln-layout_1.0-{id}u1_amd64.deb");
        let o = install_and_run(
            out.path(),
            distro,
            &deb,
            "stat -c '%a %n' /usr/bin/layout-tool \
             && readlink /etc/systemd/system/multi-user.target.wants/kiln-layout.service",
        );
        let shown = text(&o);
        assert!(o.status.success(), "{distro}:\n{shown}");
        assert!(shown.contains("700 /usr/bin/layout-tool"), "{shown}");
        assert!(shown.contains("kiln-layout.service"), "{shown}");
    }
}

#[test]
fn container_images_run_and_a_multi_platform_result_is_an_oci_index() {
    let _daemon = one_at_a_time();
    if !engine_ready() {
        return;
    }
    let Some(host) = buildkit_host() else { return };
    let frontend = pushed_frontend();
    // The container route, exported as a Docker image tarball, loaded and run.
    let dir = tempfile::tempdir().unwrap();
    let tarball = dir.path().join("hello.tar");
    let tag = "kiln-e2e/hello:buildkitd";
    let output = format!("type=docker,name={tag},dest={}", tarball.display());
    let (_, o) = buildctl(
        &host,
        &frontend,
        "specs/hello.yml",
        "bookworm/container",
        &[],
        Some(&output),
    );
    assert!(o.status.success(), "container:\n{}", text(&o));
    let o = run(Command::new("docker").arg("load").arg("-i").arg(&tarball));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(Command::new("docker").args(["run", "--rm", tag]));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Hello, world!\n",
        "{}",
        text(&o)
    );

    // Two platforms at once: one OCI index with an image per platform.
    let layout = dir.path().join("multi.tar");
    let output = format!("type=oci,dest={}", layout.display());
    let (_, o) = buildctl(
        &host,
        &frontend,
        "specs/hello.yml",
        "bookworm/container",
        &["--opt", "platform=linux/amd64,linux/386"],
        Some(&output),
    );
    assert!(o.status.success(), "multi-platform:\n{}", text(&o));
    let blob = |name: &str| -> serde_json::Value {
        let o = run(Command::new("tar").arg("-xOf").arg(&layout).arg(name));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    // The layout's index points at one image index, whose manifests are the platforms.
    let index = blob("index.json");
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .replace(':', "/");
    let images = blob(&format!("blobs/{digest}"));
    let mut platforms: Vec<String> = images["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["platform"]["architecture"].as_str().map(str::to_string))
        .collect();
    platforms.sort();
    assert_eq!(platforms, vec!["386", "amd64"], "{images}");
}

#[test]
fn a_registry_cache_exported_with_mode_max_fills_an_empty_daemon() {
    let _daemon = one_at_a_time();
    if !engine_ready() {
        return;
    }
    let Some(host) = buildkit_host() else { return };
    let frontend = pushed_frontend();
    let prune = || {
        let o = run(Command::new("buildctl").args(["--addr", &host, "prune", "--all"]));
        assert!(o.status.success(), "prune:\n{}", text(&o));
    };
    // buildctl's --export-cache / --import-cache.
    let cache = format!("{}/kiln-e2e/hello-cache:max", registry());
    let export = format!("type=registry,ref={cache},mode=max");
    let (_out, o) = buildctl_hello(&host, &frontend, &["--export-cache", &export]);
    assert!(o.status.success(), "export:\n{}", text(&o));
    prune();
    let import = format!("type=registry,ref={cache}");
    let (out, o) = buildctl_hello(&host, &frontend, &["--import-cache", &import]);
    assert_fully_cached(out.path(), &o);

    // buildx's --cache-to / --cache-from, through the remote driver (Docker's own docker
    // driver exports no registry cache without the containerd image store).
    let builder = RemoteBuilder::create();
    let cache = format!("{}/kiln-e2e/hello-cache:buildx", registry());
    let to = format!("type=registry,ref={cache},mode=max,registry.insecure=true");
    let (_out, o) = builder.build_hello(&frontend, &["--cache-to", &to]);
    assert!(o.status.success(), "cache-to:\n{}", text(&o));
    prune();
    let from = format!("type=registry,ref={cache},registry.insecure=true");
    let (out, o) = builder.build_hello(&frontend, &["--cache-from", &from]);
    assert_fully_cached(out.path(), &o);
}

/// The build succeeded, gave hello's .deb, and built none of the package's steps again.
fn assert_fully_cached(out: &Path, o: &Output) {
    let log = text(o);
    assert!(o.status.success(), "import:\n{log}");
    hello_deb(out);
    let uncached = uncached_kiln_steps(&log);
    assert!(
        uncached.iter().all(|s| !s.contains("dpkg-buildpackage")
            && !s.contains("prepare build worker")
            && !s.contains("install build dependencies")),
        "steps built again although the registry has their cache: {uncached:?}\n{log}"
    );
}
