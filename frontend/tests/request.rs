//! One request handled end to end in process, over a fake BuildKit gateway: the frontend's
//! real gRPC client talks to an `LLBBridge` server in this test through an in-memory stream
//! (`transport::io_channel`). The fake serves the spec file, answers every solve with a ref
//! and records what the frontend asked and returned. Real builds are the e2e tests' job; this
//! pins the request handling itself: what is solved, how often the spec is read, what goes
//! back to BuildKit for a build, a subrequest and a broken spec.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_buildkit::gateway::Gateway;
use kiln_buildkit::options::BuildOpts;
use kiln_buildkit::proto::moby::buildkit::v1::apicaps::ApiCap;
use kiln_buildkit::proto::moby::buildkit::v1::frontend::{self as gw, llb_bridge_server};
use kiln_buildkit::transport::io_channel;
use kiln_frontend::request;
use std::sync::{Arc, Mutex};
use tonic::{Request, Response, Status};

/// What the fake saw.
#[derive(Default)]
struct Seen {
    solves: Vec<gw::SolveRequest>,
    reads: usize,
    returned: Option<gw::ReturnRequest>,
    warnings: Vec<String>,
}

struct FakeBridge {
    spec: Vec<u8>,
    seen: Arc<Mutex<Seen>>,
    llb_caps: Vec<&'static str>,
}

/// The LLB caps BuildKit v0.13 (Docker 26.1, the oldest engine kiln supports) reports.
const BUILDKIT_0_13_LLB_CAPS: &[&str] = &[
    "source.image",
    "source.image.resolvemode",
    "source.image.layerlimit",
    "source.local",
    "source.local.unique",
    "source.local.sessionid",
    "source.local.includepatterns",
    "source.local.followpaths",
    "source.local.excludepatterns",
    "source.local.sharedkeyhint",
    "source.local.differ",
    "source.git",
    "source.git.keepgitdir",
    "source.git.fullurl",
    "source.git.httpauth",
    "source.git.knownsshhosts",
    "source.git.mountsshsock",
    "source.git.subdir",
    "source.http",
    "source.http.checksum",
    "source.http.perm",
    "source.ocilayout",
    "source.buildop.llbfilename",
    "exec.meta.base",
    "exec.meta.cgroup.parent",
    "exec.meta.network",
    "exec.meta.proxyenv",
    "exec.meta.security",
    "exec.meta.setsdefaultpath",
    "exec.meta.ulimit",
    "exec.meta.removemountstubs.recursive",
    "exec.mount.bind",
    "exec.mount.bind.readwrite-nooutput",
    "exec.mount.cache",
    "exec.mount.cache.sharing",
    "exec.mount.selector",
    "exec.mount.tmpfs",
    "exec.mount.tmpfs.size",
    "exec.mount.secret",
    "exec.mount.ssh",
    "exec.mount.cache.content",
    "exec.cgroup",
    "exec.secretenv",
    "file.base",
    "file.rm.wildcard",
    "file.copy.includeexcludepatterns",
    "file.rm.nofollowsymlink",
    "constraints",
    "platform",
    "meta.ignorecache",
    "meta.description",
    "meta.exportcache",
    "mergeop",
    "diffop",
];

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl llb_bridge_server::LlbBridge for FakeBridge {
    async fn resolve_image_config(
        &self,
        _: Request<gw::ResolveImageConfigRequest>,
    ) -> Answer<gw::ResolveImageConfigResponse> {
        Ok(Response::new(gw::ResolveImageConfigResponse {
            config: br#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"]}}"#
                .to_vec(),
            ..Default::default()
        }))
    }
    async fn resolve_source_meta(
        &self,
        _: Request<gw::ResolveSourceMetaRequest>,
    ) -> Answer<gw::ResolveSourceMetaResponse> {
        Err(Status::unimplemented("not in the fake"))
    }
    async fn solve(&self, r: Request<gw::SolveRequest>) -> Answer<gw::SolveResponse> {
        let req = r.into_inner();
        let mut seen = self.seen.lock().unwrap();
        seen.solves.push(req.clone());
        let id = format!("ref-{}", seen.solves.len());
        Ok(Response::new(gw::SolveResponse {
            result: Some(gw::Result {
                result: Some(gw::result::Result::Ref(gw::Ref {
                    id,
                    def: req.definition,
                })),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }
    async fn read_file(&self, r: Request<gw::ReadFileRequest>) -> Answer<gw::ReadFileResponse> {
        let req = r.into_inner();
        self.seen.lock().unwrap().reads += 1;
        let range = req.range.unwrap_or_default();
        let start = (range.offset as usize).min(self.spec.len());
        let end = if range.length > 0 {
            (start + range.length as usize).min(self.spec.len())
        } else {
            self.spec.len()
        };
        Ok(Response::new(gw::ReadFileResponse {
            data: self.spec[start..end].to_vec(),
        }))
    }
    async fn read_dir(&self, _: Request<gw::ReadDirRequest>) -> Answer<gw::ReadDirResponse> {
        Ok(Response::new(gw::ReadDirResponse::default()))
    }
    async fn stat_file(&self, _: Request<gw::StatFileRequest>) -> Answer<gw::StatFileResponse> {
        Ok(Response::new(gw::StatFileResponse::default()))
    }
    async fn evaluate(&self, _: Request<gw::EvaluateRequest>) -> Answer<gw::EvaluateResponse> {
        Ok(Response::new(gw::EvaluateResponse::default()))
    }
    async fn ping(&self, _: Request<gw::PingRequest>) -> Answer<gw::PongResponse> {
        // The gateway caps kiln looks for, as BuildKit 0.13 reports them.
        let cap = |id: &str| ApiCap {
            id: id.into(),
            enabled: true,
            ..Default::default()
        };
        Ok(Response::new(gw::PongResponse {
            frontend_api_caps: [
                "frontend.inputs",
                "gateway.solve.evaluate",
                "gateway.warnings",
            ]
            .map(cap)
            .to_vec(),
            llb_caps: self.llb_caps.iter().copied().map(cap).collect(),
            ..Default::default()
        }))
    }
    async fn r#return(&self, r: Request<gw::ReturnRequest>) -> Answer<gw::ReturnResponse> {
        self.seen.lock().unwrap().returned = Some(r.into_inner());
        Ok(Response::new(gw::ReturnResponse::default()))
    }
    async fn inputs(&self, _: Request<gw::InputsRequest>) -> Answer<gw::InputsResponse> {
        Ok(Response::new(gw::InputsResponse::default()))
    }
    async fn new_container(
        &self,
        _: Request<gw::NewContainerRequest>,
    ) -> Answer<gw::NewContainerResponse> {
        Err(Status::unimplemented("not in the fake"))
    }
    async fn release_container(
        &self,
        _: Request<gw::ReleaseContainerRequest>,
    ) -> Answer<gw::ReleaseContainerResponse> {
        Err(Status::unimplemented("not in the fake"))
    }
    type ExecProcessStream = futures_util::stream::Empty<Result<gw::ExecMessage, Status>>;
    async fn exec_process(
        &self,
        _: Request<tonic::Streaming<gw::ExecMessage>>,
    ) -> Answer<Self::ExecProcessStream> {
        Err(Status::unimplemented("not in the fake"))
    }
    async fn read_file_container(
        &self,
        _: Request<gw::ReadFileRequest>,
    ) -> Answer<gw::ReadFileResponse> {
        Err(Status::unimplemented("not in the fake"))
    }
    async fn read_dir_container(
        &self,
        _: Request<gw::ReadDirRequest>,
    ) -> Answer<gw::ReadDirResponse> {
        Err(Status::unimplemented("not in the fake"))
    }
    async fn stat_file_container(
        &self,
        _: Request<gw::StatFileRequest>,
    ) -> Answer<gw::StatFileResponse> {
        Err(Status::unimplemented("not in the fake"))
    }
    async fn warn(&self, r: Request<gw::WarnRequest>) -> Answer<gw::WarnResponse> {
        let msg = String::from_utf8_lossy(&r.into_inner().short).into_owned();
        self.seen.lock().unwrap().warnings.push(msg);
        Ok(Response::new(gw::WarnResponse::default()))
    }
}

/// Handles one request for `spec` with `opts` (plus `filename`) over the fake, as the
/// frontend binary does (handle, then Return), and gives back what the fake saw.
fn serve(spec: &str, opts: &[(&str, &str)]) -> Seen {
    serve_on(BUILDKIT_0_13_LLB_CAPS, spec, opts)
}

/// [`serve`] on a daemon that reports `llb_caps`.
fn serve_on(llb_caps: &[&'static str], spec: &str, opts: &[(&str, &str)]) -> Seen {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let bridge = FakeBridge {
        spec: spec.as_bytes().to_vec(),
        seen: seen.clone(),
        llb_caps: llb_caps.to_vec(),
    };
    runtime.block_on(async {
        let (client_io, server_io) = tokio::io::duplex(1 << 20);
        let server = tonic::transport::Server::builder()
            .add_service(llb_bridge_server::LlbBridgeServer::new(bridge))
            .serve_with_incoming(futures_util::stream::iter([Ok::<_, std::io::Error>(
                server_io,
            )]));
        let server = tokio::spawn(server);
        let channel = io_channel(client_io).await.unwrap();
        let gateway = Gateway::connect(channel).await.unwrap();
        let mut build_opts = BuildOpts::default();
        build_opts.opts.insert("filename".into(), "spec.yml".into());
        for (k, v) in opts {
            build_opts.opts.insert((*k).into(), (*v).into());
        }
        match request::handle(&gateway, &build_opts).await {
            Ok(result) => gateway.return_result(result).await.unwrap(),
            Err(e) => {
                let (message, details) = e.to_status();
                gateway.return_error(&message, details).await.unwrap();
            }
        }
        server.abort();
    });
    std::mem::take(&mut *seen.lock().unwrap())
}

const HELLO: &str = include_str!("../../specs/hello.yml");

#[test]
fn a_build_is_read_once_solved_with_its_tests_inside_and_returned_as_a_ref() {
    let seen = serve(HELLO, &[("target", "bookworm/deb")]);
    // The spec: one solve of its local source, one read (it fits one chunk).
    assert_eq!(seen.reads, 1);
    let first = &seen.solves[0];
    let spec_source = first.definition.as_ref().unwrap();
    assert!(!spec_source.def.is_empty());
    // Then the package build, its test inside: the packages are what the passed test gives.
    assert_eq!(seen.solves.len(), 2, "spec, package");
    assert_eq!(seen.solves.iter().filter(|s| s.evaluate).count(), 0);
    let package = seen.solves[1].definition.as_ref().unwrap();
    let (_, scripts) = solved_actions(&seen);
    assert!(
        scripts.iter().any(|s| s == "/bin/sh /run/kiln/test/run.sh"),
        "{scripts:?}"
    );
    // Definitions carry only the spec lines their ops point at.
    let source = package.source.as_ref().expect("a source map");
    assert!(!source.infos.is_empty());
    let returned = seen.returned.expect("a Return");
    assert!(returned.error.is_none(), "{:?}", returned.error);
    match returned.result.and_then(|r| r.result) {
        Some(gw::result::Result::Ref(r)) => assert!(r.id.starts_with("ref-")),
        other => panic!("expected one ref, got {other:?}"),
    }
}

#[test]
fn a_container_build_returns_the_image_config_with_the_spec_applied() {
    let seen = serve(HELLO, &[("target", "bookworm/container")]);
    let result = seen.returned.and_then(|r| r.result).expect("a result");
    let config = result
        .metadata
        .get("containerimage.config")
        .expect("an image config");
    let config: serde_json::Value = serde_json::from_slice(config).unwrap();
    assert_eq!(config["architecture"], "amd64");
    assert_eq!(config["config"]["Entrypoint"], serde_json::json!(["hello"]));
}

#[test]
fn the_targets_subrequest_lists_without_building() {
    let seen = serve(HELLO, &[("requestid", "frontend.targets")]);
    let result = seen.returned.and_then(|r| r.result).expect("a result");
    let json: serde_json::Value =
        serde_json::from_slice(result.metadata.get("result.json").unwrap()).unwrap();
    assert!(
        json["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "trixie/deb")
    );
    // Reading the spec (for forwarded targets) is all it solves.
    assert!(seen.solves.len() <= 1, "{}", seen.solves.len());
}

#[test]
fn a_broken_spec_is_returned_as_an_error_at_its_line() {
    let seen = serve(
        "name: hello\nversion: \"1\"\nsources:\n  a:\n    http:\n      url: http://x/y\n      digest: md5:abc\n",
        &[("target", "bookworm/deb")],
    );
    let status = seen.returned.and_then(|r| r.error).expect("an error");
    assert!(
        status
            .message
            .starts_with("spec.yml:7:15: invalid digest \"md5:abc\""),
        "{}",
        status.message
    );
    assert!(!status.details.is_empty(), "the source location detail");
    // Nothing was built: only the spec's own source was solved.
    assert_eq!(seen.solves.len(), 1);
}

#[test]
fn an_unknown_target_is_refused_by_name() {
    let seen = serve(HELLO, &[("target", "nosuch/deb")]);
    let status = seen.returned.and_then(|r| r.error).expect("an error");
    assert!(
        status.message.starts_with("unknown target \"nosuch/deb\""),
        "{}",
        status.message
    );
}

#[test]
fn the_clients_cache_imports_go_with_every_solve() {
    let imports = r#"[{"Type":"registry","Attrs":{"ref":"registry.example/hello:cache"}}]"#;
    let seen = serve(
        HELLO,
        &[("target", "bookworm/deb"), ("cache-imports", imports)],
    );
    assert_eq!(seen.solves.len(), 2);
    for solve in &seen.solves {
        assert_eq!(solve.cache_imports.len(), 1, "{solve:?}");
        assert_eq!(solve.cache_imports[0].r#type, "registry");
        assert_eq!(
            solve.cache_imports[0].attrs["ref"],
            "registry.example/hello:cache"
        );
    }
    // The legacy spelling, as older clients send it.
    let seen = serve(
        HELLO,
        &[
            ("target", "bookworm/deb"),
            ("cache-from", "registry.example/a:c"),
        ],
    );
    assert!(
        seen.solves.iter().all(|s| s.cache_imports.len() == 1
            && s.cache_imports[0].attrs["ref"] == "registry.example/a:c")
    );
    // An unreadable value is refused by name.
    let seen = serve(HELLO, &[("target", "bookworm/deb"), ("cache-imports", "{")]);
    let status = seen.returned.and_then(|r| r.error).expect("an error");
    assert!(
        status.message.starts_with("invalid cache-imports option"),
        "{}",
        status.message
    );
}

/// A container spec with `image.post.symlinks` (one link owned by uid 1000).
const LINKED: &str = "name: linked\nversion: \"1.0\"\nrevision: \"1\"\npackager: kiln <kiln@example.invalid>\n\
description: Links\nlicense: MIT\nimage:\n  post:\n    symlinks:\n      /usr/bin/true:\n        paths: [/usr/local/bin/yes-really]\n        user: \"1000\"\n";

/// The file actions of every solved definition, by kind (`mkdir`, `symlink`, ...), and the
/// scripts of its execs.
fn solved_actions(seen: &Seen) -> (Vec<String>, Vec<String>) {
    use kiln_buildkit::pb;
    use prost::Message;
    let (mut actions, mut scripts) = (Vec::new(), Vec::new());
    for def in seen.solves.iter().filter_map(|s| s.definition.as_ref()) {
        for op in def
            .def
            .iter()
            .filter_map(|b| pb::Op::decode(b.as_slice()).ok())
        {
            match op.op {
                Some(pb::op::Op::File(f)) => {
                    for a in f.actions {
                        if let Some(pb::file_action::Action::Symlink(l)) = a.action {
                            actions.push(format!("symlink {} -> {}", l.newpath, l.oldpath));
                        }
                    }
                }
                Some(pb::op::Op::Exec(e)) => {
                    scripts.extend(e.meta.map(|m| m.args.join(" ")));
                }
                _ => {}
            }
        }
    }
    (actions, scripts)
}

#[test]
fn post_symlinks_are_made_in_the_install_step_on_every_engine() {
    // Even where the daemon has BuildKit's symlink action: it stamps the links' parent
    // directories with the clock, which the install step's clamp keeps out of the image.
    let current: Vec<&str> = BUILDKIT_0_13_LLB_CAPS
        .iter()
        .copied()
        .chain(["file.symlink.create"])
        .collect();
    for seen in [
        serve_on(
            &current,
            LINKED,
            &[("target", "bookworm/testing/container")],
        ),
        serve(LINKED, &[("target", "bookworm/testing/container")]),
    ] {
        let (actions, scripts) = solved_actions(&seen);
        assert!(actions.is_empty(), "{actions:?}");
        let install = scripts
            .iter()
            .find(|s| s.contains("set -- /run/kiln/pkgs/"))
            .expect("an install step");
        assert!(
            install.contains("ln -s /usr/bin/true /usr/local/bin/yes-really"),
            "{install}"
        );
        assert!(install.contains("-exec touch -h -d @"), "{install}");
    }
}

#[test]
fn an_engine_without_a_cap_the_build_needs_is_told_which_release_has_it() {
    // BuildKit 0.13's caps without cache-mount sharing modes (a daemon that had it disabled).
    let old: Vec<&str> = BUILDKIT_0_13_LLB_CAPS
        .iter()
        .copied()
        .filter(|c| *c != "exec.mount.cache.sharing")
        .collect();
    let seen = serve_on(&old, HELLO, &[("target", "bookworm/deb")]);
    let status = seen.returned.and_then(|r| r.error).expect("an error");
    assert!(
        status.message.contains(
            "this BuildKit lacks the LLB capability `exec.mount.cache.sharing` (cache mounts with a sharing mode; BuildKit v0.3 (Docker 19.03) or later): update the engine"
        ),
        "{}",
        status.message
    );
    // Nothing with the op was sent: only the spec's own source was solved.
    assert!(seen.solves.len() <= 1, "{}", seen.solves.len());
}
