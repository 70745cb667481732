//! Offline views of a spec: `lint` and `resolve`.

use crate::plan::{self, PlanError};
use crate::spec::Spec;
use crate::targets;
use kiln_buildkit::options::BuildOpts;
use serde_json::Value;

pub use kiln_spec::lint;

/// Removes nulls, empty lists, empty maps and `false` so the resolved spec shows only what
/// is set.
fn prune(v: Value) -> Option<Value> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::Array(a) => {
            let a: Vec<Value> = a
                .into_iter()
                .map(|x| prune(x).unwrap_or(Value::Null))
                .collect();
            (!a.is_empty()).then_some(Value::Array(a))
        }
        Value::Object(m) => {
            let m: serde_json::Map<String, Value> = m
                .into_iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k, v)))
                .collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
        other => Some(other),
    }
}

/// The spec as a target sees it (overrides merged, args substituted), as YAML. Without a
/// target in `opts`, the root spec with args substituted.
pub fn resolve_yaml(file: &str, text: &str, opts: &BuildOpts) -> Result<String, PlanError> {
    // A kiln target, or any key of the spec's `targets` (e.g. a distro kiln does not build).
    let loaded = plan::Loaded::load(file, text).map_err(PlanError::Spec)?;
    let target = opts.target();
    let key = match targets::select(target) {
        _ if target.is_empty() => None,
        Ok(selected) => Some(selected.distro.key.to_string()),
        Err(unknown) => {
            let key = target.split('/').next().unwrap_or(target);
            if !loaded.spec.targets.contains_key(key) {
                return Err(PlanError::Target(unknown));
            }
            Some(key.to_string())
        }
    };
    let resolved = plan::resolve_spec(&loaded, key.as_deref(), opts).map_err(PlanError::Spec)?;
    render(&resolved).map_err(PlanError::Target)
}

/// A spec as YAML, showing only what is set.
pub fn render(spec: &Spec) -> Result<String, String> {
    let value = serde_json::to_value(spec).map_err(|e| format!("cannot render the spec: {e}"))?;
    let value = prune(value).unwrap_or(Value::Object(Default::default()));
    serde_saphyr::to_string(&value).map_err(|e| format!("cannot render the spec: {e}"))
}
