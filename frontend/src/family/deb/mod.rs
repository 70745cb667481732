//! The generated `debian/` directory: pure text functions of the spec and the distro.
//!
//! The package is built the Debian way: `dpkg-buildpackage -b` runs `debian/rules`, whose
//! build and install steps are kiln's generated scripts; debhelper does the rest (strip,
//! shlibs, compression, md5sums, permissions, conffiles, systemd maintainer scripts).

use crate::build::{self, BUILD_ROOT, Context};
use crate::date;
use crate::distro::Distro;
use crate::family::{Family, FamilyConfig};
use crate::shell::{Script, make_escape, quote};
use crate::spec::{
    ArtifactConfig, ArtifactMap, Artifacts, DependencyList, EnvMap, Located, Pos, Spec, SpecErrors,
    SystemdUnit, installed_name, version,
};
use crate::targets::Route;
use kiln_buildkit::llb::{CopyOptions, Exec, FileActions, Mount, State};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Routes of the deb family: (path, route, description). The first is the default.
const DEB_ROUTES: &[(&str, Route, &str)] = &[
    ("deb", Route::Package, "Build a .deb package"),
    (
        "container",
        Route::Container,
        "Build a container image with the .deb installed",
    ),
    (
        "testing/container",
        Route::Container,
        "Same as container (Dalec's name for it)",
    ),
    ("worker", Route::Worker, "The build worker image"),
];

/// apt, as data.
pub const APT: FamilyConfig = FamilyConfig {
    caches: &[("/var/cache/apt", "apt-cache"), ("/var/lib/apt", "apt-lib")],
    env: &[("DEBIAN_FRONTEND", "noninteractive")],
    keep_downloads: "rm -f /etc/apt/apt.conf.d/docker-clean\n\
                     echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' > /etc/apt/apt.conf.d/keep-cache",
    refresh: "apt-get update",
    install: "apt-get install -y --no-install-recommends",
    satisfy: "apt-get satisfy -y --no-install-recommends",
    image_packages: &["ca-certificates"],
    repo_lists_dir: "/etc/apt/sources.list.d",
    repo_list_suffixes: &["list", "sources"],
    repo_keys_dir: "/usr/share/keyrings",
    relation_separator: ", ",
};

/// The Debian family: `.deb` packages built with dpkg-buildpackage from a generated
/// `debian/` directory, installed with apt.
#[derive(Debug)]
pub struct Deb;

impl Family for Deb {
    fn routes(&self) -> &'static [(&'static str, Route, &'static str)] {
        DEB_ROUTES
    }

    fn check(&self, spec: &Spec, _distro: &Distro) -> Vec<(String, Pos)> {
        check(spec)
    }

    fn relations(&self, list: Option<&DependencyList>) -> Vec<String> {
        relations(list)
    }

    fn build_requirements(&self, distro: &Distro) -> Vec<String> {
        vec![format!("debhelper-compat (= {})", distro.debhelper_compat)]
    }

    fn source_dir(&self, spec: &Spec, distro: &Distro, ctx: &Context) -> String {
        Package::new(spec, distro, ctx.source_date_epoch).source_dir()
    }

    fn package(
        &self,
        spec: &Spec,
        distro: &Distro,
        ctx: &Context,
        tree: State,
        builder: State,
    ) -> Result<State, SpecErrors> {
        let pkg = Package::new(spec, distro, ctx.source_date_epoch);
        let tree = with_debian_dir(tree, spec, distro, &pkg);
        let exec = Exec::new(["dpkg-buildpackage", "-b", "-uc", "-us"])
            .cwd(&format!("{BUILD_ROOT}/{}", pkg.source_dir()))
            .mount(Mount::bind(BUILD_ROOT, tree))
            .name(format!(
                "[kiln {}] dpkg-buildpackage {} {}",
                distro.key, pkg.name, pkg.version
            ));
        let built = build::run_build(&builder, exec, spec, distro, ctx)?;
        let collect = CopyOptions {
            allow_wildcard: true,
            ..Default::default()
        };
        Ok(State::scratch().file(
            FileActions::new().copy(&built, "/*.deb", "/", collect),
            &format!("[kiln {}] collect packages", distro.key),
        ))
    }

    fn package_glob(&self, spec: &Spec) -> (String, String) {
        let name = text(&spec.name);
        (format!("{}_*.deb", quote(name)), format!("{name}_*.deb"))
    }
}

/// The package directory: the (patched) sources plus the generated `debian/`.
fn with_debian_dir(tree: State, spec: &Spec, distro: &Distro, pkg: &Package) -> State {
    let root = format!("/{}", pkg.source_dir());
    let mut files = FileActions::new()
        .mkdir(&format!("{root}/debian/source"), 0o755, true)
        .mkdir(&format!("{root}/debian/kiln"), 0o755, true);
    for f in debian_dir(spec, distro, pkg) {
        files = files.mkfile(
            &format!("{root}/{}", f.path),
            f.mode,
            f.contents.into_bytes(),
        );
    }
    tree.file(files, &format!("[kiln {}] write debian/", distro.key))
}

/// One generated file: path relative to the package directory, mode, contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path such as `debian/control`.
    pub path: String,
    /// Permission bits.
    pub mode: u32,
    /// Contents.
    pub contents: String,
}

/// Facts about the package that the generated files share.
#[derive(Debug, Clone)]
pub struct Package {
    /// Package name.
    pub name: String,
    /// Upstream version.
    pub upstream_version: String,
    /// Full Debian version: `<version>-<version id>u<revision>`.
    pub version: String,
    /// Changelog date, seconds since the epoch (SOURCE_DATE_EPOCH of the build).
    pub epoch: i64,
}

fn text(field: &Option<Located<String>>) -> &str {
    field.as_ref().map_or("", |f| f.value.trim())
}

/// A value for one line of a control file, changelog or copyright file: the spec's rules
/// refuse line breaks in such values; this keeps a line a line whatever reaches it (a control
/// character becomes a space, so no value can start a field of its own).
fn one_line(value: &str) -> String {
    value
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl Package {
    /// Derives the package facts; `source_date_epoch` is used when the spec has no changelog.
    pub fn new(spec: &Spec, distro: &Distro, source_date_epoch: Option<i64>) -> Package {
        let revision = match text(&spec.revision) {
            "" => "1",
            r => r,
        };
        let upstream_version = text(&spec.version).to_string();
        let newest = spec
            .changelog
            .iter()
            .filter_map(|e| date::parse_ymd(&e.date.value))
            .max();
        Package {
            name: text(&spec.name).to_string(),
            version: format!("{upstream_version}-{}u{revision}", distro.version_id),
            upstream_version,
            epoch: newest.or(source_date_epoch).unwrap_or(0),
        }
    }

    /// The directory the package is built in (`hello-2.10`).
    pub fn source_dir(&self) -> String {
        format!("{}-{}", self.name, self.upstream_version)
    }
}

/// Checks what Debian needs beyond the general spec rules: (message, position) pairs; an
/// unknown position means the whole file.
pub fn check(spec: &Spec) -> Vec<(String, Pos)> {
    let mut problems = Vec::new();
    let pos = |f: &Option<Located<String>>| f.as_ref().map(|f| f.pos).unwrap_or_default();
    let name = text(&spec.name);
    let valid_name = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    if spec.name.is_none() {
        problems.push(("name is required to build a package".into(), Pos::default()));
    } else if !valid_name {
        problems.push((
            format!("invalid Debian package name {name:?}: use lower-case letters, digits, '+', '-' and '.', at least 2 characters, starting with a letter or digit"),
            pos(&spec.name),
        ));
    }
    let v = text(&spec.version);
    if spec.version.is_none() {
        problems.push((
            "version is required to build a package".into(),
            Pos::default(),
        ));
    } else if !v.starts_with(|c: char| c.is_ascii_digit())
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c))
    {
        problems.push((
            format!("invalid Debian upstream version {v:?}: it must start with a digit and use only letters, digits, '.', '+' and '~'"),
            pos(&spec.version),
        ));
    }
    let r = text(&spec.revision);
    if !r
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c))
    {
        problems.push((
            format!("invalid revision {r:?}: use only letters, digits, '.', '+' and '~'"),
            pos(&spec.revision),
        ));
    }
    if text(&spec.packager).is_empty() {
        let pos = spec.packager.as_ref().map(|p| p.pos).unwrap_or_default();
        problems.push((
            "packager is required for Debian packages (e.g. packager: Jane Doe <jane@example.com>)"
                .into(),
            pos,
        ));
    }
    if text(&spec.description).is_empty() {
        problems.push((
            "description is required for Debian packages".into(),
            pos(&spec.description),
        ));
    }
    let deps = spec.dependencies.as_ref();
    let lists = [
        ("dependencies.build", deps.and_then(|d| d.build.as_ref())),
        (
            "dependencies.runtime",
            deps.and_then(|d| d.runtime.as_ref()),
        ),
        (
            "dependencies.recommends",
            deps.and_then(|d| d.recommends.as_ref()),
        ),
        ("dependencies.test", deps.and_then(|d| d.test.as_ref())),
        ("conflicts", spec.conflicts.as_ref()),
        ("replaces", spec.replaces.as_ref()),
        ("provides", spec.provides.as_ref()),
    ];
    for (field, list) in lists {
        for (name, c) in list.into_iter().flat_map(|l| &l.0) {
            let valid = name.len() >= 2
                && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && name
                    .split_once(':')
                    .map_or(&**name, |(n, _)| n)
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
            if !valid {
                problems.push((
                    format!("{field}: {:?} is not a Debian package name (lower-case letters, digits, '+', '-' and '.'; an optional :arch)", &**name),
                    Pos::default(),
                ));
            }
            for v in c.iter().flat_map(|c| &c.version) {
                let Some(parsed) = version::parse(&v.value) else {
                    continue;
                };
                if debian_op(parsed.op).is_none() {
                    problems.push((
                        format!("version constraint {:?} of {} cannot be written as a Debian relation: Debian has <<, <=, =, >= and >> but no !=", v.value, &**name),
                        v.pos,
                    ));
                } else if field == "provides" && parsed.op != version::Op::Eq {
                    problems.push((
                        format!("provides {} {:?}: a Debian Provides takes only an exact version (= {})", &**name, v.value, parsed.version),
                        v.pos,
                    ));
                }
            }
        }
    }
    if let Some(src) = spec.sources.get("debian") {
        problems.push(("a source named \"debian\" would collide with the generated debian/ directory; rename it".into(), src.pos));
    }
    problems
}

/// The whole generated `debian/` directory.
pub fn debian_dir(spec: &Spec, distro: &Distro, pkg: &Package) -> Vec<GeneratedFile> {
    let file = |path: String, mode: u32, contents: String| GeneratedFile {
        path,
        mode,
        contents,
    };
    let mut files = vec![
        file("debian/control".into(), 0o644, control(spec, distro)),
        file("debian/rules".into(), 0o755, rules(spec)),
        file(
            "debian/changelog".into(),
            0o644,
            changelog(spec, distro, pkg),
        ),
        file("debian/copyright".into(), 0o644, copyright(spec)),
        file("debian/source/format".into(), 0o644, "3.0 (quilt)\n".into()),
        file("debian/kiln/build.sh".into(), 0o755, build_script(spec)),
        file(
            "debian/kiln/install.sh".into(),
            0o755,
            install_script(spec, distro),
        ),
    ];
    if let Some(script) = fixperms_script(spec) {
        files.push(file("debian/kiln/fixperms.sh".into(), 0o755, script));
    }
    let links = links_file(spec);
    if !links.is_empty() {
        files.push(file(format!("debian/{}.links", pkg.name), 0o644, links));
    }
    if let Some(postinst) = postinst(spec) {
        files.push(file(
            format!("debian/{}.postinst", pkg.name),
            0o755,
            postinst,
        ));
    }
    files
}

/// A Debian relation for one dependency: `pkg (>= 1.0) [amd64]`, once per version constraint.
fn relation(name: &str, version: &[Located<String>], arch: &[String]) -> Vec<String> {
    let arch = if arch.is_empty() {
        String::new()
    } else {
        format!(" [{}]", arch.join(" "))
    };
    if version.is_empty() {
        return vec![format!("{name}{arch}")];
    }
    // Constraints are checked when the spec is read and for the target (see [`check`]): one
    // that does not parse, or that Debian cannot express, never reaches a relation.
    version
        .iter()
        .filter_map(|c| version::parse(&c.value))
        .filter_map(|c| Some(format!("{name} ({} {}){arch}", debian_op(c.op)?, c.version)))
        .collect()
}

/// A Debian relation operator; Debian has no `!=`.
fn debian_op(op: version::Op) -> Option<&'static str> {
    use version::Op;
    Some(match op {
        Op::Lt => "<<",
        Op::Le => "<=",
        Op::Eq => "=",
        Op::Ge => ">=",
        Op::Gt => ">>",
        Op::Ne => return None,
    })
}

/// Renders a dependency list as Debian relations.
pub fn relations(list: Option<&DependencyList>) -> Vec<String> {
    list.into_iter()
        .flat_map(|l| l.0.iter())
        .flat_map(|(name, c)| match &c {
            Some(c) => relation(name, &c.version, &c.arch),
            None => relation(name, &[], &[]),
        })
        .collect()
}

fn description_field(text: &str) -> String {
    let mut lines = text.trim().lines();
    let synopsis = lines.next().unwrap_or("").trim();
    let mut out = format!("Description: {synopsis}\n");
    let rest: Vec<&str> = lines.collect();
    let rest = if rest.iter().all(|l| l.trim().is_empty()) {
        vec![synopsis]
    } else {
        rest
    };
    for line in rest {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim() == "." {
            out.push_str(" .\n");
        } else {
            let _ = writeln!(out, " {line}");
        }
    }
    out
}

/// A maintainer as Debian wants it, `Name <email>`; a bare name gets an empty address
/// (`Name <>`), which dpkg accepts, so Dalec specs with `packager: Name` still build.
pub fn maintainer(who: &str) -> String {
    let who = who.trim();
    if who.contains('<') && who.ends_with('>') {
        who.to_string()
    } else {
        format!("{who} <>")
    }
}

fn artifacts(spec: &Spec) -> Option<&Artifacts> {
    spec.artifacts.as_ref()
}

fn has_users(spec: &Spec) -> bool {
    artifacts(spec).is_some_and(|a| !a.users.is_empty() || !a.groups.is_empty())
}

/// `debian/control`.
pub fn control(spec: &Spec, distro: &Distro) -> String {
    let deps = spec.dependencies.as_ref();
    let mut build_deps = vec![format!("debhelper-compat (= {})", distro.debhelper_compat)];
    build_deps.extend(relations(deps.and_then(|d| d.build.as_ref())));
    let mut runtime = Vec::new();
    if !artifacts(spec).is_some_and(|a| a.disable_auto_requires) {
        runtime.push("${shlibs:Depends}".to_string());
    }
    runtime.push("${misc:Depends}".to_string());
    if has_users(spec) {
        runtime.push("adduser".to_string());
    }
    runtime.extend(relations(deps.and_then(|d| d.runtime.as_ref())));
    let name = text(&spec.name);
    let mut out = String::new();
    let name = one_line(name);
    let _ = writeln!(out, "Source: {name}");
    out.push_str("Section: misc\nPriority: optional\n");
    let _ = writeln!(
        out,
        "Maintainer: {}",
        one_line(&maintainer(text(&spec.packager)))
    );
    out.push_str("Rules-Requires-Root: no\n");
    let _ = writeln!(out, "Build-Depends: {}", build_deps.join(", "));
    out.push_str("Standards-Version: 4.6.2\n");
    if let Some(w) = spec.website.as_deref().filter(|w| !w.trim().is_empty()) {
        let _ = writeln!(out, "Homepage: {}", one_line(w));
    }
    out.push('\n');
    let _ = writeln!(out, "Package: {name}");
    let _ = writeln!(
        out,
        "Architecture: {}",
        if spec.noarch { "all" } else { "any" }
    );
    let _ = writeln!(out, "Depends: {}", runtime.join(", "));
    for (field, list) in [
        ("Recommends", deps.and_then(|d| d.recommends.as_ref())),
        ("Conflicts", spec.conflicts.as_ref()),
        ("Replaces", spec.replaces.as_ref()),
        ("Provides", spec.provides.as_ref()),
    ] {
        let rel = relations(list);
        if !rel.is_empty() {
            let _ = writeln!(out, "{field}: {}", rel.join(", "));
        }
    }
    out.push_str(&description_field(text(&spec.description)));
    out
}

/// The systemd units of the spec as (installed name, enable, start).
fn systemd_units(spec: &Spec) -> Vec<(String, bool, bool)> {
    let Some(sd) = artifacts(spec).and_then(|a| a.systemd.as_ref()) else {
        return vec![];
    };
    sd.units
        .iter()
        .map(|(path, u)| {
            let name = SystemdUnit::installed(u.as_ref(), path).to_string();
            let u = u.clone().unwrap_or_default();
            (name, u.enable, u.start)
        })
        .collect()
}

fn basename(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

/// `debian/rules`: debhelper with kiln's build and install scripts.
pub fn rules(spec: &Spec) -> String {
    let mut out = "#!/usr/bin/make -f\n\
     # Generated by kiln.\n\
     %:\n\tdh $@\n\n\
     override_dh_auto_configure:\n\n\
     override_dh_auto_build:\n\tdebian/kiln/build.sh\n\n\
     override_dh_auto_test:\n\n\
     override_dh_auto_install:\n\tdebian/kiln/install.sh\n\n\
     override_dh_auto_clean:\n\n\
     override_dh_dwz:\n"
        .to_string();
    if artifacts(spec).is_some_and(|a| a.disable_strip) {
        out.push_str("\noverride_dh_strip:\n");
    }
    if fixperms_script(spec).is_some() {
        // dh_fixperms resets modes to debhelper's defaults; the spec's own come back after.
        out.push_str("\noverride_dh_fixperms:\n\tdh_fixperms\n\tdebian/kiln/fixperms.sh\n");
    }
    let units = systemd_units(spec);
    if !units.is_empty() {
        out.push_str("\noverride_dh_installsystemd:\n");
        let mut groups: BTreeMap<(bool, bool), Vec<String>> = BTreeMap::new();
        for (name, enable, start) in units {
            groups.entry((enable, start)).or_default().push(name);
        }
        for ((enable, start), names) in groups {
            let mut flags = String::new();
            if !enable {
                flags.push_str(" --no-enable");
            }
            if !start {
                flags.push_str(" --no-start");
            }
            // Unit names are checked when the spec is read; escaping for make and the shell
            // keeps a recipe line inert whatever reaches it.
            let names: Vec<String> = names
                .iter()
                .filter_map(|n| make_escape(&quote(n)).ok())
                .collect();
            let _ = writeln!(out, "\tdh_installsystemd{flags} {}", names.join(" "));
        }
    }
    out
}

/// `debian/changelog`: one entry for this build, from the newest spec changelog entry.
pub fn changelog(spec: &Spec, distro: &Distro, pkg: &Package) -> String {
    let newest = spec
        .changelog
        .iter()
        .max_by_key(|e| date::parse_ymd(&e.date.value).unwrap_or(i64::MIN));
    let author = newest
        .map(|e| e.author.trim())
        .unwrap_or_else(|| text(&spec.packager));
    let changes: Vec<String> = match newest {
        Some(e) if !e.changes.is_empty() => e
            .changes
            .iter()
            .map(|c| c.trim().replace('\n', "\n    "))
            .collect(),
        _ => vec![format!(
            "Packaged {} {} with kiln.",
            pkg.name, pkg.upstream_version
        )],
    };
    let mut out = format!(
        "{} ({}) {}; urgency=medium\n\n",
        pkg.name, pkg.version, distro.codename
    );
    for c in changes {
        let _ = writeln!(out, "  * {c}");
    }
    let _ = writeln!(
        out,
        "\n -- {}  {}",
        one_line(&maintainer(author)),
        date::rfc2822(pkg.epoch)
    );
    out
}

/// `debian/copyright` in the machine-readable format.
pub fn copyright(spec: &Spec) -> String {
    let mut out = String::from(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n",
    );
    let _ = writeln!(out, "Upstream-Name: {}", one_line(text(&spec.name)));
    if let Some(w) = spec.website.as_deref().filter(|w| !w.trim().is_empty()) {
        let _ = writeln!(out, "Source: {}", one_line(w));
    }
    let holder = spec
        .vendor
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| text(&spec.packager));
    let license = spec
        .license
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .unwrap_or("unknown");
    let _ = writeln!(
        out,
        "\nFiles: *\nCopyright: {}\nLicense: {}",
        one_line(holder),
        one_line(license)
    );
    out
}

fn exports(script: &mut Script, env: &EnvMap, indent: &str) {
    for (k, v) in env {
        script.export(indent, k, &v.value);
    }
}

/// `debian/kiln/build.sh`: the spec's build steps, each in a subshell, in the build root.
pub fn build_script(spec: &Spec) -> String {
    let mut script =
        Script::new("#!/usr/bin/env bash\n# Generated by kiln: the spec's build steps.\nset -ex\n");
    script.raw(&crate::build::generators::build_env(spec));
    let Some(build) = &spec.build else {
        return script.finish();
    };
    exports(&mut script, &build.env, "");
    for (i, step) in build.steps.iter().enumerate() {
        script
            .raw("\n")
            .comment(&format!(
                "step {} (spec line {})",
                i + 1,
                step.command.pos.line
            ))
            .raw("(");
        exports(&mut script, &step.env, "  ");
        script.spec_command(&step.command.value).raw(")");
    }
    script.finish()
}

const INSTALL_PRELUDE: &str = r#"#!/usr/bin/env bash
# Generated by kiln: copies the spec's artifacts into the package tree.
set -euo pipefail

# kiln_install DIR PATTERN NAME MODE: copy what PATTERN matches into DIR (under the package tree).
kiln_install() {
  local dir="$PKG/$1" pattern="$2" name="$3" mode="$4" f dest
  local IFS=$'\n'
  shopt -s nullglob
  # shellcheck disable=SC2206 # the pattern is a glob on purpose
  local matches=( $pattern )
  shopt -u nullglob
  if [ "${#matches[@]}" -eq 0 ]; then
    echo "kiln: artifact '$pattern' not found in the build root" >&2
    exit 1
  fi
  mkdir -p "$dir"
  for f in "${matches[@]}"; do
    dest="$dir/${name:-$(basename "$f")}"
    cp -a "$f" "$dest"
    if [ -n "$mode" ]; then chmod "$mode" "$dest"; fi
  done
}

# kiln_install_man PATTERN SUBPATH NAME MODE: manual pages, by section (hello.1 -> man1).
kiln_install_man() {
  local pattern="$1" subpath="$2" name="$3" mode="$4" f base section
  local IFS=$'\n'
  shopt -s nullglob
  # shellcheck disable=SC2206
  local matches=( $pattern )
  shopt -u nullglob
  if [ "${#matches[@]}" -eq 0 ]; then
    echo "kiln: manpage '$pattern' not found in the build root" >&2
    exit 1
  fi
  for f in "${matches[@]}"; do
    base="${name:-$(basename "$f")}"
    section="${base%.gz}"
    section="${section##*.}"
    kiln_install "usr/share/man/${subpath:-man$section}" "$f" "$base" "$mode"
  done
}
"#;

/// Install directories of the artifact kinds that are plain copies, in install order.
fn plain_kinds<'a>(a: &'a Artifacts, doc_dir: &'a str) -> [(&'a str, &'a ArtifactMap); 8] {
    [
        ("usr/bin", &a.binaries),
        ("usr/libexec", &a.libexec),
        ("usr/share", &a.data_dirs),
        ("etc", &a.config_files),
        (doc_dir, &a.docs),
        (doc_dir, &a.licenses),
        ("usr/lib", &a.libs),
        ("usr/include", &a.headers),
    ]
}

/// Every plain artifact as (build-root path, config, the quoted `DIR PATTERN NAME` words that
/// place it), in install order.
fn plain_artifacts<'a>(
    a: &'a Artifacts,
    doc_dir: &'a str,
) -> impl Iterator<Item = (&'a str, Option<&'a ArtifactConfig>, String)> + 'a {
    plain_kinds(a, doc_dir).into_iter().flat_map(|(dir, map)| {
        map.iter().map(move |(path, cfg)| {
            let cfg = cfg.value.as_ref();
            let name = cfg
                .and_then(|c| c.name.as_ref())
                .map_or("", |n| n.value.as_str());
            let placed = format!(
                "{} {} {}",
                quote(&join(dir, subpath(cfg))),
                quote(path),
                quote(name)
            );
            (path.as_str(), cfg, placed)
        })
    })
}

fn subpath(cfg: Option<&ArtifactConfig>) -> &str {
    cfg.and_then(|c| c.subpath.as_ref())
        .map_or("", |s| s.value.trim_matches('/'))
}

fn join(dir: &str, sub: &str) -> String {
    if sub.is_empty() {
        dir.to_string()
    } else {
        format!("{dir}/{sub}")
    }
}

/// `debian/kiln/install.sh`: copies every artifact to its place in `debian/<name>/`.
pub fn install_script(spec: &Spec, distro: &Distro) -> String {
    let mut out = INSTALL_PRELUDE.to_string();
    let name = text(&spec.name);
    let _ = writeln!(out, "\nPKG={}", quote(&format!("debian/{name}")));
    let Some(a) = artifacts(spec) else { return out };
    let doc_dir = format!("usr/share/doc/{name}");
    for (_, cfg, placed) in plain_artifacts(a, &doc_dir) {
        let _ = writeln!(out, "kiln_install {placed} {}", quote(&mode_arg(cfg)));
    }
    for (path, cfg) in &a.manpages {
        let cfg = cfg.value.as_ref();
        let _ = writeln!(
            out,
            "kiln_install_man {} {} {} {}",
            quote(path),
            quote(subpath(cfg)),
            quote(
                cfg.and_then(|c| c.name.as_ref())
                    .map_or("", |n| n.value.as_str())
            ),
            quote(&mode_arg(cfg))
        );
    }
    if let Some(sd) = &a.systemd {
        let unit_dir = distro.systemd_unit_dir;
        for (path, unit) in &sd.units {
            let installed = SystemdUnit::installed(unit.as_ref(), path);
            let _ = writeln!(
                out,
                "kiln_install {unit_dir} {} {} ''",
                quote(path),
                quote(installed)
            );
        }
        for (path, dropin) in &sd.dropins {
            let Some(d) = &dropin else { continue };
            let installed = installed_name(path, d.name.as_deref());
            let dir = format!("{unit_dir}/{}.d", d.unit.value);
            let _ = writeln!(
                out,
                "kiln_install {} {} {} ''",
                quote(&dir),
                quote(path),
                quote(installed)
            );
        }
    }
    if let Some(dirs) = &a.create_directories {
        for (base, map) in [("etc", &dirs.config), ("var/lib", &dirs.state)] {
            for dir in map.keys() {
                let _ = writeln!(
                    out,
                    "mkdir -p \"$PKG\"/{}",
                    quote(&format!("{base}/{}", dir.trim_matches('/')))
                );
            }
        }
    }
    out
}

/// The mode an artifact must keep in the package: the spec's `permissions`, else those of the
/// inline source file it is (`<source>` or `<source>/<file>`), if any.
fn kept_mode(spec: &Spec, path: &str, cfg: Option<&ArtifactConfig>) -> Option<u32> {
    if let Some(p) = cfg.and_then(|c| c.permissions.as_ref()) {
        return Some(p.value.0);
    }
    let (key, rest) = path.split_once('/').unwrap_or((path, ""));
    let inline = spec.sources.get(key)?.value.inline.as_ref()?;
    let file = match (rest, &inline.file, &inline.dir) {
        ("", Some(f), _) => f,
        (name, None, Some(d)) if !name.is_empty() => d.files.get(name)?,
        _ => return None,
    };
    file.permissions.as_ref().map(|p| p.value.0)
}

/// `debian/kiln/fixperms.sh`, when artifacts have modes of their own: run after dh_fixperms,
/// it gives them back the modes dh_fixperms reset to debhelper's defaults (a 0700 binary, a
/// 0600 config file), as Dalec does.
pub fn fixperms_script(spec: &Spec) -> Option<String> {
    let a = artifacts(spec)?;
    let name = text(&spec.name);
    let doc_dir = format!("usr/share/doc/{name}");
    let mut lines = String::new();
    for (path, cfg, placed) in plain_artifacts(a, &doc_dir) {
        if let Some(mode) = kept_mode(spec, path, cfg) {
            let _ = writeln!(lines, "kiln_mode {placed} {mode:o}");
        }
    }
    if lines.is_empty() {
        return None;
    }
    Some(format!(
        "{FIXPERMS_PRELUDE}\nPKG={}\n{lines}",
        quote(&format!("debian/{name}"))
    ))
}

const FIXPERMS_PRELUDE: &str = r#"#!/usr/bin/env bash
# Generated by kiln: the spec's file modes, applied again after dh_fixperms.
set -euo pipefail

# kiln_mode DIR PATTERN NAME MODE: chmod what kiln_install put into DIR for PATTERN.
kiln_mode() {
  local dir="$PKG/$1" pattern="$2" name="$3" mode="$4" f
  local IFS=$'\n'
  shopt -s nullglob
  # shellcheck disable=SC2206 # the pattern is a glob on purpose
  local matches=( $pattern )
  shopt -u nullglob
  for f in "${matches[@]}"; do
    chmod "$mode" "$dir/${name:-$(basename "$f")}"
  done
}
"#;

fn mode_arg(cfg: Option<&ArtifactConfig>) -> String {
    cfg.and_then(|c| c.permissions.as_ref())
        .map(|p| format!("{:o}", p.value.0))
        .unwrap_or_default()
}

/// `debian/<name>.links` for dh_link: `target link` per line, relative to the root.
pub fn links_file(spec: &Spec) -> String {
    let mut out = String::new();
    for l in artifacts(spec)
        .map(|a| a.links.as_slice())
        .unwrap_or_default()
    {
        let _ = writeln!(
            out,
            "{} {}",
            l.source.value.trim_start_matches('/'),
            l.dest.value.trim_start_matches('/')
        );
    }
    out
}

/// `debian/<name>.postinst` when users, groups, ownership or directory modes need it.
pub fn postinst(spec: &Spec) -> Option<String> {
    let a = artifacts(spec)?;
    let mut body = String::new();
    for g in &a.groups {
        let n = quote(&g.name.value);
        let _ = writeln!(
            body,
            "  getent group {n} >/dev/null || addgroup --system --quiet {n}"
        );
    }
    for u in &a.users {
        let n = quote(&u.name.value);
        let _ = writeln!(
            body,
            "  getent passwd {n} >/dev/null || adduser --system --group --no-create-home --quiet {n}"
        );
    }
    let name = text(&spec.name);
    let doc_dir = format!("usr/share/doc/{name}");
    let owner = |user: &Option<String>, group: &Option<String>| match (user, group) {
        (Some(u), Some(g)) => Some(format!("{u}:{g}")),
        (Some(u), None) => Some(u.clone()),
        (None, Some(g)) => Some(format!(":{g}")),
        (None, None) => None,
    };
    for (dir, map) in plain_kinds(a, &doc_dir) {
        for (path, cfg) in map {
            let Some(c) = &cfg.value else { continue };
            if let Some(o) = owner(&c.user, &c.group) {
                let installed = format!(
                    "/{}/{}",
                    join(dir, subpath(Some(c))),
                    c.name.as_ref().map_or(basename(path), |n| n.value.as_str())
                );
                let _ = writeln!(body, "  chown {} {}", quote(&o), quote(&installed));
            }
        }
    }
    if let Some(dirs) = &a.create_directories {
        for (base, map) in [("etc", &dirs.config), ("var/lib", &dirs.state)] {
            for (dir, cfg) in map {
                let Some(c) = &cfg else { continue };
                let path = quote(&format!("/{base}/{}", dir.trim_matches('/')));
                if let Some(o) = owner(&c.user, &c.group) {
                    let _ = writeln!(body, "  chown {} {path}", quote(&o));
                }
                if let Some(m) = &c.mode {
                    let _ = writeln!(body, "  chmod {:o} {path}", m.value.0);
                }
            }
        }
    }
    if body.is_empty() {
        return None;
    }
    Some(format!(
        "#!/bin/sh\n# Generated by kiln.\nset -e\n\nif [ \"$1\" = configure ]; then\n{body}fi\n\n#DEBHELPER#\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distro;
    use crate::spec::load;

    const SPEC: &str = r#"name: hello
version: "2.10"
revision: 2
packager: Kiln Team <kiln@example.com>
license: GPL-3.0-or-later
website: https://www.gnu.org/software/hello/
description: |
  The GNU Hello program
  prints a friendly greeting.

  It is an example.
dependencies:
  build:
    gcc: {version: [">= 10", "<< 20"], arch: [amd64]}
    make:
  runtime: [bash]
build:
  env:
    CFLAGS: -O2 'x'
  steps:
    - command: ./configure && make
      env: {V: 1}
artifacts:
  binaries:
    hello-2.10/hello: {permissions: 0755}
  manpages:
    hello-2.10/doc/hello.1:
  docs:
    hello-2.10/NEWS: {subpath: news}
changelog:
  - date: 2024-01-02
    author: A <a@b.c>
    changes: [old]
  - date: 2025-03-04
    author: B <b@b.c>
    changes: [newer]
"#;

    fn fixture() -> (Spec, Package) {
        let spec = load("spec.yml", SPEC).unwrap();
        let pkg = Package::new(&spec, distro::find("bookworm").unwrap(), None);
        (spec, pkg)
    }

    #[test]
    fn version_follows_dalec() {
        let (_, pkg) = fixture();
        assert_eq!(pkg.version, "2.10-debian12u2");
        assert_eq!(pkg.source_dir(), "hello-2.10");
    }

    #[test]
    fn control_golden() {
        let (spec, _) = fixture();
        let expected = "Source: hello\nSection: misc\nPriority: optional\nMaintainer: Kiln Team <kiln@example.com>\n\
Rules-Requires-Root: no\nBuild-Depends: debhelper-compat (= 13), gcc (>= 10) [amd64], gcc (<< 20) [amd64], make\n\
Standards-Version: 4.6.2\nHomepage: https://www.gnu.org/software/hello/\n\nPackage: hello\nArchitecture: any\n\
Depends: ${shlibs:Depends}, ${misc:Depends}, bash\nDescription: The GNU Hello program\n prints a friendly greeting.\n .\n It is an example.\n";
        assert_eq!(control(&spec, distro::find("bookworm").unwrap()), expected);
    }

    #[test]
    fn changelog_uses_the_newest_entry() {
        let (spec, pkg) = fixture();
        let text = changelog(&spec, distro::find("bookworm").unwrap(), &pkg);
        assert_eq!(
            text,
            "hello (2.10-debian12u2) bookworm; urgency=medium\n\n  * newer\n\n -- B <b@b.c>  Tue, 04 Mar 2025 00:00:00 +0000\n"
        );
    }

    #[test]
    fn scripts_quote_values() {
        let (spec, _) = fixture();
        let build = build_script(&spec);
        assert!(
            build.contains("export CFLAGS='-O2 '\\''x'\\'''\n"),
            "{build}"
        );
        assert!(
            build.contains("(\n  export V=1\n./configure && make\n)\n"),
            "{build}"
        );
        let install = install_script(&spec, distro::find("bookworm").unwrap());
        assert!(
            install.contains("kiln_install usr/bin hello-2.10/hello '' 755\n"),
            "{install}"
        );
        assert!(
            install.contains("kiln_install usr/share/doc/hello/news hello-2.10/NEWS '' ''\n"),
            "{install}"
        );
        assert!(
            install.contains("kiln_install_man hello-2.10/doc/hello.1 '' '' ''\n"),
            "{install}"
        );
    }

    #[test]
    fn debian_checks_name_the_problem() {
        let spec = load("spec.yml", "name: Hello\nversion: v1\n").unwrap();
        let problems: Vec<String> = check(&spec).into_iter().map(|p| p.0).collect();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("invalid Debian package name \"Hello\""));
        assert!(problems[1].starts_with("invalid Debian upstream version \"v1\""));
        assert!(problems[2].starts_with("packager is required"));
        assert!(problems[3].starts_with("description is required"));
    }

    #[test]
    fn units_go_where_the_release_looks_and_empty_names_mean_the_file() {
        let text = "name: u\nartifacts:\n  systemd:\n    units:\n      src/a.service: {name: \"\", enable: true}\n      src/b.socket: {name: c.socket}\n";
        let spec = load("spec.yml", text).unwrap();
        let bookworm = install_script(&spec, distro::find("bookworm").unwrap());
        assert!(
            bookworm.contains("kiln_install lib/systemd/system src/a.service a.service ''\n"),
            "{bookworm}"
        );
        let trixie = install_script(&spec, distro::find("trixie").unwrap());
        assert!(
            trixie.contains("kiln_install usr/lib/systemd/system src/b.socket c.socket ''\n"),
            "{trixie}"
        );
        let rules = rules(&spec);
        assert!(
            rules.contains("\tdh_installsystemd --no-start a.service\n"),
            "{rules}"
        );
        assert!(
            rules.contains("\tdh_installsystemd --no-enable --no-start c.socket\n"),
            "{rules}"
        );
    }

    #[test]
    fn modes_come_back_after_dh_fixperms() {
        let text = "name: m\nsources:\n  src:\n    inline:\n      dir:\n        files:\n          s.conf: {contents: x, permissions: 0600}\n          t: {contents: y}\nartifacts:\n  binaries:\n    src/t: {permissions: 0700}\n  configFiles:\n    src/s.conf:\n";
        let spec = load("spec.yml", text).unwrap();
        let rules = rules(&spec);
        assert!(
            rules.contains("override_dh_fixperms:\n\tdh_fixperms\n\tdebian/kiln/fixperms.sh\n"),
            "{rules}"
        );
        let script = fixperms_script(&spec).unwrap();
        assert!(
            script.contains("kiln_mode usr/bin src/t '' 700\n"),
            "{script}"
        );
        assert!(
            script.contains("kiln_mode etc src/s.conf '' 600\n"),
            "{script}"
        );
        // No modes of its own: no override, the LLB of such specs does not move.
        let plain = "name: p\nartifacts:\n  binaries:\n    out/p:\n";
        assert!(fixperms_script(&load("spec.yml", plain).unwrap()).is_none());
        assert!(!rules_of(plain).contains("dh_fixperms"));
    }

    fn rules_of(text: &str) -> String {
        rules(&load("spec.yml", text).unwrap())
    }

    #[test]
    fn debian_refuses_what_a_relation_cannot_say() {
        let text = "name: ab\nversion: \"1\"\npackager: a <a@b.c>\ndescription: d\ndependencies:\n  runtime:\n    libfoo: {version: [\"!= 1.2\"]}\n    Bad_Name:\nprovides:\n  virt: {version: [\">= 2\"]}\n";
        let spec = load("spec.yml", text).unwrap();
        let problems = check(&spec);
        let messages: Vec<&str> = problems.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(problems.len(), 3, "{messages:?}");
        assert!(
            messages[0]
                .starts_with("dependencies.runtime: \"Bad_Name\" is not a Debian package name"),
            "{messages:?}"
        );
        assert!(
            messages[1].starts_with(
                "version constraint \"!= 1.2\" of libfoo cannot be written as a Debian relation"
            ),
            "{messages:?}"
        );
        assert_eq!(
            problems[1].1,
            Pos {
                line: 7,
                column: 24
            }
        );
        assert!(
            messages[2].starts_with("provides virt \">= 2\""),
            "{messages:?}"
        );
        // Never rendered, even if it got this far.
        assert_eq!(
            relations(spec.dependencies.as_ref().and_then(|d| d.runtime.as_ref())),
            vec!["Bad_Name".to_string()]
        );
    }

    #[test]
    fn control_values_stay_on_their_line() {
        assert_eq!(
            one_line(" A <a@b.c>\nEssential: yes "),
            "A <a@b.c> Essential: yes"
        );
    }
}
