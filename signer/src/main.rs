//! kiln-signer: a BuildKit frontend that signs the artifacts a packaging frontend hands it
//! (the `kiln-artifact` contract: the artifacts are its `context` input) and returns the same
//! tree with the signatures added.
//!
//! The signing itself runs in a BuildKit exec op, in a signing worker made from Debian trixie
//! with the distros' own tools (gpg, debsigs, debsig-verify): artifacts never pass through this
//! process (the gateway's message limit), and every signature is checked with the verifier the
//! distro's users run before anything is returned. Keys come only from BuildKit secrets,
//! mounted into that one step; the GnuPG home is a tmpfs, so no key reaches a layer or the
//! cache.
//!
//! Signed today: `.deb` (a debsigs origin signature and a detached armored `<file>.asc`), and
//! for the whole set a `SHA256SUMS` with its detached signature. The key's secret is
//! `kiln-signing-key` (passphrase: `kiln-signing-passphrase`), or what the signer's args
//! `SIGNING_KEY_SECRET` / `SIGNING_PASSPHRASE_SECRET` name.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod worker;

use kiln_artifact::handoff;
use kiln_buildkit::gateway::{FrontendResult, Gateway};
use kiln_buildkit::llb::State;
use kiln_buildkit::options::BuildOpts;
use std::process::ExitCode;

/// Why signing failed, as the build shows it.
type SignError = String;

async fn sign(gw: &Gateway, opts: &BuildOpts) -> Result<FrontendResult, SignError> {
    let inputs = gw.inputs().await.map_err(|e| e.to_string())?;
    let context = inputs
        .get(handoff::CONTEXT)
        .ok_or("no `context` input: kiln-signer signs the artifacts a frontend hands it")?;
    let artifacts = State::from_definition(context)?;
    let (key_id, pass_id) = worker::secret_ids(opts)?;
    let signed = worker::sign(&artifacts, opts, &key_id, &pass_id);
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
