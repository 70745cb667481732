//! kiln-signer: a BuildKit frontend that signs the artifacts a packaging frontend hands it
//! (the `kiln-artifact` contract: the artifacts are its `context` input) and returns the same
//! tree with the signatures added. Run on its own (`# syntax=kiln/signer:dev`), it signs the
//! files of its build context.
//!
//! The signing itself runs in a BuildKit exec op, in a signing worker made from Debian trixie
//! with the distros' own tools (gpg, debsigs, debsign, rpmsign, osslsigncode, cosign):
//! artifacts never pass through this process (the gateway's message limit), and every
//! signature is checked with the verifier the distro's users run before anything is returned.
//! Keys come only from BuildKit secrets, mounted into that one step; the GnuPG home is a
//! tmpfs, so no key reaches a layer or the cache.
//!
//! What to sign comes from `kiln-signer.yml` in the `signing-config` named context (see
//! [`config`]); without it, everything that can be signed with the secrets given is.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
mod worker;

use kiln_artifact::handoff;
use kiln_buildkit::gateway::{FrontendResult, Gateway};
use kiln_buildkit::llb::{LocalOptions, State};
use kiln_buildkit::options::BuildOpts;
use kiln_buildkit::pb;
use std::collections::BTreeMap;
use std::process::ExitCode;

/// Why signing failed, as the build shows it.
type SignError = String;

/// The most a config file may be.
const MAX_CONFIG: usize = 1 << 20;

/// A client directory (`local:NAME`) or a frontend input (`input:NAME`, bake's contexts).
fn directory(
    opts: &BuildOpts,
    inputs: &BTreeMap<String, pb::Definition>,
    value: &str,
    include: &[&str],
) -> Result<Option<State>, SignError> {
    if let Some(dir) = value.strip_prefix("local:") {
        let o = LocalOptions {
            session_id: opts.session_for_local(dir),
            include_patterns: include.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        };
        return Ok(Some(State::local(dir, o)));
    }
    if let Some(input) = value.strip_prefix("input:") {
        return match inputs.get(input) {
            Some(def) => State::from_definition(def).map(Some),
            None => Err(format!("no input {input:?} for {value}")),
        };
    }
    Ok(None)
}

/// The artifacts: the `context` input a frontend hands over, else (kiln-signer run on its
/// own) the build context.
fn artifacts(
    opts: &BuildOpts,
    inputs: &BTreeMap<String, pb::Definition>,
) -> Result<State, SignError> {
    if let Some(context) = inputs.get(handoff::CONTEXT) {
        return State::from_definition(context);
    }
    let name = handoff::CONTEXT;
    Ok(State::local(
        name,
        LocalOptions {
            session_id: opts.session_for_local(name),
            ..Default::default()
        },
    ))
}

/// `kiln-signer.yml` from the config's named context, when the build has one, parsed and
/// planned with the signer's args.
async fn plan(
    gw: &Gateway,
    opts: &BuildOpts,
    inputs: &BTreeMap<String, pb::Definition>,
) -> Result<config::Plan, SignError> {
    let args = opts.build_args();
    let name = config::context_name(&args);
    let Some(value) = opts.named_context(name) else {
        return config::plan(None, &args).map_err(|e| e.to_string());
    };
    let label = format!("--build-context {name}={value}");
    let state = directory(opts, inputs, value, &[config::FILE])?.ok_or_else(|| {
        format!(
            "{label}: the signing config is a directory holding {} (a local path)",
            config::FILE
        )
    })?;
    let r = gw
        .solve(state.marshal())
        .await
        .map_err(|e| format!("{label}: {e}"))?;
    let bytes = gw
        .read_file_at_most(&r, config::FILE, MAX_CONFIG)
        .await
        .map_err(|e| format!("{label}: no {} in it ({e})", config::FILE))?;
    if bytes.len() > MAX_CONFIG {
        return Err(format!("{label}: {} is over 1 MiB", config::FILE));
    }
    let file = format!("{name}/{}", config::FILE);
    let text = kiln_spec::text(&file, &bytes).map_err(|e| e.to_string())?;
    let parsed = config::parse(&file, text).map_err(|e| e.to_string())?;
    config::plan(Some((&file, text, &parsed)), &args).map_err(|e| e.to_string())
}

async fn sign(gw: &Gateway, opts: &BuildOpts) -> Result<FrontendResult, SignError> {
    let inputs = gw.inputs().await.map_err(|e| e.to_string())?;
    let artifacts = artifacts(opts, &inputs)?;
    let mut plan = plan(gw, opts, &inputs).await?;
    if opts.get(handoff::STAGE) == Some(handoff::STAGE_PROGRAMS) {
        plan = plan.for_programs();
    }
    let signed = worker::sign(&artifacts, opts, &plan);
    // Evaluated here, so that a failing step (a missing secret, a weak key) fails the request
    // at once with its own message.
    let reference = gw
        .solve_evaluated(signed.marshal())
        .await
        .map_err(|e| e.to_string())?;
    Ok(FrontendResult {
        reference: Some(reference),
        ..Default::default()
    })
}

fn main() -> ExitCode {
    kiln_buildkit::serve::run_frontend("kiln-signer", sign)
}
