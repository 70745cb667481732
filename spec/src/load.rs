//! Parsing a spec: text in, a checked [`Spec`] or located errors out.

use super::error::{SpecError, SpecErrors};
use super::model::{PackageConfig, Spec};
use super::{validate, yaml};

/// Parses and validates spec text. `file` names the spec in error messages.
pub fn load(file: &str, text: &str) -> Result<Spec, SpecErrors> {
    let spec: Spec = yaml::parse(text)
        .and_then(|node| yaml::from_node(&node))
        .map_err(|e| parse_error(file, text, e))?;
    let mut errors = validate::spec(&spec, file, text);
    if errors.is_empty() {
        Ok(spec)
    } else {
        errors.sort_by_key(|e| (e.line, e.column));
        errors.dedup();
        Err(SpecErrors(errors))
    }
}

/// Parses a signing config file (`signer: {image, cmdline, args}`, Dalec's
/// `DALEC_SIGNING_CONFIG_PATH` format). `file` names it in error messages.
pub fn load_package_config(file: &str, text: &str) -> Result<PackageConfig, SpecErrors> {
    yaml::parse(text)
        .and_then(|node| yaml::from_node(&node))
        .map_err(|e| parse_error(file, text, e))
}

fn parse_error(file: &str, text: &str, e: yaml::Error) -> SpecErrors {
    match e.pos {
        Some(pos) => SpecError::at(file, text, pos, e.message).into(),
        None => SpecError::whole_file(file, e.message).into(),
    }
}
