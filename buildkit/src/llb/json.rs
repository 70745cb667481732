//! An LLB definition as readable JSON, for `kiln-frontend llb` and for comparing with
//! `buildctl debug dump-llb`: every op decoded, with its digest and metadata, in definition
//! order.
//!
//! Field names are the protobuf JSON names of BuildKit's `ops.proto` (`cacheOpt`, `SSHOpt`,
//! `proxyEnv`, …). Fields holding their default value are left out to keep the output short,
//! except input and output indexes (`input`, `output`, `index`, `secondaryInput`, …) where 0
//! is a real choice. Enums are always shown by name (their zero value — `BIND`, `SHARED`,
//! `SANDBOX` — is a real choice too), or by number when the generated code does not know
//! them. Modes are shown as octal strings (`"0o644"`), and always, since mode 0 is a mode.
//!
//! The output is deterministic: objects come out in sorted key order (`serde_json` is built
//! without `preserve_order`) and lists keep the definition's order.

use super::node::digest_of;
use crate::pb;
use base64::Engine;
use prost::Message;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The definition as JSON: every op decoded, with its digest, in definition order.
pub fn definition_to_json(def: &pb::Definition) -> serde_json::Value {
    let digests: Vec<String> = def.def.iter().map(|bytes| digest_of(bytes)).collect();
    let ops = def
        .def
        .iter()
        .zip(&digests)
        .map(|(bytes, digest)| op_entry(bytes, digest, def.metadata.get(digest)))
        .collect();
    let unmatched: BTreeMap<_, _> = def
        .metadata
        .iter()
        .filter(|(digest, _)| !digests.contains(digest))
        .collect();
    Obj::new()
        .always("ops", Value::Array(ops))
        .some("source", def.source.as_ref().map(source))
        .map_with("unmatchedMetadata", &unmatched, |m| op_metadata(m))
        .build()
}

/// One entry of `ops`: the digest, the decoded op (or the decode error) and its metadata.
fn op_entry(bytes: &[u8], digest: &str, metadata: Option<&pb::OpMetadata>) -> Value {
    let entry = Obj::new().always("digest", digest);
    let entry = match pb::Op::decode(bytes) {
        Ok(decoded) => entry.always("op", op(&decoded)),
        Err(err) => entry.always("error", err.to_string()),
    };
    entry.some("metadata", metadata.map(op_metadata)).build()
}

/// An `Op`: its inputs, the one op it carries, its platform and worker constraints.
fn op(op: &pb::Op) -> Value {
    let obj = Obj::new().list("inputs", op.inputs.iter().map(input));
    let obj = match &op.op {
        Some(kind) => {
            let (key, value) = op_kind(kind);
            obj.always(key, value)
        }
        None => obj,
    };
    obj.some("platform", op.platform.as_ref().map(platform))
        .some("constraints", op.constraints.as_ref().map(constraints))
        .build()
}

/// The `op` oneof: its JSON key and value.
fn op_kind(kind: &pb::op::Op) -> (&'static str, Value) {
    use pb::op::Op;
    match kind {
        Op::Exec(e) => ("exec", exec_op(e)),
        Op::Source(s) => ("source", source_op(s)),
        Op::File(f) => ("file", file_op(f)),
        Op::Build(b) => ("build", build_op(b)),
        Op::Merge(m) => ("merge", merge_op(m)),
        Op::Diff(d) => ("diff", diff_op(d)),
    }
}

/// An `Input`: the digest of the op it names and which of its outputs.
fn input(input: &pb::Input) -> Value {
    Obj::new()
        .text("digest", &input.digest)
        .always("index", input.index)
        .build()
}

/// A `Platform`, with the field names of `ops.proto` (`Architecture`, `OS`, …).
fn platform(p: &pb::Platform) -> Value {
    Obj::new()
        .text("Architecture", &p.architecture)
        .text("OS", &p.os)
        .text("Variant", &p.variant)
        .text("OSVersion", &p.os_version)
        .texts("OSFeatures", &p.os_features)
        .build()
}

/// `WorkerConstraints`: containerd-style filters.
fn constraints(c: &pb::WorkerConstraints) -> Value {
    Obj::new().texts("filter", &c.filter).build()
}

/// An `ExecOp`: the process, its mounts, network and security modes, secret env and devices.
fn exec_op(e: &pb::ExecOp) -> Value {
    Obj::new()
        .some("meta", e.meta.as_ref().map(meta))
        .list("mounts", e.mounts.iter().map(mount))
        .always("network", enum_name(e.network, pb::NetMode::as_str_name))
        .always(
            "security",
            enum_name(e.security, pb::SecurityMode::as_str_name),
        )
        .list("secretenv", e.secretenv.iter().map(secret_env))
        .list("cdiDevices", e.cdi_devices.iter().map(cdi_device))
        .build()
}

/// `Meta`: the arguments, environment, directory and user of an exec.
fn meta(m: &pb::Meta) -> Value {
    Obj::new()
        .texts("args", &m.args)
        .texts("env", &m.env)
        .text("cwd", &m.cwd)
        .text("user", &m.user)
        .some("proxyEnv", m.proxy_env.as_ref().map(proxy_env))
        .list("extraHosts", m.extra_hosts.iter().map(host_ip))
        .text("hostname", &m.hostname)
        .list("ulimit", m.ulimit.iter().map(ulimit))
        .text("cgroupParent", &m.cgroup_parent)
        .flag("removeMountStubsRecursive", m.remove_mount_stubs_recursive)
        .list(
            "validExitCodes",
            m.valid_exit_codes.iter().copied().map(Value::from),
        )
        .build()
}

/// `ProxyEnv`: the proxy variables BuildKit passes without making them part of the cache key.
fn proxy_env(p: &pb::ProxyEnv) -> Value {
    Obj::new()
        .text("httpProxy", &p.http_proxy)
        .text("httpsProxy", &p.https_proxy)
        .text("ftpProxy", &p.ftp_proxy)
        .text("noProxy", &p.no_proxy)
        .text("allProxy", &p.all_proxy)
        .build()
}

/// `HostIP`: one extra `/etc/hosts` entry.
fn host_ip(h: &pb::HostIp) -> Value {
    Obj::new().text("Host", &h.host).text("IP", &h.ip).build()
}

/// `Ulimit`: one resource limit.
fn ulimit(u: &pb::Ulimit) -> Value {
    Obj::new()
        .text("Name", &u.name)
        .num("Soft", u.soft)
        .num("Hard", u.hard)
        .build()
}

/// `SecretEnv`: an environment variable filled from a secret.
fn secret_env(s: &pb::SecretEnv) -> Value {
    Obj::new()
        .text("ID", &s.id)
        .text("name", &s.name)
        .flag("optional", s.optional)
        .build()
}

/// `CDIDevice`: a CDI device given to the exec.
fn cdi_device(d: &pb::CdiDevice) -> Value {
    Obj::new()
        .text("name", &d.name)
        .flag("optional", d.optional)
        .build()
}

/// A `Mount` of an exec, with its type-specific options.
fn mount(m: &pb::Mount) -> Value {
    Obj::new()
        .always("input", m.input)
        .text("selector", &m.selector)
        .text("dest", &m.dest)
        .always("output", m.output)
        .flag("readonly", m.readonly)
        .always(
            "mountType",
            enum_name(m.mount_type, pb::MountType::as_str_name),
        )
        .some("TmpfsOpt", m.tmpfs_opt.as_ref().map(tmpfs_opt))
        .some("cacheOpt", m.cache_opt.as_ref().map(cache_opt))
        .some("secretOpt", m.secret_opt.as_ref().map(secret_opt))
        .some("SSHOpt", m.ssh_opt.as_ref().map(ssh_opt))
        .text("resultID", &m.result_id)
        .always(
            "contentCache",
            enum_name(m.content_cache, pb::MountContentCache::as_str_name),
        )
        .build()
}

/// `TmpfsOpt`: the size limit of a tmpfs mount.
fn tmpfs_opt(t: &pb::TmpfsOpt) -> Value {
    Obj::new().num("size", t.size).build()
}

/// `CacheOpt`: the id and sharing mode of a cache mount.
fn cache_opt(c: &pb::CacheOpt) -> Value {
    Obj::new()
        .text("ID", &c.id)
        .always(
            "sharing",
            enum_name(c.sharing, pb::CacheSharingOpt::as_str_name),
        )
        .build()
}

/// The fields secret and SSH mounts share: the id, and the file's owner, mode and optionality.
fn id_owner_mode(id: &str, uid: u32, gid: u32, file_mode: u32, optional: bool) -> Value {
    Obj::new()
        .text("ID", id)
        .num("uid", uid)
        .num("gid", gid)
        .always("mode", mode(file_mode.into()))
        .flag("optional", optional)
        .build()
}

/// `SecretOpt`: which secret a secret mount holds, and the file's owner and mode.
fn secret_opt(s: &pb::SecretOpt) -> Value {
    id_owner_mode(&s.id, s.uid, s.gid, s.mode, s.optional)
}

/// `SSHOpt`: which SSH agent an ssh mount forwards, and the socket's owner and mode.
fn ssh_opt(s: &pb::SshOpt) -> Value {
    id_owner_mode(&s.id, s.uid, s.gid, s.mode, s.optional)
}

/// A `SourceOp`: the identifier (`docker-image://…`, `local://…`, …) and its attributes.
fn source_op(s: &pb::SourceOp) -> Value {
    Obj::new()
        .text("identifier", &s.identifier)
        .map("attrs", &s.attrs)
        .build()
}

/// A `BuildOp`: a nested build, with its inputs, definition and attributes.
fn build_op(b: &pb::BuildOp) -> Value {
    Obj::new()
        .always("builder", b.builder)
        .map_with("inputs", &b.inputs, |i| {
            Obj::new().always("input", i.input).build()
        })
        .some("def", b.def.as_ref().map(definition_to_json))
        .map("attrs", &b.attrs)
        .build()
}

/// A `MergeOp`: the inputs layered on top of each other, in order.
fn merge_op(m: &pb::MergeOp) -> Value {
    let inputs = m
        .inputs
        .iter()
        .map(|i| Obj::new().always("input", i.input).build());
    Obj::new().list("inputs", inputs).build()
}

/// A `DiffOp`: the changes from `lower` to `upper`.
fn diff_op(d: &pb::DiffOp) -> Value {
    let side = |input: i64| Obj::new().always("input", input).build();
    Obj::new()
        .some("lower", d.lower.map(|l| side(l.input)))
        .some("upper", d.upper.map(|u| side(u.input)))
        .build()
}

/// A `FileOp`: its actions, in order.
fn file_op(f: &pb::FileOp) -> Value {
    Obj::new()
        .list("actions", f.actions.iter().map(file_action))
        .build()
}

/// A `FileAction`: its input indexes and the one action it carries.
fn file_action(a: &pb::FileAction) -> Value {
    use pb::file_action::Action;
    let obj = Obj::new()
        .always("input", a.input)
        .always("secondaryInput", a.secondary_input)
        .always("output", a.output);
    match &a.action {
        Some(Action::Copy(c)) => obj.always("copy", copy(c)),
        Some(Action::Mkfile(m)) => obj.always("mkfile", mkfile(m)),
        Some(Action::Mkdir(m)) => obj.always("mkdir", mkdir(m)),
        Some(Action::Rm(r)) => obj.always("rm", rm(r)),
        Some(Action::Symlink(s)) => obj.always("symlink", symlink(s)),
        None => obj,
    }
    .build()
}

/// `FileActionCopy`: a copy from the secondary input onto the input.
fn copy(c: &pb::FileActionCopy) -> Value {
    Obj::new()
        .text("src", &c.src)
        .text("dest", &c.dest)
        .some("owner", c.owner.as_ref().map(chown))
        .always("mode", mode(c.mode.into()))
        .flag("followSymlink", c.follow_symlink)
        .flag("dirCopyContents", c.dir_copy_contents)
        .flag(
            "attemptUnpackDockerCompatibility",
            c.attempt_unpack_docker_compatibility,
        )
        .flag("createDestPath", c.create_dest_path)
        .flag("allowWildcard", c.allow_wildcard)
        .flag("allowEmptyWildcard", c.allow_empty_wildcard)
        .num("timestamp", c.timestamp)
        .texts("includePatterns", &c.include_patterns)
        .texts("excludePatterns", &c.exclude_patterns)
        .flag(
            "alwaysReplaceExistingDestPaths",
            c.always_replace_existing_dest_paths,
        )
        .text("modeStr", &c.mode_str)
        .texts("requiredPaths", &c.required_paths)
        .build()
}

/// `FileActionMkFile`: a new file with its contents (as text when it is UTF-8).
fn mkfile(m: &pb::FileActionMkFile) -> Value {
    Obj::new()
        .text("path", &m.path)
        .always("mode", mode(m.mode.into()))
        .bytes("data", "dataBase64", &m.data)
        .some("owner", m.owner.as_ref().map(chown))
        .num("timestamp", m.timestamp)
        .build()
}

/// `FileActionMkDir`: a new directory.
fn mkdir(m: &pb::FileActionMkDir) -> Value {
    Obj::new()
        .text("path", &m.path)
        .always("mode", mode(m.mode.into()))
        .flag("makeParents", m.make_parents)
        .some("owner", m.owner.as_ref().map(chown))
        .num("timestamp", m.timestamp)
        .build()
}

/// `FileActionRm`: a removal.
fn rm(r: &pb::FileActionRm) -> Value {
    Obj::new()
        .text("path", &r.path)
        .flag("allowNotFound", r.allow_not_found)
        .flag("allowWildcard", r.allow_wildcard)
        .build()
}

/// `FileActionSymlink`: a new symlink `newpath` pointing at `oldpath`.
fn symlink(s: &pb::FileActionSymlink) -> Value {
    Obj::new()
        .text("oldpath", &s.oldpath)
        .text("newpath", &s.newpath)
        .some("owner", s.owner.as_ref().map(chown))
        .num("timestamp", s.timestamp)
        .build()
}

/// `ChownOpt`: the owner user and group of a file action.
fn chown(c: &pb::ChownOpt) -> Value {
    Obj::new()
        .some("user", c.user.as_ref().map(user_opt))
        .some("group", c.group.as_ref().map(user_opt))
        .build()
}

/// `UserOpt`: a user or group by name (resolved in an input) or by id.
fn user_opt(u: &pb::UserOpt) -> Value {
    use pb::user_opt::User;
    match &u.user {
        Some(User::ByName(n)) => {
            let named = Obj::new()
                .text("name", &n.name)
                .always("input", n.input)
                .build();
            Obj::new().always("byName", named)
        }
        Some(User::ById(id)) => Obj::new().always("byID", *id),
        None => Obj::new(),
    }
    .build()
}

/// `OpMetadata`: cache, description, capability and progress settings of one op.
fn op_metadata(m: &pb::OpMetadata) -> Value {
    Obj::new()
        .flag("ignoreCache", m.ignore_cache)
        .map("description", &m.description)
        .some(
            "exportCache",
            m.export_cache
                .map(|e| Obj::new().flag("Value", e.value).build()),
        )
        .map("caps", &m.caps)
        .some(
            "progressGroup",
            m.progress_group.as_ref().map(progress_group),
        )
        .build()
}

/// `ProgressGroup`: how progress output groups this op with others.
fn progress_group(p: &pb::ProgressGroup) -> Value {
    Obj::new()
        .text("id", &p.id)
        .text("name", &p.name)
        .flag("weak", p.weak)
        .build()
}

/// `Source`: the source files of the definition and where each op comes from in them.
fn source(s: &pb::Source) -> Value {
    Obj::new()
        .map_with("locations", &s.locations, |l| {
            Obj::new()
                .list("locations", l.locations.iter().map(location))
                .build()
        })
        .list("infos", s.infos.iter().map(source_info))
        .build()
}

/// `SourceInfo`: one source file (as text when it is UTF-8).
fn source_info(i: &pb::SourceInfo) -> Value {
    Obj::new()
        .text("filename", &i.filename)
        .bytes("data", "dataBase64", &i.data)
        .some("definition", i.definition.as_ref().map(definition_to_json))
        .text("language", &i.language)
        .build()
}

/// `Location`: ranges in the source file at `sourceIndex` of `infos`.
fn location(l: &pb::Location) -> Value {
    Obj::new()
        .always("sourceIndex", l.source_index)
        .list("ranges", l.ranges.iter().map(range))
        .build()
}

/// `Range`: from `start` to `end`.
fn range(r: &pb::Range) -> Value {
    Obj::new()
        .some("start", r.start.as_ref().map(position))
        .some("end", r.end.as_ref().map(position))
        .build()
}

/// `Position`: a line and character; both kept since 0 is a real position.
fn position(p: &pb::Position) -> Value {
    Obj::new()
        .always("line", p.line)
        .always("character", p.character)
        .build()
}

/// An enum value by its protobuf name, or by number when the generated code does not know it.
fn enum_name<E: TryFrom<i32>>(raw: i32, name: fn(&E) -> &'static str) -> Value {
    E::try_from(raw).map_or_else(|_| Value::from(raw), |e| Value::from(name(&e)))
}

/// A file mode as an octal string (`"0o644"`); negative values (-1: "keep the source's
/// mode" in a copy) as the number.
fn mode(m: i64) -> Value {
    if m < 0 {
        Value::from(m)
    } else {
        Value::from(format!("0o{m:03o}"))
    }
}

/// A JSON object under construction that leaves out fields holding their default value.
struct Obj(Map<String, Value>);

impl Obj {
    /// An empty object.
    fn new() -> Obj {
        Obj(Map::new())
    }

    /// Sets `key` whatever the value.
    fn always(mut self, key: &str, value: impl Into<Value>) -> Obj {
        self.0.insert(key.to_string(), value.into());
        self
    }

    /// Sets `key` unless the value is `None`.
    fn some(self, key: &str, value: Option<Value>) -> Obj {
        match value {
            Some(value) => self.always(key, value),
            None => self,
        }
    }

    /// Sets `key` unless the string is empty.
    fn text(self, key: &str, value: &str) -> Obj {
        self.some(key, (!value.is_empty()).then(|| value.into()))
    }

    /// Sets `key` unless the list of strings is empty.
    fn texts(self, key: &str, values: &[String]) -> Obj {
        self.list(key, values.iter().map(|v| Value::from(v.as_str())))
    }

    /// Sets `key` unless the number is 0.
    fn num(self, key: &str, value: impl Into<i64>) -> Obj {
        let value = value.into();
        self.some(key, (value != 0).then(|| value.into()))
    }

    /// Sets `key` unless the flag is false.
    fn flag(self, key: &str, value: bool) -> Obj {
        self.some(key, value.then_some(Value::Bool(true)))
    }

    /// Sets `key` unless the list is empty.
    fn list(self, key: &str, values: impl Iterator<Item = Value>) -> Obj {
        let values: Vec<Value> = values.collect();
        self.some(key, (!values.is_empty()).then_some(Value::Array(values)))
    }

    /// Sets `key` to an object unless the map is empty.
    fn map<V: Clone + Into<Value>>(self, key: &str, map: &BTreeMap<String, V>) -> Obj {
        self.map_with(key, map, |v| v.clone().into())
    }

    /// Sets `key` to an object of converted values unless the map is empty.
    fn map_with<K: AsRef<str>, V>(
        self,
        key: &str,
        map: &BTreeMap<K, V>,
        convert: impl Fn(&V) -> Value,
    ) -> Obj {
        let object: Map<String, Value> = map
            .iter()
            .map(|(k, v)| (k.as_ref().to_string(), convert(v)))
            .collect();
        self.some(key, (!object.is_empty()).then_some(Value::Object(object)))
    }

    /// Sets `text_key` to the bytes as a string when they are UTF-8, else `base64_key` to
    /// their base64; nothing when there are none.
    fn bytes(self, text_key: &str, base64_key: &str, data: &[u8]) -> Obj {
        match std::str::from_utf8(data) {
            Ok(text) => self.text(text_key, text),
            Err(_) => self.always(
                base64_key,
                base64::engine::general_purpose::STANDARD.encode(data),
            ),
        }
    }

    /// The finished object.
    fn build(self) -> Value {
        Value::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::definition_to_json;
    use crate::llb::{
        CopyOptions, Exec, FileActions, HttpOptions, LocalOptions, Mount, Sharing, State,
    };
    use crate::pb;
    use serde_json::Value;
    use sha2::{Digest, Sha256};

    fn amd64() -> pb::Platform {
        pb::Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        }
    }

    /// image + http + local sources, a file op over them, an exec with bind and cache mounts.
    fn sample() -> pb::Definition {
        let base = State::image("debian:bookworm", amd64(), None);
        let src = State::http(
            "https://example.invalid/a.tar.gz",
            HttpOptions {
                filename: Some("a".into()),
                ..Default::default()
            },
        );
        let ctx = State::local(
            "context",
            LocalOptions {
                session_id: "s".into(),
                ..Default::default()
            },
        );
        let tree = State::scratch().file(
            FileActions::new()
                .mkdir("/pkg", 0o755, true)
                .copy(&src, "/a", "/pkg/a", CopyOptions::default())
                .copy(&ctx, "/", "/pkg/ctx", CopyOptions::default())
                .mkfile("/pkg/x", 0o644, b"hello\n".to_vec()),
            "tree",
        );
        let run = base.run(
            Exec::shell("make")
                .mount(Mount::bind("/build", tree))
                .mount(Mount::cache("/var/cache/apt", "apt", Sharing::Locked)),
        );
        run.output("/build").unwrap().marshal()
    }

    fn ops(json: &Value) -> &Vec<Value> {
        json["ops"].as_array().unwrap()
    }

    /// The first decoded op that carries `kind` (`exec`, `file`, …).
    fn find<'a>(json: &'a Value, kind: &str) -> &'a Value {
        ops(json)
            .iter()
            .map(|entry| &entry["op"][kind])
            .find(|v| !v.is_null())
            .unwrap()
    }

    #[test]
    fn every_op_is_listed_with_its_digest() {
        let def = sample();
        let json = definition_to_json(&def);
        // image, http, local, file, exec, terminal
        assert_eq!(ops(&json).len(), 6);
        for (entry, bytes) in ops(&json).iter().zip(&def.def) {
            let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
            assert_eq!(entry["digest"], digest.as_str());
            assert!(entry.get("error").is_none());
        }
    }

    #[test]
    fn exec_shows_args_and_mounts_by_name() {
        let json = definition_to_json(&sample());
        let exec = find(&json, "exec");
        assert_eq!(
            exec["meta"]["args"],
            serde_json::json!(["/bin/sh", "-c", "make"])
        );
        let mounts = exec["mounts"].as_array().unwrap();
        let cache = mounts
            .iter()
            .find(|m| m["dest"] == "/var/cache/apt")
            .unwrap();
        assert_eq!(cache["mountType"], "CACHE");
        assert_eq!(cache["cacheOpt"]["ID"], "apt");
        assert_eq!(cache["cacheOpt"]["sharing"], "LOCKED");
        let bind = mounts.iter().find(|m| m["dest"] == "/build").unwrap();
        assert_eq!(bind["mountType"], "BIND");
        assert_eq!(bind["output"], 1);
        assert_eq!(mounts[0]["input"], 0);
        assert_eq!(exec["network"], "UNSET");
    }

    #[test]
    fn file_actions_show_text_data_and_octal_modes() {
        let json = definition_to_json(&sample());
        let actions = find(&json, "file")["actions"].as_array().unwrap();
        assert_eq!(actions.len(), 4);
        assert_eq!(actions[0]["mkdir"]["mode"], "0o755");
        assert_eq!(actions[0]["mkdir"]["makeParents"], true);
        let mkfile = &actions[3]["mkfile"];
        assert_eq!(mkfile["path"], "/pkg/x");
        assert_eq!(mkfile["data"], "hello\n");
        assert_eq!(mkfile["mode"], "0o644");
        assert!(actions.iter().all(|a| a.get("secondaryInput").is_some()));
    }

    #[test]
    fn sources_show_their_identifiers() {
        let json = definition_to_json(&sample());
        let ids: Vec<&str> = ops(&json)
            .iter()
            .filter_map(|entry| entry["op"]["source"]["identifier"].as_str())
            .collect();
        assert_eq!(
            ids,
            vec![
                "docker-image://docker.io/library/debian:bookworm",
                "https://example.invalid/a.tar.gz",
                "local://context",
            ]
        );
        let image = &ops(&json)[0]["op"];
        assert_eq!(image["platform"]["Architecture"], "amd64");
        assert_eq!(image["platform"]["OS"], "linux");
    }

    #[test]
    fn terminal_op_has_only_inputs() {
        let json = definition_to_json(&sample());
        let terminal = ops(&json).last().unwrap();
        let op = terminal["op"].as_object().unwrap();
        assert_eq!(op.keys().collect::<Vec<_>>(), vec!["inputs"]);
        assert_eq!(op["inputs"][0]["index"], 1);
        assert_eq!(terminal["metadata"]["caps"]["platform"], true);
    }

    #[test]
    fn conversion_is_deterministic() {
        let def = sample();
        let a = serde_json::to_string(&definition_to_json(&def)).unwrap();
        let b = serde_json::to_string(&definition_to_json(&def)).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a,
            serde_json::to_string(&definition_to_json(&sample())).unwrap()
        );
    }

    #[test]
    fn garbage_bytes_give_an_error_entry() {
        let mut def = sample();
        def.def.insert(0, vec![0xff, 0xff, 0xff, 0xff]);
        let json = definition_to_json(&def);
        assert_eq!(ops(&json).len(), 7);
        let bad = &ops(&json)[0];
        assert!(bad["error"].as_str().is_some_and(|e| !e.is_empty()));
        assert!(bad.get("op").is_none());
        assert!(ops(&json)[1].get("op").is_some());
    }

    #[test]
    fn unknown_enums_and_binary_data_are_kept() {
        let op = pb::Op {
            op: Some(pb::op::Op::File(pb::FileOp {
                actions: vec![pb::FileAction {
                    input: -1,
                    action: Some(pb::file_action::Action::Mkfile(pb::FileActionMkFile {
                        path: "/bin".into(),
                        mode: 0o755,
                        data: vec![0xff, 0x00],
                        ..Default::default()
                    })),
                    ..Default::default()
                }],
            })),
            ..Default::default()
        };
        let exec = pb::Op {
            op: Some(pb::op::Op::Exec(pb::ExecOp {
                network: 42,
                ..Default::default()
            })),
            ..Default::default()
        };
        let def = pb::Definition {
            def: vec![
                prost::Message::encode_to_vec(&op),
                prost::Message::encode_to_vec(&exec),
            ],
            ..Default::default()
        };
        let json = definition_to_json(&def);
        let mkfile = &ops(&json)[0]["op"]["file"]["actions"][0]["mkfile"];
        assert_eq!(mkfile["dataBase64"], "/wA=");
        assert!(mkfile.get("data").is_none());
        assert_eq!(ops(&json)[1]["op"]["exec"]["network"], 42);
    }
}
