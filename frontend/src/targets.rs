//! `--target` routing: `<distro>/<route>`, longest match first, and the list of targets.

use crate::distro::{self, Distro, Sysext};
use serde_json::json;

/// What a build produces for a distro.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The native packages and the source package they were built from, as the result
    /// filesystem.
    Package,
    /// The source package only.
    Source,
    /// An installer of the programs (Windows' MSI), built and tested as [`Route::Package`].
    Installer,
    /// The distro image with the package installed.
    Container,
    /// A minimal image: the package and what it needs on an empty root (or, with
    /// `image.base`, [`Route::Container`] on that base).
    MinimalContainer,
    /// An image with only the spec's runtime dependencies, installed through a meta-package
    /// that requires them (RPM's `container/depsonly`): as [`Route::MinimalContainer`], but
    /// the package itself is not built.
    RuntimeDepsContainer,
    /// The build worker image (distro image plus build tooling).
    Worker,
    /// What the family's package build reads (`rpm/debug/spec` and the like).
    PackageInputs(crate::family::Outputs),
    /// `debug/resolve`: the spec with args substituted, as `spec.yml`.
    DebugResolve,
    /// `debug/sources`: every source as placed in the build root.
    DebugSources,
    /// `debug/patched-sources`: the sources after the patches.
    DebugPatchedSources,
    /// `debug/gomods`, `debug/cargohome`, `debug/pip`: what the generators of that kind
    /// fetched, as the build sees it.
    DebugGenerated(&'static str),
    /// `testing/sysext`: a systemd system extension (an EROFS image) of the package and the
    /// spec's `dependencies.sysext`, after the spec's tests passed.
    SystemExtension,
}

impl Route {
    /// Whether it is a debug route (it shows the root spec, not a target's).
    pub fn is_debug(self) -> bool {
        matches!(
            self,
            Route::DebugResolve
                | Route::DebugSources
                | Route::DebugPatchedSources
                | Route::DebugGenerated(_)
        )
    }
}

/// One route of a distro: (path, route, description).
type RouteRow = (&'static str, Route, &'static str);

/// The system extension route, for distros that have it.
const SYSEXT_ROUTE: RouteRow = (
    "testing/sysext",
    Route::SystemExtension,
    "A systemd system extension (.raw) of the package, after its tests",
);

/// Flatcar's routes (Dalec's): the system extension and the worker it is made on.
const FLATCAR_ROUTES: &[RouteRow] = &[
    (
        "testing/sysext",
        Route::SystemExtension,
        "A Flatcar-compatible systemd system extension (.raw) of the package, after its tests",
    ),
    ("worker", Route::Worker, "The build worker image"),
];

/// The routes of `distro`, its default first.
pub fn routes(distro: &Distro) -> Vec<RouteRow> {
    let family = distro.family.routes().iter().copied();
    match distro.sysext {
        Sysext::No => family.collect(),
        Sysext::Also => family.chain([SYSEXT_ROUTE]).collect(),
        Sysext::Flatcar => FLATCAR_ROUTES.to_vec(),
    }
}

/// Routes that do not belong to a distro: (path, route, description).
const DEBUG_ROUTES: &[(&str, Route, &str)] = &[
    (
        "debug/resolve",
        Route::DebugResolve,
        "The spec with build args substituted, as spec.yml",
    ),
    (
        "debug/sources",
        Route::DebugSources,
        "Every source, as placed in the build root",
    ),
    (
        "debug/patched-sources",
        Route::DebugPatchedSources,
        "The sources after the spec's patches",
    ),
    (
        "debug/gomods",
        Route::DebugGenerated("gomod"),
        "The Go modules the gomod generators fetch",
    ),
    (
        "debug/cargohome",
        Route::DebugGenerated("cargohome"),
        "The crates the cargohome generators fetch",
    ),
    (
        "debug/pip",
        Route::DebugGenerated("pip"),
        "The Python packages the pip generators fetch",
    ),
];

/// A resolved `--target`.
#[derive(Debug, Clone, Copy)]
pub struct Selected {
    /// The distro (for debug routes: the distro whose worker applies patches).
    pub distro: &'static Distro,
    /// The route.
    pub route: Route,
}

/// One entry of the target list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetInfo {
    /// Full target name (`bookworm/deb`).
    pub name: String,
    /// What it builds.
    pub description: String,
    /// Whether it is what a bare distro key selects.
    pub default: bool,
    /// Whether its key is one of the spec's `targets` (Dalec's `specDefined`).
    pub spec_defined: bool,
}

/// Every target, in a stable order.
pub fn list() -> Vec<TargetInfo> {
    distro::DISTROS
        .iter()
        .flat_map(|d| {
            routes(d)
                .into_iter()
                .enumerate()
                .map(move |(i, (path, _, desc))| TargetInfo {
                    name: format!("{}/{path}", d.key),
                    description: format!("{desc} for {}", d.title),
                    default: i == 0,
                    spec_defined: false,
                })
        })
        .chain(DEBUG_ROUTES.iter().map(|(path, _, desc)| TargetInfo {
            name: path.to_string(),
            description: desc.to_string(),
            default: false,
            spec_defined: false,
        }))
        .collect()
}

/// Resolves a `--target` value; a bare distro key selects its default route.
pub fn select(target: &str) -> Result<Selected, String> {
    let target = target.trim_matches('/');
    let (key, rest) = target.split_once('/').unwrap_or((target, ""));
    let unknown = || {
        let names: Vec<String> = list().into_iter().map(|t| t.name).collect();
        if target.is_empty() {
            format!(
                "no target given: pass --target, one of: {}",
                names.join(", ")
            )
        } else {
            format!(
                "unknown target {target:?}; available targets: {}",
                names.join(", ")
            )
        }
    };
    if let Some((_, route, _)) = DEBUG_ROUTES.iter().find(|(p, _, _)| *p == target) {
        return Ok(Selected {
            distro: &distro::DISTROS[0],
            route: *route,
        });
    }
    let distro = distro::find(key).ok_or_else(unknown)?;
    let table = routes(distro);
    let route = if rest.is_empty() {
        table[0].1
    } else {
        table
            .iter()
            .find(|(p, _, _)| *p == rest)
            .map(|(_, r, _)| *r)
            .ok_or_else(unknown)?
    };
    Ok(Selected { distro, route })
}

/// The target list as text: a `TARGET  DESCRIPTION` table.
pub fn list_text() -> String {
    render_text(&list())
}

/// A target list as `--call targets` prints it.
pub fn render_text(targets: &[TargetInfo]) -> String {
    let width = targets
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(0)
        .max("TARGET".len());
    let mut out = format!("{:width$}  DESCRIPTION\n", "TARGET");
    for t in targets {
        let default = if t.default { " (default)" } else { "" };
        out.push_str(&format!("{:width$}  {}{default}\n", t.name, t.description));
    }
    out
}

/// The target list in BuildKit's `frontend.targets` subrequest schema (version 1.0.0).
pub fn list_json() -> serde_json::Value {
    render_json(&list())
}

/// A target list in BuildKit's `frontend.targets` subrequest schema (version 1.0.0), with
/// Dalec's `specDefined` where true (its `hidden` routes, the bare keys, are not listed).
pub fn render_json(targets: &[TargetInfo]) -> serde_json::Value {
    let targets: Vec<_> = targets
        .iter()
        .map(|t| {
            let mut v =
                json!({ "name": t.name, "description": t.description, "default": t.default });
            if t.spec_defined {
                v["specDefined"] = json!(true);
            }
            v
        })
        .collect();
    json!({ "targets": targets })
}

/// The targets another frontend listed (its `result.json`), under `key/`.
pub fn prefixed(key: &str, result_json: &[u8]) -> Vec<TargetInfo> {
    let value: serde_json::Value = serde_json::from_slice(result_json).unwrap_or_default();
    value["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let name = t["name"].as_str()?;
            Some(TargetInfo {
                name: format!("{key}/{name}"),
                description: t["description"].as_str().unwrap_or_default().to_string(),
                default: false,
                spec_defined: true,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_frontends_targets_are_listed_under_the_key() {
        let listed = prefixed(
            "mine",
            br#"{"targets":[{"name":"rpm","description":"RPMs","default":true},{"description":"no name"}]}"#,
        );
        assert_eq!(
            listed,
            vec![TargetInfo {
                name: "mine/rpm".into(),
                description: "RPMs".into(),
                default: false,
                spec_defined: true,
            }]
        );
        assert!(prefixed("mine", b"not json").is_empty());
    }

    #[test]
    fn routes_targets() {
        let s = select("bookworm/deb").unwrap();
        assert_eq!((s.distro.key, s.route), ("bookworm", Route::Package));
        assert_eq!(select("trixie").unwrap().route, Route::Package);
        assert_eq!(
            select("trixie/testing/container").unwrap().route,
            Route::Container
        );
        assert_eq!(
            select("trixie/container").unwrap().route,
            Route::MinimalContainer
        );
        assert_eq!(select("bookworm/worker").unwrap().route, Route::Worker);
        assert_eq!(
            select("debug/patched-sources").unwrap().route,
            Route::DebugPatchedSources
        );
        assert!(select("debug").is_err());
        assert_eq!(select("azlinux3").unwrap().route, Route::MinimalContainer);
        assert_eq!(select("rockylinux8/rpm").unwrap().route, Route::Package);
        assert_eq!(
            select("almalinux9/container/depsonly").unwrap().route,
            Route::RuntimeDepsContainer
        );
        assert_eq!(
            select("fedora/rpm/debug/sources").unwrap().route,
            Route::PackageInputs(crate::family::Outputs::RecipeSources)
        );
    }

    #[test]
    fn unknown_target_lists_the_available_ones() {
        let e = select("xenial/deb").unwrap_err();
        assert!(
            e.starts_with("unknown target \"xenial/deb\"; available targets: bookworm/deb, "),
            "{e}"
        );
        assert!(e.contains("trixie/container"));
        assert!(select("bookworm/rpm").is_err());
        assert!(select("").unwrap_err().starts_with("no target given"));
    }

    #[test]
    fn lists_every_route_of_every_distro() {
        let text = list_text();
        assert!(text.contains("bookworm/deb"));
        assert!(text.contains("trixie/worker"));
        assert!(text.contains("almalinux9/rpm/debug/spec"));
        // 9 Debian and Ubuntu rows with 5 routes (3 of them a sixth, testing/sysext), 7 RPM
        // rows with 7, windowscross with 4, flatcar with 2, the debug routes.
        assert_eq!(
            list_json()["targets"].as_array().unwrap().len(),
            9 * 5 + 3 + 7 * 7 + 4 + 2 + 6
        );
    }

    #[test]
    fn system_extensions_are_where_dalec_has_them() {
        for key in ["trixie", "noble", "resolute"] {
            let s = select(&format!("{key}/testing/sysext")).unwrap();
            assert_eq!(s.route, Route::SystemExtension);
            assert_eq!(select(key).unwrap().route, Route::Package, "{key}");
        }
        assert!(select("bookworm/testing/sysext").is_err());
        // flatcar: no bare package route, the extension by default.
        assert_eq!(select("flatcar").unwrap().route, Route::SystemExtension);
        assert_eq!(select("flatcar/worker").unwrap().route, Route::Worker);
        assert!(select("flatcar/deb").is_err());
    }
}
