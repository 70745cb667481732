//! Helpers for kiln's end-to-end tests: run `docker buildx build` with the kiln frontend
//! against a real engine and look at what comes out.
//!
//! The tests need an engine (`make test` starts a private one) and the frontend image
//! `kiln/frontend:dev` (`make image`). Outside CI, a missing engine skips them with a
//! message; with `CI=true` it fails them.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The frontend image the example specs name in their `# syntax=` line.
pub const FRONTEND_IMAGE: &str = "kiln/frontend:dev";

/// The repository root (where `specs/` lives).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Runs a command and returns its output, panicking only if it cannot be started.
pub fn run(cmd: &mut Command) -> Output {
    match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run {cmd:?}: {e}"),
    }
}

/// Both output streams as one string.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Whether the engine and the frontend image are there. Skips (returns false) outside CI,
/// panics in CI.
pub fn engine_ready() -> bool {
    let problem = if !run(Command::new("docker").arg("version")).status.success() {
        Some("no Docker engine is reachable (run the tests with `make test`)".to_string())
    } else if !run(Command::new("docker").args(["image", "inspect", FRONTEND_IMAGE]))
        .status
        .success()
    {
        Some(format!(
            "the frontend image {FRONTEND_IMAGE} is missing (run `make image`)"
        ))
    } else {
        None
    };
    match problem {
        None => true,
        Some(p) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("{p}"),
        Some(p) => {
            eprintln!("skipping e2e test: {p}");
            false
        }
    }
}

/// Whether the image `tag` (one the project makes with `make_target`) is in the engine.
/// Outside CI a missing one skips the test; in CI it fails it.
pub fn image_ready(tag: &str, make_target: &str) -> bool {
    let present = run(Command::new("docker").args(["image", "inspect", tag]))
        .status
        .success();
    if !present && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{tag} is missing (run `make {make_target}`)");
    }
    present
}

/// One build at a time per test binary: BuildKit may not keep in its cache a step that
/// several concurrent builds shared (seen on a cold engine), which would make "a second build
/// is fully cached" flaky; serial builds also keep the 2-core machine from thrashing.
static BUILDS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `docker buildx build` of `spec` for `target` in `context`, with extra arguments.
pub fn build(spec: &Path, target: &str, context: &Path, extra: &[&str]) -> Output {
    let _one_at_a_time = BUILDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut cmd = Command::new("docker");
    cmd.args(["buildx", "build", "--progress=plain", "-f"])
        .arg(spec)
        .args(["--target", target])
        .args(extra)
        .arg(context);
    run(&mut cmd)
}

/// The engine's buildx version as (major, minor), from `docker buildx version`
/// (`github.com/docker/buildx 0.29.1+ds1 …`); (0, 0) if it cannot be read.
pub fn buildx_version() -> (u32, u32) {
    static VERSION: std::sync::OnceLock<(u32, u32)> = std::sync::OnceLock::new();
    *VERSION.get_or_init(|| {
        let o = run(Command::new("docker").args(["buildx", "version"]));
        let out = String::from_utf8_lossy(&o.stdout);
        let version = out.split_whitespace().nth(1).unwrap_or("");
        let mut parts = version.trim_start_matches('v').split('.');
        let mut next = || {
            parts
                .next()
                .and_then(|p| p.parse::<u32>().ok())
                .unwrap_or(0)
        };
        (next(), next())
    })
}

/// Lists the targets of `spec` in `context` as buildx prints them: `--call targets` (buildx
/// 0.14 and later), or `--print=targets` with BUILDX_EXPERIMENTAL=1 on older buildx.
pub fn list_targets(spec: &Path, context: &Path) -> Output {
    let mut cmd = Command::new("docker");
    cmd.args(["buildx", "build"]);
    if buildx_version() >= (0, 14) {
        cmd.args(["--call", "targets"]);
    } else {
        cmd.env("BUILDX_EXPERIMENTAL", "1").arg("--print=targets");
    }
    cmd.arg("-f").arg(spec).arg(context);
    run(&mut cmd)
}

/// `docker buildx bake` with the repository's `docker-bake.hcl`, the given bake variables set
/// in its environment, and extra arguments (targets, `--set`).
pub fn bake(vars: &[(&str, &str)], extra: &[&str]) -> Output {
    bake_file(&repo_root().join("docker-bake.hcl"), vars, extra)
}

/// `docker buildx bake -f file` run from the repository root, with bake variables in its
/// environment and extra arguments.
pub fn bake_file(file: &Path, vars: &[(&str, &str)], extra: &[&str]) -> Output {
    let _one_at_a_time = BUILDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut cmd = Command::new("docker");
    cmd.current_dir(repo_root())
        .args(["buildx", "bake", "--progress=plain", "-f"])
        .arg(file)
        .args(extra)
        .envs(vars.iter().copied())
        // The tests' outputs are temporary directories outside the repository: buildx 0.29
        // asks for `--allow=fs.write=DIR` for those (0.13 does not know the flag).
        .env("BUILDX_BAKE_ENTITLEMENTS_FS", "0");
    run(&mut cmd)
}

/// Builds the image `tag` from a Dockerfile given as text (no context), for test fixtures;
/// panics with the log on failure.
pub fn image_from_dockerfile(tag: &str, dockerfile: &str) {
    use std::io::Write;
    let mut child = Command::new("docker")
        .args(["build", "-q", "-t", tag, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run docker build: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dockerfile.as_bytes())
            .unwrap_or_else(|e| panic!("cannot write the Dockerfile: {e}"));
    }
    let o = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("docker build: {e}"));
    assert!(o.status.success(), "docker build {tag}:\n{}", text(&o));
}

/// Builds `spec` for `target` (context: the repository) into a fresh directory, with extra
/// arguments; returns the directory and the build's output, successful or not.
pub fn build_into_tempdir(
    spec: &Path,
    target: &str,
    extra: &[&str],
) -> (tempfile::TempDir, Output) {
    build_into(spec, target, &repo_root(), extra)
}

/// Builds `spec` for `target` with `context` into a fresh directory, with extra arguments;
/// returns the directory and the build's output, successful or not.
pub fn build_into(
    spec: &Path,
    target: &str,
    context: &Path,
    extra: &[&str],
) -> (tempfile::TempDir, Output) {
    let out = tempfile::tempdir().expect("temporary directory");
    let dest = format!("type=local,dest={}", out.path().display());
    let args: Vec<&str> = extra
        .iter()
        .copied()
        .chain(["--output", dest.as_str()])
        .collect();
    let o = build(spec, target, context, &args);
    (out, o)
}

/// Builds `spec` for `target` into a fresh directory and returns it; panics with the build
/// log on failure.
pub fn build_to_dir(spec: &Path, target: &str) -> tempfile::TempDir {
    let (out, o) = build_into_tempdir(spec, target, &[]);
    assert!(
        o.status.success(),
        "build of {target} failed:\n{}",
        text(&o)
    );
    out
}

/// The files in a directory, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Names of the `[kiln …]` steps of a plain-progress build log that were not `CACHED`.
pub fn uncached_kiln_steps(log: &str) -> Vec<String> {
    let mut names = std::collections::BTreeMap::new();
    let mut cached = std::collections::BTreeSet::new();
    for line in log.lines() {
        let Some(rest) = line.strip_prefix('#') else {
            continue;
        };
        let Some((id, what)) = rest.split_once(' ') else {
            continue;
        };
        if what.starts_with("[kiln ") {
            names.insert(id.to_string(), what.to_string());
        } else if what == "CACHED" {
            cached.insert(id.to_string());
        }
    }
    names
        .into_iter()
        .filter(|(id, _)| !cached.contains(id))
        .map(|(_, n)| n)
        .collect()
}

/// Writes `text` as `spec.yml` in a new directory (the build context) and returns both.
pub fn spec_in_tempdir(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("spec.yml");
    std::fs::write(&path, text).expect("write spec");
    (dir, path)
}

/// A server process on loopback for the length of a test (killed on drop).
pub struct Server {
    child: std::process::Child,
    /// The port it listens on.
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on now (on loopback).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for_port(address: &str, port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect((address, port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("server on port {port} did not come up");
}

impl Server {
    fn spawn(cmd: &mut Command, port: u16) -> Server {
        Server::spawn_at(cmd, "127.0.0.1", port)
    }

    fn spawn_at(cmd: &mut Command, address: &str, port: u16) -> Server {
        let child = cmd
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        wait_for_port(address, port);
        Server { child, port }
    }

    /// Serves `dir` over plain HTTP on 127.0.0.1 (BuildKit fetches http sources from the
    /// engine's host, so loopback is reachable).
    pub fn http(dir: &Path) -> Server {
        let port = free_port();
        let mut cmd = Command::new("python3");
        cmd.args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .current_dir(dir);
        Server::spawn(&mut cmd, port)
    }

    /// Serves the git repositories under `base` over smart HTTP on 127.0.0.1, requiring basic
    /// auth with password `token`.
    pub fn git_http_with_token(base: &Path, token: &str) -> Server {
        Server::git_http(base, "127.0.0.1", free_port(), token)
    }

    /// Serves the git repositories under `base` over smart HTTP on `address:port` (token `-`:
    /// no auth), also answering Go's `?go-get=1` discovery.
    pub fn git_http(base: &Path, address: &str, port: u16, token: &str) -> Server {
        let mut cmd = Command::new("python3");
        cmd.arg(repo_root().join("tests/fixtures/git_http_server.py"))
            .arg(base)
            .arg(address)
            .arg(port.to_string())
            .arg(token);
        Server::spawn_at(&mut cmd, address, port)
    }

    /// An RFC 3161 timestamp server on `address` (build steps reach the machine at the
    /// bridge gateway), signing with the TSA that the `openssl ts` config file names.
    pub fn tsa(config: &Path, address: &str) -> Server {
        let port = free_port();
        let mut cmd = Command::new("python3");
        cmd.arg(repo_root().join("tests/fixtures/tsa_server.py"))
            .arg(config)
            .arg(address)
            .arg(port.to_string());
        Server::spawn_at(&mut cmd, address, port)
    }

    /// Serves the git repositories under `base` with `git daemon` on 127.0.0.1.
    pub fn git(base: &Path) -> Server {
        let port = free_port();
        let mut cmd = Command::new("git");
        cmd.arg("daemon")
            .arg(format!("--base-path={}", base.display()))
            .args(["--export-all", "--reuseaddr", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(base);
        Server::spawn(&mut cmd, port)
    }
}

/// Runs `git` in `dir` and returns its trimmed stdout; panics on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let o = run(Command::new("git")
        .args([
            "-c",
            "user.name=kiln",
            "-c",
            "user.email=kiln@example.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir));
    assert!(o.status.success(), "git {args:?} failed: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// The hex SHA-256 of a file.
pub fn sha256_hex(path: &Path) -> String {
    let o = run(Command::new("sha256sum").arg(path));
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The engine's bridge gateway address: how build containers reach this machine.
pub fn bridge_gateway() -> String {
    let o = run(Command::new("docker").args([
        "network",
        "inspect",
        "bridge",
        "-f",
        "{{(index .IPAM.Config 0).Gateway}}",
    ]));
    let ip = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(!ip.is_empty(), "no bridge gateway: {}", text(&o));
    ip
}

/// Makes `<dir>/<name>.git`, a bare repository whose one commit holds `files` (tagged `tag`
/// when given), and returns the commit id.
pub fn bare_repo(dir: &Path, name: &str, files: &[(&str, &str)], tag: Option<&str>) -> String {
    let work = dir.join(format!("{name}.work"));
    for (path, text) in files {
        let p = work.join(path);
        std::fs::create_dir_all(p.parent().unwrap_or(&work)).expect("create directory");
        std::fs::write(p, text).expect("write file");
    }
    git(&work, &["init", "-q"]);
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "fixture"]);
    if let Some(tag) = tag {
        git(&work, &["tag", tag]);
    }
    let commit = git(&work, &["rev-parse", "HEAD"]);
    git(
        dir,
        &[
            "clone",
            "-q",
            "--bare",
            &format!("{name}.work"),
            &format!("{name}.git"),
        ],
    );
    commit
}

/// Makes `<dir>/<name>.git`, a bare repository of the Go module `module` (tagged v1.0.0)
/// whose package `greeting` says `hello`.
pub fn go_greeting_module(dir: &Path, name: &str, module: &str, hello: &str) {
    let go_mod = format!("module {module}\n\ngo 1.19\n");
    let code = format!("package greeting\n\nfunc Hello() string {{ return \"{hello}\" }}\n");
    bare_repo(
        dir,
        name,
        &[("go.mod", &go_mod), ("greeting.go", &code)],
        Some("v1.0.0"),
    );
}

/// The clean image of a target distro: `ubuntu:<suite>` for Ubuntu's, else `debian:<suite>`
/// (as `scripts/engine.sh` makes them).
pub fn distro_image(distro: &str) -> String {
    match distro {
        "bionic" | "focal" | "jammy" | "noble" | "resolute" => format!("ubuntu:{distro}"),
        _ => format!("debian:{distro}"),
    }
}

/// The binary package of `name` version `version` (any revision and architecture) among the
/// files of `dir`: the `.deb`, not the source package beside it; panics when there is none.
pub fn deb_of(dir: &Path, name: &str, version: &str) -> String {
    let prefix = format!("{name}_{version}-");
    file_names(dir)
        .into_iter()
        .find(|f| f.starts_with(&prefix) && f.ends_with(".deb"))
        .unwrap_or_else(|| panic!("no {prefix}*.deb in {}", dir.display()))
}

/// Runs the shell line `script` in a fresh container of `image` with each `(host dir,
/// container path)` mounted read-only.
pub fn run_in_container(image: &str, mounts: &[(&Path, &str)], script: &str) -> Output {
    let mut cmd = Command::new("docker");
    cmd.args(["run", "--rm"]);
    for (host, path) in mounts {
        cmd.arg("-v").arg(format!("{}:{path}:ro", host.display()));
    }
    run(cmd.args([image, "sh", "-c", script]))
}

/// [`run_in_container`], which must succeed (else the test fails with its output): its
/// standard output.
pub fn stdout_in_container(image: &str, mounts: &[(&Path, &str)], script: &str) -> String {
    let o = run_in_container(image, mounts, script);
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Installs the package `deb` found in `out` with dpkg in a clean container of `distro`
/// ([`distro_image`]) and runs the shell line `command` there.
pub fn install_and_run(out: &Path, distro: &str, deb: &str, command: &str) -> Output {
    let script = format!("dpkg -i /pkgs/{deb} >/dev/null && {command}");
    run_in_container(&distro_image(distro), &[(out, "/pkgs")], &script)
}

/// Installs `deb` of `out` in a clean container of `distro` and checks that `program`
/// prints exactly `expected` there.
pub fn assert_installed_program_prints(
    out: &Path,
    distro: &str,
    deb: &str,
    program: &str,
    expected: &str,
) {
    let o = install_and_run(out, distro, deb, program);
    assert_eq!(String::from_utf8_lossy(&o.stdout), expected, "{}", text(&o));
}

/// A throwaway OpenPGP key made with the host's gpg (its home in `dir/gnupg`): the armored
/// secret key, the public key as a binary keyring and armored, and the fingerprint.
pub struct OpenPgpKey {
    /// `dir/secret.asc`, the armored secret key.
    pub secret: PathBuf,
    /// `dir/public.gpg`, a binary keyring (what gpgv and debsig-verify read).
    pub public: PathBuf,
    /// `dir/public.asc`, the armored public key (what rpmkeys imports).
    pub public_asc: PathBuf,
    /// The fingerprint, 40 upper-case hex digits.
    pub fpr: String,
}

/// Makes an [`OpenPgpKey`] in `dir` whose primary key signs: `algo` as gpg's
/// `--quick-gen-key` takes it (`ed25519`, `rsa1024`), `passphrase` (empty: none), `extra`
/// gpg options (`--faked-system-time T`).
pub fn openpgp_key(dir: &Path, algo: &str, passphrase: &str, extra: &[&str]) -> OpenPgpKey {
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).expect("a gpg home");
    let gpg = |args: &[&str]| {
        let o = run(Command::new("gpg")
            .arg("--homedir")
            .arg(&home)
            .args([
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                passphrase,
            ])
            .args(args));
        assert!(o.status.success(), "gpg {args:?}:\n{}", text(&o));
        o.stdout
    };
    let generate: Vec<&str> = extra
        .iter()
        .copied()
        .chain([
            "--quick-gen-key",
            "kiln test <kiln-test@example.invalid>",
            algo,
            "sign",
            "never",
        ])
        .collect();
    gpg(&generate);
    let key = OpenPgpKey {
        secret: dir.join("secret.asc"),
        public: dir.join("public.gpg"),
        public_asc: dir.join("public.asc"),
        fpr: String::from_utf8_lossy(&gpg(&["--with-colons", "--list-keys"]))
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.split(':').nth(8))
            .expect("a fingerprint")
            .to_string(),
    };
    let write = |path: &Path, data: Vec<u8>| std::fs::write(path, data).expect("write a key");
    write(&key.secret, gpg(&["--armor", "--export-secret-keys"]));
    write(&key.public, gpg(&["--export"]));
    write(&key.public_asc, gpg(&["--armor", "--export"]));
    key
}

/// Makes a throwaway Authenticode CA (`ca.key`, `ca.crt`) and a code-signing certificate
/// from it in `dir`, with openssl in `image`: `cs.p12` (certificate, key and CA) with the
/// password in `cs.pass` (`p12 pass`), everything readable.
pub fn authenticode_keys(image: &str, dir: &Path) {
    let o = run(Command::new("docker")
        .args(["run", "--rm", "--network", "none", "-v"])
        .arg(format!("{}:/keys", dir.display()))
        .args([image, "sh", "-c"])
        .arg(
        "set -e\ncd /tmp\n\
openssl req -x509 -newkey rsa:3072 -sha256 -nodes -days 30 -subj '/CN=kiln Test Root CA' \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout /keys/ca.key -out /keys/ca.crt 2>/dev/null\n\
printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\nextendedKeyUsage=codeSigning\\n' > ext\n\
openssl req -newkey rsa:3072 -nodes -subj '/CN=kiln Test Code Signing' -keyout cs.key -out cs.csr 2>/dev/null\n\
openssl x509 -req -in cs.csr -CA /keys/ca.crt -CAkey /keys/ca.key -CAcreateserial -days 30 -sha256 -extfile ext -out cs.crt 2>/dev/null\n\
openssl pkcs12 -export -inkey cs.key -in cs.crt -certfile /keys/ca.crt -passout 'pass:p12 pass' -out /keys/cs.p12\n\
printf 'p12 pass\\n' > /keys/cs.pass\n\
chmod -R a+r /keys\n",
    ));
    assert!(o.status.success(), "authenticode keys: {}", text(&o));
}

/// Dalec's example `tests/compat/dalec/<file>`, unchanged but for kiln's syntax line, in a new
/// directory: the directory and the spec's path.
pub fn dalec_example_in_tempdir(file: &str) -> (tempfile::TempDir, PathBuf) {
    let spec_text = std::fs::read_to_string(repo_root().join("tests/compat/dalec").join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let (first, rest) = spec_text
        .split_once('\n')
        .unwrap_or_else(|| panic!("{file}: one line"));
    assert!(first.starts_with("# syntax="), "{file}: {first}");
    spec_in_tempdir(&format!("# syntax=kiln/frontend:dev\n{rest}"))
}

/// `--secret id=ID,src=FILE` arguments for each (id, file), in order.
pub fn secret_args(secrets: &[(&str, &Path)]) -> Vec<String> {
    secrets
        .iter()
        .flat_map(|(id, src)| {
            [
                "--secret".to_string(),
                format!("id={id},src={}", src.display()),
            ]
        })
        .collect()
}

/// An `ssh-agent` serving a socket in a new directory, stopped on drop.
pub struct SshAgent {
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl SshAgent {
    /// Starts an agent with no keys.
    pub fn start() -> SshAgent {
        let dir = tempfile::tempdir().expect("temporary directory");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(dir.path().join("agent.sock"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("ssh-agent");
        let agent = SshAgent { child, dir };
        for _ in 0..50 {
            if agent.socket().exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        agent
    }

    /// The agent's socket (what `--ssh ID=…` takes).
    pub fn socket(&self) -> std::path::PathBuf {
        self.dir.path().join("agent.sock")
    }

    /// Adds the private key `key` to the agent.
    pub fn add(&self, key: &Path) {
        let o = run(Command::new("ssh-add")
            .env("SSH_AUTH_SOCK", self.socket())
            .arg(key));
        assert!(o.status.success(), "ssh-add: {}", text(&o));
    }
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
