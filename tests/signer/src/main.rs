//! A phony signer frontend for kiln's e2e tests (the contract of Dalec's test signer): it
//! receives the artifacts to sign as its `context` input and returns them unchanged, plus
//! `/signed-by-test-signer` recording the request: the target key (`dalec.target`), kiln's
//! signing stage (`kiln.signing.stage`), the artifacts' file names and every `build-arg:`
//! option, one `key=value` line each.

#![cfg_attr(test, allow(clippy::unwrap_used))]

use kiln_artifact::handoff;
use kiln_buildkit::gateway::{FrontendResult, Gateway};
use kiln_buildkit::llb::{CopyOptions, FileActions, State};
use kiln_buildkit::options::BuildOpts;
use std::process::ExitCode;

/// Where the record goes in the result.
const RECORD: &str = "/signed-by-test-signer";

async fn sign(gw: &Gateway, opts: &BuildOpts) -> Result<FrontendResult, String> {
    let inputs = gw.inputs().await.map_err(|e| e.to_string())?;
    let context = inputs
        .get(handoff::CONTEXT)
        .ok_or("no `context` input: nothing to sign")?;
    let artifacts = State::from_definition(context)?;
    let solved = gw
        .solve(artifacts.marshal())
        .await
        .map_err(|e| e.to_string())?;
    let names = gw.read_dir(&solved, "/").await.map_err(|e| e.to_string())?;
    let mut record = format!(
        "target={}\nstage={}\n",
        opts.get(handoff::TARGET).unwrap_or(""),
        opts.get(handoff::STAGE).unwrap_or("")
    );
    for stat in names {
        record.push_str(&format!("file={}\n", stat.path));
    }
    for (key, value) in &opts.opts {
        if let Some(arg) = handoff::as_build_arg(key) {
            record.push_str(&format!("arg:{arg}={value}\n"));
        }
    }
    let copy = CopyOptions {
        dir_copy_contents: true,
        ..Default::default()
    };
    let signed = State::scratch().file(
        FileActions::new().copy(&artifacts, "/", "/", copy).mkfile(
            RECORD,
            0o644,
            record.into_bytes(),
        ),
        "[test signer] sign",
    );
    let reference = gw
        .solve(signed.marshal())
        .await
        .map_err(|e| e.to_string())?;
    Ok(FrontendResult {
        reference: Some(reference),
        ..Default::default()
    })
}

fn main() -> ExitCode {
    kiln_buildkit::serve::run_frontend("test signer", async |gw, opts| {
        sign(gw, opts)
            .await
            .map_err(|message| format!("test signer: {message}"))
    })
}
