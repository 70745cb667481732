//! `kiln-signer.yml`: what to sign and how, from the `signing-config` named context, and the
//! secret ids the keys come in. Without a config, everything that can be signed with the
//! secrets given is.

use kiln_spec::{Located, SpecError, SpecErrors};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// The config file's name in its context.
pub const FILE: &str = "kiln-signer.yml";
/// The named context that holds the config, unless the signer arg [`CONTEXT_ARG`] names
/// another.
pub const CONTEXT: &str = "signing-config";
/// The signer arg that names the config's context instead.
pub const CONTEXT_ARG: &str = "SIGNING_CONFIG_CONTEXT";

/// What kiln-signer signs, by artifact kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `.deb`: a debsigs origin signature (unless `debsigs: false`) and `<file>.asc`.
    Deb,
    /// `.dsc` and `.changes`: clearsigned, the `.changes` checksums regenerated.
    Dsc,
    /// `.rpm` and `.src.rpm`: an OpenPGP header signature.
    Rpm,
    /// Windows `.exe`, `.dll` and `.msi`: Authenticode.
    Authenticode,
    /// Any other artifact (zip, tarballs, PE files without Authenticode): `<file>.asc`.
    Files,
    /// `SHA256SUMS` over the whole set and its `SHA256SUMS.asc`.
    Checksums,
}

impl Kind {
    /// Every kind: what a build without a config signs.
    pub const ALL: [Kind; 6] = [
        Kind::Deb,
        Kind::Dsc,
        Kind::Rpm,
        Kind::Authenticode,
        Kind::Files,
        Kind::Checksums,
    ];

    /// Its name in the config and in the signing step's `KINDS`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Deb => "deb",
            Kind::Dsc => "dsc",
            Kind::Rpm => "rpm",
            Kind::Authenticode => "authenticode",
            Kind::Files => "files",
            Kind::Checksums => "checksums",
        }
    }
}

/// Authenticode settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authenticode {
    /// An RFC 3161 timestamp server; without one, signatures carry no timestamp (and the step
    /// runs without network).
    pub tsa: Option<Located<String>>,
    /// The description shown by Windows (`osslsigncode -n`).
    pub description: Option<String>,
    /// The URL shown by Windows (`osslsigncode -i`).
    pub url: Option<String>,
}

/// The secret ids, each defaulting to kiln's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretNames {
    /// The armored OpenPGP secret key.
    pub openpgp_key: Option<Located<String>>,
    /// Its passphrase.
    pub openpgp_passphrase: Option<Located<String>>,
    /// The Authenticode certificate and key (PKCS#12).
    pub authenticode: Option<Located<String>>,
    /// Its password.
    pub authenticode_password: Option<Located<String>>,
    /// The cosign key (`cosign generate-key-pair`).
    pub cosign_key: Option<Located<String>>,
    /// Its password.
    pub cosign_password: Option<Located<String>>,
}

/// `kiln-signer.yml`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The kinds to sign (all when absent); a kind listed here without its key is an error.
    pub kinds: Option<Located<Vec<Kind>>>,
    /// Whether `.deb`s get a debsigs origin signature (default true).
    pub debsigs: Option<bool>,
    /// Whether every artifact gets a sigstore bundle (default: when the cosign key is given);
    /// `true` without the key is an error.
    pub sigstore: Option<bool>,
    /// The fingerprint of the only OpenPGP key allowed to sign.
    pub identity: Option<Located<String>>,
    /// The digest of every signature: sha256, sha384 or sha512 (the default).
    pub digest: Option<Located<String>>,
    /// Authenticode settings.
    #[serde(default)]
    pub authenticode: Authenticode,
    /// Other secret ids.
    #[serde(default)]
    pub secrets: SecretNames,
}

/// One secret the signing step may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// Its id, as given with `--secret id=…`.
    pub id: String,
    /// The signing step's variable for its path (`PGP_KEY`).
    pub var: &'static str,
}

/// What the signing step does, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The kinds to sign.
    pub kinds: BTreeSet<Kind>,
    /// Whether the kinds were listed (then a listed kind without its key fails).
    pub kinds_listed: bool,
    /// debsigs origin signatures on `.deb`s.
    pub debsigs: bool,
    /// Sigstore bundles: `Some(true)` asked for, `Some(false)` refused, `None` when the key is
    /// given.
    pub sigstore: Option<bool>,
    /// The expected OpenPGP fingerprint (upper case), if any.
    pub identity: Option<String>,
    /// gpg's name of the digest (`SHA512`).
    pub digest: String,
    /// The timestamp server for Authenticode.
    pub tsa: Option<String>,
    /// Authenticode's description and URL.
    pub description: Option<String>,
    /// Authenticode's URL.
    pub url: Option<String>,
    /// The secrets, by their role.
    pub secrets: Vec<Secret>,
    /// Whether the artifacts are programs before they are packed (the `programs` stage):
    /// they get Authenticode only, and nothing to sign is no error (the packages made of
    /// them are signed next).
    pub programs: bool,
}

impl Plan {
    /// The plan for programs before they are packed ([`Plan::programs`]): Authenticode
    /// only, if the plan has it; no detached signatures, checksums or bundles, which would
    /// be packed with them.
    pub fn for_programs(mut self) -> Plan {
        self.kinds.retain(|k| *k == Kind::Authenticode);
        self.sigstore = Some(false);
        self.programs = true;
        self
    }
}

/// The roles of the secrets: default id, signer arg that renames it, the step's variable.
const SECRETS: [(&str, &str, &str); 6] = [
    ("kiln-signing-key", "SIGNING_KEY_SECRET", "PGP_KEY"),
    (
        "kiln-signing-passphrase",
        "SIGNING_PASSPHRASE_SECRET",
        "PGP_PASS",
    ),
    ("kiln-authenticode", "AUTHENTICODE_SECRET", "AC_KEY"),
    (
        "kiln-authenticode-password",
        "AUTHENTICODE_PASSWORD_SECRET",
        "AC_PASS",
    ),
    ("kiln-cosign-key", "COSIGN_KEY_SECRET", "COSIGN_KEY"),
    (
        "kiln-cosign-password",
        "COSIGN_PASSWORD_SECRET",
        "COSIGN_PASS",
    ),
];

/// Whether `id` can be a BuildKit secret id.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

const ID_RULE: &str = "a secret id is letters, digits, '.', '_' and '-'";

/// Reads `kiln-signer.yml` (`file` names it in errors).
pub fn parse(file: &str, text: &str) -> Result<Config, SpecErrors> {
    kiln_spec::load_yaml(file, text)
}

/// The plan for `config` (the default when there is none; `file` and `text` locate its
/// errors) and the signer's build args (which rename secrets over the config).
pub fn plan(
    config: Option<(&str, &str, &Config)>,
    args: &BTreeMap<String, String>,
) -> Result<Plan, SpecErrors> {
    let default = Config::default();
    let (file, text, c) = config.unwrap_or(("", "", &default));
    let at = |pos, message: String| SpecErrors::from(SpecError::at(file, text, pos, message));
    let named = [
        &c.secrets.openpgp_key,
        &c.secrets.openpgp_passphrase,
        &c.secrets.authenticode,
        &c.secrets.authenticode_password,
        &c.secrets.cosign_key,
        &c.secrets.cosign_password,
    ];
    let mut secrets = Vec::new();
    for ((default_id, arg, var), from_config) in SECRETS.into_iter().zip(named) {
        let id = match (args.get(arg), from_config) {
            (Some(id), _) if valid_id(id) => id.clone(),
            (Some(id), _) => {
                return Err(SpecError::whole_file(
                    "the signer's args",
                    format!("signer arg {arg}={id:?}: {ID_RULE}"),
                )
                .into());
            }
            (None, Some(id)) if valid_id(id) => id.value.clone(),
            (None, Some(id)) => {
                return Err(at(id.pos, format!("secret id {:?}: {ID_RULE}", id.value)));
            }
            (None, None) => default_id.to_string(),
        };
        secrets.push(Secret { id, var });
    }
    let digest = match &c.digest {
        None => "SHA512".to_string(),
        Some(d) => match d.to_ascii_lowercase().as_str() {
            "sha256" | "sha384" | "sha512" => d.to_ascii_uppercase(),
            "sha1" | "sha-1" | "md5" => {
                return Err(at(
                    d.pos,
                    format!(
                        "digest {:?}: kiln-signer refuses SHA-1 and MD5 (RHEL 9, rpm-sequoia, apt and debsig-verify reject them); use sha256, sha384 or sha512",
                        d.value
                    ),
                ));
            }
            _ => {
                return Err(at(
                    d.pos,
                    format!("digest {:?}: use sha256, sha384 or sha512", d.value),
                ));
            }
        },
    };
    let identity = match &c.identity {
        None => None,
        Some(i) => {
            let fpr: String = i
                .split_whitespace()
                .collect::<String>()
                .to_ascii_uppercase();
            if fpr.len() != 40 || !fpr.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(at(
                    i.pos,
                    format!(
                        "identity {:?}: the OpenPGP key's fingerprint, 40 hex digits (gpg --fingerprint)",
                        i.value
                    ),
                ));
            }
            Some(fpr)
        }
    };
    if let Some(tsa) = &c.authenticode.tsa
        && !(tsa.starts_with("http://") || tsa.starts_with("https://"))
    {
        return Err(at(
            tsa.pos,
            format!(
                "authenticode.tsa {:?}: an http:// or https:// URL",
                tsa.value
            ),
        ));
    }
    let kinds: BTreeSet<Kind> = match &c.kinds {
        Some(k) if k.is_empty() => {
            return Err(at(
                k.pos,
                "kinds is empty: list what to sign, or leave it out to sign everything".into(),
            ));
        }
        Some(k) => k.iter().copied().collect(),
        None => Kind::ALL.into_iter().collect(),
    };
    Ok(Plan {
        kinds_listed: c.kinds.is_some(),
        kinds,
        debsigs: c.debsigs.unwrap_or(true),
        sigstore: c.sigstore,
        identity,
        digest,
        tsa: c.authenticode.tsa.as_ref().map(|t| t.value.clone()),
        description: c.authenticode.description.clone(),
        url: c.authenticode.url.clone(),
        secrets,
        programs: false,
    })
}

/// The context that holds the config: the default, or what the signer arg names.
pub fn context_name(args: &BTreeMap<String, String>) -> &str {
    args.get(CONTEXT_ARG).map_or(CONTEXT, String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn plan_of(text: &str) -> Result<Plan, String> {
        let c = parse(FILE, text).map_err(|e| e.to_string())?;
        plan(Some((FILE, text, &c)), &args(&[])).map_err(|e| e.to_string())
    }

    #[test]
    fn without_a_config_everything_is_signed_with_kilns_secret_ids() {
        let p = plan(None, &args(&[])).unwrap();
        assert_eq!(p.kinds, Kind::ALL.into_iter().collect());
        assert!(!p.kinds_listed && p.debsigs && p.sigstore.is_none());
        assert_eq!(p.digest, "SHA512");
        let ids: Vec<&str> = p.secrets.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "kiln-signing-key",
                "kiln-signing-passphrase",
                "kiln-authenticode",
                "kiln-authenticode-password",
                "kiln-cosign-key",
                "kiln-cosign-password"
            ]
        );
    }

    #[test]
    fn a_config_chooses_kinds_identity_digest_and_secret_ids() {
        let p = plan_of(
            "kinds: [deb, checksums]\ndebsigs: false\nsigstore: true\nidentity: 0123 4567 89ab cdef 0123 4567 89ab cdef 0123 4567\ndigest: sha256\nauthenticode:\n  tsa: http://tsa.example/\nsecrets:\n  openpgp-key: release-key\n",
        )
        .unwrap();
        assert_eq!(p.kinds, [Kind::Deb, Kind::Checksums].into_iter().collect());
        assert!(p.kinds_listed && !p.debsigs);
        assert_eq!(p.sigstore, Some(true));
        assert_eq!(
            p.identity.as_deref(),
            Some("0123456789ABCDEF0123456789ABCDEF01234567")
        );
        assert_eq!(p.digest, "SHA256");
        assert_eq!(p.tsa.as_deref(), Some("http://tsa.example/"));
        assert_eq!(p.secrets[0].id, "release-key");
        // The signer's args win over the config.
        let text = "secrets:\n  openpgp-key: release-key\n";
        let c = parse(FILE, text).unwrap();
        let p = plan(
            Some((FILE, text, &c)),
            &args(&[("SIGNING_KEY_SECRET", "other")]),
        )
        .unwrap();
        assert_eq!(p.secrets[0].id, "other");
    }

    #[test]
    fn programs_get_authenticode_only() {
        let p = plan_of("kinds: [authenticode, files, checksums]\nsigstore: true\n")
            .unwrap()
            .for_programs();
        assert_eq!(p.kinds, [Kind::Authenticode].into_iter().collect());
        assert_eq!(p.sigstore, Some(false));
        assert!(p.programs && p.kinds_listed);
        let p = plan_of("kinds: [deb]\n").unwrap().for_programs();
        assert!(p.kinds.is_empty());
    }

    #[test]
    fn bad_configs_fail_at_their_line() {
        assert_eq!(
            plan_of("kinds: [deb]\ndigest: sha1\n").unwrap_err(),
            "kiln-signer.yml:2:9: digest \"sha1\": kiln-signer refuses SHA-1 and MD5 (RHEL 9, rpm-sequoia, apt and debsig-verify reject them); use sha256, sha384 or sha512\n  |\n2 | digest: sha1\n  |         ^"
        );
        let e = plan_of("kinds: [deb, pdf]\n").unwrap_err();
        assert!(e.starts_with("kiln-signer.yml:1:14: "), "{e}");
        let e = plan_of("identity: ABCD\n").unwrap_err();
        assert!(
            e.starts_with("kiln-signer.yml:1:11: identity \"ABCD\""),
            "{e}"
        );
        let e = plan_of("sigstor: true\n").unwrap_err();
        assert!(e.starts_with("kiln-signer.yml:1:1: unknown field"), "{e}");
        let e = plan_of("secrets:\n  cosign-key: a/b\n").unwrap_err();
        assert!(
            e.starts_with("kiln-signer.yml:2:15: secret id \"a/b\""),
            "{e}"
        );
        let e = plan(None, &args(&[("SIGNING_PASSPHRASE_SECRET", "a/b")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("signer arg SIGNING_PASSPHRASE_SECRET=\"a/b\": a secret id is letters"),
            "{e}"
        );
    }
}
