//! The signing worker and the signing step, as LLB.

use kiln_buildkit::llb::{Exec, Mount, NetMode, Sharing, State};
use kiln_buildkit::options::BuildOpts;
use kiln_buildkit::pb;

/// The signing step's script (see the file: each failure names its cause).
const SCRIPT: &str = include_str!("sign.sh");

/// The secret with the armored OpenPGP secret key.
pub const KEY_ID: &str = "kiln-signing-key";
/// The secret with the key's passphrase (optional).
pub const PASS_ID: &str = "kiln-signing-passphrase";

/// Where the artifacts are signed (the step's output).
const OUT: &str = "/kiln/out";
/// The GnuPG home: a tmpfs, gone with the step.
const GNUPGHOME: &str = "/kiln/gnupg";

/// The signer's tools on Debian trixie (gpg, debsigs 0.2 that signs SHA-512 and zstd debs,
/// debsig-verify for the self-check), installed once and cached like any step.
fn signing_worker(platform: pb::Platform) -> State {
    let install = "set -e\nrm -f /etc/apt/apt.conf.d/docker-clean\napt-get update -q\n\
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gnupg gpgv debsigs debsig-verify\n";
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
                .name("[kiln-signer] signing worker (debian:trixie, gnupg, debsigs)"),
        )
        .root()
}

/// The artifacts with their signatures: the signing step run on a copy of them, the key
/// mounted as a secret, no network. The step is never taken from the cache: its result
/// depends on the secrets, which BuildKit's cache keys do not see (a new key must sign).
pub fn sign(artifacts: &State, opts: &BuildOpts) -> State {
    let p = opts.default_platform();
    let platform = pb::Platform {
        architecture: p.architecture,
        os: p.os,
        variant: p.variant,
        ..Default::default()
    };
    let key = format!("/run/secrets/{KEY_ID}");
    let pass = format!("/run/secrets/{PASS_ID}");
    let step = Exec::shell(SCRIPT)
        .env("OUT", OUT)
        .env("GNUPGHOME", GNUPGHOME)
        .env("KEY", &key)
        .env("KEY_ID", KEY_ID)
        .env("PASS", &pass)
        .env("PASS_ID", PASS_ID)
        .mount(Mount::bind(OUT, artifacts.clone()))
        .mount(Mount::tmpfs(GNUPGHOME))
        .mount(Mount::secret(&key, KEY_ID).optional())
        .mount(Mount::secret(&pass, PASS_ID).optional())
        .network(NetMode::None)
        .name("[kiln-signer] sign and check");
    signing_worker(platform)
        .run(step)
        .output(OUT)
        .unwrap_or_default()
        .never_cached()
}
