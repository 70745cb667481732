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
    /// Its bytes.
    pub data: Vec<u8>,
}

/// Reads the spec: from the `dockerfile` frontend input when present (e.g. a forwarded request),
/// otherwise from the `dockerfile` local directory of the client session.
pub async fn read_spec(gateway: &Gateway, opts: &BuildOpts) -> Result<SpecFile, GatewayError> {
    let name = opts.filename().to_string();
    let inputs = gateway.inputs().await?;
    let definition = match inputs.get(DOCKERFILE_KEY) {
        Some(def) if opts.get("dockerfilekey").is_none() => def.clone(),
        _ => {
            let key = opts
                .get("dockerfilekey")
                .unwrap_or(DOCKERFILE_KEY)
                .to_string();
            let local = State::local(
                &key,
                LocalOptions {
                    session_id: opts.session_for_local(&key),
                    follow_paths: vec![name.clone()],
                    shared_key_hint: Some(key.clone()),
                    differ_none: true,
                    ..Default::default()
                },
            )
            .with_custom_name(format!("[kiln] load spec from {name}"));
            local.marshal()
        }
    };
    let r: Ref = gateway.solve(definition).await?;
    let data = gateway.read_file(&r, &name).await?;
    Ok(SpecFile { name, data })
}
