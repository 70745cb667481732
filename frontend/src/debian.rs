//! The generated `debian/` directory: pure text functions of the spec and the distro.
//!
//! The package is built the Debian way: `dpkg-buildpackage -b` runs `debian/rules`, whose
//! build and install steps are kiln's generated scripts; debhelper does the rest (strip,
//! shlibs, compression, md5sums, permissions).

use crate::date;
use crate::distro::Distro;
use crate::shell::quote;
use crate::spec::{ArtifactConfig, ArtifactMap, DependencyList, Located, Spec};
use std::collections::BTreeMap;
use std::fmt::Write;

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

impl Package {
    /// Derives the package facts; `source_date_epoch` is used when the spec has no changelog.
    pub fn new(spec: &Spec, distro: &Distro, source_date_epoch: Option<i64>) -> Package {
        let revision = spec
            .revision
            .as_ref()
            .map(|r| r.value.trim().to_string())
            .filter(|r| !r.is_empty());
        let revision = revision.unwrap_or_else(|| "1".to_string());
        let upstream_version = spec.version.value.trim().to_string();
        let newest = spec
            .changelog
            .iter()
            .filter_map(|e| date::parse_ymd(&e.value.date.value))
            .max();
        Package {
            name: spec.name.value.clone(),
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

/// Checks what Debian needs beyond the general spec rules; messages name the field.
pub fn check(spec: &Spec) -> Vec<(String, Option<serde_saphyr::Location>)> {
    let mut problems = Vec::new();
    let name = &spec.name.value;
    let valid_name = name.len() >= 2
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    if !valid_name {
        problems.push((
            format!("invalid Debian package name {name:?}: use lower-case letters, digits, '+', '-' and '.', at least 2 characters, starting with a letter or digit"),
            Some(spec.name.referenced),
        ));
    }
    let v = &spec.version.value;
    if !v.trim().starts_with(|c: char| c.is_ascii_digit())
        || !v
            .trim()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c))
    {
        problems.push((
            format!("invalid Debian upstream version {v:?}: it must start with a digit and use only letters, digits, '.', '+' and '~'"),
            Some(spec.version.referenced),
        ));
    }
    if let Some(r) = &spec.revision
        && !r
            .value
            .trim()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c))
    {
        problems.push((
            format!(
                "invalid revision {:?}: use only letters, digits, '.', '+' and '~'",
                r.value
            ),
            Some(r.referenced),
        ));
    }
    match &spec.packager {
        None => problems.push((
            "packager is required for Debian packages (e.g. packager: Jane Doe <jane@example.com>)"
                .into(),
            None,
        )),
        Some(p) if !(p.value.contains('<') && p.value.trim_end().ends_with('>')) => {
            problems.push((
                format!(
                    "packager {:?} must be `Name <email>` for Debian packages",
                    p.value
                ),
                Some(p.referenced),
            ))
        }
        Some(_) => {}
    }
    if spec
        .description
        .as_ref()
        .is_none_or(|d| d.value.trim().is_empty())
    {
        problems.push(("description is required for Debian packages".into(), None));
    }
    for name in spec.sources.keys() {
        if name == "debian" {
            problems.push(("a source named \"debian\" would collide with the generated debian/ directory; rename it".into(), Some(spec.sources[name].referenced)));
        }
    }
    problems
}

/// The whole generated `debian/` directory.
pub fn debian_dir(spec: &Spec, distro: &Distro, pkg: &Package) -> Vec<GeneratedFile> {
    let file = |path: &str, mode: u32, contents: String| GeneratedFile {
        path: path.into(),
        mode,
        contents,
    };
    vec![
        file("debian/control", 0o644, control(spec, distro)),
        file("debian/rules", 0o755, rules()),
        file("debian/changelog", 0o644, changelog(spec, distro, pkg)),
        file("debian/copyright", 0o644, copyright(spec)),
        file("debian/source/format", 0o644, "3.0 (quilt)\n".into()),
        file("debian/kiln/build.sh", 0o755, build_script(spec)),
        file("debian/kiln/install.sh", 0o755, install_script(spec)),
    ]
}

/// A Debian relation for one dependency: `pkg (>= 1.0) [amd64]`, once per version constraint.
fn relation(name: &str, version: &[String], arch: &[String]) -> Vec<String> {
    let arch = if arch.is_empty() {
        String::new()
    } else {
        format!(" [{}]", arch.join(" "))
    };
    if version.is_empty() {
        return vec![format!("{name}{arch}")];
    }
    version
        .iter()
        .map(|c| {
            let c = c.trim();
            let split = c.find(|ch: char| !"<>=!".contains(ch)).unwrap_or(c.len());
            let (op, ver) = c.split_at(split);
            let op = match op {
                "" | "==" | "=" => "=",
                ">" => ">>",
                "<" => "<<",
                other => other,
            };
            format!("{name} ({op} {}){arch}", ver.trim())
        })
        .collect()
}

/// Renders a dependency list as a comma-separated Debian relation field.
pub fn relations(list: &DependencyList) -> Vec<String> {
    list.0
        .iter()
        .flat_map(|(name, c)| match &c.value {
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
        if line.trim().is_empty() {
            out.push_str(" .\n");
        } else {
            let _ = writeln!(out, " {line}");
        }
    }
    out
}

/// `debian/control`.
pub fn control(spec: &Spec, distro: &Distro) -> String {
    let deps = spec.dependencies.as_ref();
    let mut build_deps = vec![format!("debhelper-compat (= {})", distro.debhelper_compat)];
    build_deps.extend(deps.map(|d| relations(&d.build)).unwrap_or_default());
    let mut runtime = vec![
        "${shlibs:Depends}".to_string(),
        "${misc:Depends}".to_string(),
    ];
    runtime.extend(deps.map(|d| relations(&d.runtime)).unwrap_or_default());
    let maintainer = spec
        .packager
        .as_ref()
        .map(|p| p.value.trim().to_string())
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(out, "Source: {}", spec.name.value);
    out.push_str("Section: misc\nPriority: optional\n");
    let _ = writeln!(out, "Maintainer: {maintainer}");
    out.push_str("Rules-Requires-Root: no\n");
    let _ = writeln!(out, "Build-Depends: {}", build_deps.join(", "));
    out.push_str("Standards-Version: 4.6.2\n");
    if let Some(w) = spec.website.as_deref().filter(|w| !w.trim().is_empty()) {
        let _ = writeln!(out, "Homepage: {}", w.trim());
    }
    out.push('\n');
    let _ = writeln!(out, "Package: {}", spec.name.value);
    let _ = writeln!(
        out,
        "Architecture: {}",
        if spec.noarch { "all" } else { "any" }
    );
    let _ = writeln!(out, "Depends: {}", runtime.join(", "));
    out.push_str(&description_field(
        spec.description.as_ref().map_or("", |d| d.value.as_str()),
    ));
    out
}

/// `debian/rules`: debhelper with kiln's build and install scripts.
pub fn rules() -> String {
    "#!/usr/bin/make -f\n\
     # Generated by kiln.\n\
     %:\n\tdh $@\n\n\
     override_dh_auto_configure:\n\n\
     override_dh_auto_build:\n\tdebian/kiln/build.sh\n\n\
     override_dh_auto_test:\n\n\
     override_dh_auto_install:\n\tdebian/kiln/install.sh\n\n\
     override_dh_auto_clean:\n\n\
     override_dh_dwz:\n"
        .to_string()
}

/// `debian/changelog`: one entry for this build, from the newest spec changelog entry.
pub fn changelog(spec: &Spec, distro: &Distro, pkg: &Package) -> String {
    let newest = spec
        .changelog
        .iter()
        .max_by_key(|e| date::parse_ymd(&e.value.date.value).unwrap_or(i64::MIN))
        .map(|e| &e.value);
    let author = newest
        .map(|e| e.author.trim().to_string())
        .or_else(|| spec.packager.as_ref().map(|p| p.value.trim().to_string()))
        .unwrap_or_default();
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
    let _ = writeln!(out, "\n -- {author}  {}", date::rfc2822(pkg.epoch));
    out
}

/// `debian/copyright` in the machine-readable format.
pub fn copyright(spec: &Spec) -> String {
    let mut out = String::from(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n",
    );
    let _ = writeln!(out, "Upstream-Name: {}", spec.name.value);
    if let Some(w) = spec.website.as_deref().filter(|w| !w.trim().is_empty()) {
        let _ = writeln!(out, "Source: {}", w.trim());
    }
    let holder = spec
        .vendor
        .as_deref()
        .or(spec.packager.as_ref().map(|p| p.value.as_str()))
        .unwrap_or("unknown");
    let _ = writeln!(
        out,
        "\nFiles: *\nCopyright: {}\nLicense: {}",
        holder.trim(),
        spec.license.as_deref().unwrap_or("unknown").trim()
    );
    out
}

fn exports(out: &mut String, env: &BTreeMap<String, Located<String>>, indent: &str) {
    for (k, v) in env {
        let _ = writeln!(out, "{indent}export {k}={}", quote(&v.value));
    }
}

/// `debian/kiln/build.sh`: the spec's build steps, each in a subshell, in the build root.
pub fn build_script(spec: &Spec) -> String {
    let mut out = String::from(
        "#!/usr/bin/env bash\n# Generated by kiln: the spec's build steps.\nset -ex\n",
    );
    let Some(build) = &spec.build else { return out };
    exports(&mut out, &build.env, "");
    for (i, step) in build.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n# step {} (spec line {})\n(",
            i + 1,
            step.referenced.line()
        );
        exports(&mut out, &step.value.env, "  ");
        out.push_str(step.value.command.trim_end());
        out.push_str("\n)\n");
    }
    out
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

/// `debian/kiln/install.sh`: copies every artifact to its place in `debian/<name>/`.
pub fn install_script(spec: &Spec) -> String {
    let mut out = INSTALL_PRELUDE.to_string();
    let _ = writeln!(
        out,
        "\nPKG={}",
        quote(&format!("debian/{}", spec.name.value))
    );
    let Some(a) = &spec.artifacts else { return out };
    let doc_dir = format!("usr/share/doc/{}", spec.name.value);
    let kinds: [(&str, &ArtifactMap); 3] = [
        ("usr/bin", &a.binaries),
        (&doc_dir, &a.docs),
        (&doc_dir, &a.licenses),
    ];
    for (dir, map) in kinds {
        for (path, cfg) in map {
            let cfg = cfg.value.as_ref();
            let sub = cfg
                .and_then(|c| c.subpath.as_deref())
                .unwrap_or("")
                .trim_matches('/');
            let dir = if sub.is_empty() {
                dir.to_string()
            } else {
                format!("{dir}/{sub}")
            };
            let _ = writeln!(
                out,
                "kiln_install {} {} {} {}",
                quote(&dir),
                quote(path),
                quote(cfg.and_then(|c| c.name.as_deref()).unwrap_or("")),
                quote(&mode_arg(cfg))
            );
        }
    }
    for (path, cfg) in &a.manpages {
        let cfg = cfg.value.as_ref();
        let _ = writeln!(
            out,
            "kiln_install_man {} {} {} {}",
            quote(path),
            quote(
                cfg.and_then(|c| c.subpath.as_deref())
                    .unwrap_or("")
                    .trim_matches('/')
            ),
            quote(cfg.and_then(|c| c.name.as_deref()).unwrap_or("")),
            quote(&mode_arg(cfg))
        );
    }
    out
}

fn mode_arg(cfg: Option<&ArtifactConfig>) -> String {
    cfg.and_then(|c| c.permissions.as_ref())
        .and_then(|p| crate::spec::parse_mode(&p.value))
        .map(|m| format!("{m:o}"))
        .unwrap_or_default()
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
        let install = install_script(&spec);
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
        assert!(problems[0].starts_with("invalid Debian package name \"Hello\""));
        assert!(problems[1].starts_with("invalid Debian upstream version \"v1\""));
        assert!(problems[2].starts_with("packager is required"));
        assert!(problems[3].starts_with("description is required"));
    }
}
