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
    load_yaml(file, text)
}

/// Parses any YAML document into `T` with kiln's located errors (`file:line:col: …`), the way
/// specs are parsed: for other files kiln's tools read (kiln-signer's `kiln-signer.yml`).
/// Wrap fields in [`crate::Located`] to point later checks at their line.
pub fn load_yaml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, SpecErrors> {
    yaml::parse(text)
        .and_then(|node| yaml::from_node(&node))
        .map_err(|e| parse_error(file, text, e))
}

/// The spec's bytes as text, or a located error at the first byte that is not UTF-8 (its line
/// and column; the column counts characters, as the parser's do). `file` names the spec.
///
/// Every reader of a spec goes through this, so a file that is not UTF-8 gets the same error
/// from `kiln-frontend lint` as from a build, never a lossy decoding.
pub fn text<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, SpecErrors> {
    let e = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(e) => e,
    };
    let (valid, rest) = bytes.split_at(e.valid_up_to());
    // `valid` is UTF-8 by the error's own account.
    let valid = std::str::from_utf8(valid).unwrap_or_default();
    let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
    let line = valid.matches('\n').count() + 1;
    let column = valid[line_start..].chars().count() + 1;
    let bad = rest
        .iter()
        .take(e.error_len().unwrap_or(rest.len()).min(4))
        .map(|b| format!("0x{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    let what = match e.error_len() {
        Some(_) => format!("invalid UTF-8 (byte {bad}); a spec must be UTF-8 text"),
        None => format!(
            "invalid UTF-8 (the file ends inside a character: {bad}); a spec must be UTF-8 text"
        ),
    };
    let message = if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        format!("{what} (this file looks like UTF-16: save it as UTF-8)")
    } else {
        what
    };
    // The line as far as it can be shown: up to its end, bad bytes replaced.
    let rest_of_line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    let shown = format!(
        "{}{}",
        &valid[line_start..],
        String::from_utf8_lossy(rest_of_line)
    );
    let mut error = SpecError::at_position(file, "", line as u32, column as u32, message);
    error.source_line = Some(shown);
    Err(error.into())
}

fn parse_error(file: &str, text: &str, e: yaml::Error) -> SpecErrors {
    match e.pos {
        Some(pos) => SpecError::at(file, text, pos, e.message).into(),
        None => SpecError::whole_file(file, e.message).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_located_at_its_first_bad_byte() {
        assert_eq!(
            text("spec.yml", b"name: h\xc3\xa9llo\n"),
            Ok("name: h\u{e9}llo\n")
        );
        let bytes = b"name: hello\ndescription: caf\xc3\xa9 \xff\xfe ok\nversion: 1\n";
        let e = text("spec.yml", bytes).unwrap_err();
        let first = e.first().unwrap();
        // Line 2; `description: café ` is 18 characters (é is one), so the bad byte is at 19.
        assert_eq!((first.line, first.column), (2, 19));
        assert_eq!(
            e.to_string(),
            "spec.yml:2:19: invalid UTF-8 (byte 0xff); a spec must be UTF-8 text\n  |\n2 | description: caf\u{e9} \u{fffd}\u{fffd} ok\n  |                   ^"
        );
        let e = text("spec.yml", b"a: 1\nb: \xe2\x82").unwrap_err();
        assert_eq!(
            e.to_string().lines().next(),
            Some(
                "spec.yml:2:4: invalid UTF-8 (the file ends inside a character: 0xe2 0x82); a spec must be UTF-8 text"
            )
        );
        let utf16 = [0xff, 0xfe, b'a', 0, b':', 0];
        let e = text("spec.yml", &utf16).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "spec.yml:1:1: invalid UTF-8 (byte 0xff); a spec must be UTF-8 text \
                 (this file looks like UTF-16: save it as UTF-8)"
            ),
            "{e}"
        );
    }
}
