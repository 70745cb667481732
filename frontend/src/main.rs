//! The kiln-frontend binary: a BuildKit frontend when BuildKit runs it (no arguments), and
//! offline commands for people and editors otherwise.

use clap::{Parser, Subcommand};
use kiln_buildkit::gateway::Gateway;
use kiln_buildkit::options::BuildOpts;
use kiln_buildkit::transport;
use kiln_frontend::{frontend, spec, targets};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kiln-frontend",
    version,
    about = "kiln: Dalec-format package specs to native packages, as a BuildKit frontend"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a spec and print its errors with file:line:column (exit 1 when there are any).
    Lint {
        /// The spec file.
        spec: std::path::PathBuf,
    },
    /// List the build targets.
    Targets,
}

fn main() -> ExitCode {
    // Logs go to stderr: stdout is BuildKit's gRPC channel. KILN_LOG sets the level.
    let level = std::env::var("KILN_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(false)
        .init();
    if std::env::args_os().len() > 1 {
        return offline(Cli::parse());
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kiln-frontend: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve())
}

/// Runs as a BuildKit frontend over stdin/stdout.
async fn serve() -> ExitCode {
    tracing::debug!("started");
    let gateway = match transport::stdio_channel().await {
        Ok(channel) => match Gateway::connect(channel).await {
            Ok(g) => g,
            Err(e) => {
                eprintln!("kiln-frontend: {e}");
                return ExitCode::FAILURE;
            }
        },
        Err(e) => {
            eprintln!(
                "kiln-frontend: not started by BuildKit (stdin/stdout must be pipes): {e}\nRun `kiln-frontend --help` for the offline commands."
            );
            return ExitCode::FAILURE;
        }
    };
    tracing::debug!("connected to BuildKit");
    let opts = BuildOpts::from_env();
    let outcome = match frontend::handle(&gateway, &opts).await {
        Ok(result) => gateway.return_result(result).await,
        Err(e) => {
            tracing::info!("request failed: {e}");
            let (message, details) = e.to_status();
            gateway.return_error(&message, details).await
        }
    };
    tracing::debug!("returned");
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiln-frontend: {e}");
            ExitCode::FAILURE
        }
    }
}

fn offline(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Targets => {
            print!("{}", targets::list_text());
            ExitCode::SUCCESS
        }
        Command::Lint { spec: path } => {
            let name = path.display().to_string();
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("{name}: cannot read: {e}");
                    return ExitCode::from(2);
                }
            };
            match spec::load(&name, &text) {
                Ok(_) => ExitCode::SUCCESS,
                Err(errors) => {
                    eprintln!("{errors}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
