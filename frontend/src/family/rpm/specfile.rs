//! The generated `.spec` file: a pure text function of the spec, the distro and the install
//! plan (the same plan the Debian family renders as `debian/`).
//!
//! Sources are the spec's as fetched (a directory as `<key>.tar.gz`, a file as it is, each
//! with a comment saying where it came from), what the generators fetched
//! (`kiln-deps.tar.gz`) and one patch with the spec's patches and the generators' edits
//! (`kiln-changes.patch`); `%build` and `%install` run kiln's `build.sh` and `install.sh`;
//! `%files` lists the plan with RPM's markers.

use super::{ARCH_NAMES, Package, relation_lines};
use crate::build::generators;
use crate::date;
use crate::distro::Distro;
use crate::family::MetaPackage;
use crate::install::{FileKind, InstallFile, InstallPlan};
use crate::shell::quote;
use crate::spec::{DependencyList, Source, SourceKind, Spec, installed_name};
use std::collections::BTreeSet;
use std::fmt::Write;

/// The name of the tarball of what the generators fetched.
pub const DEPS_TARBALL: &str = "kiln-deps.tar.gz";
/// The name of the patch with the spec's patches and the generators' edits.
pub const CHANGES_PATCH: &str = "kiln-changes.patch";
/// The name of the build script among the sources.
pub const BUILD_SCRIPT: &str = "build.sh";
/// The name of the install script among the sources.
pub const INSTALL_SCRIPT: &str = "install.sh";

/// Text in a `.spec` file: rpm expands `%` everywhere, so a spec value's `%` is doubled.
pub fn escape(value: &str) -> String {
    value.replace('%', "%%")
}

/// One line of a header field, `%` doubled.
fn one_line(value: &str) -> String {
    escape(&crate::family::one_line(value))
}

/// A path in `%files`: `/` + the path, `%` doubled, in double quotes if it has white space.
fn files_path(path: &str) -> String {
    let p = escape(&format!("/{}", path.trim_start_matches('/')));
    if p.contains(char::is_whitespace) {
        format!("\"{p}\"")
    } else {
        p
    }
}

/// Whether the source is a single file (an HTTP download, an inline file): it goes into the
/// source package as it is; any other is a directory, packed as `<key>.tar.gz`.
pub fn is_file_source(src: &Source) -> bool {
    match src.kind() {
        Some(SourceKind::Http(_)) => true,
        Some(SourceKind::Inline(i)) => i.file.is_some(),
        _ => false,
    }
}

/// The file a source is in the source package.
pub fn source_file(key: &str, src: &Source) -> String {
    if is_file_source(src) {
        key.to_string()
    } else {
        format!("{key}.tar.gz")
    }
}

/// Where a source came from, as comment lines.
fn provenance(key: &str, src: &Source) -> Vec<String> {
    let mut lines = vec![format!("Source {key}:")];
    match src.kind() {
        Some(SourceKind::Http(h)) => {
            lines.push(format!("  fetched from {}", h.url.value));
            if let Some(d) = &h.digest {
                lines.push(format!("  digest {}", d.value));
            }
        }
        Some(SourceKind::Git(g)) => {
            lines.push(format!("  git repository {}", g.url.value));
            if let Some(c) = &g.commit {
                lines.push(format!("  at {}", c.value));
            }
            if let Some(c) = &g.checksum {
                lines.push(format!("  checked to be commit {}", c.value));
            }
        }
        Some(SourceKind::Context(c)) => lines.push(format!(
            "  the build context {}",
            c.name.as_ref().map_or("context", |n| n.value.as_str())
        )),
        Some(SourceKind::Image(i)) => {
            lines.push(format!("  from the image {}", i.reference.value));
            if i.cmd.is_some() {
                lines.push("  after the commands the spec runs in it".into());
            }
        }
        Some(SourceKind::Inline(_)) => lines.push("  written in the spec".into()),
        Some(SourceKind::Build(b)) => lines.push(format!(
            "  built with the Dockerfile {}{}",
            b.dockerfile_path
                .as_ref()
                .map_or("Dockerfile", |p| p.value.as_str()),
            b.target
                .as_ref()
                .map(|t| format!(", target {}", t.value))
                .unwrap_or_default()
        )),
        None => {}
    }
    if let Some(p) = &src.path {
        lines.push(format!("  path {}", p.value));
    }
    for i in &src.includes {
        lines.push(format!("  including {}", i.value));
    }
    for e in &src.excludes {
        lines.push(format!("  excluding {}", e.value));
    }
    lines
}

/// Whether the source package carries [`CHANGES_PATCH`]: the spec has patches, or generators
/// that may edit files.
pub fn has_changes_patch(spec: &Spec) -> bool {
    !spec.patches.is_empty() || generators::uses(spec, "gomod")
}

/// Whether the source package carries [`DEPS_TARBALL`].
pub fn has_deps_tarball(spec: &Spec) -> bool {
    ["gomod", "cargohome", "pip"]
        .iter()
        .any(|k| generators::uses(spec, k))
}

/// Dependency lines with `tag` (`Requires`), `%ifarch` blocks as they are.
fn dependency_lines(out: &mut String, tag: &str, list: Option<&DependencyList>) {
    for entry in relation_lines(list) {
        for line in entry.lines() {
            if line.starts_with('%') {
                let _ = writeln!(out, "{line}");
            } else {
                let _ = writeln!(out, "{tag}: {line}");
            }
        }
    }
}

/// The `.spec` file.
pub fn spec_file(spec: &Spec, distro: &Distro, pkg: &Package, plan: &InstallPlan) -> String {
    // No debuginfo subpackage: a package without compiled code would have an empty one,
    // which rpmbuild refuses.
    let mut out = String::from("# Generated by kiln.\n%global debug_package %{nil}\n");
    let artifacts = spec.artifacts.as_ref();
    if artifacts.is_some_and(|a| a.disable_strip) {
        out.push_str("%global __strip /bin/true\n");
    }
    let (summary, description) = super::description(spec);
    let _ = writeln!(out, "Name: {}", escape(&pkg.name));
    let _ = writeln!(out, "Version: {}", escape(&pkg.version));
    let _ = writeln!(out, "Release: {}%{{?dist}}", escape(&pkg.release));
    let _ = writeln!(
        out,
        "License: {}",
        one_line(spec.license.as_deref().unwrap_or(""))
    );
    let _ = writeln!(out, "Summary: {}", one_line(&summary));
    for (field, value) in [
        ("URL", spec.website.as_deref()),
        ("Vendor", spec.vendor.as_deref()),
        ("Packager", spec.packager.as_ref().map(|p| p.value.as_str())),
    ] {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            let _ = writeln!(out, "{field}: {}", one_line(v));
        }
    }
    if artifacts.is_some_and(|a| a.disable_auto_requires) {
        out.push_str("AutoReq: no\n");
    }
    if spec.noarch {
        out.push_str("BuildArch: noarch\n");
    }
    out.push('\n');
    let mut n = 0;
    for (key, src) in &spec.sources {
        for line in provenance(key, &src.value) {
            let _ = writeln!(out, "# {}", escape(&line));
        }
        let _ = writeln!(out, "Source{n}: {}", escape(&source_file(key, &src.value)));
        n += 1;
    }
    let deps_source = has_deps_tarball(spec).then(|| {
        let _ = writeln!(
            out,
            "# What the spec's generators fetched (Go modules, crates, Python packages)."
        );
        let _ = writeln!(out, "Source{n}: {DEPS_TARBALL}");
        n += 1;
        n - 1
    });
    let _ = writeln!(out, "# The spec's build steps.\nSource{n}: {BUILD_SCRIPT}");
    let _ = writeln!(
        out,
        "# Copies the artifacts into the package tree.\nSource{}: {INSTALL_SCRIPT}",
        n + 1
    );
    let (build_source, install_source) = (n, n + 1);
    if has_changes_patch(spec) {
        let _ = writeln!(
            out,
            "# The spec's patches and the generators' edits, as one patch.\nPatch0: {CHANGES_PATCH}"
        );
    }
    out.push('\n');
    relations_block(&mut out, spec, plan);
    let _ = writeln!(out, "%description\n{}\n", escape(&description));
    prep(&mut out, spec, deps_source);
    let _ = writeln!(out, "%build\nbash %{{SOURCE{build_source}}}\n");
    install(&mut out, plan, install_source);
    scriptlets(&mut out, plan);
    files(&mut out, plan, &pkg.name);
    changelog(&mut out, spec, pkg, distro);
    out
}

/// The relation tags: the spec's, the users and groups the package provides, and what its
/// scriptlets need.
fn relations_block(out: &mut String, spec: &Spec, plan: &InstallPlan) {
    let deps = spec.dependencies.as_ref();
    let before = out.len();
    dependency_lines(out, "BuildRequires", deps.and_then(|d| d.build.as_ref()));
    dependency_lines(out, "Requires", deps.and_then(|d| d.runtime.as_ref()));
    dependency_lines(out, "Recommends", deps.and_then(|d| d.recommends.as_ref()));
    dependency_lines(out, "Conflicts", spec.conflicts.as_ref());
    dependency_lines(out, "Provides", spec.provides.as_ref());
    dependency_lines(out, "Obsoletes", spec.replaces.as_ref());
    for g in &plan.groups {
        let _ = writeln!(out, "Provides: group({})", escape(g));
    }
    for u in &plan.users {
        let _ = writeln!(out, "Provides: user({})", escape(u));
        let _ = writeln!(out, "Provides: group({})", escape(u));
    }
    if !plan.users.is_empty() || !plan.groups.is_empty() {
        out.push_str("Requires(pre): /usr/sbin/useradd, /usr/sbin/groupadd, /usr/bin/getent\n");
    }
    if !plan.units.is_empty() {
        if plan.units.iter().any(|u| u.enable) {
            out.push_str("Requires(post): systemd\nOrderWithRequires(post): systemd\n");
        }
        out.push_str(
            "Requires(preun): systemd\nRequires(postun): systemd\n\
             OrderWithRequires(preun): systemd\nOrderWithRequires(postun): systemd\n",
        );
    }
    if out.len() > before {
        out.push('\n');
    }
}

/// `%prep`: a fresh build directory with every source unpacked (as fetched), the
/// generators' downloads, then the changes patch.
fn prep(out: &mut String, spec: &Spec, deps_source: Option<usize>) {
    out.push_str("%prep\n%setup -q -c -T\n");
    for (n, (key, src)) in spec.sources.iter().enumerate() {
        if is_file_source(&src.value) {
            let _ = writeln!(out, "cp -p %{{SOURCE{n}}} {}", escape(&quote(key)));
        } else {
            let _ = writeln!(out, "tar -xzf %{{SOURCE{n}}}");
        }
    }
    if let Some(n) = deps_source {
        let _ = writeln!(out, "tar -xzf %{{SOURCE{n}}}");
    }
    if !spec.patches.is_empty() {
        out.push_str("%patch -P 0 -p1\n");
    } else if has_changes_patch(spec) {
        // Generators that edit nothing leave the patch empty.
        out.push_str("if [ -s %{PATCH0} ]; then patch -p1 -s <%{PATCH0}; fi\n");
    }
    out.push('\n');
}

/// `%install`: kiln's install script, then the package's links.
fn install(out: &mut String, plan: &InstallPlan, install_source: usize) {
    let _ = writeln!(out, "%install\nbash %{{SOURCE{install_source}}}");
    for l in &plan.links {
        let link = format!("%{{buildroot}}/{}", escape(&quote(&l.link)));
        let _ = writeln!(
            out,
            "mkdir -p \"$(dirname {link})\"\nln -s {} {link}",
            escape(&quote(&format!("/{}", l.target)))
        );
    }
    out.push('\n');
}

/// The scriptlets: users and groups before the files land (so `%attr` finds them), units
/// enabled on first installation only and started only where systemd runs (Dalec v0.21's
/// rules), stopped and restarted by systemd's macros.
fn scriptlets(out: &mut String, plan: &InstallPlan) {
    if !plan.users.is_empty() || !plan.groups.is_empty() {
        out.push_str("%pre\n");
        for g in &plan.groups {
            let n = escape(&quote(g));
            let _ = writeln!(out, "getent group {n} >/dev/null || groupadd -r {n}");
        }
        for u in &plan.users {
            let n = escape(&quote(u));
            let _ = writeln!(
                out,
                "getent passwd {n} >/dev/null || useradd -r -U -M -d / -s /sbin/nologin {n}"
            );
        }
        out.push_str("exit 0\n\n");
    }
    let enabled: Vec<_> = plan.units.iter().filter(|u| u.enable).collect();
    if enabled.is_empty() {
        return;
    }
    out.push_str("%post\n");
    for u in &enabled {
        let n = escape(&quote(&u.name));
        let _ = writeln!(
            out,
            "if [ $1 -eq 1 ]; then\n    systemctl enable {n} || :\nfi"
        );
        if u.start {
            let _ = writeln!(
                out,
                "if [ $1 -eq 1 ] && [ -d /run/systemd/system ]; then\n    systemctl start {n} || :\nfi"
            );
        }
    }
    let names: Vec<String> = enabled.iter().map(|u| escape(&quote(&u.name))).collect();
    let _ = writeln!(out, "\n%preun\n%systemd_preun {}\n", names.join(" "));
    let _ = writeln!(out, "%postun\n%systemd_postun {}\n", names.join(" "));
}

/// `%attr(-, user, group)` for an owner as the plan writes it (`user`, `:group`,
/// `user:group`), empty for none.
fn attr(mode: Option<u32>, owner: Option<&str>) -> String {
    let mode = mode.map_or("-".to_string(), |m| format!("{m:04o}"));
    match owner {
        None if mode == "-" => String::new(),
        None => format!("%attr({mode}, -, -) "),
        Some(o) => {
            let (u, g) = o.split_once(':').unwrap_or((o, ""));
            let u = if u.is_empty() { "root" } else { u };
            let g = if g.is_empty() { "root" } else { g };
            format!("%attr({mode}, {}, {}) ", escape(u), escape(g))
        }
    }
}

/// The path a file of the plan is installed at, relative to the root (a glob where its
/// pattern is one and it keeps its own name).
fn installed(f: &InstallFile) -> String {
    if f.kind == FileKind::Manpage {
        let name = installed_name(&f.pattern, Some(f.name.as_str()));
        let dir = if f.dir.is_empty() {
            let section = name.trim_end_matches(".gz");
            let section = section.rsplit_once('.').map_or("", |(_, s)| s);
            format!("man{section}")
        } else {
            f.dir.clone()
        };
        // rpm compresses manual pages where the distro does.
        return format!("usr/share/man/{dir}/{name}*");
    }
    f.installed_path()
}

/// `%files`: every file of the plan with RPM's markers, the directories that are the
/// package's own, its links.
fn files(out: &mut String, plan: &InstallPlan, name: &str) {
    out.push_str("%files\n");
    let mut own_dirs = BTreeSet::new();
    for f in plan.files.iter().chain(&plan.unit_files) {
        // The levels below the kind's directory are the package's, and so are its own
        // document and license directories.
        let mut dir = f.dir.as_str();
        while dir.len() > f.base.len() && dir.starts_with(&f.base) {
            own_dirs.insert(dir.to_string());
            dir = dir.rsplit_once('/').map_or("", |(d, _)| d);
        }
        if matches!(f.kind, FileKind::Doc | FileKind::License)
            && f.base.ends_with(&format!("/{name}"))
        {
            own_dirs.insert(f.base.clone());
        }
    }
    // A directory the plan creates is listed once, with its mode and owner, below.
    for d in own_dirs
        .iter()
        .filter(|d| !plan.dirs.iter().any(|p| &p.path == *d))
    {
        let _ = writeln!(out, "%dir {}", files_path(d));
    }
    for d in &plan.dirs {
        let _ = writeln!(
            out,
            "%dir {}{}",
            attr(d.mode, d.owner.as_deref()),
            files_path(&d.path)
        );
    }
    for f in plan
        .files
        .iter()
        .chain(&plan.manpages)
        .chain(&plan.unit_files)
    {
        let marker = match f.kind {
            FileKind::Config => "%config(noreplace) ",
            FileKind::Doc => "%doc ",
            FileKind::License => "%license ",
            _ => "",
        };
        let caps = f
            .caps
            .as_ref()
            .map(|c| format!("%caps({}) ", escape(c)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{marker}{caps}{}{}",
            attr(None, f.owner.as_deref()),
            files_path(&installed(f))
        );
    }
    for l in &plan.links {
        let _ = writeln!(out, "{}", files_path(&l.link));
    }
    out.push('\n');
}

/// `%changelog`: every entry of the spec, newest first (one for this build if it has none).
fn changelog(out: &mut String, spec: &Spec, pkg: &Package, distro: &Distro) {
    out.push_str("%changelog\n");
    let mut entries: Vec<_> = spec.changelog.iter().collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.epoch().unwrap_or(i64::MIN)));
    if entries.is_empty() {
        let _ = writeln!(
            out,
            "* {} {} - {}-{}{}\n- Packaged {} {} with kiln.",
            date::rpm_changelog(pkg.epoch),
            one_line(&super::packager(spec)),
            escape(&pkg.version),
            escape(&pkg.release),
            distro.dist,
            escape(&pkg.name),
            escape(&pkg.version)
        );
    }
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // The newest entry is this build's version (rpmlint wants it there).
        let version = if i == 0 {
            format!(
                " - {}-{}{}",
                escape(&pkg.version),
                escape(&pkg.release),
                distro.dist
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "* {} {}{version}",
            date::rpm_changelog(e.epoch().unwrap_or(pkg.epoch)),
            one_line(&e.author.value)
        );
        for c in &e.changes {
            let _ = writeln!(out, "- {}", escape(&c.trim().replace('\n', "\n  ")));
        }
    }
}

/// The `.spec` file of a meta-package: its header, what it requires (each relation a
/// `Requires:` line, `%ifarch` blocks kept, so they follow the build's architecture), and no
/// files.
pub fn meta_spec_file(meta: &MetaPackage) -> String {
    let mut out = String::from("# Generated by kiln: a package that holds nothing.\n");
    let _ = writeln!(out, "Name: {}", one_line(&meta.name));
    let _ = writeln!(out, "Version: {}", one_line(&meta.version));
    let _ = writeln!(out, "Release: {}%{{?dist}}", one_line(&meta.release));
    let _ = writeln!(out, "License: {}", one_line(&meta.license));
    let _ = writeln!(out, "Summary: {}", one_line(&meta.summary));
    for relation in &meta.relations {
        for line in relation.lines() {
            if line.starts_with('%') {
                let _ = writeln!(out, "{line}");
            } else {
                let _ = writeln!(out, "Requires: {line}");
            }
        }
    }
    let _ = write!(
        out,
        "\n%description\n{}.\n\n%files\n",
        one_line(&meta.summary)
    );
    out
}

/// The RPM name of a Go or Debian architecture name (`amd64` is `x86_64`); others as given.
pub fn rpm_arch(arch: &str) -> &str {
    ARCH_NAMES
        .iter()
        .find(|(from, _)| *from == arch)
        .map_or(arch, |(_, to)| to)
}
