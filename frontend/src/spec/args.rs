//! Build-arg substitution with Dalec's semantics: declared args with defaults, `--build-arg`
//! overrides, and errors for undeclared args, in the fields Dalec expands.

use super::error::{SpecError, SpecErrors};
use super::model::{Located, Spec};
use std::collections::BTreeMap;

/// Build args that may be passed without being declared in `args:`.
fn always_allowed(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "SOURCE_DATE_EPOCH",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "FTP_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "ftp_proxy",
        "no_proxy",
        "all_proxy",
        "TARGETOS",
        "TARGETARCH",
        "TARGETPLATFORM",
        "TARGETVARIANT",
        "BUILDOS",
        "BUILDARCH",
        "BUILDPLATFORM",
        "BUILDVARIANT",
    ];
    EXACT.contains(&name)
        || name.starts_with("BUILDKIT_")
        || name.starts_with("DALEC_")
        || name.starts_with("KILN_")
}

/// Substitutes args into the spec's expandable fields.
///
/// `target_key` (e.g. `bookworm`) is the value of `DALEC_TARGET`/`KILN_TARGET` when declared.
pub fn substitute(
    spec: &mut Spec,
    file: &str,
    src: &str,
    build_args: &BTreeMap<String, String>,
    target_key: &str,
) -> Result<(), SpecErrors> {
    let mut errors = Vec::new();
    for name in build_args.keys() {
        if !spec.args.contains_key(name) && !always_allowed(name) {
            errors.push(SpecError::whole_file(
                file,
                format!("build arg {name:?} is not declared in the spec's args (declare it under `args:`)"),
            ));
        }
    }
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (name, default) in &spec.args {
        let value = match name.as_str() {
            "DALEC_TARGET" | "KILN_TARGET" => Some(target_key.to_string()),
            _ => build_args.get(name).cloned().or_else(|| default.clone()),
        };
        values.insert(name.clone(), value.unwrap_or_default());
    }
    let mut x = Expander {
        file,
        src,
        values: &values,
        errors: &mut errors,
    };
    x.field(&mut spec.version);
    if let Some(r) = spec.revision.as_mut() {
        x.field(r);
    }
    for source in spec.sources.values_mut() {
        if let Some(http) = source.value.http.as_mut() {
            x.field(&mut http.value.url);
            if let Some(d) = http.value.digest.as_mut() {
                x.field(d);
            }
        }
        if let Some(p) = source.value.path.as_mut() {
            x.field(p);
        }
    }
    if let Some(build) = spec.build.as_mut() {
        for v in build.env.values_mut() {
            x.field(v);
        }
        for step in build.steps.iter_mut() {
            for v in step.value.env.values_mut() {
                x.field(v);
            }
        }
    }
    if let Some(deps) = spec.dependencies.as_mut() {
        for list in [&mut deps.build, &mut deps.runtime] {
            for c in list.0.values_mut() {
                let at = c.referenced;
                if let Some(c) = c.value.as_mut() {
                    for v in c.version.iter_mut() {
                        *v = x.expand(v, at.line() as u32, at.column() as u32);
                    }
                }
            }
        }
    }
    if let Some(image) = spec.image.as_mut() {
        for v in image.labels.values_mut() {
            *v = x.expand(v, 0, 0);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SpecErrors(errors))
    }
}

struct Expander<'a> {
    file: &'a str,
    src: &'a str,
    values: &'a BTreeMap<String, String>,
    errors: &'a mut Vec<SpecError>,
}

impl Expander<'_> {
    fn field(&mut self, f: &mut Located<String>) {
        let (line, col) = (f.referenced.line() as u32, f.referenced.column() as u32);
        f.value = self.expand(&f.value, line, col);
    }

    /// Expands `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`;
    /// `\$` is a literal dollar.
    fn expand(&mut self, text: &str, line: u32, col: u32) -> String {
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'$') => {
                    out.push('$');
                    chars.next();
                }
                '$' => match chars.peek() {
                    Some('{') => {
                        chars.next();
                        let mut body = String::new();
                        let mut closed = false;
                        for c in chars.by_ref() {
                            if c == '}' {
                                closed = true;
                                break;
                            }
                            body.push(c);
                        }
                        if !closed {
                            self.error(line, col, format!("unterminated ${{ in {text:?}"));
                            return text.to_string();
                        }
                        out.push_str(&self.braced(&body, line, col));
                    }
                    Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
                        let mut name = String::new();
                        while let Some(c) = chars
                            .peek()
                            .copied()
                            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                        {
                            name.push(c);
                            chars.next();
                        }
                        out.push_str(&self.lookup(&name, line, col).unwrap_or_default());
                    }
                    _ => out.push('$'),
                },
                c => out.push(c),
            }
        }
        out
    }

    fn braced(&mut self, body: &str, line: u32, col: u32) -> String {
        let split = body.find([':', '-', '+']).unwrap_or(body.len());
        let (name, rest) = body.split_at(split);
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.error(line, col, format!("invalid variable reference ${{{body}}}"));
            return String::new();
        }
        if rest.is_empty() {
            return self.lookup(name, line, col).unwrap_or_default();
        }
        let (colon, op, word) = match rest.strip_prefix(':') {
            Some(r) => (
                true,
                r.chars().next().unwrap_or(' '),
                r.get(1..).unwrap_or(""),
            ),
            None => (
                false,
                rest.chars().next().unwrap_or(' '),
                rest.get(1..).unwrap_or(""),
            ),
        };
        let value = self.lookup(name, line, col);
        let set = match &value {
            Some(v) => !(colon && v.is_empty()),
            None => false,
        };
        match op {
            '-' if set => value.unwrap_or_default(),
            '-' => self.expand(word, line, col),
            '+' if set => self.expand(word, line, col),
            '+' => String::new(),
            _ => {
                self.error(
                    line,
                    col,
                    format!("unsupported modifier in ${{{body}}}: use :-, -, :+ or +"),
                );
                String::new()
            }
        }
    }

    fn lookup(&mut self, name: &str, line: u32, col: u32) -> Option<String> {
        match self.values.get(name) {
            Some(v) => Some(v.clone()),
            None => {
                self.error(
                    line,
                    col,
                    format!("build arg {name:?} is not declared (add it under `args:`)"),
                );
                None
            }
        }
    }

    fn error(&mut self, line: u32, col: u32, message: String) {
        self.errors.push(if line == 0 {
            SpecError::whole_file(self.file, message)
        } else {
            SpecError::at_position(self.file, self.src, line, col, message)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::load;

    fn run(text: &str, args: &[(&str, &str)]) -> Result<Spec, SpecErrors> {
        let mut s = load("spec.yml", text)?;
        let args = args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        substitute(&mut s, "spec.yml", text, &args, "bookworm").map(|_| s)
    }

    #[test]
    fn defaults_overrides_and_forms() {
        let text = "name: a\nargs:\n  V: '1.0'\n  R:\n  DALEC_TARGET:\nversion: ${V}\nrevision: \"$R${R:-7}-${DALEC_TARGET}\"\n";
        let s = run(text, &[]).unwrap();
        assert_eq!(s.version.value, "1.0");
        assert_eq!(s.revision.unwrap().value, "7-bookworm");
        let s = run(text, &[("V", "2.0"), ("R", "3")]).unwrap();
        assert_eq!(s.version.value, "2.0");
        assert_eq!(s.revision.unwrap().value, "33-bookworm");
    }

    #[test]
    fn undeclared_reference_names_the_line() {
        let e = run("name: a\nversion: ${NOPE}\n", &[])
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(e.line, 2);
        assert!(
            e.message.contains("\"NOPE\" is not declared"),
            "{}",
            e.message
        );
    }

    #[test]
    fn undeclared_build_arg_is_an_error_but_known_ones_pass() {
        let e = run("name: a\nversion: '1'\n", &[("FOO", "x")])
            .unwrap_err()
            .0
            .remove(0);
        assert!(e.message.contains("\"FOO\" is not declared"));
        run(
            "name: a\nversion: '1'\n",
            &[("SOURCE_DATE_EPOCH", "1"), ("BUILDKIT_SYNTAX", "x")],
        )
        .unwrap();
    }

    #[test]
    fn escaped_dollar_stays() {
        let s = run("name: a\nversion: '\\$1'\n", &[]).unwrap();
        assert_eq!(s.version.value, "$1");
    }
}
