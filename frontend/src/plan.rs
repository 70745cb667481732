//! From spec text and build options to the LLB of one target: the pure heart of a request,
//! shared by the frontend and the offline `llb` command.

use crate::build::sources::SourceInputs;
use crate::build::{self, Context};
use crate::distro::Distro;
use crate::family::Outputs;

use crate::request::signing::{Choice, Round, Stage};
use crate::spec::{self, FrontendRef, ImageConfig, Spec, SpecErrors, SubstituteOptions};
use crate::support;
use crate::targets::{self, Route, Selected};
use kiln_buildkit::llb::{CopyOptions, FileActions, State};
use kiln_buildkit::options::{BuildOpts, WorkerPlatform};
use kiln_buildkit::pb;
use std::collections::BTreeMap;

/// Why a target cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The `--target` is unknown.
    #[error("{0}")]
    Target(String),
    /// The spec is wrong or uses what kiln cannot build yet.
    #[error("{0}")]
    Spec(SpecErrors),
}

/// The LLB of one target, with what the result needs.
pub struct Plan {
    /// The target.
    pub selected: Selected,
    /// The spec as this target sees it (merged and substituted).
    pub spec: Spec,
    /// The result's state.
    pub state: State,
    /// Image settings when the result is an image (its base config comes from the distro image).
    pub image: Option<ImageConfig>,
    /// The image whose config the result image starts from (container and worker routes);
    /// empty for an image made on an empty root.
    pub base_image: String,
    /// The platform `base_image`'s config is resolved for.
    pub config_platform: pb::Platform,
    /// The build's time (see [`build::build_epoch`]): the image's `created`.
    pub epoch: i64,
    /// What each layer the result image adds to its base does, for the image's history.
    pub layers: Vec<String>,
    /// The spec's tests: evaluating each state runs one test against the built package.
    pub tests: Vec<State>,
    /// States that check what the request must give (secrets): evaluated like tests, but
    /// never skipped.
    pub checks: Vec<State>,
    /// Things the user should know (shown as build warnings).
    pub warnings: Vec<String>,
    /// The next round of signing, when the build has a signer and not every round is done:
    /// the frontend hands the artifacts to the signer and plans again with what it returned
    /// (see [`plan_signed`]).
    pub signing: Option<Round>,
}

/// The platform the request builds for, as an LLB platform: the first `--platform` (the
/// frontend plans one platform at a time), else the worker's own.
pub fn platform(opts: &BuildOpts) -> pb::Platform {
    opts.target_platforms()
        .ok()
        .and_then(|p| p.into_iter().next())
        .unwrap_or_else(|| opts.default_platform())
        .to_llb()
}

/// Whether the request names its platforms (`--platform`).
fn platform_given(opts: &BuildOpts) -> bool {
    opts.get("platform").is_some_and(|p| !p.trim().is_empty())
}

/// The platform a target of `distro` builds for: [`platform`], whose OS is the family's when
/// the request names none (Windows packages are built on a Linux worker of the same
/// architecture).
pub fn target_platform(opts: &BuildOpts, distro: &Distro) -> pb::Platform {
    let mut p = platform(opts);
    if !platform_given(opts) {
        p.os = distro.family.target_os().to_string();
    }
    p
}

/// The platform the images of a build for `distro` are pulled for (the worker, image sources):
/// the target platform when the family builds for Linux, else the worker's own.
pub fn image_platform(opts: &BuildOpts, distro: &Distro) -> pb::Platform {
    if distro.family.target_os() == "linux" {
        target_platform(opts, distro)
    } else {
        build_platform(opts)
    }
}

/// The platform of the worker itself (`BUILDPLATFORM`).
pub fn build_platform(opts: &BuildOpts) -> pb::Platform {
    opts.default_platform().to_llb()
}

/// Checks `--platform` for a target of `distro`: well formed, and one its family builds for
/// (Linux, or Windows for the Windows family). Returns the platforms to build, each with the
/// family's OS when the request names none.
pub fn check_platforms(opts: &BuildOpts, distro: &Distro) -> Result<Vec<WorkerPlatform>, String> {
    let mut platforms = opts.target_platforms()?;
    if !platform_given(opts) {
        for p in &mut platforms {
            p.os = distro.family.target_os().to_string();
        }
    }
    for p in &platforms {
        distro.family.check_platform(p, distro)?;
    }
    Ok(platforms)
}

/// The image the frontend runs from when BuildKit does not say (offline, or an old BuildKit
/// without the `source` option).
const DEFAULT_FRONTEND_IMAGE: &str = "kiln/frontend:dev";

/// The frontend's own image: as BuildKit pinned it (the metadata definition), else the image the
/// `# syntax=` line or `BUILDKIT_SYNTAX` named.
fn frontend_image(opts: &BuildOpts) -> State {
    if let Some(state) = opts
        .frontend_definition
        .as_ref()
        .and_then(|def| State::from_definition(def).ok())
    {
        return state;
    }
    let image = opts
        .get("source")
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_FRONTEND_IMAGE);
    State::image(image, build_platform(opts), opts.image_resolve_mode())
}

/// A spec file read and loaded once per request: its name and text (for error positions) and
/// the parsed, validated spec that every plan of the request resolves from.
#[derive(Debug, Clone)]
pub struct Loaded<'a> {
    /// The spec file's name, as errors show it.
    pub file: &'a str,
    /// The spec's text, for the lines errors quote.
    pub text: &'a str,
    /// The spec as written: parsed and validated, not yet merged or substituted.
    pub spec: Spec,
}

impl<'a> Loaded<'a> {
    /// Parses and validates the spec in `text`.
    pub fn load(file: &'a str, text: &'a str) -> Result<Loaded<'a>, SpecErrors> {
        Ok(Loaded {
            file,
            text,
            spec: spec::load(file, text)?,
        })
    }
}

/// Resolves the loaded spec for `target_key`: target overrides merged, args substituted, the
/// substituted values checked like written ones.
pub fn resolve_spec(
    loaded: &Loaded,
    target_key: Option<&str>,
    opts: &BuildOpts,
) -> Result<Spec, SpecErrors> {
    let (file, text) = (loaded.file, loaded.text);
    let mut merged = match target_key {
        Some(key) => spec::for_target(&loaded.spec, key),
        None => loaded.spec.clone(),
    };
    let triple = |p: pb::Platform| (p.os, p.architecture, p.variant);
    let o = SubstituteOptions {
        build_args: opts.build_args(),
        target_key: target_key.unwrap_or_default().to_string(),
        target_platform: triple(
            target_key
                .and_then(crate::distro::find)
                .map_or_else(|| platform(opts), |d| target_platform(opts, d)),
        ),
        build_platform: triple(build_platform(opts)),
        allow_any_arg: false,
    };
    spec::substitute(&mut merged, file, text, &o)?;
    // Arg values are checked like written values (a digest or network mode from an arg).
    let errors = spec::validate(&merged, file, text);
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    Ok(merged)
}

/// The bases the request's target builds an image on, one image per base
/// ([`Prepared::image_base`]), each at its place in the spec: several for a Windows image on
/// several `image.bases` (see [`Family::image_bases`]), else one.
///
/// [`Family::image_bases`]: crate::family::Family::image_bases
pub fn image_bases(loaded: &Loaded, opts: &BuildOpts) -> Result<Vec<spec::Pos>, PlanError> {
    let selected = targets::select(opts.target()).map_err(PlanError::Target)?;
    if selected.route != Route::MinimalContainer {
        return Ok(vec![spec::Pos::default()]);
    }
    let distro = selected.distro;
    let spec = resolve_spec(loaded, Some(distro.key), opts).map_err(PlanError::Spec)?;
    Ok(distro.family.image_bases(&spec))
}

/// The `SOURCE_DATE_EPOCH` build arg: unset or empty means none; anything but a whole number
/// of seconds since 1970 is an error that names it (a wrong value is never dropped silently:
/// the packages' dates would quietly change).
pub fn source_date_epoch(build_args: &BTreeMap<String, String>) -> Result<Option<i64>, String> {
    match build_args.get("SOURCE_DATE_EPOCH").map(|v| v.trim()) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).map(Some).ok_or_else(|| {
            format!(
                "invalid build arg SOURCE_DATE_EPOCH={v:?}: expected a whole number of seconds since 1970-01-01 00:00 UTC, such as 1700000000"
            )
        }),
    }
}

/// A request that a spec target hands to another frontend (`targets.<key>.frontend`).
#[derive(Debug, Clone)]
pub struct Forward {
    /// The target key (the first component of `--target`).
    pub key: String,
    /// The rest of `--target`, which the other frontend routes.
    pub rest: String,
    /// The frontend image and command line.
    pub frontend: FrontendRef,
}

/// Whether `target` belongs to a spec target that has its own frontend (checked before
/// kiln's own targets, as Dalec does).
pub fn forward(loaded: &Loaded, target: &str) -> Option<Forward> {
    let target = target.trim_matches('/');
    let (key, rest) = target.split_once('/').unwrap_or((target, ""));
    if key.is_empty() {
        return None;
    }
    loaded
        .spec
        .targets
        .get(key)
        .and_then(|t| t.frontend.clone())
        .map(|frontend| Forward {
            key: key.to_string(),
            rest: rest.to_string(),
            frontend,
        })
}

/// Plans the build of `opts.target()` for the spec in `text`.
///
/// `built` holds the results of the spec's Dockerfile `build` sources by source key (see
/// [`build_sources`]); offline it is empty and such sources are an error.
pub fn plan(
    loaded: &Loaded,
    opts: &BuildOpts,
    built: &BTreeMap<String, State>,
) -> Result<Plan, PlanError> {
    let prepared = Prepared {
        built,
        source_excludes: &[],
        image_base: 0,
    };
    plan_signed(loaded, opts, &prepared, &[])
}

/// Go's `strconv.ParseBool` truths, which Dalec uses for its switches (and kiln for its own).
pub fn truthy(value: &str) -> bool {
    matches!(value, "1" | "t" | "T" | "true" | "True" | "TRUE")
}

/// The `DALEC_*` and `KILN_*` build args kiln acts on (or whose wish it meets by itself).
const KNOWN_ARGS: &[&str] = &[
    "DALEC_TARGET",
    "KILN_TARGET",
    "DALEC_SKIP_TESTS",
    "KILN_SKIP_TESTS",
    "DALEC_SKIP_SIGNING",
    "KILN_SKIP_SIGNING",
    "DALEC_SIGNING_CONFIG_PATH",
    "DALEC_SIGNING_CONFIG_CONTEXT_NAME",
    "DALEC_SOURCE_FILTER_CONFIG_PATH",
    "DALEC_SOURCE_FILTER_CONFIG_CONTEXT_NAME",
    "DALEC_GOMOD_PROXY",
    "KILN_MSI_PATH",
    // They turn off what kiln never does (merge and diff ops, passthrough ops, writing a
    // proxy's CA into the package managers' config, BuildKit's symlink action): met as asked.
    "DALEC_DISABLE_SYMLINK",
    "DALEC_DISABLE_DIFF_MERGE",
    "DALEC_DISABLE_PASSTHROUGH",
    "DALEC_DISABLE_PROXY_CONFIG",
];

/// A warning for each `DALEC_*`/`KILN_*` build arg that has no effect (the spec's own `args`
/// aside): never silently ignored.
fn arg_warnings(build_args: &BTreeMap<String, String>, spec: &Spec) -> Vec<String> {
    build_args
        .keys()
        .filter(|k| k.starts_with("DALEC_") || k.starts_with("KILN_"))
        .filter(|k| {
            !KNOWN_ARGS.contains(&k.as_str())
                && !build::sysext::SYSEXT_ARGS.contains(&k.as_str())
                && !spec.args.contains_key(k.as_str())
        })
        .map(|k| {
            if k.starts_with("DALEC_SYSEXT_") {
                format!(
                    "build arg {k}: not a system extension setting ({}); it has no effect",
                    build::sysext::SYSEXT_ARGS.join(", ")
                )
            } else {
                format!("unknown build arg {k}: neither kiln nor Dalec knows it (a typo?); it has no effect")
            }
        })
        .collect()
}

/// What the frontend prepares before planning.
#[derive(Debug, Clone, Copy)]
pub struct Prepared<'a> {
    /// The results of the spec's Dockerfile `build` sources, by source key (see
    /// [`build_sources`]).
    pub built: &'a BTreeMap<String, State>,
    /// The global source filter's excludes (`DALEC_SOURCE_FILTER_CONFIG_PATH`).
    pub source_excludes: &'a [String],
    /// Which entry of `image.bases` the image is built on: a Windows image is built once per
    /// base (see [`image_bases`]).
    pub image_base: usize,
}

/// [`plan`] of the spec in `text`, loaded for this one plan (offline commands and tests).
pub fn plan_text(
    file: &str,
    text: &str,
    opts: &BuildOpts,
    built: &BTreeMap<String, State>,
) -> Result<Plan, PlanError> {
    plan(
        &Loaded::load(file, text).map_err(PlanError::Spec)?,
        opts,
        built,
    )
}

/// The signing rounds of one plan: what the signer returned in the rounds done so far, and
/// the first round not done yet.
struct Rounds<'a> {
    /// Where the signer comes from; `None`: nothing is signed.
    choice: Option<Choice>,
    /// The signer's results of the rounds done, in order.
    signed: &'a [State],
    /// How many rounds the plan has met so far.
    met: usize,
    /// The first round not done.
    pending: Option<Round>,
}

impl Rounds<'_> {
    /// `unsigned` (`what`, of `stage`) as the signer returned it, copied over it; `unsigned`
    /// itself when nothing is signed or this round is not done yet (then it is the plan's
    /// [`Plan::signing`], unless an earlier one is).
    fn sign(&mut self, unsigned: State, stage: Stage, what: &str, key: &str) -> State {
        let Some(choice) = &self.choice else {
            return unsigned;
        };
        let round = self.met;
        self.met += 1;
        match self.signed.get(round) {
            Some(signed) => unsigned.file(
                copy_contents(FileActions::new(), signed),
                &format!("[kiln {key}] signed {what}"),
            ),
            None => {
                if self.pending.is_none() {
                    self.pending = Some(Round {
                        choice: choice.clone(),
                        unsigned: unsigned.clone(),
                        stage,
                    });
                }
                unsigned
            }
        }
    }
}

/// [`plan`], with what the signer returned in each signing round done so far (copied over
/// what was built; what comes after, the container and the tests included, uses it).
pub fn plan_signed(
    loaded: &Loaded,
    opts: &BuildOpts,
    prepared: &Prepared,
    signed: &[State],
) -> Result<Plan, PlanError> {
    let built = prepared.built;
    let (file, text) = (loaded.file, loaded.text);
    if let Some(f) = forward(loaded, opts.target()) {
        let e = spec::SpecError::at(
            file,
            text,
            f.frontend.image.pos,
            format!(
                "target {:?} is built by the frontend {} (targets.{}.frontend): BuildKit runs it at build time; kiln cannot plan it",
                f.key, f.frontend.image.value, f.key
            ),
        );
        return Err(PlanError::Spec(e.into()));
    }
    let selected = targets::select(opts.target()).map_err(PlanError::Target)?;
    let distro = selected.distro;
    check_platforms(opts, distro).map_err(PlanError::Target)?;
    let debug = selected.route.is_debug();
    // Debug routes show the root spec; distro routes see their target's overrides.
    let key = if debug { None } else { Some(distro.key) };
    let spec = resolve_spec(loaded, key, opts).map_err(PlanError::Spec)?;
    let mut warnings = Vec::new();
    if !matches!(selected.route, Route::Worker | Route::DebugResolve) {
        support::gaps(&spec)
            .into_result(file, text)
            .map_err(PlanError::Spec)?;
    }
    let build_args = opts.build_args();
    warnings.extend(arg_warnings(&build_args, &spec));
    let ctx = Context {
        sources: SourceInputs {
            opts,
            file,
            text,
            platform: image_platform(opts, distro),
            built,
            global_excludes: prepared.source_excludes,
            tool_image: distro.image,
        },
        resolve_mode: opts.image_resolve_mode(),
        source_date_epoch: build::build_epoch(
            &spec,
            source_date_epoch(&build_args).map_err(PlanError::Target)?,
        ),
        frontend_image: frontend_image(opts),
        target_platform: target_platform(opts, distro),
        image_base: prepared.image_base,
        worker: crate::build::contexts::worker(
            opts,
            distro,
            &image_platform(opts, distro),
            opts.image_resolve_mode(),
        )
        .map_err(PlanError::Target)?,
    };
    let mut checks = Vec::new();
    let skip_tests = ["DALEC_SKIP_TESTS", "KILN_SKIP_TESTS"].iter().any(|k| {
        build_args
            .get(*k)
            .is_some_and(|v| matches!(v.as_str(), "1" | "true"))
    });
    let mut tests = Vec::new();
    let mut rounds = Rounds {
        choice: None,
        signed,
        met: 0,
        pending: None,
    };
    let mut base_image_ref = distro.image.to_string();
    let mut layers = Vec::new();
    let has_base = spec
        .image
        .as_ref()
        .is_some_and(|i| i.base.is_some() || i.bases.as_ref().is_some_and(|b| !b.is_empty()));
    let (state, image) = match selected.route {
        Route::Package
        | Route::Installer
        | Route::Container
        | Route::MinimalContainer
        | Route::SystemExtension => {
            // The packages come out of the spec's tests (for a system extension too, as Dalec
            // tests its extensions in the testing container).
            let is_package = matches!(
                selected.route,
                Route::Package | Route::Installer | Route::SystemExtension
            );
            let outputs = match selected.route {
                Route::Installer => Outputs::Installer,
                _ => Outputs::Binary,
            };
            // The container and extension routes may take packages built earlier instead of
            // building them.
            let prebuilt = if !matches!(selected.route, Route::Package | Route::Installer) {
                crate::build::contexts::prebuilt_packages(
                    opts,
                    distro,
                    &target_platform(opts, distro),
                    opts.image_resolve_mode(),
                )
                .map_err(PlanError::Target)?
            } else {
                None
            };
            let mut packages = match prebuilt {
                Some(packages) => packages,
                None => {
                    let built =
                        build::package(&spec, distro, &ctx, outputs).map_err(PlanError::Spec)?;
                    checks = build::secret_checks(&spec, distro, &ctx);
                    rounds.choice = crate::request::signing::choose(
                        &spec,
                        distro.key,
                        &build_args,
                        &mut warnings,
                    );
                    match distro.family.programs(&built, distro) {
                        // Programs signed before they are packed, then the packages.
                        Some(programs) => {
                            let programs =
                                rounds.sign(programs, Stage::Programs, "binaries", distro.key);
                            let packed = distro
                                .family
                                .pack(&spec, distro, &ctx, &built, programs, outputs)
                                .map_err(PlanError::Spec)?;
                            if is_package {
                                rounds.sign(packed, Stage::Packages, "packages", distro.key)
                            } else {
                                packed
                            }
                        }
                        None => rounds.sign(built, Stage::Packages, "packages", distro.key),
                    }
                }
            };
            // The image the tests run in: the family's own, else the package installed.
            let installed = match distro.family.test_image(&spec, distro, &ctx, &packages) {
                Some(image) => image.map_err(PlanError::Spec)?,
                None => {
                    let (base, base_ref) =
                        build::output_base(&spec, distro, &ctx).map_err(PlanError::Spec)?;
                    base_image_ref = base_ref;
                    build::container(&spec, distro, &ctx, packages.clone(), base)
                        .map_err(PlanError::Spec)?
                }
            };
            if skip_tests {
                if !spec.tests.is_empty() {
                    warnings.push(format!(
                        "{} spec test(s) skipped by build arg",
                        spec.tests.len()
                    ));
                }
            } else if is_package {
                let tested = runnable_tests(&spec, distro, file, &mut warnings);
                // The packages come out of their tests: building the result runs them.
                let passed =
                    build::tests(&tested, distro, &ctx, installed.clone(), Some(&packages))
                        .map_err(PlanError::Spec)?;
                packages = match passed.as_slice() {
                    [] => packages,
                    [one] => one.clone(),
                    // The same files from each (a copy: Docker's own BuildKit has no merge op).
                    all => State::scratch().file(
                        all.iter().fold(FileActions::new(), copy_contents),
                        &format!("[kiln {}] packages that passed their tests", distro.key),
                    ),
                };
            } else {
                let tested = runnable_tests(&spec, distro, file, &mut warnings);
                tests = build::tests(&tested, distro, &ctx, installed.clone(), None)
                    .map_err(PlanError::Spec)?;
            }
            match selected.route {
                Route::Package | Route::Installer => (packages, None),
                Route::SystemExtension => (
                    build::sysext::image(&spec, distro, &ctx, packages, &build_args)
                        .map_err(PlanError::Spec)?,
                    None,
                ),
                // Windows images are never a package manager's work.
                Route::MinimalContainer if !has_base || distro.family.target_os() != "linux" => {
                    base_image_ref = distro.family.image_base_ref(&spec, &ctx);
                    let name = spec.name.as_ref().map_or("", |n| n.value.trim());
                    layers.push(match base_image_ref.as_str() {
                        "" => format!("kiln: {name} and what it needs on an empty root"),
                        _ => format!("kiln: {name}'s binaries"),
                    });
                    let image = distro
                        .family
                        .minimal_image(&spec, distro, &ctx, packages)
                        .map_err(PlanError::Spec)?;
                    (image, Some(spec.image.clone().unwrap_or_default()))
                }
                _ => {
                    let name = spec.name.as_ref().map_or("", |n| n.value.trim());
                    layers.push(format!("kiln: install {name} into the image"));
                    (installed, Some(spec.image.clone().unwrap_or_default()))
                }
            }
        }
        Route::RuntimeDepsContainer => {
            let (deps, packages) =
                build::runtime_deps_package(&spec, distro, &ctx).map_err(PlanError::Spec)?;
            let name = deps.name.as_ref().map_or("", |n| n.value.as_str());
            let state = if has_base {
                let (base, base_ref) =
                    build::output_base(&spec, distro, &ctx).map_err(PlanError::Spec)?;
                base_image_ref = base_ref;
                layers.push(format!("kiln: install {name} into the image"));
                build::container(&deps, distro, &ctx, packages, base).map_err(PlanError::Spec)?
            } else {
                base_image_ref = String::new();
                layers.push(format!("kiln: {name} and what it needs on an empty root"));
                distro
                    .family
                    .minimal_image(&deps, distro, &ctx, packages)
                    .map_err(PlanError::Spec)?
            };
            (state, Some(spec.image.clone().unwrap_or_default()))
        }
        Route::Source => (
            build::package(&spec, distro, &ctx, Outputs::Source).map_err(PlanError::Spec)?,
            None,
        ),
        Route::PackageInputs(part) => (
            build::package(&spec, distro, &ctx, part).map_err(PlanError::Spec)?,
            None,
        ),
        Route::Worker => {
            if !matches!(
                ctx.worker,
                Some(crate::build::contexts::Worker::Complete(_))
            ) {
                layers.push("kiln: prepare the build worker".to_string());
            }
            (build::worker(distro, &ctx), Some(ImageConfig::default()))
        }
        Route::DebugResolve => {
            let yaml = crate::resolve::render(&spec).map_err(PlanError::Target)?;
            let files = FileActions::new().mkfile("/spec.yml", 0o644, yaml.into_bytes());
            (
                State::scratch().file(files, "[kiln] write the resolved spec"),
                None,
            )
        }
        Route::DebugSources => (
            build::sources(&spec, "", &ctx).map_err(PlanError::Spec)?,
            None,
        ),
        Route::DebugPatchedSources => {
            let tree = build::sources(&spec, "", &ctx).map_err(PlanError::Spec)?;
            let worker = build::worker(distro, &ctx);
            (
                build::patched(tree, &worker, &spec, "", &ctx).map_err(PlanError::Spec)?,
                None,
            )
        }
        Route::DebugGenerated(kind) => (
            build::generated(&spec, distro, &ctx, kind).map_err(PlanError::Spec)?,
            None,
        ),
    };
    let config_platform = match selected.route {
        Route::Worker => image_platform(opts, distro),
        _ => target_platform(opts, distro),
    };
    Ok(Plan {
        selected,
        config_platform,
        spec,
        state,
        image,
        base_image: base_image_ref,
        epoch: ctx.source_date_epoch,
        layers,
        signing: rounds.pending,
        tests,
        checks,
        warnings,
    })
}

/// `spec` with the tests the family's test image can run, and a warning for each it cannot
/// (a Linux path in a Windows program's test), naming the test, where it is and why.
fn runnable_tests(spec: &Spec, distro: &Distro, file: &str, warnings: &mut Vec<String>) -> Spec {
    let mut runnable = spec.clone();
    runnable
        .tests
        .retain(|t| match distro.family.unrunnable_test(t) {
            None => true,
            Some((why, pos)) => {
                warnings.push(format!(
                    "{file}:{}: test {:?} skipped on {}: {why}",
                    pos.line, t.name.value, distro.key
                ));
                false
            }
        });
    runnable
}

/// `files`, then a copy of everything in `from` over the root.
fn copy_contents(files: FileActions, from: &State) -> FileActions {
    let all = CopyOptions {
        dir_copy_contents: true,
        ..Default::default()
    };
    files.copy(from, "/", "/", all)
}

/// A Dockerfile build the frontend must run before planning: the `build` source `key`.
pub struct BuildSource {
    /// The source key.
    pub key: String,
    /// The Dockerfile build's context (its own source, lowered).
    pub context: State,
    /// Options for BuildKit's `dockerfile.v0` frontend (`filename`, `target`, `build-arg:*`).
    pub frontend_opts: BTreeMap<String, String>,
}

/// The spec's top-level Dockerfile `build` sources for the request's target, with their
/// contexts lowered to LLB.
pub fn build_sources(loaded: &Loaded, opts: &BuildOpts) -> Result<Vec<BuildSource>, PlanError> {
    let (file, text) = (loaded.file, loaded.text);
    let selected = targets::select(opts.target()).map_err(PlanError::Target)?;
    let spec = resolve_spec(loaded, Some(selected.distro.key), opts).map_err(PlanError::Spec)?;
    let none = BTreeMap::new();
    let inp = SourceInputs {
        opts,
        file,
        text,
        platform: image_platform(opts, selected.distro),
        built: &none,
        global_excludes: &[],
        tool_image: selected.distro.image,
    };
    let mut out = Vec::new();
    for (key, src) in &spec.sources {
        let Some(b) = &src.value.build else { continue };
        let Some(inner) = &b.source else { continue };
        let fetched = crate::build::sources::fetch(key, inner, &inp)
            .map_err(|e| PlanError::Spec(e.into()))?;
        // The build's context is the inner source at its path.
        let context = match inner
            .value
            .path
            .as_ref()
            .map(|p| p.value.trim_matches('/'))
            .filter(|p| !p.is_empty())
        {
            Some(sub) => State::scratch().file(
                FileActions::new().copy(
                    &fetched.state,
                    &format!("/{sub}"),
                    "/",
                    kiln_buildkit::llb::CopyOptions {
                        dir_copy_contents: true,
                        ..Default::default()
                    },
                ),
                &format!("[kiln] context of build source {key}"),
            ),
            None => fetched.state,
        };
        let mut frontend_opts = BTreeMap::new();
        let dockerfile = b
            .dockerfile_path
            .as_ref()
            .map_or("Dockerfile", |d| d.value.as_str());
        frontend_opts.insert("filename".to_string(), dockerfile.to_string());
        if let Some(p) = opts.get("platform") {
            frontend_opts.insert("platform".to_string(), p.to_string());
        }
        if let Some(t) = &b.target {
            frontend_opts.insert("target".to_string(), t.value.clone());
        }
        for (k, v) in &b.args {
            frontend_opts.insert(format!("build-arg:{k}"), v.value.clone());
        }
        out.push(BuildSource {
            key: key.clone(),
            context,
            frontend_opts,
        });
    }
    Ok(out)
}
