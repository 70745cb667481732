//! `debian/control`: the source and binary package stanzas.

use super::{one_line, relations::relations, text};
use crate::distro::Distro;
use crate::spec::Spec;
use std::fmt::Write;

fn description_field(text: &str, name: &str) -> String {
    let mut lines = text.trim().lines();
    let synopsis = lines.next().unwrap_or("").trim();
    let mut out = format!("Description: {synopsis}\n");
    // A one-line description gets an extended part that says what the package is (Debian
    // wants one; an empty one or the synopsis repeated is what lintian calls an error).
    let rest: Vec<&str> = lines.collect();
    if rest.iter().all(|l| l.trim().is_empty()) {
        let _ = writeln!(out, " This package contains {name}:\n {synopsis}");
        return out;
    }
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

/// The address Dalec gives a packager written without one (Ubuntu 26.04's dpkg refuses a
/// `Maintainer` without an e-mail address).
pub const PLACEHOLDER_ADDRESS: &str = "dalec@users.noreply.github.com";

/// Who maintains a package whose spec names no packager (Dalec's name for its placeholder
/// changelog author; Dalec leaves the field out, which dpkg's tools do not accept).
pub const PLACEHOLDER_NAME: &str = "Dalec Dummy Changelog";

/// A maintainer as Debian wants it, `Name <email>`; a bare name gets Dalec's placeholder
/// address, so Dalec specs with `packager: Name` build the same package; no name at all
/// gets the placeholder name too.
pub fn maintainer(who: &str) -> String {
    let who = who.trim();
    if who.is_empty() {
        format!("{PLACEHOLDER_NAME} <{PLACEHOLDER_ADDRESS}>")
    } else if who.contains('<') && who.ends_with('>') {
        who.to_string()
    } else {
        format!("{who} <{PLACEHOLDER_ADDRESS}>")
    }
}

/// Packages every Debian and Ubuntu system has (`Essential: yes` in every release kiln
/// builds for): a relation on one without a version says nothing, and lintian calls it an
/// error.
const ESSENTIAL: &[&str] = &[
    "base-files",
    "base-passwd",
    "bash",
    "bsdutils",
    "coreutils",
    "dash",
    "debianutils",
    "diffutils",
    "dpkg",
    "findutils",
    "grep",
    "gzip",
    "hostname",
    "libc-bin",
    "login",
    "ncurses-bin",
    "perl-base",
    "sed",
    "tar",
    "util-linux",
];

/// What `build-essential` brings to every package build (Debian Policy 4.2): a build
/// dependency on one of them without a version is implied, and lintian calls it an error.
const BUILD_ESSENTIAL: &[&str] = &[
    "build-essential",
    "dpkg-dev",
    "g++",
    "gcc",
    "libc6-dev",
    "libc-dev",
    "make",
];

/// `relations` without those on packages in `implied` that have no version (an architecture
/// list aside: the package is there on every architecture).
fn without_implied(relations: Vec<String>, implied: &[&[&str]]) -> Vec<String> {
    relations
        .into_iter()
        .filter(|r| {
            let name = r.split([' ', '[']).next().unwrap_or(r);
            r.contains('(') || !implied.iter().any(|set| set.contains(&name))
        })
        .collect()
}

/// `debian/control`.
pub fn control(spec: &Spec, distro: &Distro) -> String {
    let deps = spec.dependencies.as_ref();
    let mut build_deps = vec![format!("debhelper-compat (= {})", distro.debhelper_compat)];
    build_deps.extend(without_implied(
        relations(deps.and_then(|d| d.build.as_ref())),
        &[ESSENTIAL, BUILD_ESSENTIAL],
    ));
    let mut runtime = Vec::new();
    if !spec
        .artifacts
        .as_ref()
        .is_some_and(|a| a.disable_auto_requires)
    {
        runtime.push("${shlibs:Depends}".to_string());
    }
    runtime.push("${misc:Depends}".to_string());
    if spec
        .artifacts
        .as_ref()
        .is_some_and(|a| !a.users.is_empty() || !a.groups.is_empty())
    {
        runtime.push("adduser".to_string());
    }
    // The maintainer script sets file capabilities with setcap.
    if crate::install::plan(spec, distro)
        .files
        .iter()
        .any(|f| f.caps.is_some())
    {
        runtime.push("libcap2-bin".to_string());
    }
    runtime.extend(without_implied(
        relations(deps.and_then(|d| d.runtime.as_ref())),
        &[ESSENTIAL],
    ));
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
        if spec.noarch { "all" } else { "linux-any" }
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
    out.push_str(&description_field(text(&spec.description), &name));
    out
}
