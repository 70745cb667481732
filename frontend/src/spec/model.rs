//! The package spec, in Dalec's format and field names.
//!
//! Fields kiln does not build yet are still *known*: they are parsed as [`NotYet`] so that a
//! spec using them fails with "not supported yet: <field>" at its line, never a silent skip.
//! Keys that are not part of the format at all are rejected by the parser.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// A value with the position it was written at.
pub type Located<T> = Spanned<T>;

/// A known Dalec field that kiln does not implement yet.
pub type NotYet = Option<Located<IgnoredAny>>;

/// The whole spec file.
#[derive(Debug, Deserialize)]
pub struct Spec {
    /// Package name.
    pub name: Located<String>,
    /// One-line summary, then an optional longer description.
    #[serde(default)]
    pub description: Option<Located<String>>,
    /// Project home page.
    #[serde(default)]
    pub website: Option<String>,
    /// Upstream version (args are substituted).
    pub version: Located<String>,
    /// Package revision, a string or a number (args are substituted).
    #[serde(default)]
    pub revision: Option<Located<String>>,
    /// Package built for every architecture (`Architecture: all`).
    #[serde(default)]
    pub noarch: bool,
    /// License expression.
    #[serde(default)]
    pub license: Option<String>,
    /// Vendor name (RPM only).
    #[serde(default)]
    pub vendor: Option<String>,
    /// Maintainer, `Name <email>`; required for Debian packages.
    #[serde(default)]
    pub packager: Option<Located<String>>,
    /// Declared build args and their defaults.
    #[serde(default)]
    pub args: BTreeMap<String, Option<String>>,
    /// Named inputs of the build.
    #[serde(default)]
    pub sources: BTreeMap<String, Located<Source>>,
    /// How to build.
    #[serde(default)]
    pub build: Option<Build>,
    /// What the package installs.
    #[serde(default)]
    pub artifacts: Option<Artifacts>,
    /// Build and runtime dependencies.
    #[serde(default)]
    pub dependencies: Option<Dependencies>,
    /// Container image configuration for the `container` route.
    #[serde(default)]
    pub image: Option<Image>,
    /// Changelog entries; the newest one dates the package.
    #[serde(default)]
    pub changelog: Vec<Located<ChangelogEntry>>,

    /// Not yet supported.
    #[serde(default)]
    pub patches: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub conflicts: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub replaces: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub provides: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub targets: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub tests: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub package_config: NotYet,

    /// Every other top-level key: only `x-`/`X-` extension keys are allowed.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Located<IgnoredAny>>,
}

/// A named input of the build. Exactly one kind must be given.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The client's build context or a named `--build-context`.
    #[serde(default)]
    pub context: Option<Located<ContextSource>>,
    /// A file downloaded over HTTP(S).
    #[serde(default)]
    pub http: Option<Located<HttpSource>>,
    /// A file or directory written in the spec.
    #[serde(default)]
    pub inline: Option<Located<InlineSource>>,
    /// Sub-path of the fetched content to use.
    #[serde(default)]
    pub path: Option<Located<String>>,
    /// Only these paths (globs, relative to `path`).
    #[serde(default)]
    pub includes: Vec<String>,
    /// Not these paths (globs, relative to `path`).
    #[serde(default)]
    pub excludes: Vec<String>,
    /// Not yet supported.
    #[serde(default)]
    pub git: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub image: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub build: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub generate: NotYet,
}

/// `context:` source fields.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSource {
    /// Context name; `context` (the main build context) by default.
    #[serde(default)]
    pub name: Option<String>,
}

/// `http:` source fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSource {
    /// Where to download from.
    pub url: Located<String>,
    /// Expected digest, `sha256:<hex>`; BuildKit verifies it.
    #[serde(default)]
    pub digest: Option<Located<String>>,
    /// Permission bits of the file (`0644` or `0o644`).
    #[serde(default)]
    pub permissions: Option<Located<String>>,
}

/// `inline:` source fields: exactly one of `file` or `dir`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineSource {
    /// A single file.
    #[serde(default)]
    pub file: Option<InlineFile>,
    /// A directory of files.
    #[serde(default)]
    pub dir: Option<InlineDir>,
}

/// An inline file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineFile {
    /// File contents.
    #[serde(default)]
    pub contents: String,
    /// Permission bits (`0644` or `0o644`).
    #[serde(default)]
    pub permissions: Option<Located<String>>,
    /// Owner uid.
    #[serde(default)]
    pub uid: Option<u32>,
    /// Owner gid.
    #[serde(default)]
    pub gid: Option<u32>,
}

/// An inline directory (no nested directories).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineDir {
    /// Files by name.
    #[serde(default)]
    pub files: BTreeMap<String, Located<InlineFile>>,
    /// Permission bits of the directory.
    #[serde(default)]
    pub permissions: Option<Located<String>>,
    /// Owner uid.
    #[serde(default)]
    pub uid: Option<u32>,
    /// Owner gid.
    #[serde(default)]
    pub gid: Option<u32>,
}

/// How to build.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// Environment for every step (values are arg-substituted).
    #[serde(default)]
    pub env: BTreeMap<String, Located<String>>,
    /// Shell steps, run in order in the build root.
    #[serde(default)]
    pub steps: Vec<Located<BuildStep>>,
    /// Not yet supported.
    #[serde(default)]
    pub network_mode: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub caches: NotYet,
}

/// One shell step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildStep {
    /// The script, run with bash.
    pub command: String,
    /// Extra environment for this step.
    #[serde(default)]
    pub env: BTreeMap<String, Located<String>>,
    /// Not yet supported (Dalec ignores it in package builds too).
    #[serde(default)]
    pub mounts: NotYet,
}

/// Artifacts of one kind: build-root path (globs allowed) to install settings.
pub type ArtifactMap = BTreeMap<String, Located<Option<ArtifactConfig>>>;

/// What the package installs, by kind. Keys are paths relative to the build root (globs allowed).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifacts {
    /// Programs, installed to `/usr/bin`.
    #[serde(default)]
    pub binaries: ArtifactMap,
    /// Manual pages, installed to `/usr/share/man/man<section>`.
    #[serde(default)]
    pub manpages: ArtifactMap,
    /// Documentation, installed to `/usr/share/doc/<name>`.
    #[serde(default)]
    pub docs: ArtifactMap,
    /// License files, installed to `/usr/share/doc/<name>`.
    #[serde(default)]
    pub licenses: ArtifactMap,
    /// Not yet supported.
    #[serde(default)]
    pub libexec: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub data_dirs: NotYet,
    /// Not yet supported.
    #[serde(default, rename = "configFiles")]
    pub config_files: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub libs: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub headers: NotYet,
    /// Not yet supported.
    #[serde(default, rename = "createDirectories")]
    pub create_directories: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub systemd: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub links: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub users: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub groups: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub disable_strip: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub disable_auto_requires: NotYet,
}

/// Where and how one artifact is installed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactConfig {
    /// Sub-directory under the kind's install directory.
    #[serde(default)]
    pub subpath: Option<String>,
    /// Installed file name (default: the source's base name).
    #[serde(default)]
    pub name: Option<String>,
    /// Permission bits (`0755` or `0o755`).
    #[serde(default)]
    pub permissions: Option<Located<String>>,
    /// Not yet supported.
    #[serde(default)]
    pub user: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub group: NotYet,
}

/// Package dependencies.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependencies {
    /// Needed to build; installed into the build container.
    #[serde(default)]
    pub build: DependencyList,
    /// Needed to run; written to the package's `Depends`.
    #[serde(default)]
    pub runtime: DependencyList,
    /// Not yet supported.
    #[serde(default)]
    pub recommends: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub test: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub sysext: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub extra_repos: NotYet,
}

/// Packages by name with their constraints. The legacy list form (`- pkg`) is accepted too.
#[derive(Debug, Default)]
pub struct DependencyList(pub BTreeMap<String, Located<Option<Constraints>>>);

/// Version and architecture constraints of one dependency.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    /// Version constraints such as `>= 1.2` (all must hold).
    #[serde(default)]
    pub version: Vec<String>,
    /// Architectures the dependency applies to.
    #[serde(default)]
    pub arch: Vec<String>,
}

impl<'de> Deserialize<'de> for DependencyList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DependencyListVisitor)
    }
}

struct DependencyListVisitor;

impl<'de> serde::de::Visitor<'de> for DependencyListVisitor {
    type Value = DependencyList;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map of package names to constraints, or a list of package names")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<DependencyList, E> {
        Ok(DependencyList::default())
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<DependencyList, E> {
        Ok(DependencyList::default())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<DependencyList, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(name) = map.next_key::<String>()? {
            out.insert(name, map.next_value()?);
        }
        Ok(DependencyList(out))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> Result<DependencyList, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(name) = seq.next_element::<Located<String>>()? {
            out.insert(
                name.value,
                Spanned::new(None, name.referenced, name.defined),
            );
        }
        Ok(DependencyList(out))
    }
}

/// Container image configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// Entrypoint, split like a shell command line; clears the base image's cmd.
    #[serde(default)]
    pub entrypoint: Option<String>,
    /// Default command, split like a shell command line.
    #[serde(default)]
    pub cmd: Option<String>,
    /// Extra `K=V` environment entries.
    #[serde(default)]
    pub env: Vec<String>,
    /// Image labels (args are substituted).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Working directory.
    #[serde(default)]
    pub working_dir: Option<String>,
    /// User to run as.
    #[serde(default)]
    pub user: Option<String>,
    /// Stop signal.
    #[serde(default)]
    pub stop_signal: Option<String>,
    /// Not yet supported.
    #[serde(default)]
    pub volumes: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub base: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub bases: NotYet,
    /// Not yet supported.
    #[serde(default)]
    pub post: NotYet,
}

/// One changelog entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangelogEntry {
    /// `YYYY-MM-DD`.
    pub date: Located<String>,
    /// `Name <email>`.
    pub author: String,
    /// What changed.
    #[serde(default)]
    pub changes: Vec<String>,
}
