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
    let loaded = plan::Loaded::load(file, text).map_err(PlanError::Spec)?;
    let key = target_key(&loaded, opts.target())?;
    let resolved = plan::resolve_spec(&loaded, key.as_deref(), opts).map_err(PlanError::Spec)?;
    render(&resolved).map_err(PlanError::Target)
}

/// The spec target key a `--target` resolves with: a kiln target's distro, or any key of the
/// spec's `targets` (e.g. a distro kiln does not build); none without a target.
pub fn target_key(loaded: &plan::Loaded, target: &str) -> Result<Option<String>, PlanError> {
    match targets::select(target) {
        _ if target.is_empty() => Ok(None),
        Ok(selected) => Ok(Some(selected.distro.key.to_string())),
        Err(unknown) => {
            let key = target.split('/').next().unwrap_or(target);
            if !loaded.spec.targets.contains_key(key) {
                return Err(PlanError::Target(unknown));
            }
            Ok(Some(key.to_string()))
        }
    }
}

/// A spec as JSON, showing only what is set.
pub fn pruned(spec: &Spec) -> Result<Value, String> {
    let value = serde_json::to_value(spec).map_err(|e| format!("cannot render the spec: {e}"))?;
    Ok(prune(value).unwrap_or(Value::Object(Default::default())))
}

/// A spec as YAML, showing only what is set.
pub fn render(spec: &Spec) -> Result<String, String> {
    serde_saphyr::to_string(&pruned(spec)?).map_err(|e| format!("cannot render the spec: {e}"))
}
