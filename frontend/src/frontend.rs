//! One BuildKit request, end to end: options → spec → target → LLB → Solve → Return.

use crate::distro::Family;
use crate::pipeline::{self, Context};
use crate::sources::SourceInputs;
use crate::spec::{self, Image, SpecErrors};
use crate::targets::{self, Route};
use kiln_buildkit::entrypoint::{self, SpecFile};
use kiln_buildkit::errdefs;
use kiln_buildkit::gateway::{FrontendResult, Gateway, GatewayError};
use kiln_buildkit::options::BuildOpts;
use kiln_buildkit::pb;
use kiln_buildkit::proto::google::protobuf::Any;
use serde_json::{Value, json};
use std::collections::BTreeMap;

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
                let details = errors
                    .first()
                    .filter(|e| e.line > 0)
                    .map(|e| {
                        vec![errdefs::source_location(
                            &file.name, &file.data, "YAML", e.line, e.line,
                        )]
                    })
                    .unwrap_or_default();
                (message, details)
            }
            FrontendError::Request { message, details } => (message.clone(), details.clone()),
            FrontendError::Gateway(e) => (e.to_string(), vec![]),
        }
    }
}

fn to_pb_platform(opts: &BuildOpts) -> pb::Platform {
    let p = opts.default_platform();
    pb::Platform {
        architecture: p.architecture,
        os: p.os,
        variant: p.variant,
        ..Default::default()
    }
}

/// Answers a subrequest (`--call`), before any build work.
fn subrequest(name: &str) -> Result<FrontendResult, FrontendError> {
    let (json, text) = match name {
        "frontend.targets" => (targets::list_json(), targets::list_text()),
        "frontend.subrequests.describe" => {
            let describe = json!([
                {"name": "frontend.targets", "version": "1.0.0", "type": "rpc", "description": "List available build targets", "opts": [], "inputs": [], "metadata": [{"name": "result.json"}, {"name": "result.txt"}], "refs": []},
                {"name": "frontend.subrequests.describe", "version": "1.0.0", "type": "rpc", "description": "List available subrequest types", "opts": [], "inputs": [], "metadata": [{"name": "result.json"}, {"name": "result.txt"}], "refs": []},
            ]);
            (describe, "targets\t1.0.0\tList available build targets\nsubrequests.describe\t1.0.0\tList available subrequest types\n".to_string())
        }
        other => {
            return Err(FrontendError::Request {
                message: format!("unsupported request {other}"),
                details: vec![errdefs::unsupported_subrequest(other)],
            });
        }
    };
    let mut metadata = BTreeMap::new();
    metadata.insert("result.json".to_string(), json.to_string().into_bytes());
    metadata.insert("result.txt".to_string(), text.into_bytes());
    metadata.insert("version".to_string(), b"1.0.0".to_vec());
    Ok(FrontendResult {
        reference: None,
        metadata,
    })
}

/// Applies the spec's `image` settings to a base image config (OCI JSON).
pub fn image_config(base: &[u8], image: Option<&Image>, platform: &pb::Platform) -> Vec<u8> {
    let mut cfg: Value = serde_json::from_slice(base).unwrap_or_else(|_| json!({}));
    if !cfg.is_object() {
        cfg = json!({});
    }
    cfg["architecture"] = json!(platform.architecture);
    cfg["os"] = json!(platform.os);
    if !cfg["config"].is_object() {
        cfg["config"] = json!({});
    }
    let c = &mut cfg["config"];
    if c["Env"].as_array().is_none_or(|e| e.is_empty()) {
        c["Env"] = json!(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
    }
    if let Some(img) = image {
        if let Some(ep) = img.entrypoint.as_deref() {
            c["Entrypoint"] = json!(crate::shell::split(ep).unwrap_or_default());
            c["Cmd"] = Value::Null;
        }
        if let Some(cmd) = img.cmd.as_deref() {
            c["Cmd"] = json!(crate::shell::split(cmd).unwrap_or_default());
        }
        let mut env: Vec<String> = c["Env"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        for kv in &img.env {
            let key = kv.split('=').next().unwrap_or(kv);
            env.retain(|e| e.split('=').next() != Some(key));
            env.push(kv.clone());
        }
        c["Env"] = json!(env);
        if let Some(w) = &img.working_dir {
            c["WorkingDir"] = json!(w);
        }
        if let Some(u) = &img.user {
            c["User"] = json!(u);
        }
        if let Some(s) = &img.stop_signal {
            c["StopSignal"] = json!(s);
        }
        if !img.labels.is_empty() {
            if !c["Labels"].is_object() {
                c["Labels"] = json!({});
            }
            for (k, v) in &img.labels {
                c["Labels"][k] = json!(v);
            }
        }
    }
    cfg.to_string().into_bytes()
}

fn check_image_commands(
    image: Option<&Image>,
    file: &SpecFile,
    text: &str,
) -> Result<(), FrontendError> {
    let Some(img) = image else { return Ok(()) };
    for (field, value) in [
        ("image.entrypoint", &img.entrypoint),
        ("image.cmd", &img.cmd),
    ] {
        if let Some(v) = value
            && crate::shell::split(v).is_none()
        {
            let line = text
                .lines()
                .position(|l| {
                    l.trim_start()
                        .starts_with(field.trim_start_matches("image."))
                })
                .map_or(0, |i| i as u32 + 1);
            let e = spec::SpecError::at_position(
                &file.name,
                text,
                line,
                1,
                format!("{field} has an unterminated quote"),
            );
            return Err(FrontendError::Spec {
                errors: e.into(),
                file: file.clone(),
            });
        }
    }
    Ok(())
}

/// Handles one request and returns what to hand back to BuildKit.
pub async fn handle(gw: &Gateway, opts: &BuildOpts) -> Result<FrontendResult, FrontendError> {
    if let Some(name) = opts.subrequest() {
        return subrequest(name);
    }
    let selected = targets::select(opts.target()).map_err(|message| FrontendError::Request {
        message,
        details: vec![],
    })?;
    let file = entrypoint::read_spec(gw, opts).await?;
    tracing::debug!("read the spec ({} bytes)", file.data.len());
    let text = String::from_utf8_lossy(&file.data).into_owned();
    let spec_err = |errors: SpecErrors| FrontendError::Spec {
        errors,
        file: file.clone(),
    };
    let mut spec = spec::load(&file.name, &text).map_err(spec_err)?;
    let build_args = opts.build_args();
    spec::substitute(
        &mut spec,
        &file.name,
        &text,
        &build_args,
        selected.distro.key,
    )
    .map_err(spec_err)?;
    check_image_commands(spec.image.as_ref(), &file, &text)?;
    let platform = to_pb_platform(opts);
    let ctx = Context {
        sources: SourceInputs {
            opts,
            file: &file.name,
            text: &text,
        },
        platform: platform.clone(),
        resolve_mode: opts.image_resolve_mode(),
        source_date_epoch: build_args
            .get("SOURCE_DATE_EPOCH")
            .and_then(|v| v.trim().parse().ok()),
    };
    let distro = selected.distro;
    let Family::Deb = distro.family;
    let (state, image) = match selected.route {
        Route::Package => (
            pipeline::package(&spec, distro, &ctx).map_err(spec_err)?,
            None,
        ),
        Route::Container => {
            let debs = pipeline::package(&spec, distro, &ctx).map_err(spec_err)?;
            (
                pipeline::container(&spec, distro, &ctx, debs),
                spec.image.as_ref(),
            )
        }
        Route::Worker => (pipeline::worker(distro, &ctx), None),
    };
    let definition = state.marshal();
    tracing::debug!("built {} ops", definition.def.len());
    let reference = gw.solve(definition).await?;
    tracing::debug!("solved");
    let mut metadata = BTreeMap::new();
    if selected.route != Route::Package {
        let base = gw
            .resolve_image_config(distro.image, &platform, ctx.resolve_mode)
            .await?;
        metadata.insert(
            "containerimage.config".to_string(),
            image_config(&base.config, image, &platform),
        );
    }
    Ok(FrontendResult {
        reference: Some(reference),
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_config_applies_the_spec() {
        let base = br#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin","A=1"],"Cmd":["bash"]}}"#;
        let image = Image {
            entrypoint: Some("hello --greeting 'hi there'".into()),
            env: vec!["A=2".into()],
            labels: [("l".to_string(), "v".to_string())].into_iter().collect(),
            ..Default::default()
        };
        let platform = pb::Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        };
        let out: Value =
            serde_json::from_slice(&image_config(base, Some(&image), &platform)).unwrap();
        assert_eq!(
            out["config"]["Entrypoint"],
            json!(["hello", "--greeting", "hi there"])
        );
        assert_eq!(out["config"]["Cmd"], Value::Null);
        assert_eq!(out["config"]["Env"], json!(["PATH=/bin", "A=2"]));
        assert_eq!(out["config"]["Labels"]["l"], "v");
    }

    #[test]
    fn unknown_subrequest_is_named() {
        let e = subrequest("frontend.nope").unwrap_err();
        assert_eq!(e.to_status().0, "unsupported request frontend.nope");
        let r = subrequest("frontend.targets").unwrap();
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
