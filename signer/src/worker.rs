//! The signing worker and the signing step, as LLB.

use kiln_buildkit::llb::{Exec, Mount, NetMode, Sharing, State};
use kiln_buildkit::options::BuildOpts;
use kiln_buildkit::pb;

/// The signing step's script (see the file: each failure names its cause).
const SCRIPT: &str = include_str!("sign.sh");

/// The secret with the armored OpenPGP secret key, unless the signer's args rename it.
pub const KEY_ID: &str = "kiln-signing-key";
/// The secret with the key's passphrase (optional), unless the signer's args rename it.
pub const PASS_ID: &str = "kiln-signing-passphrase";
/// The signer arg (`package_config.signer.args`) that names the key's secret instead.
pub const KEY_ARG: &str = "SIGNING_KEY_SECRET";
/// The signer arg that names the passphrase's secret instead.
pub const PASS_ARG: &str = "SIGNING_PASSPHRASE_SECRET";

/// The secret ids to sign with: the defaults, or what the signer's args name (checked, so a
/// typo is an error rather than an unsigned surprise).
pub fn secret_ids(opts: &BuildOpts) -> Result<(String, String), String> {
    let args = opts.build_args();
    let pick = |arg: &str, default: &str| -> Result<String, String> {
        match args.get(arg) {
            None => Ok(default.to_string()),
            Some(id)
                if !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) =>
            {
                Ok(id.clone())
            }
            Some(id) => Err(format!(
                "signer arg {arg}={id:?}: a secret id is letters, digits, '.', '_' and '-'"
            )),
        }
    };
    Ok((pick(KEY_ARG, KEY_ID)?, pick(PASS_ARG, PASS_ID)?))
}

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
pub fn sign(artifacts: &State, opts: &BuildOpts, key_id: &str, pass_id: &str) -> State {
    let platform = opts.default_platform().to_llb();
    let key = format!("/run/secrets/{key_id}");
    let pass = format!("/run/secrets/{pass_id}");
    let step = Exec::shell(SCRIPT)
        .env("OUT", OUT)
        .env("GNUPGHOME", GNUPGHOME)
        .env("KEY", &key)
        .env("KEY_ID", key_id)
        .env("PASS", &pass)
        .env("PASS_ID", pass_id)
        .mount(Mount::bind(OUT, artifacts.clone()))
        .mount(Mount::tmpfs(GNUPGHOME))
        .mount(Mount::secret(&key, key_id).optional())
        .mount(Mount::secret(&pass, pass_id).optional())
        .network(NetMode::None)
        .name("[kiln-signer] sign and check");
    signing_worker(platform)
        .run(step)
        .output(OUT)
        .unwrap_or_default()
        .never_cached()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[(&str, &str)]) -> BuildOpts {
        let mut o = BuildOpts::default();
        for (k, v) in args {
            o.opts.insert(format!("build-arg:{k}"), v.to_string());
        }
        o
    }

    #[test]
    fn the_signer_args_rename_the_secrets_and_a_bad_id_is_refused() {
        assert_eq!(
            secret_ids(&opts(&[])).unwrap(),
            (KEY_ID.to_string(), PASS_ID.to_string())
        );
        assert_eq!(
            secret_ids(&opts(&[(KEY_ARG, "release-key")])).unwrap(),
            ("release-key".to_string(), PASS_ID.to_string())
        );
        assert_eq!(
            secret_ids(&opts(&[(PASS_ARG, "a/b")])).unwrap_err(),
            "signer arg SIGNING_PASSPHRASE_SECRET=\"a/b\": a secret id is letters, digits, '.', '_' and '-'"
        );
    }
}
