//! The spec's "one of" values as enums: which kind a source or a generator is, a build's
//! network mode, a cache's sharing, the stages a repository serves. Each is decided here once
//! (and checked by `validate` with the same functions), so the code that lowers a spec matches
//! on an enum instead of testing options and strings.

use crate::model::*;
use crate::parsed::FromText;

/// What a source is: exactly one kind (the spec's rules refuse none or several).
#[derive(Debug, Clone, Copy)]
pub enum SourceKind<'a> {
    /// A named build context.
    Context(&'a SourceContext),
    /// A git repository.
    Git(&'a SourceGit),
    /// A file over HTTP.
    Http(&'a SourceHttp),
    /// A directory of an image (with optional commands run in it).
    Image(&'a SourceImage),
    /// A file or directory written in the spec.
    Inline(&'a SourceInline),
    /// The result of a Dockerfile build.
    Build(&'a SourceBuild),
}

impl Source {
    /// The source's kind; `None` when it has none or several (an error at load).
    pub fn kind(&self) -> Option<SourceKind<'_>> {
        let mut kinds = [
            self.context.as_ref().map(SourceKind::Context),
            self.git.as_ref().map(SourceKind::Git),
            self.http.as_ref().map(SourceKind::Http),
            self.image.as_ref().map(SourceKind::Image),
            self.inline.as_ref().map(SourceKind::Inline),
            self.build.as_ref().map(SourceKind::Build),
        ]
        .into_iter()
        .flatten();
        match (kinds.next(), kinds.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }

    /// How many kinds the source names (1 for a valid source).
    pub fn kind_count(&self) -> usize {
        [
            self.context.is_some(),
            self.git.is_some(),
            self.http.is_some(),
            self.image.is_some(),
            self.inline.is_some(),
            self.build.is_some(),
        ]
        .iter()
        .filter(|k| **k)
        .count()
    }
}

/// What a generator fetches: exactly one kind.
#[derive(Debug, Clone, Copy)]
pub enum GeneratorKind<'a> {
    /// Go modules.
    Gomod(&'a GeneratorGomod),
    /// Cargo crates (a `CARGO_HOME`).
    Cargohome(&'a GeneratorPaths),
    /// Python packages.
    Pip(&'a GeneratorPip),
    /// Node modules.
    Nodemod(&'a GeneratorNodemod),
}

impl GeneratorKind<'_> {
    /// The kind's name, as the spec writes it.
    pub fn name(self) -> &'static str {
        match self {
            GeneratorKind::Gomod(_) => "gomod",
            GeneratorKind::Cargohome(_) => "cargohome",
            GeneratorKind::Pip(_) => "pip",
            GeneratorKind::Nodemod(_) => "nodemod",
        }
    }
}

impl SourceGenerator {
    /// The generator's kind; `None` when it has none or several (an error at load).
    pub fn kind(&self) -> Option<GeneratorKind<'_>> {
        let mut kinds = [
            self.gomod.as_ref().map(GeneratorKind::Gomod),
            self.cargohome.as_ref().map(GeneratorKind::Cargohome),
            self.pip.as_ref().map(GeneratorKind::Pip),
            self.nodemod.as_ref().map(GeneratorKind::Nodemod),
        ]
        .into_iter()
        .flatten();
        match (kinds.next(), kinds.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }
}

/// A build's network: none (the default) or the sandbox's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// No network.
    None,
    /// The build sandbox's network.
    Sandbox,
}

impl FromText for Network {
    /// `""` and `none` are no network.
    fn from_text(text: &str) -> Option<Network> {
        match text {
            "" | "none" => Some(Network::None),
            "sandbox" => Some(Network::Sandbox),
            _ => None,
        }
    }
}

impl Build {
    /// The build's network (its `network_mode`, checked when the spec is read and again after
    /// args are substituted).
    pub fn network(&self) -> Network {
        self.network_mode
            .as_ref()
            .and_then(|n| n.value.get().copied())
            .unwrap_or(Network::None)
    }
}

/// How a cache directory is shared between builds that run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Used by all at once (the default).
    Shared,
    /// Each build gets its own copy.
    Private,
    /// One build at a time.
    Locked,
}

impl FromText for Sharing {
    fn from_text(text: &str) -> Option<Sharing> {
        match text {
            "shared" => Some(Sharing::Shared),
            "private" => Some(Sharing::Private),
            "locked" => Some(Sharing::Locked),
            _ => None,
        }
    }
}

impl CacheDir {
    /// The cache's sharing (checked when the spec is read).
    pub fn sharing(&self) -> Sharing {
        self.sharing
            .as_ref()
            .and_then(|s| s.value.get().copied())
            .unwrap_or(Sharing::Shared)
    }
}

/// The package-manager steps a repository serves (`envs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoStage {
    /// Installing the build dependencies in the worker.
    Build,
    /// Installing the package (and its runtime dependencies) into the container.
    Install,
    /// Installing the test dependencies before the spec's tests.
    Test,
}

impl FromText for RepoStage {
    fn from_text(text: &str) -> Option<RepoStage> {
        match text {
            "build" => Some(RepoStage::Build),
            "install" => Some(RepoStage::Install),
            "test" => Some(RepoStage::Test),
            _ => None,
        }
    }
}

impl PackageRepository {
    /// Whether the repository serves `stage` (no `envs`: every stage).
    pub fn serves(&self, stage: RepoStage) -> bool {
        self.envs.is_empty() || self.envs.iter().any(|e| e.value.get() == Some(&stage))
    }
}

/// A changelog date (`YYYY-MM-DD`) as seconds since the epoch, at midnight UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub i64);

impl FromText for Date {
    fn from_text(text: &str) -> Option<Date> {
        crate::date::parse_ymd(text).map(Date)
    }
}

impl ChangelogEntry {
    /// The entry's date as seconds since the epoch (parsed when the spec is read).
    pub fn epoch(&self) -> Option<i64> {
        self.date.value.get().map(|d| d.0)
    }
}
