//! Reading the spec file the user passed with `docker build -f`.

use crate::gateway::{Gateway, GatewayError, Ref};
use crate::llb::{LocalOptions, State};
use crate::options::BuildOpts;

/// The name of the frontend input / local directory that holds the spec file.
const DOCKERFILE_KEY: &str = "dockerfile";

/// The spec file as the user wrote it.
#[derive(Debug, Clone)]
pub struct SpecFile {
    /// Its file name (the basename given to `-f`).
    pub name: String,
    /// Its bytes (only the first ones when it is larger than the reader wanted: see `size`).
    pub data: Vec<u8>,
    /// Its size in bytes.
    pub size: u64,
}

impl SpecFile {
    /// A file read whole.
    pub fn new(name: impl Into<String>, data: Vec<u8>) -> SpecFile {
        let size = data.len() as u64;
        SpecFile {
            name: name.into(),
            data,
            size,
        }
    }
}

/// Reads the spec: from the `dockerfile` frontend input when present (e.g. a forwarded request;
/// `opts.inputs` must have been filled), otherwise from the `dockerfile` local directory of the
/// client session. A file over `max` bytes is not read whole: `data` then holds its first
/// `max + 1` bytes and `size` its size, for the caller to refuse it.
pub async fn read_spec(
    gateway: &Gateway,
    opts: &BuildOpts,
    max: usize,
) -> Result<SpecFile, GatewayError> {
    let name = opts.filename().to_string();
    let definition = match opts.inputs.get(DOCKERFILE_KEY) {
        Some(def) if opts.get("dockerfilekey").is_none() => def.clone(),
        _ => local_spec_source(opts, &name).marshal(),
    };
    let r: Ref = gateway.solve(definition).await?;
    let data = gateway.read_file_at_most(&r, &name, max).await?;
    let mut file = SpecFile::new(name, data);
    if file.data.len() > max {
        // Too large: one more call, on this error path only, for the size to report.
        if let Some(stat) = gateway.stat_file(&r, &file.name).await? {
            file.size = file.size.max(stat.size.max(0) as u64);
        }
    }
    Ok(file)
}

/// The local source that holds the spec file.
///
/// When a `# syntax=` line brought the request here, BuildKit's Dockerfile frontend has already
/// loaded the file in this build through the same local directory. This op is spelled exactly as
/// that frontend spells its own (the same follow paths, shared key and differ), so it
/// has the same digest and BuildKit's solver hands back the transfer it already made instead of
/// asking the client again. Were the spelling ever to differ, the file is simply transferred a
/// second time: the result is the same.
fn local_spec_source(opts: &BuildOpts, name: &str) -> State {
    let key = opts
        .get("dockerfilekey")
        .unwrap_or(DOCKERFILE_KEY)
        .to_string();
    let mut follow_paths = vec![name.to_string(), format!("{name}.dockerignore")];
    // The Dockerfile frontend also accepts a lower-case `dockerfile` (moby/moby#10858).
    if let Some(dir) = name.strip_suffix("Dockerfile")
        && (dir.is_empty() || dir.ends_with('/'))
    {
        follow_paths.push(format!("{dir}dockerfile"));
    }
    State::local(
        &key,
        LocalOptions {
            session_id: opts.session_for_local(&key),
            follow_paths,
            shared_key_hint: Some(key.clone()),
            differ_none: true,
            ..Default::default()
        },
    )
    .with_custom_name(format!("[kiln] load spec from {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// The digest BuildKit 0.13 (dockerd 26.1) gave its Dockerfile frontend's "load build
    /// definition from trace.yml" op in a build whose session was `qhsda6nsu25r2w98kn5vvrv0m`.
    /// Its Go code then wrote fields in field order (as prost does); kiln writes Go's current
    /// order, which later BuildKits re-marshal every op to, so the test compares the content.
    const DOCKERFILE_FRONTEND_DIGEST: &str =
        "3fc6a5acfa0bde74775f823f0a9686e6534364b11f021c3e933e7e23a032a634";

    #[test]
    fn the_spec_source_is_the_dockerfile_frontends_own_op() {
        let opts = BuildOpts {
            session_id: "qhsda6nsu25r2w98kn5vvrv0m".into(),
            opts: [("filename".to_string(), "trace.yml".to_string())].into(),
            ..Default::default()
        };
        let def = local_spec_source(&opts, opts.filename()).marshal();
        use prost::Message;
        let digests: Vec<String> = def
            .def
            .iter()
            .filter_map(|op| crate::pb::Op::decode(op.as_slice()).ok())
            .map(|op| hex::encode(Sha256::digest(op.encode_to_vec())))
            .collect();
        assert!(
            digests.iter().any(|d| d == DOCKERFILE_FRONTEND_DIGEST),
            "{digests:?}"
        );
    }
}
