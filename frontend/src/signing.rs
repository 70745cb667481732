//! `package_config.signer`: which signer frontend a build hands its packages to, and the
//! request it gets, as Dalec's signer contract has them (reference/dalec.md §3).
//!
//! The signer is an ordinary BuildKit frontend image. It gets every option of the build (build
//! args included, so its secrets and named contexts come along), the signer's `args` as
//! `build-arg:`s (the user's own options win), `dalec.target` (the target key) and, as its
//! `context` input, the packages; it returns them signed, and its files are copied over the
//! packages.

use crate::spec::Spec;
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

/// Go's `strconv.ParseBool` truths, which Dalec uses for its switches.
fn truthy(value: &str) -> bool {
    matches!(value, "1" | "t" | "T" | "true" | "True" | "TRUE")
}

/// The signer for the target `key` of `spec` (already merged for the target, so a target's
/// `package_config` has replaced the root's), unless a build arg turns signing off (a warning
/// says so).
pub fn choose(
    spec: &Spec,
    key: &str,
    build_args: &BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> Result<Option<Signer>, String> {
    if let Some(arg) = ["DALEC_SKIP_SIGNING", "KILN_SKIP_SIGNING"]
        .into_iter()
        .find(|k| build_args.get(*k).is_some_and(|v| truthy(v)))
    {
        warnings.push(format!("Signing disabled by build-arg {arg:?}"));
        return Ok(None);
    }
    if build_args.contains_key("DALEC_SIGNING_CONFIG_PATH") {
        return Err("not supported yet: build-arg DALEC_SIGNING_CONFIG_PATH (a signing config from a file); give the signer in the spec's package_config".to_string());
    }
    let Some(signer) = spec.package_config.as_ref().and_then(|p| p.signer.as_ref()) else {
        return Ok(None);
    };
    let Some(image) = signer.image.as_ref().filter(|i| !i.value.trim().is_empty()) else {
        return Ok(None);
    };
    Ok(Some(Signer {
        image: image.value.clone(),
        cmdline: signer.cmdline.clone().filter(|c| !c.is_empty()),
        args: signer
            .args
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect(),
        key: key.to_string(),
    }))
}

/// The options and inputs of the `gateway.v0` request that hands `packages` to `signer`.
pub fn request(
    opts: &BuildOpts,
    signer: &Signer,
    packages: &State,
) -> (BTreeMap<String, String>, BTreeMap<String, pb::Definition>) {
    let mut frontend_opts: BTreeMap<String, String> = signer
        .args
        .iter()
        .map(|(k, v)| (format!("build-arg:{k}"), v.clone()))
        .collect();
    frontend_opts.extend(
        opts.opts
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "source" | "cmdline"))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    frontend_opts.insert("source".into(), signer.image.clone());
    if let Some(cmdline) = &signer.cmdline {
        frontend_opts.insert("cmdline".into(), cmdline.clone());
    }
    frontend_opts.insert("contextkey".into(), "context".into());
    frontend_opts.insert("dalec.target".into(), signer.key.clone());
    let mut inputs = opts.inputs.clone();
    inputs.insert("context".into(), packages.marshal());
    (frontend_opts, inputs)
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

    #[test]
    fn the_spec_names_the_signer_unless_a_build_arg_turns_it_off() {
        let spec = load("spec.yml", SPEC).unwrap();
        let mut warnings = Vec::new();
        let signer = choose(&spec, "bookworm", &args(&[]), &mut warnings)
            .unwrap()
            .unwrap();
        assert_eq!(signer.image, "example.org/signer:1");
        assert_eq!(signer.args, args(&[("KEY", "one"), ("MODE", "fast")]));
        assert!(warnings.is_empty());
        let off = choose(
            &spec,
            "bookworm",
            &args(&[("DALEC_SKIP_SIGNING", "True")]),
            &mut warnings,
        );
        assert_eq!(off, Ok(None));
        assert_eq!(
            warnings,
            ["Signing disabled by build-arg \"DALEC_SKIP_SIGNING\""]
        );
        assert!(
            choose(
                &spec,
                "bookworm",
                &args(&[("DALEC_SIGNING_CONFIG_PATH", "/x.yml")]),
                &mut warnings
            )
            .unwrap_err()
            .starts_with("not supported yet: build-arg DALEC_SIGNING_CONFIG_PATH")
        );
        let unsigned = load("spec.yml", "name: ab\n").unwrap();
        assert_eq!(
            choose(&unsigned, "bookworm", &args(&[]), &mut warnings),
            Ok(None)
        );
    }

    #[test]
    fn the_request_carries_the_build_and_the_packages() {
        let spec = load("spec.yml", SPEC).unwrap();
        let signer = choose(&spec, "bookworm", &args(&[]), &mut Vec::new())
            .unwrap()
            .unwrap();
        let mut opts = BuildOpts::default();
        opts.opts.insert("target".into(), "bookworm/deb".into());
        opts.opts
            .insert("source".into(), "kiln/frontend:dev".into());
        opts.opts.insert("build-arg:MODE".into(), "careful".into());
        let (o, inputs) = request(&opts, &signer, &State::scratch());
        assert_eq!(o["source"], "example.org/signer:1");
        assert_eq!(o["cmdline"], "/signer");
        assert_eq!(o["contextkey"], "context");
        assert_eq!(o["dalec.target"], "bookworm");
        assert_eq!(o["target"], "bookworm/deb");
        assert_eq!(o["build-arg:KEY"], "one");
        // The user's own option wins over the signer's arg of the same name.
        assert_eq!(o["build-arg:MODE"], "careful");
        assert!(inputs.contains_key("context"));
    }
}
