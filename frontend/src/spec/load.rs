//! Parsing and validating a spec: text in, a checked [`Spec`] or located errors out.

use super::error::{SpecError, SpecErrors};
use super::model::*;

/// Parses and validates spec text. `file` names the spec in error messages.
pub fn load(file: &str, text: &str) -> Result<Spec, SpecErrors> {
    let spec: Spec = serde_saphyr::from_str(text).map_err(|e| parse_error(file, text, &e))?;
    let mut v = Validator {
        file,
        src: text,
        errors: Vec::new(),
    };
    v.spec(&spec);
    if v.errors.is_empty() {
        Ok(spec)
    } else {
        v.errors.sort_by_key(|e| (e.line, e.column));
        Err(SpecErrors(v.errors))
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
        Some(loc) => SpecError::at(file, text, loc, message).into(),
        None => SpecError::whole_file(file, message).into(),
    }
}

/// Parses permission bits written as `0644`, `0o644` or `420` (Dalec's rules).
pub fn parse_mode(text: &str) -> Option<u32> {
    let t = text.trim();
    if let Some(oct) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        return u32::from_str_radix(oct, 8).ok().filter(|m| *m <= 0o7777);
    }
    if t.len() > 1 && t.starts_with('0') {
        return u32::from_str_radix(t, 8).ok().filter(|m| *m <= 0o7777);
    }
    t.parse::<u32>().ok().filter(|m| *m <= 0o7777)
}

struct Validator<'a> {
    file: &'a str,
    src: &'a str,
    errors: Vec<SpecError>,
}

impl Validator<'_> {
    fn error_at<T>(&mut self, at: &Located<T>, message: impl Into<String>) {
        self.errors
            .push(SpecError::at(self.file, self.src, at.referenced, message));
    }

    fn error_at_key<T>(&mut self, key: &str, at: &Located<T>, message: impl Into<String>) {
        self.errors.push(SpecError::at_key(
            self.file,
            self.src,
            key,
            at.referenced,
            message,
        ));
    }

    fn not_yet(&mut self, path: &str, field: &NotYet) {
        if let Some(at) = field {
            let key = path.rsplit('.').next().unwrap_or(path);
            self.error_at_key(key, at, format!("not supported yet: {path}"));
        }
    }

    fn mode(&mut self, field: &Option<Located<String>>) {
        if let Some(m) = field
            && parse_mode(&m.value).is_none()
        {
            self.error_at(
                m,
                format!(
                    "invalid permissions {:?}: expected octal bits such as 0644 or 0o755",
                    m.value
                ),
            );
        }
    }

    fn spec(&mut self, s: &Spec) {
        for (key, at) in &s.extra {
            if !(key.starts_with("x-") || key.starts_with("X-")) {
                self.error_at_key(
                    key,
                    at,
                    format!("unknown field `{key}` (extension keys must start with `x-`)"),
                );
            }
        }
        if s.name.value.trim().is_empty() {
            self.error_at(&s.name, "name must not be empty");
        }
        if s.version.value.trim().is_empty() {
            self.error_at(&s.version, "version must not be empty");
        }
        for (path, field) in [
            ("patches", &s.patches),
            ("conflicts", &s.conflicts),
            ("replaces", &s.replaces),
            ("provides", &s.provides),
            ("targets", &s.targets),
            ("tests", &s.tests),
            ("package_config", &s.package_config),
        ] {
            self.not_yet(path, field);
        }
        for (name, src) in &s.sources {
            self.source(name, src);
        }
        if let Some(b) = &s.build {
            self.not_yet("build.network_mode", &b.network_mode);
            self.not_yet("build.caches", &b.caches);
            for step in &b.steps {
                self.not_yet("build.steps.mounts", &step.value.mounts);
            }
        }
        if let Some(a) = &s.artifacts {
            self.artifacts(a);
        }
        if let Some(d) = &s.dependencies {
            for (path, field) in [
                ("dependencies.recommends", &d.recommends),
                ("dependencies.test", &d.test),
                ("dependencies.sysext", &d.sysext),
                ("dependencies.extra_repos", &d.extra_repos),
            ] {
                self.not_yet(path, field);
            }
        }
        if let Some(i) = &s.image {
            for (path, field) in [
                ("image.volumes", &i.volumes),
                ("image.base", &i.base),
                ("image.bases", &i.bases),
                ("image.post", &i.post),
            ] {
                self.not_yet(path, field);
            }
        }
        for entry in &s.changelog {
            if crate::date::parse_ymd(&entry.value.date.value).is_none() {
                self.error_at(
                    &entry.value.date,
                    "invalid changelog date: expected YYYY-MM-DD",
                );
            }
        }
    }

    fn source(&mut self, name: &str, src: &Located<Source>) {
        let s = &src.value;
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            self.error_at_key(
                name,
                src,
                format!("invalid source name {name:?}: it must be a plain file name"),
            );
        }
        self.not_yet(&format!("sources.{name}.git"), &s.git);
        self.not_yet(&format!("sources.{name}.image"), &s.image);
        self.not_yet(&format!("sources.{name}.build"), &s.build);
        self.not_yet(&format!("sources.{name}.generate"), &s.generate);
        let kinds = [
            s.context.is_some(),
            s.http.is_some(),
            s.inline.is_some(),
            s.git.is_some(),
            s.image.is_some(),
            s.build.is_some(),
        ];
        match kinds.iter().filter(|k| **k).count() {
            0 => self.error_at_key(
                name,
                src,
                format!("source {name:?} has no kind: expected one of context, git, http, image, inline, build"),
            ),
            1 => {}
            _ => self.error_at_key(name, src, format!("source {name:?} has more than one kind; give exactly one")),
        }
        if let Some(http) = &s.http {
            if s.path.is_some() || !s.includes.is_empty() || !s.excludes.is_empty() {
                self.error_at_key(
                    name,
                    src,
                    format!(
                        "source {name:?}: path, includes and excludes do not apply to http sources"
                    ),
                );
            }
            if let Some(d) = &http.value.digest {
                let ok = d
                    .value
                    .strip_prefix("sha256:")
                    .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                    || d.value.contains('$');
                if !ok {
                    self.error_at(
                        d,
                        format!(
                            "invalid digest {:?}: expected sha256:<64 hex digits>",
                            d.value
                        ),
                    );
                }
            }
            self.mode(&http.value.permissions);
        }
        if let Some(inline) = &s.inline {
            match (&inline.value.file, &inline.value.dir) {
                (Some(f), None) => self.mode(&f.permissions),
                (None, Some(d)) => {
                    self.mode(&d.permissions);
                    for (file, f) in &d.files {
                        if file.contains('/') || file.is_empty() {
                            self.error_at_key(
                                file,
                                f,
                                format!("inline file name {file:?} must not contain '/'"),
                            );
                        }
                        self.mode(&f.value.permissions);
                    }
                }
                _ => self.error_at(
                    inline,
                    format!("inline source {name:?} needs exactly one of file or dir"),
                ),
            }
        }
    }

    fn artifacts(&mut self, a: &Artifacts) {
        for (path, field) in [
            ("artifacts.libexec", &a.libexec),
            ("artifacts.data_dirs", &a.data_dirs),
            ("artifacts.configFiles", &a.config_files),
            ("artifacts.libs", &a.libs),
            ("artifacts.headers", &a.headers),
            ("artifacts.createDirectories", &a.create_directories),
            ("artifacts.systemd", &a.systemd),
            ("artifacts.links", &a.links),
            ("artifacts.users", &a.users),
            ("artifacts.groups", &a.groups),
            ("artifacts.disable_strip", &a.disable_strip),
            ("artifacts.disable_auto_requires", &a.disable_auto_requires),
        ] {
            self.not_yet(path, field);
        }
        for (kind, map) in [
            ("binaries", &a.binaries),
            ("manpages", &a.manpages),
            ("docs", &a.docs),
            ("licenses", &a.licenses),
        ] {
            for (path, cfg) in map {
                if path.starts_with('/') || path.split('/').any(|c| c == "..") {
                    self.error_at_key(
                        path,
                        cfg,
                        format!("artifact path {path:?} must be relative to the build root"),
                    );
                }
                if let Some(c) = &cfg.value {
                    self.mode(&c.permissions);
                    self.not_yet(&format!("artifacts.{kind}.user"), &c.user);
                    self.not_yet(&format!("artifacts.{kind}.group"), &c.group);
                    if c.name.as_deref().is_some_and(|n| n.contains('/')) {
                        self.error_at_key(
                            path,
                            cfg,
                            "artifact name must not contain '/' (use subpath)",
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> SpecError {
        load("spec.yml", text).unwrap_err().0.remove(0)
    }

    #[test]
    fn loads_a_minimal_spec() {
        let s = load("spec.yml", "name: hi\nversion: 1.0\nrevision: 2\n").unwrap();
        assert_eq!(s.version.value, "1.0");
        assert_eq!(s.revision.unwrap().value, "2");
    }

    #[test]
    fn unsupported_field_names_its_key_line() {
        let e = err("name: hi\nversion: '1'\npatches:\n  src:\n    - source: p\n");
        assert_eq!((e.line, e.column), (3, 1));
        assert_eq!(e.message, "not supported yet: patches");
    }

    #[test]
    fn unknown_top_level_key_is_an_error_but_x_keys_are_not() {
        let e = err("name: hi\nversion: '1'\nbogus: 1\n");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unknown field `bogus`"), "{}", e.message);
        load("spec.yml", "name: hi\nversion: '1'\nx-any: &a {k: 1}\n").unwrap();
    }

    #[test]
    fn unknown_nested_key_has_position_and_expectation() {
        let e =
            err("name: hi\nversion: '1'\nsources:\n  a:\n    http:\n      url: x\n      sha: y\n");
        assert_eq!((e.line, e.column), (7, 7));
        assert!(
            e.message.contains("unknown field `sha`, expected one of"),
            "{}",
            e.message
        );
    }

    #[test]
    fn bad_digest_and_permissions_are_located() {
        let e = err(
            "name: hi\nversion: '1'\nsources:\n  a:\n    http:\n      url: x\n      digest: md5:1\n",
        );
        assert_eq!(e.line, 7);
        assert!(e.message.starts_with("invalid digest"));
        let e = err(
            "name: hi\nversion: '1'\nsources:\n  a:\n    inline:\n      file:\n        permissions: 0999\n",
        );
        assert_eq!(e.line, 7);
    }

    #[test]
    fn modes_follow_dalec() {
        assert_eq!(parse_mode("0644"), Some(0o644));
        assert_eq!(parse_mode("0o755"), Some(0o755));
        assert_eq!(parse_mode("420"), Some(0o644));
        assert_eq!(parse_mode("0999"), None);
    }

    #[test]
    fn legacy_dependency_list_is_kept() {
        let s = load("spec.yml", "name: hi\nversion: '1'\ndependencies:\n  runtime:\n    - bash\n  build:\n    make:\n    gcc: {version: ['>= 10']}\n").unwrap();
        let d = s.dependencies.unwrap();
        assert!(d.runtime.0.contains_key("bash"));
        assert_eq!(
            d.build.0["gcc"].value.as_ref().unwrap().version,
            vec![">= 10"]
        );
        assert!(d.build.0["make"].value.is_none());
    }

    #[test]
    fn syntax_errors_are_located_and_rendered_with_the_line() {
        let e = err("name: 'hi\nversion: 1\n");
        assert_eq!(e.line, 1);
        let shown = e.to_string();
        assert!(shown.starts_with("spec.yml:1:7: unclosed quote"), "{shown}");
        assert!(shown.contains("1 | name: 'hi"), "{shown}");
    }

    #[test]
    fn missing_required_field_is_reported() {
        let e = err("name: hi\n");
        assert!(e.message.contains("version"), "{}", e.message);
    }
}
