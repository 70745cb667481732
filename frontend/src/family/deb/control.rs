//! `debian/control`: the source and binary package stanzas.

use super::{one_line, relations::relations, text};
use crate::distro::Distro;
use crate::spec::Spec;
use std::fmt::Write;

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

/// `debian/control`.
pub fn control(spec: &Spec, distro: &Distro) -> String {
    let deps = spec.dependencies.as_ref();
    let mut build_deps = vec![format!("debhelper-compat (= {})", distro.debhelper_compat)];
    build_deps.extend(relations(deps.and_then(|d| d.build.as_ref())));
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
    out.push_str(&description_field(text(&spec.description)));
    out
}
