//! The signing worker and the signing step, as LLB.

use crate::config::Plan;
use kiln_buildkit::llb::{Exec, FileActions, Mount, NetMode, Sharing, State};
use kiln_buildkit::options::BuildOpts;
use kiln_buildkit::pb;

/// The signing step's script (see the file: each failure names its cause).
const SCRIPT: &str = include_str!("sign.sh");

/// Where the artifacts are signed (the step's output).
const OUT: &str = "/kiln/out";
/// The GnuPG home: a tmpfs, gone with the step.
const GNUPGHOME: &str = "/kiln/gnupg";

/// The signer's tools on Debian trixie, installed once and cached like any step: gpg,
/// debsigs 0.2 (signs SHA-512 and zstd debs) and debsig-verify, devscripts (debsign,
/// dscverify), rpm 4.20 (rpmsign; rpmkeys on rpm-sequoia, the strictest verifier), osslsigncode
/// and openssl (Authenticode; the system's CAs for real certificate chains), cosign (sigstore
/// bundles).
fn signing_worker(platform: pb::Platform) -> State {
    let install = "set -e\nrm -f /etc/apt/apt.conf.d/docker-clean\napt-get update -q\n\
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gnupg gpgv debsigs debsig-verify devscripts rpm osslsigncode openssl ca-certificates cosign\n";
    State::image("docker.io/library/debian:trixie", platform, None)
        .run(
            Exec::shell(install)
                .mount(Mount::cache(
                    "/var/cache/apt",
                    "kiln-signer-trixie-apt-cache",
                    Sharing::Locked,
                ))
                .mount(Mount::cache(
                    "/var/lib/apt",
                    "kiln-signer-trixie-apt-lib",
                    Sharing::Locked,
                ))
                .name("[kiln-signer] signing worker (debian:trixie: gnupg, debsigs, devscripts, rpm, osslsigncode, cosign)"),
        )
        .root()
}

/// The artifacts with their signatures: the signing step run on a copy of them, as `plan`
/// says, the keys mounted as secrets, no network (but for an Authenticode timestamp server).
/// The step is never taken from the cache: its result depends on the secrets, which
/// BuildKit's cache keys do not see (a new key must sign).
pub fn sign(artifacts: &State, opts: &BuildOpts, plan: &Plan) -> State {
    let platform = opts.default_platform().to_llb();
    let kinds: Vec<&str> = plan.kinds.iter().map(|k| k.name()).collect();
    let flag = |on: bool| if on { "1" } else { "0" };
    // The script is a file, so a failure names `/kiln/bin/sign.sh`, not its text.
    let script = State::scratch().file(
        FileActions::new().mkfile("/sign.sh", 0o755, SCRIPT.as_bytes().to_vec()),
        "[kiln-signer] write the signing step",
    );
    let mut step = Exec::new(["/bin/sh", "/kiln/bin/sign.sh"])
        .mount(Mount::bind("/kiln/bin", script).readonly())
        .env("OUT", OUT)
        .env("GNUPGHOME", GNUPGHOME)
        .env("KINDS", &kinds.join(" "))
        .env("KINDS_LISTED", flag(plan.kinds_listed))
        .env("PROGRAMS", flag(plan.programs))
        .env("DEBSIGS", flag(plan.debsigs))
        .env(
            "SIGSTORE",
            match plan.sigstore {
                Some(on) => flag(on),
                None => "auto",
            },
        )
        .env("IDENTITY", plan.identity.as_deref().unwrap_or_default())
        .env("DIGEST", &plan.digest)
        .env("TSA", plan.tsa.as_deref().unwrap_or_default())
        .env(
            "AC_DESCRIPTION",
            plan.description.as_deref().unwrap_or_default(),
        )
        .env("AC_URL", plan.url.as_deref().unwrap_or_default())
        .mount(Mount::bind(OUT, artifacts.clone()))
        .mount(Mount::tmpfs(GNUPGHOME))
        .name("[kiln-signer] sign and check");
    for secret in &plan.secrets {
        let path = format!("/run/secrets/{}", secret.id);
        step = step
            .env(secret.var, &path)
            .env(&format!("{}_ID", secret.var), &secret.id)
            .mount(Mount::secret(&path, &secret.id).optional());
    }
    if plan.tsa.is_none() {
        step = step.network(NetMode::None);
    }
    signing_worker(platform)
        .run(step)
        .output(OUT)
        .unwrap_or_default()
        .never_cached()
}

#[cfg(test)]
mod tests {
    use super::SCRIPT;

    #[test]
    fn the_signing_step_is_valid_posix_shell() {
        use std::io::Write;
        let mut sh = std::process::Command::new("sh")
            .arg("-n")
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        sh.stdin
            .take()
            .unwrap()
            .write_all(SCRIPT.as_bytes())
            .unwrap();
        let o = sh.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}
