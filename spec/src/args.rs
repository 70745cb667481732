//! Build-arg substitution with Dalec's semantics: declared args with defaults, `--build-arg`
//! overrides, and errors for undeclared args, in the fields Dalec expands.

use super::error::{SpecError, SpecErrors};
use super::located::{Located, Pos};
use super::model::*;
use super::names::Host;
use std::collections::BTreeMap;

/// Platform args: substituted only when declared under `args:` (Dalec's opt-in rule).
const PLATFORM_ARGS: &[&str] = &[
    "TARGETOS",
    "TARGETARCH",
    "TARGETPLATFORM",
    "TARGETVARIANT",
    "BUILDOS",
    "BUILDARCH",
    "BUILDPLATFORM",
    "BUILDVARIANT",
];

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
    ];
    EXACT.contains(&name)
        || PLATFORM_ARGS.contains(&name)
        || name.starts_with("BUILDKIT_")
        || name.starts_with("DALEC_")
        || name.starts_with("KILN_")
}

/// Whether `text` holds a build-arg reference (`$NAME`, `${NAME}`) that substitution would
/// replace: `$` before `{`, a letter or `_`, the forms [`substitute`] expands.
pub fn has_reference(text: &str) -> bool {
    text.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'$' && (w[1] == b'{' || w[1] == b'_' || w[1].is_ascii_alphabetic()))
}

/// What substitution needs to know about the request.
#[derive(Debug, Clone, Default)]
pub struct SubstituteOptions {
    /// `--build-arg` values.
    pub build_args: BTreeMap<String, String>,
    /// The target key (`bookworm`): the value of `DALEC_TARGET`/`KILN_TARGET` when declared.
    pub target_key: String,
    /// Target platform as (os, arch, variant), for the opt-in platform args.
    pub target_platform: (String, String, String),
    /// Build platform as (os, arch, variant).
    pub build_platform: (String, String, String),
    /// Accept undeclared build args (for listing targets, as Dalec does).
    pub allow_any_arg: bool,
}

fn platform_value(name: &str, o: &SubstituteOptions) -> String {
    let (p, kind) = match name.strip_prefix("TARGET") {
        Some(k) => (&o.target_platform, k),
        None => (&o.build_platform, name.trim_start_matches("BUILD")),
    };
    match kind {
        "OS" => p.0.clone(),
        "ARCH" => p.1.clone(),
        "VARIANT" => p.2.clone(),
        _ if p.2.is_empty() => format!("{}/{}", p.0, p.1),
        _ => format!("{}/{}/{}", p.0, p.1, p.2),
    }
}

/// Substitutes args into the spec's expandable fields: Dalec's list (reference/dalec.md §1.13)
/// plus artifact paths and `image.base`/`bases`, in the root and in every target.
pub fn substitute(
    spec: &mut Spec,
    file: &str,
    src: &str,
    o: &SubstituteOptions,
) -> Result<(), SpecErrors> {
    let mut errors = Vec::new();
    if !o.allow_any_arg {
        for name in o.build_args.keys() {
            if !spec.args.contains_key(name) && !always_allowed(name) {
                errors.push(SpecError::whole_file(
                    file,
                    format!("build arg {name:?} is not declared in the spec's args (declare it under `args:`)"),
                ));
            }
        }
    }
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (name, default) in &spec.args {
        let value = if name == "DALEC_TARGET" || name == "KILN_TARGET" {
            o.target_key.clone()
        } else if PLATFORM_ARGS.contains(&name.as_str()) {
            o.build_args
                .get(name)
                .cloned()
                .unwrap_or_else(|| platform_value(name, o))
        } else {
            o.build_args
                .get(name)
                .cloned()
                .or_else(|| default.as_ref().map(|d| d.value.clone()))
                .unwrap_or_default()
        };
        values.insert(name.clone(), value);
    }
    let mut x = Expander {
        file,
        src,
        values: &values,
        errors: &mut errors,
    };
    x.field(spec.version.as_mut());
    x.field(spec.revision.as_mut());
    for source in spec.sources.values_mut() {
        x.source(&mut source.value);
    }
    for list in spec.patches.values_mut() {
        for p in list.value.iter_mut() {
            x.field(p.path.as_mut());
        }
    }
    if let Some(build) = spec.build.as_mut() {
        x.env(&mut build.env);
        if let Some(n) = build.network_mode.as_mut() {
            let text = x.expand(n.value.text(), n.pos);
            n.value.set_text(text);
        }
        for step in build.steps.iter_mut() {
            x.env(&mut step.env);
        }
    }
    x.common(
        &mut spec.dependencies,
        &mut spec.artifacts,
        &mut spec.image,
        &mut spec.tests,
        &mut spec.package_config,
        [&mut spec.conflicts, &mut spec.replaces, &mut spec.provides],
    );
    for t in spec.targets.values_mut() {
        let t = &mut t.value;
        x.common(
            &mut t.dependencies,
            &mut t.artifacts,
            &mut t.image,
            &mut t.tests,
            &mut t.package_config,
            [&mut t.conflicts, &mut t.replaces, &mut t.provides],
        );
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
    fn field(&mut self, f: Option<&mut Located<String>>) {
        if let Some(f) = f {
            f.value = self.expand(&f.value, f.pos);
        }
    }

    fn env<K>(&mut self, env: &mut BTreeMap<K, Located<String>>) {
        for v in env.values_mut() {
            self.field(Some(v));
        }
    }

    fn list(&mut self, items: &mut [Located<String>]) {
        for i in items {
            self.field(Some(i));
        }
    }

    fn source(&mut self, s: &mut Source) {
        self.field(s.path.as_mut());
        self.list(&mut s.includes);
        self.list(&mut s.excludes);
        if let Some(g) = s.git.as_mut() {
            self.field(Some(&mut g.url));
            self.field(g.commit.as_mut());
            self.field(g.checksum.as_mut());
        }
        if let Some(h) = s.http.as_mut() {
            self.field(Some(&mut h.url));
            self.field(h.digest.as_mut());
        }
        if let Some(c) = s.context.as_mut() {
            self.field(c.name.as_mut());
        }
        if let Some(i) = s.image.as_mut() {
            self.field(Some(&mut i.reference));
            if let Some(cmd) = i.cmd.as_mut() {
                self.field(cmd.dir.as_mut());
                self.env(&mut cmd.env);
                self.mounts(&mut cmd.mounts);
                for step in cmd.steps.iter_mut() {
                    self.env(&mut step.env);
                    self.mounts(&mut step.mounts);
                }
            }
        }
        if let Some(b) = s.build.as_mut() {
            if let Some(inner) = b.source.as_mut() {
                self.source(&mut inner.value);
            }
            self.field(b.dockerfile_path.as_mut());
            self.field(b.target.as_mut());
            self.env(&mut b.args);
        }
        for g in s.generate.iter_mut() {
            if let Some(gomod) = g.gomod.as_mut() {
                let auth = std::mem::take(&mut gomod.auth);
                let mut checked = BTreeMap::new();
                for (host, a) in auth {
                    let expanded = self.expand(&host, Pos::default());
                    match Host::parse(&expanded) {
                        Ok(h) => {
                            checked.insert(h, a);
                        }
                        Err(e) => self.errors.push(SpecError::at_key(
                            self.file,
                            self.src,
                            &host,
                            Pos::default(),
                            e,
                        )),
                    }
                }
                gomod.auth = checked;
            }
        }
    }

    fn mounts(&mut self, mounts: &mut [SourceMount]) {
        for m in mounts {
            self.source(&mut m.spec.value);
        }
    }

    fn deps(&mut self, list: Option<&mut DependencyList>) {
        for c in list.into_iter().flat_map(|l| l.0.values_mut()) {
            if let Some(c) = c.as_mut() {
                self.list(&mut c.version);
            }
        }
    }

    fn artifact_map(&mut self, map: &mut ArtifactMap) {
        let old = std::mem::take(map);
        *map = old
            .into_iter()
            .map(|(path, cfg)| (self.expand(&path, cfg.pos), cfg))
            .collect();
    }

    #[allow(clippy::type_complexity)]
    fn common(
        &mut self,
        deps: &mut Option<Dependencies>,
        artifacts: &mut Option<Artifacts>,
        image: &mut Option<ImageConfig>,
        tests: &mut [Located<TestSpec>],
        package_config: &mut Option<PackageConfig>,
        relations: [&mut Option<DependencyList>; 3],
    ) {
        if let Some(d) = deps.as_mut() {
            self.deps(d.build.as_mut());
            self.deps(d.runtime.as_mut());
            for repo in d.extra_repos.iter_mut() {
                for src in repo.keys.values_mut().chain(repo.config.values_mut()) {
                    self.source(&mut src.value);
                }
                self.mounts(&mut repo.data);
            }
        }
        for r in relations {
            self.deps(r.as_mut());
        }
        if let Some(a) = artifacts.as_mut() {
            for map in [
                &mut a.binaries,
                &mut a.libexec,
                &mut a.manpages,
                &mut a.data_dirs,
                &mut a.config_files,
                &mut a.docs,
                &mut a.licenses,
                &mut a.libs,
                &mut a.headers,
            ] {
                self.artifact_map(map);
            }
        }
        if let Some(img) = image.as_mut() {
            for v in img.labels.values_mut() {
                self.field(Some(v));
            }
            self.field(img.base.as_mut());
            for b in img.bases.iter_mut().flatten() {
                self.source(&mut b.rootfs.value);
            }
        }
        for t in tests {
            self.env(&mut t.env);
            self.mounts(&mut t.mounts);
            for step in t.steps.iter_mut() {
                let pos = step.command.pos;
                self.env(&mut step.env);
                if let Some(stdin) = step.stdin.as_mut() {
                    *stdin = self.expand(stdin, pos);
                }
                for out in [step.stdout.as_mut(), step.stderr.as_mut()]
                    .into_iter()
                    .flatten()
                {
                    self.check(out, pos);
                }
            }
            for check in t.files.values_mut() {
                let pos = check.pos;
                if let Some(c) = check.as_mut() {
                    for s in [&mut c.equals, &mut c.starts_with, &mut c.ends_with]
                        .into_iter()
                        .flatten()
                    {
                        *s = self.expand(s, pos);
                    }
                    for s in c.contains.iter_mut() {
                        *s = self.expand(s, pos);
                    }
                    self.list(&mut c.matches);
                }
            }
        }
        if let Some(signer) = package_config.as_mut().and_then(|p| p.signer.as_mut()) {
            self.env(&mut signer.args);
        }
    }

    fn check(&mut self, c: &mut CheckOutput, pos: Pos) {
        for s in [&mut c.equals, &mut c.starts_with, &mut c.ends_with]
            .into_iter()
            .flatten()
        {
            *s = self.expand(s, pos);
        }
        for s in c.contains.iter_mut() {
            *s = self.expand(s, pos);
        }
        self.list(&mut c.matches);
    }

    /// Expands `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`;
    /// `\$` is a literal dollar.
    fn expand(&mut self, text: &str, pos: Pos) -> String {
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
                            self.error(pos, format!("unterminated ${{ in {text:?}"));
                            return text.to_string();
                        }
                        out.push_str(&self.braced(&body, pos));
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
                        out.push_str(&self.lookup(&name, pos).unwrap_or_default());
                    }
                    _ => out.push('$'),
                },
                c => out.push(c),
            }
        }
        out
    }

    fn braced(&mut self, body: &str, pos: Pos) -> String {
        let split = body.find([':', '-', '+']).unwrap_or(body.len());
        let (name, rest) = body.split_at(split);
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.error(pos, format!("invalid variable reference ${{{body}}}"));
            return String::new();
        }
        if rest.is_empty() {
            return self.lookup(name, pos).unwrap_or_default();
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
        let value = self.lookup(name, pos);
        let set = match &value {
            Some(v) => !(colon && v.is_empty()),
            None => false,
        };
        match op {
            '-' if set => value.unwrap_or_default(),
            '-' => self.expand(word, pos),
            '+' if set => self.expand(word, pos),
            '+' => String::new(),
            _ => {
                self.error(
                    pos,
                    format!("unsupported modifier in ${{{body}}}: use :-, -, :+ or +"),
                );
                String::new()
            }
        }
    }

    fn lookup(&mut self, name: &str, pos: Pos) -> Option<String> {
        if let Some(v) = self.values.get(name) {
            return Some(v.clone());
        }
        let msg = if PLATFORM_ARGS.contains(&name) {
            format!(
                "platform arg {name:?} is opt-in: declare it under `args:` (with an empty value) to use it"
            )
        } else {
            format!("build arg {name:?} is not declared (add it under `args:`)")
        };
        self.error(pos, msg);
        None
    }

    fn error(&mut self, pos: Pos, message: String) {
        self.errors
            .push(SpecError::at(self.file, self.src, pos, message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load;

    fn run(text: &str, args: &[(&str, &str)]) -> Result<Spec, SpecErrors> {
        let mut s = load("spec.yml", text)?;
        let o = SubstituteOptions {
            build_args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            target_key: "bookworm".into(),
            target_platform: ("linux".into(), "arm64".into(), String::new()),
            build_platform: ("linux".into(), "amd64".into(), String::new()),
            allow_any_arg: false,
        };
        substitute(&mut s, "spec.yml", text, &o).map(|_| s)
    }

    #[test]
    fn defaults_overrides_and_forms() {
        let text = "name: a\nargs:\n  V: '1.0'\n  R:\n  DALEC_TARGET:\nversion: ${V}\nrevision: \"$R${R:-7}-${DALEC_TARGET}\"\n";
        let s = run(text, &[]).unwrap();
        assert_eq!(s.version.unwrap().value, "1.0");
        assert_eq!(s.revision.unwrap().value, "7-bookworm");
        let s = run(text, &[("V", "2.0"), ("R", "3")]).unwrap();
        assert_eq!(s.version.unwrap().value, "2.0");
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
        assert_eq!(s.version.unwrap().value, "$1");
    }

    #[test]
    fn platform_args_are_opt_in() {
        let s = run(
            "name: a\nargs: {TARGETARCH: ''}\nversion: '1-${TARGETARCH}'\n",
            &[],
        )
        .unwrap();
        assert_eq!(s.version.unwrap().value, "1-arm64");
        let e = run("name: a\nversion: '1-${BUILDARCH}'\n", &[])
            .unwrap_err()
            .0
            .remove(0);
        assert!(
            e.message.contains("platform arg \"BUILDARCH\" is opt-in"),
            "{}",
            e.message
        );
    }

    #[test]
    fn expands_artifact_paths_image_bases_and_targets() {
        let text = "name: a\nversion: '1'\nargs: {D: out, IMG: debian}\n\
artifacts:\n  binaries:\n    ${D}/a:\n\
image:\n  base: ${IMG}:bookworm\n\
targets:\n  bookworm:\n    dependencies:\n      runtime:\n        libc: {version: ['>= ${D}']}\n";
        let s = run(text, &[]).unwrap();
        assert!(s.artifacts.unwrap().binaries.contains_key("out/a"));
        assert_eq!(s.image.unwrap().base.unwrap().value, "debian:bookworm");
        let t = &s.targets["bookworm"];
        let libc = &t.dependencies.as_ref().unwrap().runtime.as_ref().unwrap().0["libc"];
        assert_eq!(libc.as_ref().unwrap().version[0].value, ">= out");
    }

    #[test]
    fn arg_references_are_spotted() {
        assert!(has_reference("^v${VERSION}$"));
        assert!(has_reference("$VERSION"));
        assert!(!has_reference("^v1$"));
        assert!(!has_reference("a$|b$"));
    }
}
