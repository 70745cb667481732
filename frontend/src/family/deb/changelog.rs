//! `debian/changelog` (one entry for this build) and `debian/copyright`.

use super::control::maintainer;
use super::{Package, one_line, text};
use crate::date;
use crate::distro::Distro;
use crate::spec::Spec;
use std::fmt::Write;

/// `debian/changelog`: one entry for this build, from the newest spec changelog entry.
pub fn changelog(spec: &Spec, distro: &Distro, pkg: &Package) -> String {
    let newest = spec
        .changelog
        .iter()
        .max_by_key(|e| e.epoch().unwrap_or(i64::MIN));
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
    // The stand-alone paragraph the format wants for a license name it does not define.
    let _ = writeln!(
        out,
        "\nLicense: {}\n The license texts the package ships are in /usr/share/doc/{}/.",
        one_line(license),
        one_line(text(&spec.name))
    );
    out
}
