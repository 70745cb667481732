//! Shell and Makefile text: the one place where text becomes shell words, script lines or
//! Makefile recipe text. Spec values only ever reach a script through [`quote`],
//! [`Script::export`] or [`Script::comment`], and a Makefile through [`make_escape`].

use kiln_spec::EnvName;

/// Quotes `s` as one POSIX shell word.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Text for a Makefile recipe line: `$` doubled so make expands nothing, and a line break
/// (which would end the recipe line) refused. Recipe text is then a shell command line, so
/// spec values in it are also [`quote`]d.
pub fn make_escape(s: &str) -> Result<String, String> {
    if s.contains(['\n', '\r']) {
        return Err(format!("{s:?} cannot be written into a Makefile line"));
    }
    Ok(s.replace('$', "$$"))
}

/// A shell script built line by line: kiln's own lines, exports of checked names with quoted
/// values, comments that cannot break out of their line, and the spec's own commands (which
/// are code by design).
#[derive(Debug, Default, Clone)]
#[must_use]
pub struct Script {
    text: String,
}

impl Script {
    /// A script that starts with `lines` (kiln's own text: a shebang, `set -e`, ...).
    pub fn new(lines: &str) -> Script {
        let mut s = Script::default();
        s.raw(lines);
        s
    }

    /// Appends kiln's own text; a missing final line break is added.
    pub fn raw(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        if !text.is_empty() && !text.ends_with('\n') {
            self.text.push('\n');
        }
        self
    }

    /// Appends `# text`, with line breaks and other control characters turned into spaces.
    pub fn comment(&mut self, text: &str) -> &mut Self {
        let clean: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        self.text.push_str("# ");
        self.text.push_str(clean.trim_end());
        self.text.push('\n');
        self
    }

    /// Appends `export NAME='value'` (indented by `indent`).
    pub fn export(&mut self, indent: &str, name: &EnvName, value: &str) -> &mut Self {
        self.text.push_str(indent);
        self.text.push_str("export ");
        self.text.push_str(name);
        self.text.push('=');
        self.text.push_str(&quote(value));
        self.text.push('\n');
        self
    }

    /// Appends a command of words, each quoted.
    pub fn words<S: AsRef<str>>(&mut self, words: &[S]) -> &mut Self {
        let line: Vec<String> = words.iter().map(|w| quote(w.as_ref())).collect();
        self.raw(&line.join(" "))
    }

    /// Appends one of the spec's own build commands, as written (it is code by design).
    pub fn spec_command(&mut self, command: &str) -> &mut Self {
        self.raw(command.trim_end())
    }

    /// The script text.
    pub fn finish(&self) -> String {
        self.text.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes() {
        assert_eq!(quote("abc/d.e"), "abc/d.e");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn makefile_text_expands_nothing() {
        assert_eq!(
            make_escape("$(shell touch x) $$ ${A}").unwrap(),
            "$$(shell touch x) $$$$ $${A}"
        );
        assert!(make_escape("a\nb").is_err());
    }

    #[test]
    fn script_lines_cannot_be_broken() {
        let name = EnvName::parse("V").unwrap();
        let mut s = Script::new("set -e");
        s.comment("step 1\ntouch /PWNED")
            .export("  ", &name, "x'; touch /PWNED; '")
            .words(&["echo", "a b", "$(id)"]);
        assert_eq!(
            s.finish(),
            "set -e\n# step 1 touch /PWNED\n  export V='x'\\''; touch /PWNED; '\\'''\necho 'a b' '$(id)'\n"
        );
    }
}
