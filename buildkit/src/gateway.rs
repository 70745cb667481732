//! A typed client for BuildKit's `LLBBridge` gateway service.

use crate::caps::Caps;
use crate::pb;
use crate::proto::google::protobuf::Any;
use crate::proto::google::rpc::Status;
use crate::proto::moby::buildkit::v1::frontend::{self as gw, llb_bridge_client::LlbBridgeClient};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// The largest gRPC message BuildKit sends or accepts (16 MiB).
pub const MAX_MESSAGE_SIZE: usize = 16 << 20;
/// The largest request kiln sends: 4 MiB, what the gateway of BuildKit 0.13 (dockerd 26.1)
/// accepts (grpc-go's default; later versions take 16 MiB). A larger request fails here with
/// its size named, not with a raw gRPC error from the daemon.
pub const MAX_REQUEST_SIZE: usize = 4 << 20;
/// Error and warning messages are cut at this many bytes: nobody reads more, and the request
/// that carries them stays small.
pub const MAX_MESSAGE_TEXT: usize = 64 << 10;
/// How much of a file one `ReadFile` call asks for; large files are read in ranges.
const READ_CHUNK: i64 = 8 << 20;

/// A failed gateway call, with what kiln was doing when it failed.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {}", .status.message())]
pub struct GatewayError {
    /// What kiln was doing.
    pub context: String,
    /// The gRPC status BuildKit answered with.
    pub status: tonic::Status,
}

/// Result type of gateway calls.
pub type GatewayResult<T> = Result<T, GatewayError>;

/// `n` bytes in MiB, for messages.
fn mib(n: usize) -> String {
    format!("{:.2} MiB", n as f64 / (1 << 20) as f64)
}

/// Fails when a `method` request of `len` bytes is more than BuildKit accepts; `context` says
/// what kiln was doing.
fn check_size(context: &str, method: &str, len: usize) -> GatewayResult<()> {
    if len <= MAX_REQUEST_SIZE {
        return Ok(());
    }
    Err(GatewayError {
        context: context.to_string(),
        status: tonic::Status::resource_exhausted(format!(
            "the {method} request is {} ({len} bytes), more than the {} BuildKit accepts in one message",
            mib(len),
            mib(MAX_REQUEST_SIZE)
        )),
    })
}

/// `text` cut to [`MAX_MESSAGE_TEXT`] bytes (at a character boundary), saying so.
pub fn clip(text: &str) -> String {
    if text.len() <= MAX_MESSAGE_TEXT {
        return text.to_string();
    }
    let mut at = MAX_MESSAGE_TEXT;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    format!(
        "{}\n… (cut: the message is {} bytes)",
        &text[..at],
        text.len()
    )
}

trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> GatewayResult<T>;
}

impl<T> Context<T> for Result<tonic::Response<T>, tonic::Status> {
    fn context(self, what: impl FnOnce() -> String) -> GatewayResult<T> {
        self.map(tonic::Response::into_inner)
            .map_err(|status| GatewayError {
                context: what(),
                status,
            })
    }
}

/// A solved result: an opaque reference owned by BuildKit, valid until the frontend exits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ref {
    /// The ref id ("" is the empty filesystem).
    pub id: String,
    /// The LLB that produces it, when BuildKit sends it (cap `reference.output`); build on
    /// top of it with [`crate::llb::State::from_definition`].
    pub def: Option<pb::Definition>,
}

/// An image's resolved digest and config JSON.
#[derive(Debug, Clone)]
pub struct ImageConfig {
    /// The root descriptor digest ("" for images only known locally).
    pub digest: String,
    /// The raw OCI image config JSON.
    pub config: Vec<u8>,
}

/// What a frontend hands back through `Return`.
#[derive(Debug, Clone, Default)]
pub struct FrontendResult {
    /// The single result ref (`None` for metadata-only answers such as subrequests).
    pub reference: Option<Ref>,
    /// One ref per platform (`linux/amd64`, ...) for a multi-platform result; when not empty it
    /// is returned instead of `reference`, and `metadata` carries `refs.platforms`.
    pub refs: BTreeMap<String, Ref>,
    /// Result metadata (`containerimage.config`, `result.json`, ...).
    pub metadata: BTreeMap<String, Vec<u8>>,
}

/// The gateway client: BuildKit's `LLBBridge` plus the caps it reported.
#[derive(Clone)]
pub struct Gateway {
    client: LlbBridgeClient<Channel>,
    caps: Caps,
    cache_imports: Vec<gw::CacheOptionsEntry>,
    waiting: Arc<Mutex<Waiting>>,
}

/// One call to BuildKit in flight, for [`Waiting`]; it ends when dropped.
struct InFlight<'a>(&'a Mutex<Waiting>);

impl<'a> InFlight<'a> {
    fn start(waiting: &'a Mutex<Waiting>) -> Self {
        let mut w = waiting.lock().unwrap_or_else(|p| p.into_inner());
        if w.in_flight == 0 {
            w.since = Some(Instant::now());
        }
        w.in_flight += 1;
        InFlight(waiting)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        w.in_flight = w.in_flight.saturating_sub(1);
        if w.in_flight == 0
            && let Some(since) = w.since.take()
        {
            w.total += since.elapsed();
        }
    }
}

/// Wall time with at least one call to BuildKit in flight (concurrent calls count once).
#[derive(Debug, Default)]
struct Waiting {
    in_flight: usize,
    since: Option<Instant>,
    total: Duration,
}

/// Why a frontend process could not reach BuildKit over its stdin/stdout.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    /// stdin/stdout are not the pipes BuildKit gives a frontend (run by hand, say).
    #[error("not started by BuildKit (stdin/stdout must be pipes): {0}")]
    NotPipes(#[from] std::io::Error),
    /// The pipes are there, but BuildKit did not answer.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
}

impl Gateway {
    /// Connects to BuildKit over the process's stdin/stdout, as a frontend process does.
    pub async fn connect_stdio() -> Result<Self, StdioError> {
        let channel = crate::transport::stdio_channel().await?;
        Ok(Gateway::connect(channel).await?)
    }

    /// Wraps a channel and pings the daemon to learn its capabilities.
    pub async fn connect(channel: Channel) -> GatewayResult<Self> {
        let mut client = LlbBridgeClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);
        let waiting = Arc::<Mutex<Waiting>>::default();
        let pong = {
            let _in_flight = InFlight::start(&waiting);
            client.ping(gw::PingRequest {}).await
        }
        .context(|| "ping BuildKit".into())?;
        let caps = Caps::from_pong(&pong.frontend_api_caps, &pong.llb_caps);
        Ok(Gateway {
            client,
            caps,
            cache_imports: Vec::new(),
            waiting,
        })
    }

    /// The same gateway, passing `imports` on to every definition solve (BuildKit gives a
    /// frontend the client's `--import-cache` to use, not to apply itself).
    pub fn with_cache_imports(mut self, imports: &[crate::options::CacheImport]) -> Self {
        self.cache_imports = imports
            .iter()
            .map(|c| gw::CacheOptionsEntry {
                r#type: c.kind.clone(),
                attrs: c.attrs.clone().into_iter().collect(),
            })
            .collect();
        self
    }

    /// The daemon's capabilities.
    pub fn caps(&self) -> &Caps {
        &self.caps
    }

    /// How long this gateway (and its clones) has waited on BuildKit so far: wall time with at
    /// least one call in flight. The rest of a request's time is kiln's own.
    pub fn time_waiting(&self) -> Duration {
        let w = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        w.total + w.since.map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// Awaits a call to BuildKit, counting its time as waiting (also when it is dropped).
    async fn timed<F: std::future::Future>(&self, call: F) -> F::Output {
        let _in_flight = InFlight::start(&self.waiting);
        call.await
    }

    /// Solves an LLB definition lazily and returns the result ref.
    ///
    /// An empty definition (scratch) gives the empty ref.
    pub async fn solve(&self, definition: pb::Definition) -> GatewayResult<Ref> {
        self.solve_request(gw::SolveRequest {
            definition: Some(definition),
            ..Default::default()
        })
        .await
        .map(|r| r.reference.unwrap_or_default())
    }

    /// Runs another frontend (`dockerfile.v0`, `gateway.v0`) and returns its result.
    pub async fn solve_frontend(
        &self,
        frontend: &str,
        opts: BTreeMap<String, String>,
        inputs: BTreeMap<String, pb::Definition>,
    ) -> GatewayResult<FrontendResult> {
        self.solve_request(gw::SolveRequest {
            frontend: frontend.to_string(),
            frontend_opt: opts.into_iter().collect(),
            frontend_inputs: inputs.into_iter().collect(),
            ..Default::default()
        })
        .await
    }

    async fn solve_request(&self, mut req: gw::SolveRequest) -> GatewayResult<FrontendResult> {
        req.allow_result_return = true;
        req.allow_result_array_ref = true;
        if req.frontend.is_empty() && req.cache_imports.is_empty() {
            req.cache_imports = self.cache_imports.clone();
        }
        check_size("solve", "Solve", prost::Message::encoded_len(&req))?;
        // Never send an op the daemon lacks the cap for: say which release has it instead.
        if let Some(def) = &req.definition {
            let missing = self.caps.missing_llb(def);
            if !missing.is_empty() {
                return Err(GatewayError {
                    context: "solve".into(),
                    status: tonic::Status::failed_precondition(crate::caps::missing_caps_message(
                        &missing,
                    )),
                });
            }
        }
        let resp = self
            .timed(self.client.clone().solve(req))
            .await
            .context(|| "solve".into())?;
        let Some(result) = resp.result else {
            return Ok(FrontendResult::default());
        };
        let mut out = FrontendResult {
            metadata: result.metadata.into_iter().collect(),
            ..Default::default()
        };
        match result.result {
            Some(gw::result::Result::Ref(r)) => {
                out.reference = Some(Ref {
                    id: r.id,
                    def: r.def,
                })
            }
            Some(gw::result::Result::Refs(map)) => {
                out.refs = map
                    .refs
                    .into_iter()
                    .map(|(platform, r)| {
                        (
                            platform,
                            Ref {
                                id: r.id,
                                def: r.def,
                            },
                        )
                    })
                    .collect()
            }
            _ => {}
        }
        Ok(out)
    }

    /// Solves an LLB definition and builds it at once (build errors surface here), in one call
    /// when BuildKit supports it.
    pub async fn solve_evaluated(&self, definition: pb::Definition) -> GatewayResult<Ref> {
        if !self.caps.gateway("gateway.solve.evaluate") {
            let r = self.solve(definition).await?;
            self.evaluate(&r).await?;
            return Ok(r);
        }
        self.solve_request(gw::SolveRequest {
            definition: Some(definition),
            evaluate: true,
            ..Default::default()
        })
        .await
        .map(|r| r.reference.unwrap_or_default())
    }

    /// Forces a ref to be built; build errors surface here.
    pub async fn evaluate(&self, r: &Ref) -> GatewayResult<()> {
        self.timed(self.client.clone().evaluate(gw::EvaluateRequest {
            r#ref: r.id.clone(),
        }))
        .await
        .context(|| "build".into())
        .map(|_| ())
    }

    /// Reads a whole file of a ref, in ranges so that large files stay under the message limit.
    pub async fn read_file(&self, r: &Ref, path: &str) -> GatewayResult<Vec<u8>> {
        self.read_file_at_most(r, path, usize::MAX - 1).await
    }

    /// Reads a file of a ref up to `max` bytes and one more: a result longer than `max` says
    /// the file is, and nothing more of it was read.
    pub async fn read_file_at_most(
        &self,
        r: &Ref,
        path: &str,
        max: usize,
    ) -> GatewayResult<Vec<u8>> {
        let wanted = max.saturating_add(1);
        let mut data = Vec::new();
        loop {
            let length = (wanted - data.len()).min(READ_CHUNK as usize) as i64;
            let req = gw::ReadFileRequest {
                r#ref: r.id.clone(),
                file_path: path.to_string(),
                range: Some(gw::FileRange {
                    offset: data.len() as i64,
                    length,
                }),
                mount_index: 0,
            };
            let chunk = self
                .timed(self.client.clone().read_file(req))
                .await
                .context(|| format!("read {path}"))?;
            let n = chunk.data.len() as i64;
            data.extend_from_slice(&chunk.data);
            if n < length || data.len() >= wanted {
                return Ok(data);
            }
        }
    }

    /// Lists one directory level of a ref.
    pub async fn read_dir(
        &self,
        r: &Ref,
        path: &str,
    ) -> GatewayResult<Vec<crate::proto::fsutil::types::Stat>> {
        let req = gw::ReadDirRequest {
            r#ref: r.id.clone(),
            dir_path: path.to_string(),
            ..Default::default()
        };
        Ok(self
            .timed(self.client.clone().read_dir(req))
            .await
            .context(|| format!("list {path}"))?
            .entries)
    }

    /// Stats one path of a ref.
    pub async fn stat_file(
        &self,
        r: &Ref,
        path: &str,
    ) -> GatewayResult<Option<crate::proto::fsutil::types::Stat>> {
        let req = gw::StatFileRequest {
            r#ref: r.id.clone(),
            path: path.to_string(),
            mount_index: 0,
        };
        Ok(self
            .timed(self.client.clone().stat_file(req))
            .await
            .context(|| format!("stat {path}"))?
            .stat)
    }

    /// Resolves an image reference to its digest and config for `platform`.
    pub async fn resolve_image_config(
        &self,
        image: &str,
        platform: &pb::Platform,
        resolve_mode: Option<&str>,
    ) -> GatewayResult<ImageConfig> {
        let req = gw::ResolveImageConfigRequest {
            r#ref: image.to_string(),
            platform: Some(platform.clone()),
            resolve_mode: resolve_mode.unwrap_or("default").to_string(),
            log_name: format!("[kiln] load metadata for {image}"),
            ..Default::default()
        };
        let resp = self
            .timed(self.client.clone().resolve_image_config(req))
            .await
            .context(|| format!("resolve image {image}"))?;
        Ok(ImageConfig {
            digest: resp.digest,
            config: resp.config,
        })
    }

    /// The frontend inputs of the request that started this frontend (empty when unsupported).
    pub async fn inputs(&self) -> GatewayResult<BTreeMap<String, pb::Definition>> {
        if !self.caps.gateway("frontend.inputs") {
            return Ok(BTreeMap::new());
        }
        let resp = self
            .timed(self.client.clone().inputs(gw::InputsRequest {}))
            .await
            .context(|| "read frontend inputs".into())?;
        Ok(resp.definitions.into_iter().collect())
    }

    /// Shows a warning to the user (skipped on daemons without `gateway.warnings`).
    pub async fn warn(&self, message: &str) -> GatewayResult<()> {
        if !self.caps.gateway("gateway.warnings") {
            tracing::warn!("{message}");
            return Ok(());
        }
        let req = gw::WarnRequest {
            level: 1,
            short: clip(message).into_bytes(),
            ..Default::default()
        };
        self.timed(self.client.clone().warn(req))
            .await
            .context(|| "warn".into())
            .map(|_| ())
    }

    /// Returns the frontend's result. Call exactly once, then exit.
    pub async fn return_result(&self, result: FrontendResult) -> GatewayResult<()> {
        let as_ref = |r: Ref| gw::Ref {
            id: r.id,
            def: None,
        };
        let refs = if result.refs.is_empty() {
            result.reference.map(|r| gw::result::Result::Ref(as_ref(r)))
        } else {
            Some(gw::result::Result::Refs(gw::RefMap {
                refs: result
                    .refs
                    .into_iter()
                    .map(|(platform, r)| (platform, as_ref(r)))
                    .collect(),
            }))
        };
        let result = gw::Result {
            metadata: result.metadata.into_iter().collect::<HashMap<_, _>>(),
            result: refs,
            ..Default::default()
        };
        self.r#return(gw::ReturnRequest {
            result: Some(result),
            error: None,
        })
        .await
    }

    /// Returns an error as the frontend's outcome. `details` are typed error details
    /// (see [`crate::errdefs`]). Call exactly once, then exit.
    ///
    /// A message longer than [`MAX_MESSAGE_TEXT`] is cut, and details that would take the
    /// request past [`MAX_REQUEST_SIZE`] are left out.
    pub async fn return_error(&self, message: &str, details: Vec<Any>) -> GatewayResult<()> {
        self.r#return(error_request(message, details)).await
    }

    async fn r#return(&self, req: gw::ReturnRequest) -> GatewayResult<()> {
        // A result too large to return is returned as an error that says so.
        let req = match check_size(
            "return the result",
            "Return",
            prost::Message::encoded_len(&req),
        ) {
            Ok(()) => req,
            Err(e) if req.error.is_none() => error_request(e.status.message(), Vec::new()),
            Err(e) => return Err(e),
        };
        self.client
            .clone()
            .r#return(req)
            .await
            .context(|| "return the result".into())
            .map(|_| ())
    }
}

/// The `Return` request for an error: the message cut to [`MAX_MESSAGE_TEXT`], the details
/// dropped when they would not fit.
fn error_request(message: &str, details: Vec<Any>) -> gw::ReturnRequest {
    // Code 2 (Unknown) makes docker print the message as it is.
    let mut status = Status {
        code: 2,
        message: clip(message),
        details,
    };
    if prost::Message::encoded_len(&status) > MAX_REQUEST_SIZE - 1024 {
        status.details.clear();
    }
    gw::ReturnRequest {
        result: None,
        error: Some(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_over_the_limit_fail_with_their_size() {
        assert!(check_size("solve", "Solve", MAX_REQUEST_SIZE).is_ok());
        let e = check_size("solve", "Solve", 5 << 20).unwrap_err();
        assert_eq!(
            e.status.message(),
            "the Solve request is 5.00 MiB (5242880 bytes), more than the 4.00 MiB BuildKit accepts in one message"
        );
        assert!(e.to_string().starts_with("solve: the Solve request"));
    }

    #[test]
    fn error_returns_stay_under_the_limit() {
        let small = error_request("spec.yml:1:1: bad", vec![Any::default()]);
        assert_eq!(small.error.as_ref().unwrap().message, "spec.yml:1:1: bad");
        assert_eq!(small.error.as_ref().unwrap().details.len(), 1);
        let huge_detail = Any {
            type_url: "x".into(),
            value: vec![b'a'; 5 << 20],
        };
        let long = "é".repeat(3 << 20);
        let req = error_request(&long, vec![huge_detail]);
        let status = req.error.as_ref().unwrap();
        assert!(status.details.is_empty());
        assert!(status.message.len() < MAX_MESSAGE_TEXT + 64);
        assert!(
            status
                .message
                .ends_with("(cut: the message is 6291456 bytes)")
        );
        assert!(prost::Message::encoded_len(&req) <= MAX_REQUEST_SIZE);
    }
}
