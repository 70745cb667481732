//! The gomod generator's `auth.ssh`: a private Go module fetched from an SSH git server (an
//! sshd container on this machine) with the key in an agent given by `--ssh`.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::io::Read;
use std::process::Command;

const SSHD_IMAGE: &str = "kiln-e2e/sshd:bookworm";
const SSHD_DOCKERFILE: &str = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends openssh-server git && rm -rf /var/lib/apt/lists/* && useradd -m -s /usr/bin/git-shell git && mkdir -p /run/sshd\n";

/// An sshd container serving the bare repositories of a directory to user `git` with one
/// authorized key, on a port of this machine; removed on drop.
struct SshGitServer {
    name: String,
    port: u16,
}

impl SshGitServer {
    /// Serves `dir/<repo>.git` as `/<repo>.git`, for the key `dir/id.pub`.
    fn start(dir: &std::path::Path, repo: &str) -> SshGitServer {
        image_from_dockerfile(SSHD_IMAGE, SSHD_DOCKERFILE);
        let port = free_port();
        let name = format!("kiln-e2e-sshd-{port}");
        let script = format!(
            "set -e\ncp -r /fixture/{repo}.git /{repo}.git\nchown -R git /{repo}.git\ninstall -d -o git -m 700 /home/git/.ssh\ninstall -o git -m 600 /fixture/id.pub /home/git/.ssh/authorized_keys\nssh-keygen -A >/dev/null\nexec /usr/sbin/sshd -D -e"
        );
        let o = run(Command::new("docker")
            .args(["run", "-d", "--rm", "--name", &name, "-p"])
            .arg(format!("{port}:22"))
            .arg("-v")
            .arg(format!("{}:/fixture:ro", dir.display()))
            .args([SSHD_IMAGE, "sh", "-c", &script]));
        assert!(o.status.success(), "sshd: {}", text(&o));
        let server = SshGitServer { name, port };
        server.wait_for_banner();
        server
    }

    /// Waits until sshd answers with its banner.
    fn wait_for_banner(&self) {
        for _ in 0..100 {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let mut banner = [0u8; 4];
                if s.read_exact(&mut banner).is_ok() && &banner == b"SSH-" {
                    return;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let logs = run(Command::new("docker").args(["logs", &self.name]));
        panic!("sshd did not answer: {}", text(&logs));
    }
}

impl Drop for SshGitServer {
    fn drop(&mut self) {
        run(Command::new("docker").args(["rm", "-f", &self.name]));
    }
}

/// The gomod demo (tests/fixtures/gomod-generator.yml) requiring `<host>/greeting.git`
/// (the `.git` makes Go fetch it with git, over `https://` that git rewrites to SSH), its
/// host reached over SSH with the agent `gomodhost`.
fn ssh_spec(host: &str, port: u16) -> String {
    let template =
        std::fs::read_to_string(repo_root().join("tests/fixtures/gomod-generator.yml")).unwrap();
    for part in ["@HOST@/greeting", "      - gomod: {}\n", "    git:\n"] {
        assert!(template.contains(part), "the fixture has changed: {part}");
    }
    template
        .replace("@HOST@/greeting", "@HOST@/greeting.git")
        .replace(
            "      - gomod: {}\n",
            &format!(
                "      - gomod:\n          auth:\n            \"@HOST@:{port}\":\n              ssh:\n                id: gomodhost\n"
            ),
        )
        .replace("    git:\n", "    git:\n    openssh-client:\n")
        .replace("@HOST@", host)
}

#[test]
fn a_private_module_comes_over_ssh_with_the_agent_given_by_ssh() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    let host = bridge_gateway();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id");
    let o = run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "kiln-e2e", "-f"])
        .arg(&key));
    assert!(o.status.success(), "{}", text(&o));
    go_greeting_module(
        dir.path(),
        "greeting",
        &format!("{host}/greeting.git"),
        "hello from a module",
    );
    let server = SshGitServer::start(dir.path(), "greeting");
    let agent = SshAgent::start();
    agent.add(&key);
    let (ctx, spec) = spec_in_tempdir(&ssh_spec(&host, server.port));

    // Without the agent: the build names it and says how to pass it.
    let (_, o) = build_into(&spec, "bookworm/deb", ctx.path(), &[]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "kiln: SSH agent \"gomodhost\" (for Go module host {host}:{}, gomod auth of source app) was not given: pass --ssh gomodhost=SOCKET",
            server.port
        )),
        "{log}"
    );

    let ssh = format!("gomodhost={}", agent.socket().display());
    let (out, o) = build_into(&spec, "bookworm/deb", ctx.path(), &["--ssh", &ssh]);
    assert!(o.status.success(), "{}", text(&o));
    assert_installed_program_prints(
        out.path(),
        "bookworm",
        "kiln-gomod-demo_1.0-debian12u1_amd64.deb",
        "kiln-gomod-demo",
        "hello from a module\n",
    );
}
