//! Running a frontend process end to end: connect to BuildKit over stdio, handle the one
//! request, hand back its result or its error, and exit with a status that says which.

use crate::gateway::{FrontendResult, Gateway};
use crate::options::BuildOpts;
use std::process::ExitCode;

/// Runs `handle` as this process's frontend request on a single-threaded runtime. An error
/// message from `handle` goes back to BuildKit as the build's error; what cannot reach BuildKit
/// goes to stderr, prefixed with `prog`.
pub fn run_frontend<F>(prog: &str, handle: F) -> ExitCode
where
    F: AsyncFnOnce(&Gateway, &BuildOpts) -> Result<FrontendResult, String>,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{prog}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let gw = match Gateway::connect_stdio().await {
            Ok(g) => g,
            Err(e) => {
                eprintln!("{prog}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let opts = BuildOpts::from_env();
        let outcome = match handle(&gw, &opts).await {
            Ok(result) => gw.return_result(result).await,
            Err(message) => gw.return_error(&message, vec![]).await,
        };
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{prog}: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
