//! The package families: how a distro's packages are made, checked and installed. A family is
//! a module behind the [`Family`] trait plus a [`FamilyConfig`] (its package manager as data);
//! a distro is a row of data that names both, so a new release of a family is one row.
//!
//! **Architecture Invariant:** `build/` and `request/` hold no family's code: what differs
//! between families is a [`Family`] method or a [`FamilyConfig`] field.

pub mod deb;
pub mod rpm;
pub mod scripts;
pub mod windows;

use crate::build::Context;
use crate::distro::Distro;
use crate::spec::{DependencyList, Located, Pos, Spec, SpecErrors, TestSpec};
use crate::targets::Route;
use kiln_buildkit::llb::State;
use kiln_buildkit::options::WorkerPlatform;

/// A family's package manager as data: its commands, caches, environment and repository
/// layout. Scripts in `build/` are made of these pieces.
#[derive(Debug)]
pub struct FamilyConfig {
    /// Cache mounts of every package-manager step, as (mount point, cache id suffix); the id
    /// is `kiln-<distro key>-<suffix>`, locked (the package manager locks them anyway).
    pub caches: &'static [(&'static str, &'static str)],
    /// Environment of every package-manager step.
    pub env: &'static [(&'static str, &'static str)],
    /// Lines that make a fresh image keep downloaded packages in the cache (the worker only).
    pub keep_downloads: &'static str,
    /// Refreshes the package lists.
    pub refresh: &'static str,
    /// Installs packages: followed by package names or package files.
    pub install: &'static str,
    /// Installs what a relation list asks for: followed by the list as one shell word.
    pub satisfy: &'static str,
    /// Files the package manager writes that would make an image differ between builds
    /// (logs, caches of file times): removed from the layer that installs packages.
    pub image_logs: &'static [&'static str],
    /// Packages installed next to the spec's into every image (Dalec's images have them).
    pub image_packages: &'static [&'static str],
    /// Where the package manager reads repository lists.
    pub repo_lists_dir: &'static str,
    /// The file name endings of repository lists; a list named otherwise gets the first.
    pub repo_list_suffixes: &'static [&'static str],
    /// Where repository keys are put.
    pub repo_keys_dir: &'static str,
    /// What joins relations into one list for [`FamilyConfig::satisfy`].
    pub relation_separator: &'static str,
    /// Where license texts go, relative to the root (under a directory named after the
    /// package): Debian keeps them with the documents, RPM distros apart.
    pub license_root: &'static str,
    /// Downloads packages into the working directory, without their dependencies: followed
    /// by package names.
    pub download: &'static str,
    /// Unpacks every package file under the directory `$1` into the directory `$2`, without
    /// running the packages' scripts (a shell function body).
    pub unpack: &'static str,
}

/// A trimmed spec text field, empty when absent.
pub fn text(field: &Option<Located<String>>) -> &str {
    field.as_ref().map_or("", |f| f.value.trim())
}

/// A value for one line of a package's metadata (a control file, changelog, `.spec` header): the spec's rules
/// refuse line breaks in such values; this keeps a line a line whatever reaches it (a control
/// character becomes a space, so no value can start a field of its own).
pub fn one_line(value: &str) -> String {
    value
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Every relation list of the spec with the field that holds it, for a family's checks.
pub fn relation_lists(spec: &Spec) -> [(&'static str, Option<&DependencyList>); 7] {
    let deps = spec.dependencies.as_ref();
    [
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
    ]
}

/// The sources of a package build, under the family's source directory.
#[derive(Debug, Clone)]
pub struct Sources {
    /// As fetched: what the source package's upstream tarball holds.
    pub unpatched: State,
    /// Patched, with what the generators fetched or changed.
    pub prepared: State,
}

/// What a package build returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outputs {
    /// The source package only.
    Source,
    /// The binary packages and the source package they were built from.
    Binary,
    /// An installer of the built programs (Windows' MSI).
    Installer,
    /// What the family's package build reads, for debugging: its recipe alone (RPM's
    /// `.spec`).
    Recipe,
    /// The recipe's sources as the package build gets them (RPM's `SOURCES/`).
    RecipeSources,
    /// The recipe and its sources (RPM's rpmbuild top directory).
    RecipeTree,
}

/// What a family does: the code behind its distro rows.
pub trait Family: Sync + std::fmt::Debug {
    /// The family's routes, as (path, route, description); the first is a bare distro key's.
    fn routes(&self) -> &'static [(&'static str, Route, &'static str)];

    /// What a build for `distro` needs of the spec beyond the general rules: (message,
    /// position) pairs; an unknown position means the whole file.
    fn check(&self, spec: &Spec, distro: &Distro) -> Vec<(String, Pos)>;

    /// A dependency list as relations of the family's package manager (one per constraint).
    fn relations(&self, list: Option<&DependencyList>) -> Vec<String>;

    /// Relations every package build of `distro` needs besides the spec's.
    fn build_requirements(&self, distro: &Distro) -> Vec<String>;

    /// The directory, relative to the build root, the package is built in.
    fn source_dir(&self, spec: &Spec, distro: &Distro, ctx: &Context) -> String;

    /// Builds the packages: `unpatched` holds the sources as fetched and `tree` the patched
    /// sources (with generated dependencies), both under [`Family::source_dir`]; `builder` is
    /// the worker with the build dependencies. Returns the package files at the root of a
    /// state: the source package, and with [`Outputs::Binary`] the binary packages built from
    /// it; or, for a family with [`Family::programs`], what [`Family::pack`] makes them of.
    fn package(
        &self,
        spec: &Spec,
        distro: &Distro,
        ctx: &Context,
        sources: Sources,
        builder: State,
        outputs: Outputs,
    ) -> Result<State, SpecErrors>;

    /// The programs in `built` (what [`Family::package`] returned), when the family's signer
    /// gets them before they are packed (Windows, as Dalec's contract has it: the spec's
    /// binaries, each at the root); `None`: `built` holds the packages, signed as they are.
    fn programs(&self, _built: &State, _distro: &Distro) -> Option<State> {
        None
    }

    /// The packages of `outputs` made of `programs` (the [`Family::programs`] of `built`, as
    /// the signer returned them) and the rest of `built`; a family without
    /// [`Family::programs`] returns `built`.
    fn pack(
        &self,
        _spec: &Spec,
        _distro: &Distro,
        _ctx: &Context,
        built: &State,
        _programs: State,
        _outputs: Outputs,
    ) -> Result<State, SpecErrors> {
        Ok(built.clone())
    }

    /// The minimal image of the spec's packages (`packages`: the built ones at the root of a
    /// state): a root made of nothing but what they need, in one layer.
    fn minimal_image(
        &self,
        spec: &Spec,
        distro: &Distro,
        ctx: &Context,
        packages: State,
    ) -> Result<State, SpecErrors>;

    /// The OS the family's packages are for: `linux`, or `windows` for packages built on a
    /// Linux worker for Windows.
    fn target_os(&self) -> &'static str {
        "linux"
    }

    /// Whether the family builds for `platform` (`--platform`): an error that says why not.
    fn check_platform(&self, platform: &WorkerPlatform, _distro: &Distro) -> Result<(), String> {
        if platform.os == "linux" {
            Ok(())
        } else {
            Err(format!(
                "platform {platform} is not supported: kiln builds Linux packages (use linux/<arch>)"
            ))
        }
    }

    /// The image the spec's tests run in, when the family has its own (Windows programs run
    /// under wine on Linux); `None`: the image of the container route, the packages
    /// installed.
    fn test_image(
        &self,
        _spec: &Spec,
        _distro: &Distro,
        _ctx: &Context,
        _packages: &State,
    ) -> Option<Result<State, SpecErrors>> {
        None
    }

    /// Why the family's test image cannot run the test `t`, and where, if it cannot (a
    /// Windows program's test that checks a Linux path): the test is then skipped with a
    /// warning that says so, never passed.
    fn unrunnable_test(&self, _t: &Located<TestSpec>) -> Option<(String, Pos)> {
        None
    }

    /// What each test step's command runs under (`wine` for Windows programs): words put
    /// before it.
    fn test_command_prefix(&self) -> &'static [&'static str] {
        &[]
    }

    /// The bases [`Family::minimal_image`] makes an image on, one image per base
    /// ([`Context::image_base`]), each at its place in the spec: one (at no place) unless the
    /// family builds an image per `image.bases` entry (Windows, as Dalec does).
    fn image_bases(&self, _spec: &Spec) -> Vec<Pos> {
        vec![Pos::default()]
    }

    /// The image whose config [`Family::minimal_image`] starts from: empty for an empty root.
    fn image_base_ref(&self, _spec: &Spec, _ctx: &Context) -> String {
        String::new()
    }

    /// The packages named `name` among the built ones, for installing into an image: a shell
    /// glob relative to the packages' directory (the name in it quoted) and the pattern as a
    /// person reads it.
    fn package_glob(&self, name: &str) -> (String, String);

    /// `meta` built on the worker, its file laid out as the family's packages are (see
    /// [`Family::package_glob`]), when the family's package manager takes relations only
    /// through a package (RPM's); `None` when [`FamilyConfig::satisfy`] takes them as they are.
    fn meta_package(&self, meta: &MetaPackage, distro: &Distro, ctx: &Context) -> Option<State>;
}

/// A package that holds nothing and requires a list of relations: how relations reach a
/// package manager that installs packages only (RPM's), and what `container/depsonly` installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaPackage {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Release (revision), without a dist tag.
    pub release: String,
    /// License.
    pub license: String,
    /// One line on what it is for.
    pub summary: String,
    /// What it requires, in the family's syntax (see [`Family::relations`]).
    pub relations: Vec<String>,
}

impl MetaPackage {
    /// A meta-package of kiln's own making, which only a build step installs: version 1,
    /// release 1, no license.
    pub fn internal(name: &str, summary: &str, relations: Vec<String>) -> MetaPackage {
        MetaPackage {
            name: name.to_string(),
            version: "1".to_string(),
            release: "1".to_string(),
            license: "none".to_string(),
            summary: summary.to_string(),
            relations,
        }
    }
}
