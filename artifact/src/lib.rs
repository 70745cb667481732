//! kiln-artifact: the artifact contract shared by the frontend, the signer and the test
//! signer. What kinds of artifacts a build hands over, how a kind is recognised from a file
//! name, where artifacts sit in a result, and the keys of the signer hand-off (Dalec's
//! contract: the artifacts as the `context` input, the target key as `dalec.target`, the
//! signer's args as `build-arg:*`).
//!
//! **Architecture Invariant:** this crate depends on nothing; a signer can use it without
//! BuildKit's types or the spec model.

#![cfg_attr(test, allow(clippy::unwrap_used))]

/// A kind of artifact a build produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A Debian binary package (`.deb`, debug symbols `.ddeb` too).
    Deb,
    /// A Debian source package description (`.dsc`).
    Dsc,
    /// A Debian source package's tarball (`.orig.tar.*`, `.debian.tar.*`).
    SourceTarball,
    /// Debian's upload description (`.changes`) and build record (`.buildinfo`).
    DebianControl,
    /// An RPM binary package (`.rpm`).
    Rpm,
    /// An RPM source package (`.src.rpm`).
    SrcRpm,
    /// A Windows zip archive (`.zip`).
    Zip,
    /// A Windows executable (`.exe`).
    Exe,
    /// A Windows installer (`.msi`).
    Msi,
}

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 9] = [
        Kind::Deb,
        Kind::Dsc,
        Kind::SourceTarball,
        Kind::DebianControl,
        Kind::Rpm,
        Kind::SrcRpm,
        Kind::Zip,
        Kind::Exe,
        Kind::Msi,
    ];

    /// The kind of the file `name` (a file name or a path), or `None` for a file that is not
    /// an artifact (a signature, a record, a checksum list).
    pub fn of(name: &str) -> Option<Kind> {
        let name = name.rsplit('/').next().unwrap_or(name);
        let tarball = [".orig.tar.", ".debian.tar."]
            .iter()
            .any(|t| name.contains(t))
            || name.contains(".orig-") && name.contains(".tar.");
        Some(if name.ends_with(".src.rpm") {
            Kind::SrcRpm
        } else if name.ends_with(".rpm") {
            Kind::Rpm
        } else if name.ends_with(".deb") || name.ends_with(".ddeb") {
            Kind::Deb
        } else if name.ends_with(".dsc") {
            Kind::Dsc
        } else if tarball {
            Kind::SourceTarball
        } else if name.ends_with(".changes") || name.ends_with(".buildinfo") {
            Kind::DebianControl
        } else if name.ends_with(".zip") {
            Kind::Zip
        } else if name.ends_with(".exe") {
            Kind::Exe
        } else if name.ends_with(".msi") {
            Kind::Msi
        } else {
            return None;
        })
    }

    /// The kind's name, as signers and records write it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Deb => "deb",
            Kind::Dsc => "dsc",
            Kind::SourceTarball => "source-tarball",
            Kind::DebianControl => "debian-control",
            Kind::Rpm => "rpm",
            Kind::SrcRpm => "src.rpm",
            Kind::Zip => "zip",
            Kind::Exe => "exe",
            Kind::Msi => "msi",
        }
    }

    /// The file name ending of a binary package kind (`.deb`), for globs.
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Deb => ".deb",
            Kind::Dsc => ".dsc",
            Kind::SourceTarball => ".tar.*",
            Kind::DebianControl => ".changes",
            Kind::Rpm => ".rpm",
            Kind::SrcRpm => ".src.rpm",
            Kind::Zip => ".zip",
            Kind::Exe => ".exe",
            Kind::Msi => ".msi",
        }
    }
}

/// Where artifacts sit in a build's result.
pub mod layout {
    /// The directory of a result that holds the packages (and, after signing, their
    /// signatures): its root, so `--output out/` puts them in `out/`.
    pub const PACKAGES_DIR: &str = "/";

    /// The glob (for a copy out of a build tree's top directory) of the files of `kind`.
    pub fn glob(kind: super::Kind) -> String {
        format!("{PACKAGES_DIR}*{}", kind.extension())
    }
}

/// The keys of the signer hand-off, as Dalec's contract has them: what kiln sends a signer
/// frontend and what a signer reads.
pub mod handoff {
    /// The input that holds the artifacts to sign (and the result's shape to return).
    pub const CONTEXT: &str = "context";
    /// The option that names the artifacts' input (`contextkey`), set to [`CONTEXT`].
    pub const CONTEXT_KEY: &str = "contextkey";
    /// The option that names the spec target the artifacts were built for.
    pub const TARGET: &str = "dalec.target";
    /// The prefix of a build arg option (the signer's `args`).
    pub const BUILD_ARG: &str = "build-arg:";
    /// The option that says what the artifacts are (kiln's, beyond Dalec's contract): one of
    /// [`STAGE_PROGRAMS`] and [`STAGE_PACKAGES`]. A signer that does not know it signs what it
    /// gets, as it would for Dalec.
    pub const STAGE: &str = "kiln.signing.stage";
    /// [`STAGE`]: the programs before they are packed (Dalec's Windows contract: the spec's
    /// binaries, each at the root), which the zip, MSI or image is then made of; a second
    /// round signs the packages made of them.
    pub const STAGE_PROGRAMS: &str = "programs";
    /// [`STAGE`]: the packages as the build returns them.
    pub const STAGE_PACKAGES: &str = "packages";

    /// The option key of the build arg `name`.
    pub fn build_arg(name: &str) -> String {
        format!("{BUILD_ARG}{name}")
    }

    /// The build arg an option key names, if it is one.
    pub fn as_build_arg(key: &str) -> Option<&str> {
        key.strip_prefix(BUILD_ARG)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_recognised_by_name() {
        for (name, kind) in [
            ("hello_2.10-debian12u1_amd64.deb", Kind::Deb),
            ("out/hello-dbgsym_2.10_amd64.ddeb", Kind::Deb),
            ("hello_2.10-1.dsc", Kind::Dsc),
            ("hello_2.10.orig.tar.gz", Kind::SourceTarball),
            ("hello_2.10.orig-extra.tar.xz", Kind::SourceTarball),
            ("hello_2.10-1.debian.tar.xz", Kind::SourceTarball),
            ("hello_2.10-1_amd64.changes", Kind::DebianControl),
            ("hello-2.10-1.azl3.x86_64.rpm", Kind::Rpm),
            ("hello-2.10-1.azl3.src.rpm", Kind::SrcRpm),
            ("hello.zip", Kind::Zip),
            ("hello.exe", Kind::Exe),
            ("hello.msi", Kind::Msi),
        ] {
            assert_eq!(Kind::of(name), Some(kind), "{name}");
        }
        for other in [
            "signed-by-test-signer",
            "hello.deb.asc",
            "SHA256SUMS",
            "x.tar.gz",
        ] {
            assert_eq!(Kind::of(other), None, "{other}");
        }
        assert_eq!(layout::glob(Kind::Deb), "/*.deb");
        assert_eq!(handoff::build_arg("KEY"), "build-arg:KEY");
        assert_eq!(handoff::as_build_arg("build-arg:KEY"), Some("KEY"));
        assert_eq!(Kind::ALL.len(), 9);
    }
}
