//! The rules a parsed spec must follow beyond its shape, each error at its line.

use super::error::SpecError;
use super::located::{Located, Pos};
use super::model::*;
use super::names;
use std::collections::{BTreeMap, BTreeSet};

/// Checks a parsed spec; an empty list means it is valid.
pub fn spec(s: &Spec, file: &str, text: &str) -> Vec<SpecError> {
    let mut v = Checker {
        file,
        text,
        errors: Vec::new(),
    };
    v.spec(s);
    v.errors
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<SpecError>,
}

/// Whether a source yields a single file rather than a directory.
pub fn is_file_source(s: &Source) -> bool {
    s.http.is_some() || s.inline.as_ref().is_some_and(|i| i.file.is_some())
}

/// Source kinds, in the order they are named in messages.
const KINDS: &str = "context, git, http, image, inline, build";

fn valid_version_constraint(c: &str) -> bool {
    super::version::parse(c).is_some()
}

impl Checker<'_> {
    fn at(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors
            .push(SpecError::at(self.file, self.text, pos, message));
    }

    fn at_key(&mut self, key: &str, pos: Pos, message: impl Into<String>) {
        self.errors
            .push(SpecError::at_key(self.file, self.text, key, pos, message));
    }

    fn spec(&mut self, s: &Spec) {
        for key in s.extra.keys() {
            if !(key.starts_with("x-") || key.starts_with("X-")) {
                let msg = format!(
                    "unknown field `{key}` (only extension keys starting with `x-` may be added)"
                );
                self.at_key(key, Pos::default(), msg);
            }
        }
        for (field, value) in [("name", &s.name), ("version", &s.version)] {
            if let Some(v) = value
                && v.value.trim().is_empty()
            {
                self.at(v.pos, format!("{field} must not be empty"));
            }
        }
        // No package format takes white space or '/' in a name (Debian's rules are stricter
        // and checked when a Debian target is built).
        if let Some(name) = &s.name
            && name.value.contains(|c: char| c.is_whitespace() || c == '/')
        {
            self.at(
                name.pos,
                format!(
                    "invalid package name {:?}: no package format allows white space or '/' in a name",
                    name.value
                ),
            );
        }
        for (field, value) in [
            (
                "packager",
                s.packager.as_ref().map(|p| (p.value.as_str(), p.pos)),
            ),
            ("website", s.website.as_deref().map(|w| (w, Pos::default()))),
            ("vendor", s.vendor.as_deref().map(|v| (v, Pos::default()))),
            ("license", s.license.as_deref().map(|l| (l, Pos::default()))),
            (
                "version",
                s.version.as_ref().map(|v| (v.value.as_str(), v.pos)),
            ),
            (
                "revision",
                s.revision.as_ref().map(|v| (v.value.as_str(), v.pos)),
            ),
        ] {
            if let Some((v, pos)) = value
                && let Err(e) = names::check_single_line(field, v.trim())
            {
                match pos.line {
                    0 => self.at_key(field, pos, e),
                    _ => self.at(pos, e),
                }
            }
        }
        for (name, src) in &s.sources {
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                self.at_key(
                    name,
                    src.pos,
                    format!("invalid source name {name:?}: it must be a plain file name (no '/')"),
                );
            }
            self.source(name, src);
        }
        self.patches(s);
        if let Some(b) = &s.build {
            self.build(b);
        }
        if let Some(a) = &s.artifacts {
            self.artifacts(a);
        }
        if let Some(d) = &s.dependencies {
            self.dependencies(d);
        }
        for list in [&s.conflicts, &s.replaces, &s.provides]
            .into_iter()
            .flatten()
        {
            self.dependency_list(list);
        }
        for (key, t) in &s.targets {
            if key.is_empty() || key.contains('/') {
                self.at_key(
                    key,
                    t.pos,
                    format!("invalid target key {key:?}: it must be a distro key such as bookworm"),
                );
            }
            self.target(t);
        }
        if let Some(i) = &s.image {
            self.image(i);
        }
        self.tests(&s.tests);
        if let Some(p) = &s.package_config {
            self.package_config(p);
        }
        for entry in &s.changelog {
            if entry.date.value.get().is_none() {
                self.at(
                    entry.date.pos,
                    format!(
                        "invalid changelog date {:?}: expected YYYY-MM-DD",
                        entry.date.value.text()
                    ),
                );
            }
            if entry.author.value.trim().is_empty() {
                self.at(entry.author.pos, "changelog author must not be empty");
            } else if let Err(e) =
                names::check_single_line("changelog author", entry.author.value.trim())
            {
                self.at(entry.author.pos, e);
            }
        }
    }

    fn source(&mut self, name: &str, src: &Located<Source>) {
        let s = &src.value;
        match s.kind_count() {
            0 => self.at(
                src.pos,
                format!("source {name:?} has no kind: give exactly one of {KINDS}"),
            ),
            1 => {}
            _ => self.at(
                src.pos,
                format!("source {name:?} has more than one kind: give exactly one of {KINDS}"),
            ),
        }
        if is_file_source(s)
            && (s.path.is_some() || !s.includes.is_empty() || !s.excludes.is_empty())
        {
            self.at(src.pos, format!("source {name:?} is a single file: path, includes and excludes do not apply to it"));
        }
        if let Some(p) = &s.path
            && p.value.split('/').any(|c| c == "..")
        {
            self.at(
                p.pos,
                format!("source path {:?} must not contain '..'", p.value),
            );
        }
        // Without a commit, BuildKit checks out the default branch (as Dalec does).
        if let Some(git) = &s.git
            && git.url.value.trim().is_empty()
        {
            self.at(git.url.pos, "git url must not be empty");
        }
        if let Some(sum) = s.git.as_ref().and_then(|g| g.checksum.as_ref())
            && !super::args::has_reference(&sum.value)
            && (sum.value.is_empty()
                || sum.value.len() > 64
                || !sum.value.chars().all(|c| c.is_ascii_hexdigit()))
        {
            self.at(
                sum.pos,
                format!(
                    "git checksum {:?}: the commit's hash, or a prefix of it, in hex",
                    sum.value
                ),
            );
        }
        if let Some(http) = &s.http {
            if http.url.value.trim().is_empty() {
                self.at(http.url.pos, "http url must not be empty");
            }
            if let Some(d) = &http.digest {
                let hex_ok = |h: &str| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
                let ok = d.value.contains('$')
                    || d.value.strip_prefix("sha256:").is_some_and(hex_ok)
                    || d.value.strip_prefix("sha512:").is_some_and(|h| {
                        h.len() == 128 && h.bytes().all(|b| b.is_ascii_hexdigit())
                    });
                if !ok {
                    self.at(
                        d.pos,
                        format!(
                            "invalid digest {:?}: expected sha256:<64 hex digits>",
                            d.value
                        ),
                    );
                }
            }
        }
        if let Some(img) = &s.image {
            if img.reference.value.trim().is_empty() {
                self.at(img.reference.pos, "image ref must not be empty");
            }
            if s.path.is_none() {
                self.at(img.reference.pos, format!("image source {name:?} needs a path: extracting a whole root filesystem must be explicit"));
            }
            if let Some(cmd) = &img.cmd {
                if cmd.steps.is_empty() {
                    self.at_key("cmd", cmd.pos, "cmd needs at least one step");
                }
                self.mounts(&cmd.mounts);
                for step in &cmd.steps {
                    self.mounts(&step.mounts);
                }
            }
        }
        if let Some(inline) = &s.inline {
            match (&inline.file, &inline.dir) {
                (Some(_), None) => {}
                (None, Some(d)) => {
                    for file in d.files.keys() {
                        if file.is_empty() || file.contains('/') || file == "." || file == ".." {
                            self.at_key(
                                file,
                                Pos::default(),
                                format!(
                                    "inline file name {file:?} must be a plain file name (no '/')"
                                ),
                            );
                        }
                    }
                }
                _ => self.at(
                    src.pos,
                    format!("inline source {name:?} needs exactly one of file or dir"),
                ),
            }
        }
        if let Some(b) = &s.build {
            match &b.source {
                Some(inner) => self.source(&format!("{name}.build.source"), inner),
                None => self.at(
                    src.pos,
                    format!(
                        "build source {name:?} needs a source (the Dockerfile's build context)"
                    ),
                ),
            }
        }
        for g in &s.generate {
            if is_file_source(s) {
                self.at(
                    g.pos,
                    format!("generators need a directory source; {name:?} is a single file"),
                );
            }
            if g.kind().is_none() {
                self.at(
                    g.pos,
                    "a generator needs exactly one of gomod, cargohome, pip, nodemod",
                );
            }
            if let Some(sub) = &g.subpath
                && !names::stays_inside(sub.value.trim_start_matches('/'))
            {
                self.at(
                    sub.pos,
                    format!(
                        "generator subpath {:?} must stay inside the source (no '..')",
                        sub.value
                    ),
                );
            }
        }
    }

    fn mounts(&mut self, mounts: &[SourceMount]) {
        let mut seen = BTreeSet::new();
        for m in mounts {
            let dest = &m.dest;
            if !dest.value.starts_with('/') || dest.value.trim_end_matches('/').is_empty() {
                self.at(
                    dest.pos,
                    format!(
                        "mount dest {:?} must be an absolute path other than /",
                        dest.value
                    ),
                );
            }
            if !seen.insert(dest.value.trim_end_matches('/').to_string()) {
                self.at(
                    dest.pos,
                    format!("mount dest {:?} is used twice", dest.value),
                );
            }
            self.source("mount", &m.spec);
        }
    }

    fn patches(&mut self, s: &Spec) {
        for (target, list) in &s.patches {
            if !s.sources.contains_key(target) {
                self.at_key(
                    target,
                    list.pos,
                    format!("patches for {target:?}: there is no source named {target:?}"),
                );
            }
            for p in &list.value {
                let name = &p.source.value;
                match s.sources.get(name) {
                    None => self.at(
                        p.source.pos,
                        format!("patch source {name:?} does not exist"),
                    ),
                    Some(_) if name == target => {
                        self.at(p.source.pos, format!("source {name:?} cannot patch itself"))
                    }
                    Some(src) if is_file_source(&src.value) => {
                        if let Some(path) = &p.path {
                            self.at(
                                path.pos,
                                format!("patch source {name:?} is a single file: remove path"),
                            );
                        }
                    }
                    Some(_) => {
                        if p.path.as_ref().is_none_or(|x| x.value.trim().is_empty()) {
                            self.at(p.source.pos, format!("patch source {name:?} is a directory: give the path of the patch inside it"));
                        }
                    }
                }
            }
        }
    }

    fn build(&mut self, b: &Located<Build>) {
        let b_ = &b;
        if b_.steps.is_empty()
            && (!b_.env.is_empty() || b_.network_mode.is_some() || !b_.caches.is_empty())
        {
            self.at_key(
                "build",
                b.pos,
                "build needs steps when env, network_mode or caches are set",
            );
        }
        if let Some(n) = &b_.network_mode
            && n.value.get().is_none()
            && !super::args::has_reference(n.value.text())
        {
            self.at(
                n.pos,
                format!(
                    "invalid network_mode {:?}: expected none or sandbox",
                    n.value.text()
                ),
            );
        }
        for step in &b_.steps {
            if step.command.value.trim().is_empty() {
                self.at(step.command.pos, "step command must not be empty");
            }
        }
        for c in &b_.caches {
            let kinds = [
                c.dir.is_some(),
                c.gobuild.is_some(),
                c.rustsccache.is_some(),
                c.bazel.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                self.at_key(
                    "caches",
                    c.pos,
                    "a cache needs exactly one of dir, gobuild, rustsccache, bazel",
                );
            }
            if let Some(d) = &c.dir {
                if !d.dest.value.starts_with('/') {
                    self.at(
                        d.dest.pos,
                        format!("cache dest {:?} must be an absolute path", d.dest.value),
                    );
                }
                if let Some(sh) = &d.sharing
                    && sh.value.get().is_none()
                {
                    self.at(
                        sh.pos,
                        format!(
                            "invalid sharing {:?}: expected shared, private or locked",
                            sh.value.text()
                        ),
                    );
                }
            }
        }
    }

    fn artifact_map(&mut self, kind: &str, map: &ArtifactMap) {
        for (path, cfg) in map {
            // Absolute: a file a build step made outside the build root (as Dalec allows).
            if path.trim().is_empty() || path.split('/').any(|c| c == "..") {
                self.at_key(
                    path,
                    cfg.pos,
                    format!(
                        "{kind} path {path:?} must be a path in the build root or an absolute one, without '..'"
                    ),
                );
            }
            if let Some(name) = cfg.value.as_ref().and_then(|c| c.name.as_ref())
                && (name.value.contains('/') || name.value == "." || name.value == "..")
            {
                self.at(
                    name.pos,
                    format!(
                        "artifact name {:?} must be a plain file name (no '/'; use subpath)",
                        name.value
                    ),
                );
            }
            if let Some(sub) = cfg.value.as_ref().and_then(|c| c.subpath.as_ref())
                && !names::stays_inside(sub.value.trim_start_matches('/'))
            {
                self.at(
                    sub.pos,
                    format!(
                        "subpath {:?} must stay inside the install directory (no '..')",
                        sub.value
                    ),
                );
            }
            if let Some(c) = &cfg.value {
                self.owner(c.user.as_deref(), c.group.as_deref(), cfg.pos);
            }
        }
    }

    fn artifacts(&mut self, a: &Artifacts) {
        let a = &a;
        for (kind, map) in [
            ("binaries", &a.binaries),
            ("libexec", &a.libexec),
            ("manpages", &a.manpages),
            ("data_dirs", &a.data_dirs),
            ("configFiles", &a.config_files),
            ("docs", &a.docs),
            ("licenses", &a.licenses),
            ("libs", &a.libs),
            ("headers", &a.headers),
            ("opt", &a.opt),
        ] {
            self.artifact_map(kind, map);
            if matches!(kind, "binaries" | "libexec" | "libs" | "opt") {
                continue;
            }
            for (path, cfg) in map {
                if let Some(caps) = cfg.value.as_ref().map(|c| &c.linux_capabilities)
                    && !caps.is_empty()
                {
                    self.at(
                        caps.pos,
                        format!("linux_capabilities can only be set on executable files (binaries, libs, libexec, opt), not on {kind} {path:?}"),
                    );
                }
            }
        }
        if let Some(sd) = &a.systemd {
            for path in sd.units.keys().chain(sd.dropins.keys()) {
                if !names::stays_inside(path) {
                    self.at_key(
                        path,
                        Pos::default(),
                        format!("systemd path {path:?} must be relative to the build root"),
                    );
                }
            }
            for (path, unit) in &sd.units {
                if let Err(e) = names::check_unit_name(SystemdUnit::installed(unit.as_ref(), path))
                {
                    self.at_key(path, Pos::default(), e);
                }
            }
            for (path, dropin) in &sd.dropins {
                let Some(d) = dropin else {
                    self.at_key(
                        path,
                        Pos::default(),
                        format!("drop-in {path:?} needs the unit it extends (unit: NAME.service)"),
                    );
                    continue;
                };
                if let Err(e) = names::check_unit_name(&d.unit.value) {
                    self.at(d.unit.pos, e);
                }
                let name = installed_name(path, d.name.as_deref());
                if name.contains('/')
                    || name == "."
                    || name == ".."
                    || name.chars().any(char::is_control)
                {
                    self.at_key(
                        path,
                        Pos::default(),
                        format!("drop-in name {name:?} must be a plain file name (no '/')"),
                    );
                }
            }
        }
        if let Some(dirs) = &a.create_directories {
            for (dir, cfg) in dirs.config.iter().chain(&dirs.state) {
                if dir.trim_matches('/').is_empty()
                    || !names::stays_inside(dir.trim_start_matches('/'))
                {
                    self.at_key(
                        dir,
                        Pos::default(),
                        format!(
                            "directory {dir:?} must be a path inside /etc or /var/lib (no '..')"
                        ),
                    );
                }
                if let Some(c) = cfg {
                    self.owner(c.user.as_deref(), c.group.as_deref(), Pos::default());
                }
            }
        }
        for l in &a.links {
            if !l.dest.value.starts_with('/') {
                self.at(
                    l.dest.pos,
                    format!("link dest {:?} must be an absolute path", l.dest.value),
                );
            }
            if l.source.value.trim().is_empty() {
                self.at(l.source.pos, "link source must not be empty");
            }
        }
        for e in a.users.iter().chain(&a.groups) {
            if let Err(msg) = names::check_account_name(&e.name.value) {
                self.at(e.name.pos, msg);
            }
        }
    }

    /// `user` and `group` of an installed file or directory.
    fn owner(&mut self, user: Option<&str>, group: Option<&str>, pos: Pos) {
        for name in [user, group].into_iter().flatten() {
            if let Err(e) = names::check_account_name(name) {
                self.at_key(name, pos, e);
            }
        }
    }

    fn dependency_list(&mut self, list: &DependencyList) {
        for c in list.0.values() {
            for v in c.iter().flat_map(|c| &c.version) {
                if !v.value.contains('$') && !valid_version_constraint(&v.value) {
                    self.at(v.pos, format!("invalid version constraint {:?}: expected an operator (<, <=, =, >=, >, <<, >>) and a version, e.g. \">= 1.2\"", v.value));
                }
            }
        }
    }

    fn dependencies(&mut self, d: &Dependencies) {
        let d = &d;
        for list in [&d.build, &d.runtime, &d.recommends, &d.test, &d.sysext]
            .into_iter()
            .flatten()
        {
            self.dependency_list(list);
        }
        for repo in &d.extra_repos {
            for env in &repo.envs {
                if env.value.get().is_none() {
                    self.at(
                        env.pos,
                        format!(
                            "invalid repository env {:?}: expected build, test or install",
                            env.value.text()
                        ),
                    );
                }
            }
            for src in repo.keys.values().chain(repo.config.values()) {
                self.source("extra_repos", src);
            }
            self.mounts(&repo.data);
        }
    }

    fn target(&mut self, t: &Target) {
        let t = &t;
        if let Some(d) = &t.dependencies {
            self.dependencies(d);
        }
        for list in [&t.conflicts, &t.replaces, &t.provides]
            .into_iter()
            .flatten()
        {
            self.dependency_list(list);
        }
        if let Some(a) = &t.artifacts {
            self.artifacts(a);
        }
        if let Some(i) = &t.image {
            self.image(i);
        }
        self.tests(&t.tests);
        if let Some(p) = &t.package_config {
            self.package_config(p);
        }
        if let Some(f) = &t.frontend
            && f.image.value.trim().is_empty()
        {
            self.at(f.image.pos, "frontend image must not be empty");
        }
    }

    fn image(&mut self, i: &ImageConfig) {
        let img = &i;
        for cmd in [&img.entrypoint, &img.cmd].into_iter().flatten() {
            if crate::words::split(&cmd.value).is_none() {
                self.at(
                    cmd.pos,
                    format!("{:?} has an unterminated quote", cmd.value),
                );
            }
        }
        for e in &img.env {
            if !e.value.contains('=') {
                self.at(
                    e.pos,
                    format!("image env entry {:?} must be KEY=VALUE", e.value),
                );
            }
        }
        if img.base.is_some() && img.bases.as_ref().is_some_and(|b| !b.is_empty()) {
            self.at(
                img.base.as_ref().map(|b| b.pos).unwrap_or_default(),
                "give either image.base or image.bases, not both",
            );
        }
        for b in img.bases.iter().flatten() {
            if b.rootfs.value.image.is_none() {
                self.at(
                    b.rootfs.pos,
                    "a base image's rootfs must be an image source",
                );
            }
        }
        if let Some(post) = &img.post {
            for (target, links) in &post.symlinks {
                if links.path.is_none() && links.paths.is_empty() {
                    self.at_key(
                        target,
                        links.pos,
                        format!("symlink to {target:?} needs paths"),
                    );
                }
                for p in links.path.iter().chain(&links.paths) {
                    if !p.value.starts_with('/') {
                        self.at(
                            p.pos,
                            format!("symlink path {:?} must be absolute", p.value),
                        );
                    }
                }
            }
        }
    }

    fn tests(&mut self, tests: &[Located<TestSpec>]) {
        let mut names: BTreeMap<&str, Pos> = BTreeMap::new();
        for t in tests {
            let name = t.name.value.as_str();
            if name.trim().is_empty() {
                self.at(t.name.pos, "test name must not be empty");
            }
            if names.insert(name, t.name.pos).is_some() {
                self.at(t.name.pos, format!("test name {name:?} is used twice"));
            }
            self.mounts(&t.mounts);
            for step in &t.steps {
                let cmd = &step.command;
                match crate::words::split(&cmd.value) {
                    None => self.at(
                        cmd.pos,
                        format!("test command {:?} has an unterminated quote", cmd.value),
                    ),
                    Some(words) if words.is_empty() => {
                        self.at(cmd.pos, "test command must not be empty")
                    }
                    Some(_) => {}
                }
                for check in [&step.stdout, &step.stderr].into_iter().flatten() {
                    self.regexes(&check.matches);
                }
            }
            for check in t.files.values().filter_map(|c| c.value.as_ref()) {
                self.regexes(&check.matches);
            }
            for (path, check) in &t.files {
                if !path.starts_with('/') {
                    self.at_key(
                        path,
                        check.pos,
                        format!("test file {path:?} must be an absolute path"),
                    );
                }
            }
        }
    }

    /// `matches` checks: regular expressions in Go's syntax (RE2), which the test runner
    /// evaluates with the same rules. One that still holds a build-arg reference is checked
    /// once the args are substituted.
    fn regexes(&mut self, list: &[Located<String>]) {
        for re in list {
            if super::args::has_reference(&re.value) {
                continue;
            }
            if let Err(e) = crate::regex::compile(&re.value) {
                self.at(
                    re.pos,
                    format!("invalid regular expression {:?}: {e}", re.value),
                );
            }
        }
    }

    fn package_config(&mut self, p: &PackageConfig) {
        if let Some(signer) = &p.signer
            && signer
                .image
                .as_ref()
                .is_none_or(|i| i.value.trim().is_empty())
        {
            self.at_key(
                "signer",
                signer.pos,
                "signer needs an image (the signer frontend)",
            );
        }
    }
}
