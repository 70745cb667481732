//! The kiln-frontend binary: a BuildKit frontend when BuildKit runs it (no arguments), and
//! offline commands for people, editors and pre-commit hooks otherwise.

#![cfg_attr(test, allow(clippy::unwrap_used))]

use clap::{Parser, Subcommand};
use kiln_buildkit::gateway::{Gateway, StdioError};
use kiln_buildkit::llb::definition_to_json;
use kiln_buildkit::options::BuildOpts;
use kiln_frontend::{plan, request as frontend, resolve, targets};
use std::path::PathBuf;
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
    /// Check a spec; print its errors with file:line:column and exit 1 when there are any.
    Lint {
        /// The spec file.
        spec: PathBuf,
    },
    /// Print the JSON Schema of the spec format (for editors).
    Schema,
    /// Print the spec as a target sees it: target overrides merged, args substituted.
    Resolve {
        /// The spec file.
        spec: PathBuf,
        /// A target (`bookworm`, `bookworm/deb`, ...); without it, the root spec.
        #[arg(long)]
        target: Option<String>,
        /// A build arg, `KEY=VALUE` (repeatable).
        #[arg(long = "build-arg", value_name = "KEY=VALUE")]
        build_args: Vec<String>,
        /// The target platform (`linux/arm64`, ...); sets TARGETOS, TARGETARCH, ...
        #[arg(long)]
        platform: Option<String>,
    },
    /// List the build targets.
    Targets,
    /// Exit 0 when FILE's content matches REGEX (Go's syntax), 1 when not. Spec tests run it in
    /// the test container for `matches` checks.
    #[command(hide = true)]
    Match {
        /// The regular expression.
        regex: String,
        /// The file whose whole content is matched.
        file: PathBuf,
    },
    /// Print the LLB definition of a target as JSON (for debugging and buildctl).
    Llb {
        /// The spec file.
        spec: PathBuf,
        /// The target to build.
        #[arg(long)]
        target: String,
        /// A build arg, `KEY=VALUE` (repeatable).
        #[arg(long = "build-arg", value_name = "KEY=VALUE")]
        build_args: Vec<String>,
        /// The platform to build for (`linux/arm64`, ...).
        #[arg(long)]
        platform: Option<String>,
    },
}

fn main() -> ExitCode {
    // Logs go to stderr: stdout is BuildKit's gRPC channel. KILN_LOG sets the level.
    // KILN_LOG sets the level of kiln's own events; libraries (h2, tonic) log warnings only.
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let level = std::env::var("KILN_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(LevelFilter::INFO);
    let filter = Targets::new()
        .with_default(LevelFilter::WARN.min(level))
        .with_target("kiln_frontend", level)
        .with_target("kiln_buildkit", level);
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false),
        )
        .with(filter)
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
    let started = std::time::Instant::now();
    tracing::debug!("started");
    let gateway = match Gateway::connect_stdio().await {
        Ok(g) => g,
        Err(e @ StdioError::NotPipes(_)) => {
            eprintln!("kiln-frontend: {e}\nRun `kiln-frontend --help` for the offline commands.");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("kiln-frontend: {e}");
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
    // `make bench` reads this line from the engine's log: kiln's own time per request.
    let (total, waiting) = (started.elapsed(), gateway.time_waiting());
    tracing::info!(
        "request handled in {:.1} ms: {:.1} ms waiting on BuildKit, {:.1} ms kiln's own",
        ms(total),
        ms(waiting),
        ms(total.saturating_sub(waiting))
    );
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiln-frontend: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A duration in milliseconds, for logs.
fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Options as BuildKit would pass them for an offline run.
fn offline_opts(
    target: Option<&str>,
    build_args: &[String],
    platform: Option<&str>,
) -> Result<BuildOpts, String> {
    let mut opts = BuildOpts::default();
    if let Some(t) = target {
        opts.opts.insert("target".into(), t.to_string());
    }
    if let Some(p) = platform {
        let platforms = opts_with_platform(p, target)?;
        if platforms.len() != 1 {
            return Err(format!(
                "--platform {p:?}: name one platform (BuildKit builds each of a list separately)"
            ));
        }
        opts.opts
            .insert("platform".into(), platforms[0].to_string());
    }
    for kv in build_args {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("--build-arg {kv:?}: expected KEY=VALUE"))?;
        opts.opts.insert(format!("build-arg:{k}"), v.to_string());
    }
    Ok(opts)
}

/// The platforms a `--platform` value names, checked for `target` (a Linux target if none).
fn opts_with_platform(
    value: &str,
    target: Option<&str>,
) -> Result<Vec<kiln_buildkit::options::WorkerPlatform>, String> {
    let mut opts = BuildOpts::default();
    opts.opts.insert("platform".into(), value.to_string());
    let distro = match target {
        Some(t) => kiln_frontend::targets::select(t)?.distro,
        None => &kiln_frontend::distro::DISTROS[0],
    };
    plan::check_platforms(&opts, distro)
}

/// Reads the spec at `path` and runs `f` on its name and text: exit 0 when `f` succeeds, 1
/// with its message when it fails (a spec that is not UTF-8 or too large to build included,
/// with the same located errors as a build), 2 when the file cannot be read.
fn with_spec(path: &PathBuf, f: impl FnOnce(&str, &str) -> Result<(), String>) -> ExitCode {
    let name = path.display().to_string();
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{name}: cannot read: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = frontend::spec_text(&name, &data)
        .map_err(|e| e.to_string())
        .and_then(|text| f(&name, text));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
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
        Command::Schema => {
            print!("{}", kiln_frontend::SCHEMA);
            ExitCode::SUCCESS
        }
        Command::Match { regex, file } => {
            match kiln_frontend::build::spectests::file_matches(&regex, &file) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("kiln-frontend match: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Lint { spec } => with_spec(&spec, |name, text| {
            resolve::lint(name, text).map_err(|e| e.to_string())
        }),
        Command::Resolve {
            spec,
            target,
            build_args,
            platform,
        } => with_spec(&spec, |name, text| {
            let opts = offline_opts(target.as_deref(), &build_args, platform.as_deref())?;
            let yaml = resolve::resolve_yaml(name, text, &opts).map_err(|e| e.to_string())?;
            print!("{yaml}");
            Ok(())
        }),
        Command::Llb {
            spec,
            target,
            build_args,
            platform,
        } => with_spec(&spec, |name, text| {
            let opts = offline_opts(Some(&target), &build_args, platform.as_deref())?;
            let plan = plan::plan_text(name, text, &opts, &Default::default())
                .map_err(|e| e.to_string())?;
            let json = definition_to_json(&plan.state.marshal());
            println!(
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            );
            Ok(())
        }),
    }
}
