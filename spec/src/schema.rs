//! The JSON Schema of the spec format and the spec reference generated from it. Both live in
//! `docs/` and tests keep them equal to what the model says (`KILN_UPDATE_DOCS=1` rewrites
//! them).

use serde_json::{Value, json};
use std::fmt::Write;

/// The JSON Schema of [`crate::Spec`], with the top-level `x-` rule.
pub fn generate() -> Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<crate::Spec>();
    let mut v = serde_json::to_value(schema).unwrap_or_default();
    v["title"] = json!("kiln package spec (Dalec format)");
    v["patternProperties"] = json!({ "^[xX]-": {} });
    v["additionalProperties"] = json!(false);
    v
}

fn type_of(p: &Value) -> String {
    if let Some(r) = p.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("[{name}](#{})", name.to_lowercase());
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(list) = p.get(key).and_then(Value::as_array) {
            let parts: Vec<String> = list.iter().map(type_of).filter(|t| t != "null").collect();
            return parts.join(" or ");
        }
    }
    let kinds: Vec<String> = match p.get("type") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .filter(|t| t != "null")
            .collect(),
        _ => vec![],
    };
    let kinds: Vec<String> = kinds
        .into_iter()
        .map(|k| match k.as_str() {
            "array" => format!(
                "list of {}",
                p.get("items").map(type_of).unwrap_or_else(|| "any".into())
            ),
            "object" => match p.get("additionalProperties") {
                Some(inner @ Value::Object(_)) => format!("map of {}", type_of(inner)),
                _ => "map".into(),
            },
            _ => k,
        })
        .collect();
    if kinds.is_empty() {
        "any".into()
    } else {
        kinds.join(" or ")
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// The example of a section, from `docs/examples/<name>.yml` (each is loaded by a test).
fn example(name: &str) -> Option<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples");
    std::fs::read_to_string(dir.join(format!("{name}.yml"))).ok()
}

fn section(out: &mut String, name: &str, def: &Value) {
    let _ = writeln!(out, "## {name}\n");
    if let Some(d) = def.get("description").and_then(Value::as_str) {
        let _ = writeln!(out, "{}\n", one_line(d));
    }
    if let Some(e) = example(name) {
        let _ = writeln!(out, "Example:\n\n```yaml\n{}```\n", e);
    }
    let Some(props) = def.get("properties").and_then(Value::as_object) else {
        let _ = writeln!(out, "Type: {}\n", type_of(def));
        return;
    };
    let required: Vec<&str> = def
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    out.push_str("| field | type | meaning |\n|---|---|---|\n");
    for (field, p) in props {
        let req = if required.contains(&field.as_str()) {
            " (required)"
        } else {
            ""
        };
        let desc = p
            .get("description")
            .and_then(Value::as_str)
            .map(one_line)
            .unwrap_or_default();
        let _ = writeln!(out, "| `{field}`{req} | {} | {desc} |", type_of(p));
    }
    out.push('\n');
}

/// The spec reference (Markdown), one section per type of the model.
pub fn reference(schema: &Value) -> String {
    let mut out = String::from(
        "# Spec reference\n\n\
         Generated from kiln's spec model (`cargo test` checks that it is current; \
         `KILN_UPDATE_DOCS=1 cargo test -p kiln-frontend schema` rewrites it). \
         The format is Dalec's; where kiln differs, see [dalec-differences.md](dalec-differences.md). \
         Unknown keys are errors, except top-level keys that start with `x-` or `X-`.\n\n",
    );
    section(&mut out, "Spec", schema);
    if let Some(defs) = schema.get("$defs").and_then(Value::as_object) {
        for (name, def) in defs {
            section(&mut out, name, def);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn check_or_update(path: &str, want: &str) {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(path);
        if std::env::var("KILN_UPDATE_DOCS").is_ok_and(|v| v == "1") {
            std::fs::write(&file, want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            have == want,
            "{path} is out of date: run KILN_UPDATE_DOCS=1 cargo test -p kiln-frontend schema"
        );
    }

    #[test]
    fn schema_file_is_current() {
        let text = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
        check_or_update("docs/spec.schema.json", &text);
        assert!(
            crate::SCHEMA == text,
            "the binary embeds an outdated schema file: rebuild"
        );
    }

    #[test]
    fn reference_is_current() {
        check_or_update("docs/spec-reference.md", &reference(&generate()));
    }

    #[test]
    fn every_example_is_a_valid_spec() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/examples");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.display().to_string();
            if let Err(e) = crate::lint(&name, &text) {
                panic!("{name}:\n{e}");
            }
            n += 1;
        }
        assert!(n >= 10, "examples missing");
    }

    #[test]
    fn schema_knows_every_top_level_key_of_dalec() {
        let schema = generate();
        let props = schema["properties"].as_object().unwrap();
        for key in [
            "name",
            "description",
            "website",
            "version",
            "revision",
            "noarch",
            "license",
            "vendor",
            "packager",
            "args",
            "sources",
            "patches",
            "build",
            "artifacts",
            "dependencies",
            "conflicts",
            "replaces",
            "provides",
            "targets",
            "image",
            "tests",
            "package_config",
            "changelog",
        ] {
            assert!(props.contains_key(key), "missing {key}");
        }
    }
}
