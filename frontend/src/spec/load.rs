//! Parsing a spec: text in, a checked [`Spec`] or located errors out.

use super::error::{SpecError, SpecErrors};
use super::model::Spec;
use super::validate;

/// Parses and validates spec text. `file` names the spec in error messages.
pub fn load(file: &str, text: &str) -> Result<Spec, SpecErrors> {
    let spec: Spec = serde_saphyr::from_str(text).map_err(|e| parse_error(file, text, &e))?;
    let mut errors = validate::spec(&spec, file, text);
    if errors.is_empty() {
        Ok(spec)
    } else {
        errors.sort_by_key(|e| (e.line, e.column));
        errors.dedup();
        Err(SpecErrors(errors))
    }
}

fn parse_error(file: &str, text: &str, e: &serde_saphyr::Error) -> SpecErrors {
    let plain = e.without_snippet().to_string();
    // The parser appends its own " at line L, column C"; we print the position ourselves.
    let message = match plain.rfind(" at line ") {
        Some(i) => plain[..i].to_string(),
        None => plain,
    };
    match e.location() {
        Some(loc) => SpecError::at(file, text, super::Pos::from_location(loc), message).into(),
        None => SpecError::whole_file(file, message).into(),
    }
}
