//! The package spec, in Dalec's format and field names (reference/dalec.md §1).
//!
//! Every key of the format is modelled; unknown keys are errors, except `x-`/`X-` keys at the
//! top level. Values that later checks must point at are [`Located`].

use super::located::Located;
use crate::kinds::{Date, Network, RepoStage, Sharing};
use crate::names::{DependencyName, EnvName, Host};
use crate::parsed::Parsed;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Attributes shared by every strict struct of the model.
macro_rules! strict {
    ($(#[$m:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
        #[cfg_attr(test, derive(schemars::JsonSchema))]
        #[serde(deny_unknown_fields)]
        pub struct $name { $($body)* }
    };
}

/// A string that may be written as a number or a boolean (`CGO_ENABLED: 1`, `revision: 2`);
/// only for the JSON Schema, the model reads it as text.
#[cfg(test)]
pub struct Scalar;

#[cfg(test)]
impl schemars::JsonSchema for Scalar {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Scalar".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Text; numbers and booleans are taken as written.",
            "type": ["string", "number", "boolean"]
        })
    }
}

/// Environment variables: checked names to values that may be written as numbers or booleans
/// (`CGO_ENABLED: 1`); each value keeps its position.
pub type EnvMap = BTreeMap<EnvName, Located<String>>;

/// Build args handed to another build (a Dockerfile, a signer): names to values that may be
/// written as numbers or booleans; each value keeps its position.
pub type ArgMap = BTreeMap<String, Located<String>>;

/// The whole spec file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Spec {
    /// Package name.
    #[serde(default)]
    pub name: Option<Located<String>>,
    /// Summary line, then an optional longer description.
    #[serde(default)]
    pub description: Option<Located<String>>,
    /// Project home page.
    #[serde(default)]
    pub website: Option<String>,
    /// Upstream version (args are substituted).
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Option<Scalar>"))]
    pub version: Option<Located<String>>,
    /// Package revision, a string or a number (args are substituted).
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "Option<Scalar>"))]
    pub revision: Option<Located<String>>,
    /// Architecture-independent package.
    #[serde(default)]
    pub noarch: bool,
    /// License expression.
    #[serde(default)]
    pub license: Option<String>,
    /// Vendor name.
    #[serde(default)]
    pub vendor: Option<String>,
    /// Maintainer, `Name <email>`; required for Debian packages.
    #[serde(default)]
    pub packager: Option<Located<String>>,
    /// Declared build args and their defaults (`${NAME}` in expandable fields).
    #[serde(default)]
    #[cfg_attr(test, schemars(with = "BTreeMap<String, Option<Scalar>>"))]
    pub args: BTreeMap<String, Option<Located<String>>>,
    /// Named inputs of the build, placed in the build root under their keys.
    #[serde(default)]
    pub sources: BTreeMap<String, Located<Source>>,
    /// Patches to apply, by the name of the source they patch, in order.
    #[serde(default)]
    pub patches: BTreeMap<String, Located<Vec<PatchSpec>>>,
    /// How to build.
    #[serde(default)]
    pub build: Option<Located<Build>>,
    /// What the package installs.
    #[serde(default)]
    pub artifacts: Option<Artifacts>,
    /// Package dependencies.
    #[serde(default)]
    pub dependencies: Option<Dependencies>,
    /// Packages this one conflicts with.
    #[serde(default)]
    pub conflicts: Option<DependencyList>,
    /// Packages this one replaces.
    #[serde(default)]
    pub replaces: Option<DependencyList>,
    /// Virtual packages this one provides.
    #[serde(default)]
    pub provides: Option<DependencyList>,
    /// Per-distro overrides, by target key (`bookworm`, `azlinux3`, ...).
    #[serde(default)]
    pub targets: BTreeMap<String, Located<Target>>,
    /// Container image settings.
    #[serde(default)]
    pub image: Option<ImageConfig>,
    /// Tests run in a container with the package installed.
    #[serde(default)]
    pub tests: Vec<Located<TestSpec>>,
    /// Signing configuration.
    #[serde(default)]
    pub package_config: Option<PackageConfig>,
    /// Changelog entries; the newest one dates the package.
    #[serde(default)]
    pub changelog: Vec<ChangelogEntry>,
    /// Every other top-level key; only `x-`/`X-` extension keys are allowed.
    #[serde(flatten, default, skip_serializing)]
    #[cfg_attr(test, schemars(skip))]
    pub extra: BTreeMap<String, serde::de::IgnoredAny>,
}

strict! {
    /// A named input of the build: exactly one kind (`context`, `git`, `http`, `image`,
    /// `inline`, `build`) plus optional filters and generators.
    pub struct Source {
        /// Sub-path of the fetched content to use (required for `image`, not allowed for `http`).
        #[serde(default)]
        pub path: Option<Located<String>>,
        /// Only these paths (globs, relative to `path`).
        #[serde(default)]
        pub includes: Vec<Located<String>>,
        /// Not these paths (globs, relative to `path`).
        #[serde(default)]
        pub excludes: Vec<Located<String>>,
        /// Dependency generators run on this source.
        #[serde(default)]
        pub generate: Vec<Located<SourceGenerator>>,
        /// A git repository.
        #[serde(default)]
        pub git: Option<SourceGit>,
        /// A file downloaded over HTTP(S).
        #[serde(default)]
        pub http: Option<SourceHttp>,
        /// The build context or a named `--build-context`.
        #[serde(default)]
        pub context: Option<SourceContext>,
        /// The result of a Dockerfile build of another source.
        #[serde(default)]
        pub build: Option<SourceBuild>,
        /// A file or directory written in the spec.
        #[serde(default)]
        pub inline: Option<SourceInline>,
        /// The root filesystem of an image, optionally after running commands.
        #[serde(default)]
        pub image: Option<SourceImage>,
    }
}

strict! {
    /// `git:` source.
    pub struct SourceGit {
        /// Repository URL.
        pub url: Located<String>,
        /// Commit, tag or branch to check out.
        #[serde(default)]
        pub commit: Option<Located<String>>,
        /// Keep the `.git` directory.
        #[serde(default, rename = "keepGitDir")]
        pub keep_git_dir: bool,
        /// The commit (full or a prefix) that `commit` must resolve to, so that a tag or a
        /// branch is pinned.
        #[serde(default)]
        pub checksum: Option<Located<String>>,
        /// Secret and SSH ids used to authenticate.
        #[serde(default)]
        pub auth: Option<GitAuth>,
    }
}

strict! {
    /// Git authentication: BuildKit secret ids (`header`, `token`) and an SSH id.
    pub struct GitAuth {
        /// Secret holding a full `Authorization` header.
        #[serde(default)]
        pub header: Option<String>,
        /// Secret holding a token.
        #[serde(default)]
        pub token: Option<String>,
        /// SSH agent id.
        #[serde(default)]
        pub ssh: Option<String>,
    }
}

strict! {
    /// `http:` source: one file, named by the source key.
    pub struct SourceHttp {
        /// Where to download from.
        pub url: Located<String>,
        /// Expected digest, `sha256:<hex>`; BuildKit verifies it.
        #[serde(default)]
        pub digest: Option<Located<String>>,
        /// Permission bits of the file.
        #[serde(default)]
        pub permissions: Option<Located<Mode>>,
    }
}

strict! {
    /// `context:` source.
    pub struct SourceContext {
        /// Context name; `context` (the main build context) by default.
        #[serde(default)]
        pub name: Option<Located<String>>,
    }
}

strict! {
    /// `build:` source: a Dockerfile build whose result is the source.
    pub struct SourceBuild {
        /// The build context of the Dockerfile build.
        #[serde(default)]
        pub source: Option<Box<Located<Source>>>,
        /// Path of the Dockerfile inside that context (default `Dockerfile`).
        #[serde(default)]
        pub dockerfile_path: Option<Located<String>>,
        /// Stage to build.
        #[serde(default)]
        pub target: Option<Located<String>>,
        /// Build args of the Dockerfile build.
        #[serde(default)]
        #[cfg_attr(test, schemars(with = "BTreeMap<String, Scalar>"))]
        pub args: ArgMap,
    }
}

strict! {
    /// `inline:` source: exactly one of `file` or `dir`.
    pub struct SourceInline {
        /// A single file.
        #[serde(default)]
        pub file: Option<InlineFile>,
        /// A directory of files (no nested directories).
        #[serde(default)]
        pub dir: Option<InlineDir>,
    }
}

strict! {
    /// An inline file.
    pub struct InlineFile {
        /// File contents.
        #[serde(default)]
        pub contents: String,
        /// Permission bits.
        #[serde(default)]
        pub permissions: Option<Located<Mode>>,
        /// Owner uid.
        #[serde(default)]
        pub uid: Option<u32>,
        /// Owner gid.
        #[serde(default)]
        pub gid: Option<u32>,
    }
}

strict! {
    /// An inline directory.
    pub struct InlineDir {
        /// Files by name.
        #[serde(default)]
        pub files: BTreeMap<String, InlineFile>,
        /// Permission bits of the directory.
        #[serde(default)]
        pub permissions: Option<Located<Mode>>,
        /// Owner uid.
        #[serde(default)]
        pub uid: Option<u32>,
        /// Owner gid.
        #[serde(default)]
        pub gid: Option<u32>,
    }
}

strict! {
    /// `image:` source: an image's root filesystem.
    pub struct SourceImage {
        /// Image reference.
        #[serde(rename = "ref")]
        pub reference: Located<String>,
        /// Commands to run in the image first.
        #[serde(default)]
        pub cmd: Option<Located<Command>>,
    }
}

strict! {
    /// Commands run in an image source.
    pub struct Command {
        /// Working directory.
        #[serde(default)]
        pub dir: Option<Located<String>>,
        /// Environment of every step.
        #[serde(default)]
        #[cfg_attr(test, schemars(with = "BTreeMap<String, Scalar>"))]
        pub env: EnvMap,
        /// Sources mounted into every step.
        #[serde(default)]
        pub mounts: Vec<SourceMount>,
        /// The steps, run in order with `/bin/sh -c`.
        #[serde(default)]
        pub steps: Vec<BuildStep>,
    }
}

strict! {
    /// A source mounted at a path.
    pub struct SourceMount {
        /// Absolute mount point (not `/`).
        pub dest: Located<String>,
        /// The source to mount.
        pub spec: Located<Source>,
    }
}

strict! {
    /// A dependency generator: exactly one kind.
    pub struct SourceGenerator {
        /// Sub-directory of the source the generator runs in.
        #[serde(default)]
        pub subpath: Option<Located<String>>,
        /// Go modules (`go mod download`).
        #[serde(default)]
        pub gomod: Option<GeneratorGomod>,
        /// Rust crates (`cargo fetch`).
        #[serde(default)]
        pub cargohome: Option<GeneratorPaths>,
        /// Python packages (`pip download`).
        #[serde(default)]
        pub pip: Option<GeneratorPip>,
        /// Node modules (`npm install`).
        #[serde(default)]
        pub nodemod: Option<GeneratorNodemod>,
    }
}

strict! {
    /// The nodemod generator.
    pub struct GeneratorNodemod {
        /// Directories holding `package.json` (default `.`).
        #[serde(default)]
        pub paths: Vec<Located<String>>,
        /// The npm registry to fetch from (`npm --registry`).
        #[serde(default)]
        pub registry: Option<String>,
    }
}

strict! {
    /// A generator that runs in some directories of the source.
    pub struct GeneratorPaths {
        /// Directories (default `.`).
        #[serde(default)]
        pub paths: Vec<Located<String>>,
    }
}

strict! {
    /// The gomod generator.
    pub struct GeneratorGomod {
        /// Directories holding `go.mod` (default `.`).
        #[serde(default)]
        pub paths: Vec<Located<String>>,
        /// Private module hosts and how to authenticate to them.
        #[serde(default)]
        pub auth: BTreeMap<Host, GomodAuth>,
        /// Changes to `go.mod` made before the download (`go mod edit`, then `go mod tidy`).
        #[serde(default)]
        pub edits: Option<GomodEdits>,
    }
}

strict! {
    /// `gomod.edits`: module replacements and dropped requirements.
    pub struct GomodEdits {
        /// `go mod edit -replace`: `"old => new"` or `{old, new}`.
        #[serde(default)]
        pub replace: Vec<Located<GomodReplace>>,
        /// `go mod edit -droprequire`: module paths.
        #[serde(default)]
        pub drop: Vec<Located<String>>,
    }
}

/// One module replacement: `old` (a module path, optionally `@version`) by `new` (a module
/// path with `@version`, or a local directory), written `"old => new"` or `{old, new}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct GomodReplace {
    /// The module replaced.
    pub old: String,
    /// What replaces it.
    pub new: String,
}

impl<'de> Deserialize<'de> for GomodReplace {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Pair {
            old: String,
            new: String,
        }
        fn checked(old: &str, new: &str) -> Result<GomodReplace, String> {
            let (old, new) = (old.trim(), new.trim());
            if old.is_empty() || new.is_empty() {
                return Err("a replacement needs both old and new".to_string());
            }
            Ok(GomodReplace {
                old: old.to_string(),
                new: new.to_string(),
            })
        }
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = GomodReplace;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"old => new\" or {old, new}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<GomodReplace, E> {
                let (old, new) = v
                    .split_once(" => ")
                    .ok_or_else(|| E::custom(format!("{v:?}: a replacement is \"old => new\"")))?;
                checked(old, new).map_err(E::custom)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                m: A,
            ) -> Result<GomodReplace, A::Error> {
                let p = Pair::deserialize(serde::de::value::MapAccessDeserializer::new(m))?;
                checked(&p.old, &p.new).map_err(serde::de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

strict! {
    /// Dalec's build-time source filter (`DALEC_SOURCE_FILTER_CONFIG_PATH`, in the context
    /// `dalec-source-options`): excludes applied to every directory source.
    pub struct SourceFilterConfig {
        /// Globs excluded from every directory source, relative to each source's root.
        #[serde(default)]
        pub global_excludes: Vec<String>,
    }
}

strict! {
    /// Authentication to one Go module host.
    pub struct GomodAuth {
        /// Secret holding a full `Authorization` header.
        #[serde(default)]
        pub header: Option<String>,
        /// Secret holding a token.
        #[serde(default)]
        pub token: Option<String>,
        /// SSH access.
        #[serde(default)]
        pub ssh: Option<GomodSsh>,
    }
}

strict! {
    /// SSH access to a Go module host.
    pub struct GomodSsh {
        /// SSH agent id.
        #[serde(default)]
        pub id: Option<String>,
        /// User name (default `git`).
        #[serde(default)]
        pub username: Option<String>,
    }
}

strict! {
    /// The pip generator.
    pub struct GeneratorPip {
        /// Directories holding the requirements file (default `.`).
        #[serde(default)]
        pub paths: Vec<Located<String>>,
        /// Requirements file name (default `requirements.txt`).
        #[serde(default)]
        pub requirements_file: Option<String>,
        /// Package index URL.
        #[serde(default)]
        pub index_url: Option<String>,
        /// Extra package index URLs.
        #[serde(default)]
        pub extra_index_urls: Vec<String>,
    }
}

strict! {
    /// One patch of a source.
    pub struct PatchSpec {
        /// Name of the source holding the patch.
        pub source: Located<String>,
        /// File inside a directory patch source (required then; not allowed for file sources).
        #[serde(default)]
        pub path: Option<Located<String>>,
        /// `patch -p` level (default 1).
        #[serde(default)]
        pub strip: Option<u32>,
    }
}

strict! {
    /// How to build.
    pub struct Build {
        /// Environment of every step (values are arg-substituted).
        #[serde(default)]
        #[cfg_attr(test, schemars(with = "BTreeMap<String, Scalar>"))]
        pub env: EnvMap,
        /// Shell steps run in order in the build root.
        #[serde(default)]
        pub steps: Vec<BuildStep>,
        /// `none` (default) or `sandbox` (network access).
        #[serde(default)]
        pub network_mode: Option<Located<Parsed<Network>>>,
        /// Persistent cache mounts.
        #[serde(default)]
        pub caches: Vec<Located<CacheConfig>>,
    }
}

strict! {
    /// One shell step.
    pub struct BuildStep {
        /// The script.
        pub command: Located<String>,
        /// Extra environment for this step.
        #[serde(default)]
        #[cfg_attr(test, schemars(with = "BTreeMap<String, Scalar>"))]
        pub env: EnvMap,
        /// Sources mounted for this step (honoured in image-source commands only, as in Dalec).
        #[serde(default)]
        pub mounts: Vec<SourceMount>,
    }
}

strict! {
    /// A cache for the build: exactly one kind.
    pub struct CacheConfig {
        /// A cache directory.
        #[serde(default)]
        pub dir: Option<CacheDir>,
        /// The Go build cache (`GOCACHE`); added for a Go build (a `golang`, `golang-*` or
        /// `msft-golang` build dependency, or a gomod generator) unless declared.
        #[serde(default)]
        pub gobuild: Option<GoBuildCache>,
        /// sccache for Rust builds (`RUSTC_WRAPPER`, `SCCACHE_DIR`): the build dependencies'
        /// `sccache`, else sccache v0.10.0 downloaded from its GitHub release.
        #[serde(default)]
        pub rustsccache: Option<ScopedCache>,
        /// A Bazel disk cache, set in `/etc/bazel.bazelrc`; `--ssh bazel-default=SOCKET`
        /// adds a remote cache.
        #[serde(default)]
        pub bazel: Option<ScopedCache>,
    }
}

strict! {
    /// A cache directory.
    pub struct CacheDir {
        /// Cache id (default: the destination).
        #[serde(default)]
        pub key: Option<Located<String>>,
        /// Absolute mount point.
        pub dest: Located<String>,
        /// `shared` (default), `private` or `locked`.
        #[serde(default)]
        pub sharing: Option<Located<Parsed<Sharing>>>,
        /// Do not prefix the key with the target and platform.
        #[serde(default)]
        pub no_auto_namespace: bool,
    }
}

strict! {
    /// The Go build cache.
    pub struct GoBuildCache {
        /// Extra key to separate caches.
        #[serde(default)]
        pub scope: Option<String>,
        /// Turn the automatic Go build cache off.
        #[serde(default)]
        pub disabled: bool,
    }
}

strict! {
    /// A cache with only a scope.
    pub struct ScopedCache {
        /// Extra key to separate caches.
        #[serde(default)]
        pub scope: Option<String>,
    }
}

/// Artifacts of one kind: build-root path (globs allowed) to install settings.
pub type ArtifactMap = BTreeMap<String, Located<Option<ArtifactConfig>>>;

strict! {
    /// What the package installs, by kind.
    pub struct Artifacts {
        /// Programs (`/usr/bin`).
        #[serde(default)]
        pub binaries: ArtifactMap,
        /// Helper programs (`/usr/libexec`).
        #[serde(default)]
        pub libexec: ArtifactMap,
        /// Manual pages (`/usr/share/man/man<section>`).
        #[serde(default)]
        pub manpages: ArtifactMap,
        /// Data directories (`/usr/share`).
        #[serde(default)]
        pub data_dirs: ArtifactMap,
        /// Configuration files (`/etc`), kept on upgrade.
        #[serde(default, rename = "configFiles")]
        pub config_files: ArtifactMap,
        /// Documentation (`/usr/share/doc/<name>`).
        #[serde(default)]
        pub docs: ArtifactMap,
        /// License files (`/usr/share/doc/<name>`).
        #[serde(default)]
        pub licenses: ArtifactMap,
        /// Libraries (`/usr/lib`).
        #[serde(default)]
        pub libs: ArtifactMap,
        /// C headers (`/usr/include`).
        #[serde(default)]
        pub headers: ArtifactMap,
        /// Files under `/opt`.
        #[serde(default)]
        pub opt: ArtifactMap,
        /// Empty directories to create.
        #[serde(default, rename = "createDirectories")]
        pub create_directories: Option<CreateDirectories>,
        /// systemd units and drop-ins.
        #[serde(default)]
        pub systemd: Option<Systemd>,
        /// Symbolic links to create.
        #[serde(default)]
        pub links: Vec<ArtifactLink>,
        /// System users to create on install.
        #[serde(default)]
        pub users: Vec<NamedEntry>,
        /// System groups to create on install.
        #[serde(default)]
        pub groups: Vec<NamedEntry>,
        /// Do not strip binaries.
        #[serde(default)]
        pub disable_strip: bool,
        /// Do not add automatic library dependencies.
        #[serde(default)]
        pub disable_auto_requires: bool,
    }
}

strict! {
    /// Where and how one artifact is installed.
    pub struct ArtifactConfig {
        /// Sub-directory under the kind's install directory.
        #[serde(default)]
        pub subpath: Option<Located<String>>,
        /// Installed file name (default: the source's base name).
        #[serde(default)]
        pub name: Option<Located<String>>,
        /// Permission bits.
        #[serde(default)]
        pub permissions: Option<Located<Mode>>,
        /// Owner user name.
        #[serde(default)]
        pub user: Option<String>,
        /// Owner group name.
        #[serde(default)]
        pub group: Option<String>,
        /// File capabilities set on installation, after the owner (only on binaries, libs,
        /// libexec and opt).
        #[serde(default)]
        pub linux_capabilities: Located<Vec<LinuxCapability>>,
    }
}

strict! {
    /// One Linux file capability (`setcap NAME=eip`).
    pub struct LinuxCapability {
        /// The capability (`cap_net_raw`).
        pub name: String,
        /// In the effective set.
        #[serde(default)]
        pub effective: bool,
        /// In the permitted set.
        #[serde(default)]
        pub permitted: bool,
        /// In the inheritable set.
        #[serde(default)]
        pub inheritable: bool,
    }
}

/// The capabilities as `setcap` takes them (`cap_net_raw=ep cap_net_admin=eip`: flags in
/// the order e, i, p; a capability without flags left out), or `None` when there are none.
pub fn setcap_text(caps: &[LinuxCapability]) -> Option<String> {
    let parts: Vec<String> = caps
        .iter()
        .filter_map(|c| {
            let flags: String = [(c.effective, 'e'), (c.inheritable, 'i'), (c.permitted, 'p')]
                .into_iter()
                .filter_map(|(on, f)| on.then_some(f))
                .collect();
            (!flags.is_empty()).then(|| format!("{}={flags}", c.name))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

strict! {
    /// Directories to create.
    pub struct CreateDirectories {
        /// Under `/etc`.
        #[serde(default)]
        pub config: BTreeMap<String, Option<ArtifactDir>>,
        /// Under `/var/lib`.
        #[serde(default)]
        pub state: BTreeMap<String, Option<ArtifactDir>>,
    }
}

strict! {
    /// A directory to create.
    pub struct ArtifactDir {
        /// Permission bits.
        #[serde(default)]
        pub mode: Option<Located<Mode>>,
        /// Owner user name.
        #[serde(default)]
        pub user: Option<String>,
        /// Owner group name.
        #[serde(default)]
        pub group: Option<String>,
    }
}

strict! {
    /// systemd units and drop-ins.
    pub struct Systemd {
        /// Unit files by build-root path.
        #[serde(default)]
        pub units: BTreeMap<String, Option<SystemdUnit>>,
        /// Drop-in files by build-root path.
        #[serde(default)]
        pub dropins: BTreeMap<String, Option<SystemdDropin>>,
    }
}

/// The name a file is installed under: `name` when it is set and not empty (Dalec's docs write
/// `name: ""` for the file's own name), else the last component of `path`.
pub fn installed_name<'a>(path: &'a str, name: Option<&'a str>) -> &'a str {
    match name {
        Some(n) if !n.is_empty() => n,
        _ => path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(path),
    }
}

impl SystemdUnit {
    /// The unit's installed name (see [`installed_name`]).
    pub fn installed<'a>(unit: Option<&'a SystemdUnit>, path: &'a str) -> &'a str {
        installed_name(path, unit.and_then(|u| u.name.as_deref()))
    }
}

strict! {
    /// A systemd unit.
    pub struct SystemdUnit {
        /// Installed unit name (default: the file's base name).
        #[serde(default)]
        pub name: Option<String>,
        /// Enable the unit on install.
        #[serde(default)]
        pub enable: bool,
        /// Start the unit on install.
        #[serde(default)]
        pub start: bool,
    }
}

strict! {
    /// A systemd drop-in.
    pub struct SystemdDropin {
        /// Installed file name (default: the file's base name).
        #[serde(default)]
        pub name: Option<String>,
        /// The unit it extends.
        pub unit: Located<String>,
    }
}

strict! {
    /// A symbolic link to create.
    pub struct ArtifactLink {
        /// What the link points to.
        pub source: Located<String>,
        /// Where the link is.
        pub dest: Located<String>,
        /// Owner user name.
        #[serde(default)]
        pub user: Option<String>,
        /// Owner group name.
        #[serde(default)]
        pub group: Option<String>,
    }
}

strict! {
    /// A named user or group.
    pub struct NamedEntry {
        /// The name.
        pub name: Located<String>,
    }
}

strict! {
    /// Package dependencies.
    pub struct Dependencies {
        /// Needed to build; installed in the build container.
        #[serde(default)]
        pub build: Option<DependencyList>,
        /// Needed to run.
        #[serde(default)]
        pub runtime: Option<DependencyList>,
        /// Recommended.
        #[serde(default)]
        pub recommends: Option<DependencyList>,
        /// Installed in the test container.
        #[serde(default)]
        pub test: Option<DependencyList>,
        /// Packed into a systemd system extension.
        #[serde(default)]
        pub sysext: Option<DependencyList>,
        /// Extra package repositories.
        #[serde(default)]
        pub extra_repos: Vec<PackageRepository>,
    }
}

strict! {
    /// An extra package repository.
    pub struct PackageRepository {
        /// Signing keys, by file name.
        #[serde(default)]
        pub keys: BTreeMap<String, Located<Source>>,
        /// Repository configuration files, by name.
        #[serde(default)]
        pub config: BTreeMap<String, Located<Source>>,
        /// Extra content to mount (e.g. a local repository).
        #[serde(default)]
        pub data: Vec<SourceMount>,
        /// Where the repository is used: `build`, `test`, `install` (default all).
        #[serde(default)]
        pub envs: Vec<Located<Parsed<RepoStage>>>,
    }
}

/// Packages by name with their constraints. The legacy list form (`- pkg`) is accepted and
/// kept (Dalec drops it silently).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DependencyList(pub BTreeMap<DependencyName, Option<Constraints>>);

strict! {
    /// Version and architecture constraints of one dependency.
    pub struct Constraints {
        /// Version constraints such as `>= 1.2`; all must hold.
        #[serde(default)]
        pub version: Vec<Located<String>>,
        /// Architectures the dependency applies to.
        #[serde(default)]
        pub arch: Vec<String>,
    }
}

impl<'de> Deserialize<'de> for DependencyList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DependencyListVisitor)
    }
}

struct DependencyListVisitor;

impl<'de> Visitor<'de> for DependencyListVisitor {
    type Value = DependencyList;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of package names to constraints, or a list of package names")
    }

    fn visit_unit<E: de::Error>(self) -> Result<DependencyList, E> {
        Ok(DependencyList::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<DependencyList, E> {
        Ok(DependencyList::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DependencyList, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(name) = map.next_key::<DependencyName>()? {
            out.insert(name, map.next_value()?);
        }
        Ok(DependencyList(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DependencyList, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(name) = seq.next_element::<DependencyName>()? {
            out.insert(name, None);
        }
        Ok(DependencyList(out))
    }
}

#[cfg(test)]
impl schemars::JsonSchema for DependencyList {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DependencyList".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let constraints = g.subschema_for::<Option<Constraints>>();
        schemars::json_schema!({
            "description": "Packages by name with optional constraints, or (legacy) a list of package names.",
            "oneOf": [
                { "type": "object", "additionalProperties": constraints },
                { "type": "array", "items": { "type": "string" } },
                { "type": "null" }
            ]
        })
    }
}

/// Permission bits, written `0644`, `0o644` or as a decimal number (Dalec's rules).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mode(pub u32);

impl Mode {
    /// Parses `0644`, `0o644`, `0O644` or a decimal number up to `0o7777`.
    pub fn parse(text: &str) -> Option<Mode> {
        let t = text.trim();
        let bits = if let Some(oct) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
            u32::from_str_radix(oct, 8).ok()
        } else if t.len() > 1 && t.starts_with('0') {
            u32::from_str_radix(t, 8).ok()
        } else {
            t.parse::<u32>().ok()
        };
        bits.filter(|m| *m <= 0o7777).map(Mode)
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Mode::parse(&text).ok_or_else(|| {
            de::Error::custom(format!(
                "invalid permissions {text:?}: expected octal bits such as 0644 or 0o755"
            ))
        })
    }
}

impl Serialize for Mode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0o{:o}", self.0))
    }
}

#[cfg(test)]
impl schemars::JsonSchema for Mode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Mode".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Permission bits: 0644, 0o644, or a decimal number.",
            "type": ["string", "integer"]
        })
    }
}

strict! {
    /// Per-target overrides (see the merge rules in the docs).
    pub struct Target {
        /// Replaces each non-empty dependency list of the root.
        #[serde(default)]
        pub dependencies: Option<Dependencies>,
        /// Merged into the root image settings.
        #[serde(default)]
        pub image: Option<ImageConfig>,
        /// Replaces the root artifacts.
        #[serde(default)]
        pub artifacts: Option<Artifacts>,
        /// Appended to the root tests.
        #[serde(default)]
        pub tests: Vec<Located<TestSpec>>,
        /// Replaces the root signing configuration.
        #[serde(default)]
        pub package_config: Option<PackageConfig>,
        /// Replaces the root list.
        #[serde(default)]
        pub conflicts: Option<DependencyList>,
        /// Replaces the root list.
        #[serde(default)]
        pub replaces: Option<DependencyList>,
        /// Replaces the root list.
        #[serde(default)]
        pub provides: Option<DependencyList>,
        /// Hand every build of this target to another frontend image.
        #[serde(default)]
        pub frontend: Option<FrontendRef>,
    }
}

strict! {
    /// Another frontend image.
    pub struct FrontendRef {
        /// Image reference.
        pub image: Located<String>,
        /// Command line passed to it.
        #[serde(default)]
        pub cmdline: Option<String>,
    }
}

strict! {
    /// Container image settings.
    pub struct ImageConfig {
        /// Entrypoint, split like a shell command line; clears the base image's cmd.
        #[serde(default)]
        pub entrypoint: Option<Located<String>>,
        /// Default command, split like a shell command line.
        #[serde(default)]
        pub cmd: Option<Located<String>>,
        /// `K=V` environment entries.
        #[serde(default)]
        pub env: Vec<Located<String>>,
        /// Labels (args are substituted).
        #[serde(default)]
        pub labels: BTreeMap<String, Located<String>>,
        /// Volumes.
        #[serde(default)]
        pub volumes: BTreeMap<String, Option<Empty>>,
        /// Working directory.
        #[serde(default)]
        pub working_dir: Option<String>,
        /// Stop signal.
        #[serde(default)]
        pub stop_signal: Option<String>,
        /// User to run as.
        #[serde(default)]
        pub user: Option<String>,
        /// Base image (deprecated form of `bases`).
        #[serde(default)]
        pub base: Option<Located<String>>,
        /// Base images (image sources only).
        #[serde(default)]
        pub bases: Option<Vec<BaseImage>>,
        /// Changes made after the package is installed.
        #[serde(default)]
        pub post: Option<PostInstall>,
    }
}

strict! {
    /// An empty mapping (`{}`).
    pub struct Empty {}
}

strict! {
    /// A base image.
    pub struct BaseImage {
        /// Its root filesystem (an image source).
        pub rootfs: Located<Source>,
    }
}

strict! {
    /// Changes made to the image after the package is installed.
    pub struct PostInstall {
        /// Symlinks to create, by target path.
        #[serde(default)]
        pub symlinks: BTreeMap<String, Located<SymlinkTarget>>,
    }
}

strict! {
    /// Where symlinks to one target go.
    pub struct SymlinkTarget {
        /// One link path (deprecated form of `paths`).
        #[serde(default)]
        pub path: Option<Located<String>>,
        /// Link paths.
        #[serde(default)]
        pub paths: Vec<Located<String>>,
        /// Owner user name.
        #[serde(default)]
        pub user: Option<String>,
        /// Owner group name.
        #[serde(default)]
        pub group: Option<String>,
    }
}

strict! {
    /// A test run in a container with the package installed.
    pub struct TestSpec {
        /// Test name.
        pub name: Located<String>,
        /// Working directory of the steps.
        #[serde(default)]
        pub dir: Option<String>,
        /// Environment of the steps.
        #[serde(default)]
        #[cfg_attr(test, schemars(with = "BTreeMap<String, Scalar>"))]
        pub env: EnvMap,
        /// Sources mounted into every step.
        #[serde(default)]
        pub mounts: Vec<SourceMount>,
        /// Commands to run and check.
        #[serde(default)]
        pub steps: Vec<TestStep>,
        /// Files to check, by absolute path (`null` means "must exist").
        #[serde(default)]
        pub files: BTreeMap<String, Located<Option<FileCheck>>>,
    }
}

strict! {
    /// One test command.
    pub struct TestStep {
        /// The command (split like a shell command line, run without a shell).
        pub command: Located<String>,
        /// Extra environment.
        #[serde(default)]
        #[cfg_attr(test, schemars(with = "BTreeMap<String, Scalar>"))]
        pub env: EnvMap,
        /// Standard input.
        #[serde(default)]
        pub stdin: Option<String>,
        /// Checks on standard output.
        #[serde(default)]
        pub stdout: Option<CheckOutput>,
        /// Checks on standard error.
        #[serde(default)]
        pub stderr: Option<CheckOutput>,
    }
}

strict! {
    /// Checks on some text.
    pub struct CheckOutput {
        /// Exactly this.
        #[serde(default)]
        pub equals: Option<String>,
        /// Contains each of these.
        #[serde(default)]
        pub contains: Vec<String>,
        /// Matches each of these regular expressions (Go syntax, anywhere in the whole text).
        #[serde(default)]
        pub matches: Vec<Located<String>>,
        /// Starts with this.
        #[serde(default)]
        pub starts_with: Option<String>,
        /// Ends with this.
        #[serde(default)]
        pub ends_with: Option<String>,
        /// Is empty.
        #[serde(default)]
        pub empty: bool,
    }
}

strict! {
    /// Checks on a file.
    pub struct FileCheck {
        /// Exactly this content.
        #[serde(default)]
        pub equals: Option<String>,
        /// Contains each of these.
        #[serde(default)]
        pub contains: Vec<String>,
        /// Matches each of these regular expressions (Go syntax, anywhere in the whole text).
        #[serde(default)]
        pub matches: Vec<Located<String>>,
        /// Starts with this.
        #[serde(default)]
        pub starts_with: Option<String>,
        /// Ends with this.
        #[serde(default)]
        pub ends_with: Option<String>,
        /// Is empty.
        #[serde(default)]
        pub empty: bool,
        /// Has these permission bits.
        #[serde(default)]
        pub permissions: Option<Located<Mode>>,
        /// Is a directory.
        #[serde(default)]
        pub is_dir: bool,
        /// Does not exist.
        #[serde(default)]
        pub not_exist: bool,
        /// Is a symlink whose target is exactly this (`readlink`, no chain followed).
        #[serde(default)]
        pub link_target: Option<String>,
        /// Checks existence, `is_dir` and `permissions` on the path itself, not what a symlink
        /// points to (content checks still follow it).
        #[serde(default)]
        pub no_follow: bool,
    }
}

strict! {
    /// Signing configuration.
    pub struct PackageConfig {
        /// The signer frontend.
        #[serde(default)]
        pub signer: Option<Located<PackageSigner>>,
    }
}

strict! {
    /// A signer frontend and its arguments.
    pub struct PackageSigner {
        /// Signer image.
        #[serde(default)]
        pub image: Option<Located<String>>,
        /// Command line passed to it.
        #[serde(default)]
        pub cmdline: Option<String>,
        /// Build args passed to it (args are substituted).
        #[serde(default)]
        #[cfg_attr(test, schemars(with = "BTreeMap<String, Scalar>"))]
        pub args: ArgMap,
    }
}

strict! {
    /// One changelog entry.
    pub struct ChangelogEntry {
        /// `YYYY-MM-DD`.
        pub date: Located<Parsed<Date>>,
        /// `Name <email>`.
        pub author: Located<String>,
        /// What changed.
        #[serde(default)]
        pub changes: Vec<String>,
    }
}
