//! `package_config.signer`: which signer frontend a build hands its packages to, and the
//! request it gets, as Dalec's signer contract has them (reference/dalec.md §3).
//!
//! The signer is an ordinary BuildKit frontend image. It gets every option of the build (build
//! args included, so its secrets and named contexts come along), the signer's `args` as
//! `build-arg:`s (the user's own options win), `dalec.target` (the target key) and, as its
//! `context` input, the packages; it returns them signed, and its files are copied over the
//! packages.

use crate::spec::{PackageSigner, Spec, SpecError, SpecErrors};
use kiln_artifact::handoff;
use kiln_buildkit::llb::State;
use kiln_buildkit::options::BuildOpts;
use kiln_buildkit::pb;
use std::collections::BTreeMap;

/// A signer a build uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// The signer frontend image.
    pub image: String,
    /// Its command line (`cmdline`), when set.
    pub cmdline: Option<String>,
    /// Build args for it (the spec's `args`, substituted).
    pub args: BTreeMap<String, String>,
    /// The target key (`bookworm`), passed as `dalec.target`.
    pub key: String,
}

/// Where a build's signer comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// The spec's `package_config.signer`.
    Spec(Signer),
    /// A signing config file to read first (`DALEC_SIGNING_CONFIG_PATH`), from a build context.
    File {
        /// The build context that holds it (`DALEC_SIGNING_CONFIG_CONTEXT_NAME`, else `context`).
        context: String,
        /// Its path in that context.
        path: String,
        /// The target key.
        key: String,
        /// Whether the spec names a signer too (the file wins, with a warning).
        replaces_spec: bool,
    },
}

/// What a signing round hands the signer (sent as [`handoff::STAGE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The programs before they are packed (Dalec's Windows contract).
    Programs,
    /// The packages as the build returns them.
    Packages,
}

impl Stage {
    /// Its [`handoff::STAGE`] value.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Programs => handoff::STAGE_PROGRAMS,
            Stage::Packages => handoff::STAGE_PACKAGES,
        }
    }
}

/// One round of signing a build asks for: the signer, what it gets, and as what.
#[derive(Debug, Clone)]
pub struct Round {
    /// Where the signer comes from.
    pub choice: Choice,
    /// The artifacts, unsigned.
    pub unsigned: State,
    /// What they are.
    pub stage: Stage,
}

/// Where the signer for the target `key` of `spec` comes from (the spec is already merged for
/// the target, so a target's `package_config` has replaced the root's), in Dalec's order: a
/// build arg that turns signing off (a warning says so), a config file named by
/// `DALEC_SIGNING_CONFIG_PATH`, the spec.
pub fn choose(
    spec: &Spec,
    key: &str,
    build_args: &BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> Option<Choice> {
    if let Some(arg) = ["DALEC_SKIP_SIGNING", "KILN_SKIP_SIGNING"]
        .into_iter()
        .find(|k| build_args.get(*k).is_some_and(|v| crate::plan::truthy(v)))
    {
        warnings.push(format!("Signing disabled by build-arg {arg:?}"));
        return None;
    }
    let from_spec = spec
        .package_config
        .as_ref()
        .and_then(|p| p.signer.as_ref())
        .and_then(|s| signer(&s.value, key));
    if let Some(path) = build_args
        .get("DALEC_SIGNING_CONFIG_PATH")
        .filter(|p| !p.is_empty())
    {
        return Some(Choice::File {
            context: build_args
                .get("DALEC_SIGNING_CONFIG_CONTEXT_NAME")
                .filter(|c| !c.is_empty())
                .cloned()
                .unwrap_or_else(|| "context".to_string()),
            path: path.clone(),
            key: key.to_string(),
            replaces_spec: from_spec.is_some(),
        });
    }
    from_spec.map(Choice::Spec)
}

/// A signer section, when it names an image.
fn signer(s: &PackageSigner, key: &str) -> Option<Signer> {
    let image = s.image.as_ref().filter(|i| !i.value.trim().is_empty())?;
    Some(Signer {
        image: image.value.clone(),
        cmdline: s.cmdline.clone().filter(|c| !c.is_empty()),
        args: s
            .args
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect(),
        key: key.to_string(),
    })
}

/// The signer a signing config file names (`file` is its name in messages).
pub fn from_config(file: &str, text: &str, key: &str) -> Result<Signer, SpecErrors> {
    let config = crate::spec::load_package_config(file, text)?;
    config
        .signer
        .as_ref()
        .and_then(|s| signer(&s.value, key))
        .ok_or_else(|| {
            SpecError::whole_file(
                file,
                "the signing config names no signer image (signer.image)",
            )
            .into()
        })
}

/// The options and inputs of the `gateway.v0` request that hands `packages` (of `stage`) to
/// `signer`.
pub fn request(
    opts: &BuildOpts,
    signer: &Signer,
    packages: &State,
    stage: Stage,
) -> (BTreeMap<String, String>, BTreeMap<String, pb::Definition>) {
    let args = signer
        .args
        .iter()
        .map(|(k, v)| (handoff::build_arg(k), v.clone()))
        .collect();
    let mut frontend_opts = crate::request::handoff::options(
        opts,
        args,
        &[],
        &signer.image,
        signer.cmdline.as_deref(),
        &signer.key,
    );
    frontend_opts.insert(handoff::CONTEXT_KEY.into(), handoff::CONTEXT.into());
    frontend_opts.insert(handoff::STAGE.into(), stage.name().into());
    (
        frontend_opts,
        crate::request::handoff::inputs(opts, handoff::CONTEXT, packages),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::load;

    fn args(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const SPEC: &str = "name: ab\npackage_config:\n  signer:\n    image: example.org/signer:1\n    cmdline: /signer\n    args:\n      KEY: one\n      MODE: fast\n";

    fn spec_signer_of(choice: Option<Choice>) -> Signer {
        match choice {
            Some(Choice::Spec(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_spec_names_the_signer_unless_a_build_arg_turns_it_off() {
        let spec = load("spec.yml", SPEC).unwrap();
        let mut warnings = Vec::new();
        let signer = spec_signer_of(choose(&spec, "bookworm", &args(&[]), &mut warnings));
        assert_eq!(signer.image, "example.org/signer:1");
        assert_eq!(signer.args, args(&[("KEY", "one"), ("MODE", "fast")]));
        assert!(warnings.is_empty());
        let off = choose(
            &spec,
            "bookworm",
            &args(&[("DALEC_SKIP_SIGNING", "True")]),
            &mut warnings,
        );
        assert_eq!(off, None);
        assert_eq!(
            warnings,
            ["Signing disabled by build-arg \"DALEC_SKIP_SIGNING\""]
        );
        let unsigned = load("spec.yml", "name: ab\n").unwrap();
        assert_eq!(
            choose(&unsigned, "bookworm", &args(&[]), &mut warnings),
            None
        );
    }

    #[test]
    fn a_config_file_named_by_a_build_arg_comes_before_the_spec() {
        let spec = load("spec.yml", SPEC).unwrap();
        let choice = choose(
            &spec,
            "bookworm",
            &args(&[
                ("DALEC_SIGNING_CONFIG_PATH", "/conf/sign.yml"),
                ("DALEC_SIGNING_CONFIG_CONTEXT_NAME", "signing"),
            ]),
            &mut Vec::new(),
        );
        assert_eq!(
            choice,
            Some(Choice::File {
                context: "signing".into(),
                path: "/conf/sign.yml".into(),
                key: "bookworm".into(),
                replaces_spec: true,
            })
        );
        let signer = from_config(
            "sign.yml",
            "signer:\n  image: example.org/other:2\n  cmdline: /s\n  args: {A: b}\n",
            "bookworm",
        )
        .unwrap();
        assert_eq!(signer.image, "example.org/other:2");
        assert_eq!(signer.args, args(&[("A", "b")]));
        let e = from_config("sign.yml", "signer: {cmdline: /s}\n", "bookworm").unwrap_err();
        assert!(e.to_string().contains("names no signer image"), "{e}");
        let e = from_config("sign.yml", "signer:\n  imag: x\n", "bookworm").unwrap_err();
        assert!(
            e.to_string().starts_with("sign.yml:2:3: unknown field"),
            "{e}"
        );
    }

    #[test]
    fn the_request_carries_the_build_and_the_packages() {
        let spec = load("spec.yml", SPEC).unwrap();
        let signer = spec_signer_of(choose(&spec, "bookworm", &args(&[]), &mut Vec::new()));
        let mut opts = BuildOpts::default();
        opts.opts.insert("target".into(), "bookworm/deb".into());
        opts.opts
            .insert("source".into(), "kiln/frontend:dev".into());
        opts.opts.insert("build-arg:MODE".into(), "careful".into());
        let (o, inputs) = request(&opts, &signer, &State::scratch(), Stage::Packages);
        assert_eq!(o["source"], "example.org/signer:1");
        assert_eq!(o["cmdline"], "/signer");
        assert_eq!(o["contextkey"], "context");
        assert_eq!(o["dalec.target"], "bookworm");
        assert_eq!(o["target"], "bookworm/deb");
        assert_eq!(o["kiln.signing.stage"], "packages");
        assert_eq!(o["build-arg:KEY"], "one");
        // The user's own option wins over the signer's arg of the same name.
        assert_eq!(o["build-arg:MODE"], "careful");
        assert!(inputs.contains_key("context"));
    }
}
