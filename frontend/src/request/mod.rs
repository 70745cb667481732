//! One BuildKit request, end to end: options → spec → target → LLB → Solve → Return.

pub mod handoff;
pub mod signing;

use crate::build::contexts::Given;
use crate::plan::{self, PlanError};
use crate::request::signing::{Choice, Signer, Stage};
use crate::spec::{ImageConfig, Pos, SpecError, SpecErrors};
use crate::targets::{self, TargetInfo};
use kiln_buildkit::entrypoint::{self, SpecFile};
use kiln_buildkit::errdefs;
use kiln_buildkit::gateway::{FrontendResult, Gateway, GatewayError, Ref};
use kiln_buildkit::llb::{FileActions, LocalOptions, MarshalOptions, SourceFile, State};
use kiln_buildkit::options::{BuildOpts, WorkerPlatform};
use kiln_buildkit::pb;
use kiln_buildkit::proto::google::protobuf::Any;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The largest spec kiln builds: 3 MiB. BuildKit 0.13's gateway takes at most 4 MiB in one
/// request ([`kiln_buildkit::gateway::MAX_REQUEST_SIZE`]), and a spec's text goes into
/// requests nearly whole: its inline files and scripts are in the ops, and a target handed to
/// another frontend carries the spec itself. 3 MiB leaves room for the rest (the other ops, the
/// source map's lines); a larger spec gets this limit in its error up front rather than a raw
/// gRPC size error halfway through. Large files belong in the build context, not inline.
pub const MAX_SPEC_SIZE: usize = 3 << 20;

/// The spec's text: at most [`MAX_SPEC_SIZE`] bytes of UTF-8 (see [`kiln_spec::text`]), or a
/// located error. The frontend and the offline commands read a spec through this.
pub fn spec_text<'a>(file: &str, data: &'a [u8]) -> Result<&'a str, SpecErrors> {
    spec_size(file, data.len() as u64)?;
    kiln_spec::text(file, data)
}

/// [`spec_text`] of a spec read from BuildKit (only its first bytes when it is too large).
fn file_text(file: &SpecFile) -> Result<&str, SpecErrors> {
    spec_size(&file.name, file.size)?;
    spec_text(&file.name, &file.data)
}

/// An error naming the size and the limit when a spec of `size` bytes is too large to build.
fn spec_size(file: &str, size: u64) -> Result<(), SpecErrors> {
    if size <= MAX_SPEC_SIZE as u64 {
        return Ok(());
    }
    Err(SpecError::whole_file(
        file,
        format!(
            "the spec is {:.2} MiB ({size} bytes), more than the {} MiB kiln builds: BuildKit \
             takes at most {} MiB in one request, and the spec's text goes into its requests; \
             move large files into the build context (a `context` source) instead of inlining \
             them",
            size as f64 / (1 << 20) as f64,
            MAX_SPEC_SIZE >> 20,
            kiln_buildkit::gateway::MAX_REQUEST_SIZE >> 20,
        ),
    )
    .into())
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    /// The spec is wrong; the errors point into it.
    #[error("{errors}")]
    Spec {
        /// What is wrong, where.
        errors: SpecErrors,
        /// The spec file, so BuildKit can show its lines.
        file: SpecFile,
    },
    /// The request is wrong (unknown target, unsupported subrequest).
    #[error("{message}")]
    Request {
        /// What is wrong.
        message: String,
        /// Typed error details for BuildKit.
        details: Vec<Any>,
    },
    /// BuildKit refused a call.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
}

impl FrontendError {
    /// The message and typed details to hand to BuildKit through `Return`.
    pub fn to_status(&self) -> (String, Vec<Any>) {
        match self {
            FrontendError::Spec { errors, file } => {
                let message = errors
                    .0
                    .iter()
                    .map(|e| {
                        if e.line == 0 {
                            format!("{}: {}", e.file, e.message)
                        } else {
                            format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                // Only the lines around the error go with it, however large the spec.
                let details = errors
                    .first()
                    .and_then(|e| {
                        errdefs::source_location(&file.name, &file.data, "YAML", e.line, e.line)
                    })
                    .into_iter()
                    .collect();
                (message, details)
            }
            FrontendError::Request { message, details } => (message.clone(), details.clone()),
            // Keep BuildKit's own error details (source locations, the failing step) so
            // `docker build` shows them as it would for a Dockerfile.
            FrontendError::Gateway(e) => {
                let details =
                    <kiln_buildkit::proto::google::rpc::Status as prost::Message>::decode(
                        e.status.details(),
                    )
                    .map(|s| s.details)
                    .unwrap_or_default();
                (e.status.message().to_string(), details)
            }
        }
    }
}

/// `frontend.dalec.resolve`, as Dalec answers it: a list of the spec as each target platform
/// sees it (the `--target`'s key merged, args substituted), as JSON and YAML.
fn resolve_subrequest(
    opts: &BuildOpts,
    loaded: &plan::Loaded,
) -> Result<FrontendResult, PlanError> {
    let platforms = opts.target_platforms().map_err(PlanError::Target)?;
    let key = crate::resolve::target_key(loaded, opts.target())?;
    let mut specs = Vec::new();
    for p in platforms {
        let mut one = opts.clone();
        one.opts.insert("platform".into(), p.to_string());
        let spec = plan::resolve_spec(loaded, key.as_deref(), &one).map_err(PlanError::Spec)?;
        specs.push(crate::resolve::pruned(&spec).map_err(PlanError::Target)?);
    }
    let list = serde_json::Value::Array(specs);
    let yaml = serde_saphyr::to_string(&list)
        .map_err(|e| PlanError::Target(format!("cannot render the spec: {e}")))?;
    Ok(subrequest_result(list.to_string(), yaml))
}

/// The subrequests kiln answers: (name, description), Dalec's set.
const SUBREQUESTS: [(&str, &str); 5] = [
    ("frontend.targets", "List available build targets"),
    (
        "frontend.subrequests.describe",
        "List available subrequest types",
    ),
    (
        "frontend.dalec.resolve",
        "The spec as each target platform sees it (args substituted)",
    ),
    (
        "frontend.dalec.defaultPlatform",
        "The platform a build without --platform is for",
    ),
    (
        "frontend.dalec.schema",
        "Returns the JSON schema for Dalec specs",
    ),
];

/// Answers a subrequest (`--call`) that needs no spec; `targets` is the target list.
fn subrequest(
    name: &str,
    targets: &[TargetInfo],
    opts: &BuildOpts,
) -> Result<FrontendResult, FrontendError> {
    let (json, text) = match name {
        "frontend.targets" => (
            targets::render_json(targets).to_string(),
            targets::render_text(targets),
        ),
        "frontend.subrequests.describe" => {
            let describe: Vec<serde_json::Value> = SUBREQUESTS
                .iter()
                .map(|(name, description)| json!({"name": name, "version": "1.0.0", "type": "rpc", "description": description, "opts": [], "inputs": [], "metadata": [{"name": "result.json"}, {"name": "result.txt"}], "refs": []}))
                .collect();
            let text: String = SUBREQUESTS
                .iter()
                .map(|(name, description)| {
                    let short = name.strip_prefix("frontend.").unwrap_or(name);
                    format!("{short}\t1.0.0\t{description}\n")
                })
                .collect();
            (json!(describe).to_string(), text)
        }
        "frontend.dalec.defaultPlatform" => {
            let p = opts.default_platform();
            let mut value = json!({"architecture": p.architecture, "os": p.os});
            if !p.variant.is_empty() {
                value["variant"] = json!(p.variant);
            }
            (value.to_string(), p.to_string())
        }
        "frontend.dalec.schema" => (
            crate::spec::SCHEMA.to_string(),
            crate::spec::SCHEMA.to_string(),
        ),
        other => {
            return Err(FrontendError::Request {
                message: format!("unsupported request {other}"),
                details: vec![errdefs::unsupported_subrequest(other)],
            });
        }
    };
    Ok(subrequest_result(json, text))
}

/// A subrequest's answer: its JSON and its text (what `--call` prints).
fn subrequest_result(json: String, text: String) -> FrontendResult {
    let mut metadata = BTreeMap::new();
    metadata.insert("result.json".to_string(), json.into_bytes());
    metadata.insert("result.txt".to_string(), text.into_bytes());
    metadata.insert("version".to_string(), b"1.0.0".to_vec());
    FrontendResult {
        metadata,
        ..Default::default()
    }
}

/// Applies the spec's `image` settings to a base image config (OCI JSON), created at `epoch`
/// (the build's time, not the clock: the same spec gives the same image), with a history
/// entry at that time for each of the `layers` kiln adds (what each does). An image without a
/// config (empty bytes) starts from nothing; a config that is not a JSON object is an error
/// that names the image (its settings would otherwise be lost without a word).
pub fn image_config(
    base: &[u8],
    image: &ImageConfig,
    platform: &pb::Platform,
    base_ref: &str,
    epoch: i64,
    layers: &[String],
) -> Result<Vec<u8>, String> {
    let mut cfg: Value = if base.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(base)
            .map_err(|e| format!("the image config of {base_ref} is not valid JSON: {e}"))?
    };
    if !cfg.is_object() {
        return Err(format!(
            "the image config of {base_ref} is not a JSON object"
        ));
    }
    cfg["architecture"] = json!(platform.architecture);
    cfg["os"] = json!(platform.os);
    let created = kiln_spec::date::rfc3339(epoch);
    cfg["created"] = json!(created);
    // Given, BuildKit's exporters (Docker's too, which ignore `source.date.epoch`) take these
    // entries as they are instead of stamping the new layers with the clock.
    if !cfg["history"].is_array() {
        cfg["history"] = json!([]);
    }
    if let Some(history) = cfg["history"].as_array_mut() {
        history.extend(
            layers
                .iter()
                .map(|l| json!({"created": created, "created_by": l, "comment": "kiln"})),
        );
    }
    if !cfg["config"].is_object() {
        cfg["config"] = json!({});
    }
    let c = &mut cfg["config"];
    if platform.os == "linux" && c["Env"].as_array().is_none_or(|e| e.is_empty()) {
        c["Env"] = json!(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
    }
    let words = |s: &str| kiln_spec::words::split(s).unwrap_or_default();
    if let Some(ep) = &image.entrypoint {
        c["Entrypoint"] = json!(words(&ep.value));
        c["Cmd"] = Value::Null;
    }
    if let Some(cmd) = &image.cmd {
        c["Cmd"] = json!(words(&cmd.value));
    }
    let mut env: Vec<String> = c["Env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    for kv in &image.env {
        let key = kv.value.split('=').next().unwrap_or(&kv.value);
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.value.clone());
    }
    c["Env"] = json!(env);
    if let Some(w) = &image.working_dir {
        c["WorkingDir"] = json!(w);
    }
    if let Some(u) = &image.user {
        c["User"] = json!(u);
    }
    if let Some(s) = &image.stop_signal {
        c["StopSignal"] = json!(s);
    }
    for (field, entries) in [
        (
            "Labels",
            image
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), json!(v.value)))
                .collect::<Vec<_>>(),
        ),
        (
            "Volumes",
            image
                .volumes
                .keys()
                .map(|k| (k.clone(), json!({})))
                .collect(),
        ),
    ] {
        if entries.is_empty() {
            continue;
        }
        if !c[field].is_object() {
            c[field] = json!({});
        }
        for (k, v) in entries {
            c[field][k] = v;
        }
    }
    Ok(cfg.to_string().into_bytes())
}

/// Runs a Dockerfile `build` source with BuildKit's own Dockerfile frontend and returns its
/// result as a state to build on.
async fn run_dockerfile_build(
    gw: &Gateway,
    b: plan::BuildSource,
    opts: &BuildOpts,
) -> Result<State, FrontendError> {
    let context = b.context.marshal();
    let mut frontend_opts = b.frontend_opts;
    // As BuildKit's own client does for a frontend solve: the build's cache settings go along.
    for key in ["no-cache", "cache-imports", "cache-from"] {
        if let Some(value) = opts.get(key) {
            frontend_opts
                .entry(key.to_string())
                .or_insert_with(|| value.to_string());
        }
    }
    let inputs: BTreeMap<String, pb::Definition> = [
        ("context".to_string(), context.clone()),
        ("dockerfile".to_string(), context),
    ]
    .into_iter()
    .collect();
    let result = gw
        .solve_frontend("dockerfile.v0", frontend_opts, inputs)
        .await?;
    let def = result.reference.and_then(|r| r.def).unwrap_or_default();
    State::from_definition(&def).map_err(|e| FrontendError::Request {
        message: format!("source {:?}: the Dockerfile build returned {e}", b.key),
        details: vec![],
    })
}

/// Handles one request and returns what to hand back to BuildKit.
pub async fn handle(gw: &Gateway, opts: &BuildOpts) -> Result<FrontendResult, FrontendError> {
    let mut with_inputs = opts.clone();
    with_inputs.inputs = gw.inputs().await?;
    with_inputs.daemon_caps = Some(gw.caps().clone());
    let opts = &with_inputs;
    // The client's cache imports are the frontend's to pass on, in every solve.
    let imports = opts
        .cache_imports()
        .map_err(|message| FrontendError::Request {
            message,
            details: vec![],
        })?;
    let gw = &gw.clone().with_cache_imports(&imports);
    let resolve = opts.subrequest() == Some("frontend.dalec.resolve");
    if let Some(name) = opts.subrequest().filter(|_| !resolve) {
        let list = if name == "frontend.targets" {
            target_list(gw, opts).await
        } else {
            Vec::new()
        };
        return subrequest(name, &list, opts);
    }
    let request_error = |message| FrontendError::Request {
        message,
        details: vec![],
    };
    let file = entrypoint::read_spec(gw, opts, MAX_SPEC_SIZE).await?;
    tracing::debug!("read {} ({} bytes)", file.name, file.data.len());
    let spec_error = |errors| FrontendError::Spec {
        errors,
        file: file.clone(),
    };
    let text = file_text(&file).map_err(spec_error)?;
    // The spec is parsed and validated once; every plan of the request resolves from it.
    let loaded = plan::Loaded::load(&file.name, text).map_err(spec_error)?;
    if resolve {
        return resolve_subrequest(opts, &loaded).map_err(|e| match e {
            PlanError::Spec(errors) => spec_error(errors),
            PlanError::Target(message) => request_error(message),
        });
    }
    // A spec target with its own frontend takes the request, before kiln's own targets.
    if let Some(f) = plan::forward(&loaded, opts.target()) {
        return forward(gw, opts, &file, f).await;
    }
    let selected = targets::select(opts.target()).map_err(request_error)?;
    let platforms = plan::check_platforms(opts, selected.distro).map_err(request_error)?;
    // `--no-cache` (option `no-cache`): run every step again. Filters name Dockerfile stages,
    // which kiln does not have, so any filter applies to the whole build.
    if opts.get("no-cache").is_some_and(|f| !f.is_empty()) {
        gw.warn("--no-cache-filter: kiln has no stages to filter; the whole build runs without the cache").await?;
    }
    build(gw, opts, &file, &loaded, &platforms).await
}

/// Builds the request's target for each of `platforms`: one platform gives a plain result,
/// several a multi-platform one (their builds side by side).
async fn build(
    gw: &Gateway,
    opts: &BuildOpts,
    file: &SpecFile,
    loaded: &plan::Loaded<'_>,
    platforms: &[WorkerPlatform],
) -> Result<FrontendResult, FrontendError> {
    let bases = plan::image_bases(loaded, opts).map_err(|e| plan_error(e, file))?;
    if bases.len() > 1 {
        return build_on_bases(gw, opts, file, loaded, platforms, &bases).await;
    }
    if let [platform] = platforms {
        let mut single = opts.clone();
        if opts.get("platform").is_some() {
            single.opts.insert("platform".into(), platform.to_string());
        }
        let built = build_for_platform(gw, &single, file, loaded, true, 0).await?;
        let mut metadata = BTreeMap::new();
        if let Some(config) = built.image_config {
            metadata.insert("containerimage.config".to_string(), config);
            metadata.insert(EPOCH_KEY.to_string(), built.epoch.to_string().into_bytes());
        }
        return Ok(FrontendResult {
            reference: Some(built.reference),
            metadata,
            ..Default::default()
        });
    }
    let per_platform: Vec<BuildOpts> = platforms
        .iter()
        .map(|p| {
            let mut o = opts.clone();
            o.opts.insert("platform".into(), p.to_string());
            o
        })
        .collect();
    let builds = per_platform
        .iter()
        .enumerate()
        .map(|(i, o)| build_for_platform(gw, o, file, loaded, i == 0, 0));
    let results = futures_util::future::try_join_all(builds).await?;
    let listed = platforms.iter().map(requested_platform).collect();
    Ok(multi_platform_result(listed, results))
}

/// A requested platform as an OCI platform and its id (`linux/arm/v7`).
fn requested_platform(p: &WorkerPlatform) -> (String, Value) {
    let mut oci = json!({"os": p.os, "architecture": p.architecture});
    if !p.variant.is_empty() {
        oci["variant"] = json!(p.variant);
    }
    (p.to_string(), oci)
}

/// A plan's error as the frontend reports it: a target's as a request error, a spec's at its
/// lines of `file`.
fn plan_error(e: PlanError, file: &SpecFile) -> FrontendError {
    match e {
        PlanError::Target(message) => FrontendError::Request {
            message,
            details: vec![],
        },
        PlanError::Spec(errors) => FrontendError::Spec {
            errors,
            file: file.clone(),
        },
    }
}

/// An image per entry of `image.bases` (a Windows image, as Dalec builds it): each on its
/// base, for the one platform requested, and a multi-platform result of them keyed by the
/// platform each base's config names, `os.version` included (two bases of the same platform
/// are an error, as in Dalec).
async fn build_on_bases(
    gw: &Gateway,
    opts: &BuildOpts,
    file: &SpecFile,
    loaded: &plan::Loaded<'_>,
    platforms: &[WorkerPlatform],
    bases: &[Pos],
) -> Result<FrontendResult, FrontendError> {
    if platforms.len() > 1 {
        return Err(FrontendError::Request {
            message: format!(
                "image.bases lists {} images, whose platforms come from the bases: build them for one --platform, not {}",
                bases.len(),
                platforms.len()
            ),
            details: vec![],
        });
    }
    let builds = (0..bases.len()).map(|i| build_for_platform(gw, opts, file, loaded, i == 0, i));
    let results = futures_util::future::try_join_all(builds).await?;
    let mut listed: Vec<(String, Value)> = Vec::new();
    for (i, built) in results.iter().enumerate() {
        let config: Value = built
            .image_config
            .as_deref()
            .and_then(|c| serde_json::from_slice(c).ok())
            .unwrap_or_default();
        let (id, oci) = config_platform(&config);
        if let Some(first) = listed.iter().position(|(seen, _)| *seen == id) {
            let error = SpecError::at(
                loaded.file,
                loaded.text,
                bases[i],
                format!(
                    "this base has the platform {id}, as the base at line {} has: a multi-platform image needs a base per os.version",
                    bases[first].line
                ),
            );
            return Err(FrontendError::Spec {
                errors: error.into(),
                file: file.clone(),
            });
        }
        listed.push((id, oci));
    }
    Ok(multi_platform_result(listed, results))
}

/// The platform an image config names, as an OCI platform and its id (`os(os.version)/arch`,
/// as containerd formats every field).
fn config_platform(config: &Value) -> (String, Value) {
    let field = |k: &str| config.get(k).and_then(Value::as_str).unwrap_or("");
    let mut oci = json!({"os": field("os"), "architecture": field("architecture")});
    let mut id = field("os").to_string();
    if !field("os.version").is_empty() {
        oci["os.version"] = json!(field("os.version"));
        id = format!("{id}({})", field("os.version"));
    }
    id = format!("{id}/{}", field("architecture"));
    if !field("variant").is_empty() {
        oci["variant"] = json!(field("variant"));
        id = format!("{id}/{}", field("variant"));
    }
    (id, oci)
}

/// The multi-platform result: a ref and image config per platform, and `refs.platforms`
/// listing them (`(id, OCI platform)`) in order (the local exporter writes a directory per
/// platform, image exporters an index).
fn multi_platform_result(
    platforms: Vec<(String, Value)>,
    results: Vec<PlatformBuild>,
) -> FrontendResult {
    let mut result = FrontendResult::default();
    let mut listed = Vec::new();
    for ((id, oci), built) in platforms.into_iter().zip(results) {
        if let Some(config) = built.image_config {
            result
                .metadata
                .insert(format!("containerimage.config/{id}"), config);
            result.metadata.insert(
                format!("{EPOCH_KEY}/{id}"),
                built.epoch.to_string().into_bytes(),
            );
        }
        listed.push(json!({"ID": id, "Platform": oci}));
        result.refs.insert(id, built.reference);
    }
    result.metadata.insert(
        "refs.platforms".to_string(),
        json!({ "Platforms": listed }).to_string().into_bytes(),
    );
    result
}

/// kiln's targets, with those of the spec's targets that have their own frontend replaced by
/// that frontend's list under `<key>/` (as Dalec lists them). A spec that cannot be read or
/// loaded leaves kiln's own list; a frontend that cannot list its targets is shown by name.
async fn target_list(gw: &Gateway, opts: &BuildOpts) -> Vec<TargetInfo> {
    let mut list = targets::list();
    // A frontend reached through forwarding (`dalec.target` set) lists only its own targets:
    // a spec that forwards to kiln itself would otherwise recurse forever.
    if opts.get("dalec.target").is_some() {
        return list;
    }
    let Ok(file) = entrypoint::read_spec(gw, opts, MAX_SPEC_SIZE).await else {
        return list;
    };
    let Ok(text) = file_text(&file) else {
        return list;
    };
    let Ok(spec) = crate::spec::load(&file.name, text) else {
        return list;
    };
    for t in &mut list {
        let key = t.name.split('/').next().unwrap_or_default();
        t.spec_defined = spec.targets.contains_key(key);
    }
    let forwards: Vec<plan::Forward> = spec
        .targets
        .iter()
        .filter_map(|(key, target)| {
            Some(plan::Forward {
                key: key.clone(),
                rest: String::new(),
                frontend: target.frontend.clone()?,
            })
        })
        .collect();
    // The other frontends list their targets side by side.
    let answers = futures_util::future::join_all(
        forwards.iter().map(|f| forward(gw, opts, &file, f.clone())),
    )
    .await;
    for (f, outcome) in forwards.iter().zip(answers) {
        let key = &f.key;
        let image = &f.frontend.image.value;
        list.retain(|t| !t.name.starts_with(&format!("{key}/")));
        match outcome {
            Ok(r) if r.metadata.contains_key("result.json") => {
                list.extend(targets::prefixed(key, &r.metadata["result.json"]))
            }
            outcome => list.push(TargetInfo {
                name: key.clone(),
                description: format!(
                    "built by the frontend {image} (it did not list its targets{})",
                    outcome.err().map(|e| format!(": {e}")).unwrap_or_default()
                ),
                default: false,
                spec_defined: true,
            }),
        }
    }
    list
}

/// Hands the request to the frontend a spec target names (`targets.<key>.frontend`), as Dalec
/// does: the same options and inputs, `target` narrowed to the rest of the route,
/// `dalec.target` set to the key, and the spec as the `dockerfile` input. The spec goes as the
/// user wrote it (Dalec sends it re-rendered with args applied), so the other frontend's errors
/// point at the user's lines and it applies the build args itself.
async fn forward(
    gw: &Gateway,
    opts: &BuildOpts,
    file: &SpecFile,
    f: plan::Forward,
) -> Result<FrontendResult, FrontendError> {
    let mut frontend_opts = crate::request::handoff::options(
        opts,
        BTreeMap::new(),
        &["target", "dockerfilekey"],
        &f.frontend.image.value,
        f.frontend.cmdline.as_deref(),
        &f.key,
    );
    if !f.rest.is_empty() {
        frontend_opts.insert("target".into(), f.rest.clone());
    }
    let path = format!("/{}", file.name.trim_start_matches('/'));
    let mut actions = FileActions::new();
    if let Some((dir, _)) = path.rsplit_once('/').filter(|(d, _)| !d.is_empty()) {
        actions = actions.mkdir(dir, 0o755, true);
    }
    let spec = State::scratch().file(
        actions.mkfile(&path, 0o644, file.data.clone()),
        &format!("[kiln] forward {} to {}", file.name, f.frontend.image.value),
    );
    let inputs = crate::request::handoff::inputs(opts, "dockerfile", &spec);
    tracing::debug!("forwarding target {} to {}", f.key, f.frontend.image.value);
    Ok(gw
        .solve_frontend("gateway.v0", frontend_opts, inputs)
        .await?)
}

/// A config file `path` in the build context `context` (`context`, or a `--build-context`
/// directory), which `what` names in errors: its name and bytes.
async fn context_file(
    gw: &Gateway,
    opts: &BuildOpts,
    context: &str,
    path: &str,
    what: &str,
) -> Result<SpecFile, FrontendError> {
    let failed = |message: String| FrontendError::Request {
        message,
        details: vec![],
    };
    let local = match crate::build::contexts::given(opts, context) {
        Given::Directory(dir) => dir,
        Given::Other(v) => {
            return Err(failed(format!(
                "{what}: build context {context:?} is {v:?}; it must be a directory"
            )));
        }
        Given::Missing => {
            return Err(failed(format!(
                "{what}: build context {context:?} was not given: pass --build-context {context}=<dir>"
            )));
        }
    };
    let relative = path.trim_start_matches('/');
    let state = State::local(
        &local,
        LocalOptions {
            session_id: opts.session_for_local(&local),
            follow_paths: vec![relative.to_string()],
            shared_key_hint: Some(format!("kiln-config-{context}")),
            ..Default::default()
        },
    )
    .with_custom_name(format!("[kiln] load {what} {path}"));
    let r = gw.solve(state.marshal()).await?;
    let data = gw.read_file(&r, relative).await.map_err(|e| {
        failed(format!(
            "{what} {path} in build context {context}: {}",
            e.status.message()
        ))
    })?;
    Ok(SpecFile::new(path, data))
}

/// The signer a signing config file names (`DALEC_SIGNING_CONFIG_PATH`): `path` in the build
/// context `context`.
async fn signing_config(
    gw: &Gateway,
    opts: &BuildOpts,
    context: &str,
    path: &str,
    key: &str,
) -> Result<Signer, FrontendError> {
    let file = context_file(gw, opts, context, path, "signing config").await?;
    let spec_error = |errors| FrontendError::Spec {
        errors,
        file: file.clone(),
    };
    let text = kiln_spec::text(path, &file.data).map_err(spec_error)?;
    crate::request::signing::from_config(path, text, key).map_err(spec_error)
}

/// Dalec's global source filter: the excludes of the YAML file `DALEC_SOURCE_FILTER_CONFIG_PATH`
/// names in the context `dalec-source-options` (or `DALEC_SOURCE_FILTER_CONFIG_CONTEXT_NAME`);
/// none without the arg.
async fn source_filter(gw: &Gateway, opts: &BuildOpts) -> Result<Vec<String>, FrontendError> {
    let args = opts.build_args();
    let Some(path) = args
        .get("DALEC_SOURCE_FILTER_CONFIG_PATH")
        .filter(|p| !p.is_empty())
    else {
        return Ok(Vec::new());
    };
    let context = args
        .get("DALEC_SOURCE_FILTER_CONFIG_CONTEXT_NAME")
        .filter(|c| !c.is_empty())
        .map_or("dalec-source-options", String::as_str);
    let file = context_file(gw, opts, context, path, "source filter config").await?;
    let spec_error = |errors| FrontendError::Spec {
        errors,
        file: file.clone(),
    };
    let text = kiln_spec::text(path, &file.data).map_err(spec_error)?;
    let config: crate::spec::SourceFilterConfig =
        kiln_spec::load_yaml(path, text).map_err(spec_error)?;
    Ok(config.global_excludes)
}

/// The signer `choice` names: the spec's, or the one a signing config file names (with a
/// warning, when `warn`, that it replaces the spec's).
async fn choose_signer(
    gw: &Gateway,
    opts: &BuildOpts,
    choice: Choice,
    warn: bool,
) -> Result<Signer, FrontendError> {
    match choice {
        Choice::Spec(signer) => Ok(signer),
        Choice::File {
            context,
            path,
            key,
            replaces_spec,
        } => {
            if replaces_spec && warn {
                gw.warn(&format!(
                    "Spec signing config overwritten by config at path {path} in build context {context}"
                ))
                .await?;
            }
            signing_config(gw, opts, &context, &path, &key).await
        }
    }
}

/// Hands the artifacts (of `stage`) to the signer frontend and returns what it gave back.
async fn sign(
    gw: &Gateway,
    opts: &BuildOpts,
    signer: &Signer,
    packages: &State,
    stage: Stage,
) -> Result<State, FrontendError> {
    let (frontend_opts, inputs) = crate::request::signing::request(opts, signer, packages, stage);
    tracing::debug!("signing with {}", signer.image);
    let result = gw
        .solve_frontend("gateway.v0", frontend_opts, inputs)
        .await?;
    let failed = |why: String| FrontendError::Request {
        message: format!("the signer {} {why}", signer.image),
        details: vec![],
    };
    let def = result
        .reference
        .and_then(|r| r.def)
        .ok_or_else(|| failed("returned no single result to use as the signed packages".into()))?;
    State::from_definition(&def).map_err(|e| failed(format!("returned {e}")))
}

/// The result metadata that gives BuildKit's image exporters the build's time: they stamp the
/// history entries of the new layers with it (and clamp older entries), as for a Dockerfile
/// build with `SOURCE_DATE_EPOCH`.
const EPOCH_KEY: &str = "source.date.epoch";

/// The outcome of one platform's build.
struct PlatformBuild {
    /// The result (packages, or the image's root filesystem).
    reference: Ref,
    /// The image config, for container routes.
    image_config: Option<Vec<u8>>,
    /// The build's time (see [`crate::build::build_epoch`]).
    epoch: i64,
}

/// Plans, solves and tests the build for the one platform `opts` names, an image on the
/// `image_base` entry of `image.bases`; `warn` sends the plan's warnings (once per request,
/// not once per platform).
async fn build_for_platform(
    gw: &Gateway,
    opts: &BuildOpts,
    file: &SpecFile,
    loaded: &plan::Loaded<'_>,
    warn: bool,
    image_base: usize,
) -> Result<PlatformBuild, FrontendError> {
    let plan_error = |e| plan_error(e, file);
    // The Dockerfile builds are independent of each other: solved side by side.
    let sources = plan::build_sources(loaded, opts).map_err(plan_error)?;
    let keys: Vec<String> = sources.iter().map(|b| b.key.clone()).collect();
    let states = futures_util::future::try_join_all(
        sources
            .into_iter()
            .map(|b| run_dockerfile_build(gw, b, opts)),
    )
    .await?;
    let built: BTreeMap<String, State> = keys.into_iter().zip(states).collect();
    let source_excludes = source_filter(gw, opts).await?;
    let prepared = plan::Prepared {
        built: &built,
        source_excludes: &source_excludes,
        image_base,
    };
    // Each signing round hands the signer what the plan asks for and plans again with what it
    // returned, until no round is left (Windows has two: the programs, then the packages).
    let mut signed = Vec::new();
    let mut signer = None;
    let mut plan = plan::plan_signed(loaded, opts, &prepared, &signed).map_err(plan_error)?;
    while let Some(round) = plan.signing.take() {
        let chosen = match signer.take() {
            Some(chosen) => chosen,
            None => choose_signer(gw, opts, round.choice, warn).await?,
        };
        signed.push(sign(gw, opts, &chosen, &round.unsigned, round.stage).await?);
        signer = Some(chosen);
        plan = plan::plan_signed(loaded, opts, &prepared, &signed).map_err(plan_error)?;
    }
    if warn {
        for w in &plan.warnings {
            gw.warn(w).await?;
        }
    }
    let source = SourceFile {
        filename: file.name.clone(),
        data: file.data.clone(),
        language: "YAML".into(),
    };
    let marshal = |state: &State| {
        state.marshal_with(&MarshalOptions {
            source: Some(&source),
            ignore_cache: opts.get("no-cache").is_some(),
        })
    };
    let definition = marshal(&plan.state);
    tracing::debug!("planned: {} ops", definition.def.len());
    // The result and the spec's tests are solved side by side; each test is built at once, so
    // a failing test fails the request.
    // What the request must give (secrets) is checked first, so that a missing one is named
    // rather than failing inside a build step that needs it.
    futures_util::future::try_join_all(
        plan.checks
            .iter()
            .map(|check| gw.solve_evaluated(marshal(check))),
    )
    .await?;
    let tests = plan
        .tests
        .iter()
        .map(|test| gw.solve_evaluated(marshal(test)));
    let (reference, _) = futures_util::future::try_join(
        gw.solve(definition),
        futures_util::future::try_join_all(tests),
    )
    .await?;
    tracing::debug!("evaluated {} test(s)", plan.tests.len());
    let image_config = match &plan.image {
        Some(image) => {
            let platform = plan.config_platform.clone();
            // An image made on an empty root has no base config to start from.
            let base = if plan.base_image.is_empty() {
                Vec::new()
            } else {
                gw.resolve_image_config(&plan.base_image, &platform, opts.image_resolve_mode())
                    .await?
                    .config
            };
            let config = image_config(
                &base,
                image,
                &platform,
                &plan.base_image,
                plan.epoch,
                &plan.layers,
            )
            .map_err(|message| FrontendError::Request {
                message,
                details: Vec::new(),
            })?;
            Some(config)
        }
        None => None,
    };
    Ok(PlatformBuild {
        reference,
        image_config,
        epoch: plan.epoch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Located;

    #[test]
    fn a_windows_image_keeps_its_bases_os_version_and_gets_no_linux_path() {
        let base = br#"{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1","config":{"WorkingDir":"C:\\"}}"#;
        let image = ImageConfig {
            entrypoint: Some(Located::new("hello.exe".to_string(), Default::default())),
            ..Default::default()
        };
        let platform = pb::Platform {
            architecture: "amd64".into(),
            os: "windows".into(),
            ..Default::default()
        };
        let out: Value = serde_json::from_slice(
            &image_config(base, &image, &platform, "nanoserver", 1_700_000_000, &[]).unwrap(),
        )
        .unwrap();
        assert_eq!(out["os"], "windows");
        assert_eq!(out["os.version"], "10.0.17763.1");
        assert_eq!(out["config"]["Entrypoint"], json!(["hello.exe"]));
        assert_eq!(out["config"]["Env"], json!([]), "no Linux PATH");
        assert_eq!(out["config"]["WorkingDir"], "C:\\");
    }

    #[test]
    fn image_config_applies_the_spec() {
        let base = br#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin","A=1"],"Cmd":["bash"]}}"#;
        let at = |s: &str| Located::new(s.to_string(), Default::default());
        let image = ImageConfig {
            entrypoint: Some(at("hello --greeting 'hi there'")),
            env: vec![at("A=2")],
            labels: [("l".to_string(), at("v"))].into_iter().collect(),
            volumes: [("/data".to_string(), None)].into_iter().collect(),
            ..Default::default()
        };
        let platform = pb::Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        };
        let out: Value = serde_json::from_slice(
            &image_config(
                base,
                &image,
                &platform,
                "base",
                1_700_000_000,
                &["kiln: install".to_string()],
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            out["config"]["Entrypoint"],
            json!(["hello", "--greeting", "hi there"])
        );
        assert_eq!(out["config"]["Cmd"], Value::Null);
        assert_eq!(out["config"]["Env"], json!(["PATH=/bin", "A=2"]));
        assert_eq!(out["config"]["Labels"]["l"], "v");
        assert_eq!(out["config"]["Volumes"]["/data"], json!({}));
        // The build's time, not the base's or the clock's.
        assert_eq!(out["created"], "2023-11-14T22:13:20Z");
        assert_eq!(
            out["history"],
            json!([{"created": "2023-11-14T22:13:20Z", "created_by": "kiln: install", "comment": "kiln"}])
        );
    }

    #[test]
    fn an_unreadable_base_image_config_is_an_error_not_an_empty_one() {
        let platform = pb::Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        };
        let image = ImageConfig::default();
        let e = image_config(
            b"{not json",
            &image,
            &platform,
            "example.org/base:1",
            0,
            &[],
        )
        .unwrap_err();
        assert!(
            e.starts_with("the image config of example.org/base:1 is not valid JSON"),
            "{e}"
        );
        let e = image_config(b"[1]", &image, &platform, "b", 0, &[]).unwrap_err();
        assert_eq!(e, "the image config of b is not a JSON object");
        // No config at all: the result image has only what kiln and the spec set.
        let out: Value =
            serde_json::from_slice(&image_config(b"", &image, &platform, "b", 0, &[]).unwrap())
                .unwrap();
        assert_eq!(out["architecture"], "amd64");
    }

    #[test]
    fn a_bases_config_names_its_platform_with_its_os_version() {
        let config =
            json!({"os": "windows", "architecture": "amd64", "os.version": "10.0.17763.1234"});
        assert_eq!(
            config_platform(&config),
            (
                "windows(10.0.17763.1234)/amd64".to_string(),
                json!({"os": "windows", "architecture": "amd64", "os.version": "10.0.17763.1234"})
            )
        );
        let linux = json!({"os": "linux", "architecture": "arm", "variant": "v7"});
        assert_eq!(config_platform(&linux).0, "linux/arm/v7");
    }

    #[test]
    fn several_platforms_make_a_multi_platform_result() {
        let platforms = ["linux/amd64", "linux/arm/v7"]
            .map(|p| WorkerPlatform::parse(p).unwrap())
            .to_vec();
        let built = |id: &str, config: Option<&str>| PlatformBuild {
            reference: Ref {
                id: id.into(),
                def: None,
            },
            image_config: config.map(|c| c.as_bytes().to_vec()),
            epoch: 1_700_000_000,
        };
        let r = multi_platform_result(
            platforms.iter().map(requested_platform).collect(),
            vec![built("r1", Some("{}")), built("r2", Some("{\"a\":1}"))],
        );
        assert!(r.reference.is_none());
        assert_eq!(r.refs["linux/amd64"].id, "r1");
        assert_eq!(r.refs["linux/arm/v7"].id, "r2");
        assert_eq!(
            r.metadata["containerimage.config/linux/arm/v7"],
            b"{\"a\":1}"
        );
        assert_eq!(r.metadata["source.date.epoch/linux/arm/v7"], b"1700000000");
        let listed: Value = serde_json::from_slice(&r.metadata["refs.platforms"]).unwrap();
        assert_eq!(
            listed,
            json!({"Platforms": [
                {"ID": "linux/amd64", "Platform": {"os": "linux", "architecture": "amd64"}},
                {"ID": "linux/arm/v7", "Platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
            ]})
        );
    }

    /// `specs/hello.yml` followed by a block of `lines` lines of 100 bytes (an `x-` extension).
    fn hello_with_a_block(lines: usize) -> String {
        let mut text = include_str!("../../../specs/hello.yml").to_string();
        text.push_str("x-padding: |\n");
        for i in 0..lines {
            text.push_str(&format!("  {i:0>97}\n"));
        }
        text
    }

    fn sent_data(detail: &Any) -> String {
        use base64::Engine;
        let v: Value = serde_json::from_slice(&detail.value).unwrap();
        let data = base64::engine::general_purpose::STANDARD
            .decode(v["info"]["data"].as_str().unwrap())
            .unwrap();
        String::from_utf8(data).unwrap()
    }

    #[test]
    fn a_spec_too_large_to_build_gets_its_size_and_the_limit() {
        let text = hello_with_a_block(32_000);
        assert!(text.len() > MAX_SPEC_SIZE);
        let errors = spec_text("spec.yml", text.as_bytes()).unwrap_err();
        let shown = errors.to_string();
        assert!(
            shown.starts_with(&format!(
                "spec.yml: the spec is 3.05 MiB ({} bytes), more than the 3 MiB kiln builds: BuildKit takes at most 4 MiB in one request",
                text.len()
            )),
            "{shown}"
        );
        let e = FrontendError::Spec {
            errors,
            file: SpecFile::new("spec.yml", text.into_bytes()),
        };
        let (message, details) = e.to_status();
        assert!(message.len() < 1024 && details.is_empty());
        // Just under the limit is fine.
        let text = hello_with_a_block(30_000);
        assert!(spec_text("spec.yml", text.as_bytes()).is_ok());
        // A spec read from BuildKit only as far as the limit: its size is the file's.
        let mut cut = SpecFile::new("spec.yml", vec![b'#'; MAX_SPEC_SIZE + 1]);
        cut.size = 5 << 20;
        let shown = file_text(&cut).unwrap_err().to_string();
        assert!(
            shown
                .starts_with("spec.yml: the spec is 5.00 MiB (5242880 bytes), more than the 3 MiB"),
            "{shown}"
        );
    }

    #[test]
    fn invalid_utf8_in_a_build_is_a_located_spec_error() {
        let data = b"name: hello\ndescription: caf\xc3\xa9 \xff\n".to_vec();
        let errors = spec_text("spec.yml", &data).unwrap_err();
        let e = FrontendError::Spec {
            errors,
            file: SpecFile::new("spec.yml", data),
        };
        let (message, details) = e.to_status();
        assert_eq!(
            message,
            "spec.yml:2:19: invalid UTF-8 (byte 0xff); a spec must be UTF-8 text"
        );
        let v: Value = serde_json::from_slice(&details[0].value).unwrap();
        assert_eq!(v["ranges"][0]["start"]["line"], 2);
    }

    #[test]
    fn the_error_detail_of_a_spec_error_stays_small_on_a_large_spec() {
        // 2.9 MiB, and a mistake on the last line.
        let mut text = hello_with_a_block(29_000);
        text.push_str("nonsense: 1\n");
        let line = text.lines().count() as u32;
        let errors = crate::spec::load("spec.yml", &text).unwrap_err();
        assert_eq!(errors.first().map(|e| e.line), Some(line));
        let e = FrontendError::Spec {
            errors,
            file: SpecFile::new("spec.yml", text.clone().into_bytes()),
        };
        let (_, details) = e.to_status();
        assert!(
            details[0].value.len() < 64 << 10,
            "{}",
            details[0].value.len()
        );
        let sent = sent_data(&details[0]);
        assert_eq!(sent.lines().nth(line as usize - 1), Some("nonsense: 1"));
    }

    #[test]
    fn the_source_map_of_a_plan_points_at_the_specs_lines() {
        // hello.yml, then a large block after it: the definition's source data holds the lines
        // the ops point at, where they are in the file, and not the block.
        let text = hello_with_a_block(20_000);
        let mut opts = BuildOpts::default();
        opts.opts
            .insert("target".into(), "bookworm/container".into());
        let plan = plan::plan_text("spec.yml", &text, &opts, &BTreeMap::new()).unwrap();
        let source = SourceFile {
            filename: "spec.yml".into(),
            data: text.clone().into_bytes(),
            language: "YAML".into(),
        };
        let def = plan.state.marshal_with(&MarshalOptions {
            source: Some(&source),
            ignore_cache: false,
        });
        let map = def.source.as_ref().unwrap();
        let sent = String::from_utf8(map.infos[0].data.clone()).unwrap();
        assert!(sent.len() < 16 << 10, "{} bytes", sent.len());
        let sent: Vec<&str> = sent.split('\n').collect();
        let spec: Vec<&str> = text.split('\n').collect();
        let mut ranges = 0;
        for locations in map.locations.values() {
            for range in locations.locations.iter().flat_map(|l| &l.ranges) {
                let first = range.start.as_ref().unwrap().line as usize;
                let last = range.end.as_ref().unwrap().line as usize;
                assert_eq!(sent[first - 1..last], spec[first - 1..last]);
                ranges += 1;
            }
        }
        // The source fetch, the build steps, the `image.base`-less container... at least two.
        assert!(ranges >= 2, "{ranges}");
        let build_line = spec
            .iter()
            .position(|l| l.trim() == "tar -xzf hello-2.10.tar.gz");
        assert_eq!(
            sent.get(build_line.unwrap()),
            Some(&"        tar -xzf hello-2.10.tar.gz")
        );
        // The ops do not change.
        assert_eq!(def.def, plan.state.marshal().def);
    }

    #[test]
    fn dalecs_subrequests_are_answered() {
        let opts = BuildOpts::default();
        let text =
            |r: &FrontendResult| String::from_utf8_lossy(&r.metadata["result.txt"]).into_owned();
        let r = subrequest("frontend.dalec.defaultPlatform", &[], &opts).unwrap();
        assert_eq!(text(&r), "linux/amd64");
        let v: Value = serde_json::from_slice(&r.metadata["result.json"]).unwrap();
        assert_eq!(v, json!({"architecture": "amd64", "os": "linux"}));
        let r = subrequest("frontend.dalec.schema", &[], &opts).unwrap();
        let v: Value = serde_json::from_slice(&r.metadata["result.json"]).unwrap();
        assert!(v["properties"]["sources"].is_object(), "{v}");
        let r = subrequest("frontend.subrequests.describe", &[], &opts).unwrap();
        for name in [
            "frontend.dalec.resolve",
            "frontend.dalec.defaultPlatform",
            "frontend.dalec.schema",
        ] {
            assert!(
                text(&r).contains(name.trim_start_matches("frontend.")),
                "{}",
                text(&r)
            );
        }
        // resolve: one spec per target platform, args substituted for each.
        let spec = "name: hi\nargs:\n  TARGETARCH: \"\"\nbuild:\n  env:\n    ARCH: for ${TARGETARCH}\n  steps:\n    - command: \"true\"\ntargets:\n  bookworm:\n    image:\n      entrypoint: bookworm-${TARGETARCH}\n";
        let loaded = plan::Loaded::load("spec.yml", spec).unwrap();
        let mut opts = BuildOpts::default();
        opts.opts
            .insert("platform".into(), "linux/amd64,linux/arm64".into());
        opts.opts.insert("target".into(), "bookworm/deb".into());
        let r = resolve_subrequest(&opts, &loaded).unwrap();
        let v: Value = serde_json::from_slice(&r.metadata["result.json"]).unwrap();
        let described: Vec<(&str, &str)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["build"]["env"]["ARCH"].as_str().unwrap(),
                    s["image"]["entrypoint"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            described,
            [
                ("for amd64", "bookworm-${TARGETARCH}"),
                ("for arm64", "bookworm-${TARGETARCH}")
            ]
        );
        assert!(text(&r).contains("ARCH: for arm64"), "{}", text(&r));
    }

    #[test]
    fn unknown_subrequest_is_named() {
        let opts = BuildOpts::default();
        let e = subrequest("frontend.nope", &[], &opts).unwrap_err();
        assert_eq!(e.to_status().0, "unsupported request frontend.nope");
        let r = subrequest("frontend.targets", &targets::list(), &opts).unwrap();
        let v: Value = serde_json::from_slice(&r.metadata["result.json"]).unwrap();
        assert!(
            v["targets"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == "bookworm/deb")
        );
    }
}
