//! Build options, session id and workers, as BuildKit hands them to a frontend process.

use crate::pb;
use prost::Message;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Prefix of the environment variables that carry frontend options (`key=value`).
const OPT_PREFIX: &str = "BUILDKIT_FRONTEND_OPT_";

/// Where BuildKit mounts the LLB definition of the frontend's own image.
const FRONTEND_DEFINITION: &str = "/run/config/buildkit/metadata/frontend.bin";

/// Everything the frontend learns from its environment at start-up.
#[derive(Debug, Clone, Default)]
pub struct BuildOpts {
    /// Frontend options (`target`, `filename`, `build-arg:K`, `context:NAME`, ...).
    pub opts: BTreeMap<String, String>,
    /// The client session id, used for local sources.
    pub session_id: String,
    /// The workers of the daemon.
    pub workers: Vec<WorkerInfo>,
    /// The LLB of the frontend's own image (pinned by digest), when BuildKit provides it.
    pub frontend_definition: Option<pb::Definition>,
    /// The frontend inputs: states the client passed by name (a bake `target:` context, a
    /// forwarded spec as `dockerfile`). Not in the environment: the frontend asks the gateway.
    pub inputs: BTreeMap<String, pb::Definition>,
    /// The daemon's capabilities, once the gateway has pinged it (`None` offline: plan for a
    /// current BuildKit).
    pub daemon_caps: Option<crate::caps::Caps>,
}

/// One BuildKit worker as described in `BUILDKIT_WORKERS`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorkerInfo {
    /// Worker id.
    #[serde(default, alias = "ID")]
    pub id: String,
    /// Platforms the worker can run.
    #[serde(default, alias = "Platforms")]
    pub platforms: Vec<WorkerPlatform>,
}

/// A platform in OCI spelling.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct WorkerPlatform {
    /// `linux`, `windows`, ...
    #[serde(default)]
    pub os: String,
    /// `amd64`, `arm64`, ...
    #[serde(default)]
    pub architecture: String,
    /// `v7`, ... (may be empty)
    #[serde(default)]
    pub variant: String,
}

impl BuildOpts {
    /// Whether the daemon has the LLB cap `id`; offline (no caps known) a current BuildKit is
    /// assumed, and so is a daemon that reported no LLB caps at all.
    pub fn llb_cap(&self, id: &str) -> bool {
        self.daemon_caps
            .as_ref()
            .is_none_or(|c| !c.reports_llb() || c.llb(id))
    }

    /// Reads the options from this process's environment (and the frontend metadata file).
    pub fn from_env() -> Self {
        let mut opts = Self::from_vars(std::env::vars());
        opts.frontend_definition = std::fs::read(FRONTEND_DEFINITION).ok().and_then(|data| {
            match pb::Definition::decode(data.as_slice()) {
                Ok(def) => Some(def),
                Err(e) => {
                    tracing::warn!("ignoring unreadable {FRONTEND_DEFINITION}: {e}");
                    None
                }
            }
        });
        opts
    }

    /// Reads the options from a list of environment variables.
    ///
    /// An option value is split at the *first* `=`; values may contain `=`, commas and newlines.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut out = BuildOpts::default();
        for (name, value) in vars {
            if name.starts_with(OPT_PREFIX) {
                let (k, v) = value.split_once('=').unwrap_or((value.as_str(), ""));
                out.opts.insert(k.to_string(), v.to_string());
            } else if name == "BUILDKIT_SESSION_ID" {
                out.session_id = value;
            } else if name == "BUILDKIT_WORKERS" {
                match serde_json::from_str(&value) {
                    Ok(w) => out.workers = w,
                    Err(e) => tracing::warn!("ignoring unreadable BUILDKIT_WORKERS: {e}"),
                }
            }
        }
        out
    }

    /// The value of one option.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.opts.get(key).map(String::as_str)
    }

    /// The `--target` the user asked for ("" when none).
    pub fn target(&self) -> &str {
        self.get("target").unwrap_or("")
    }

    /// The spec file name inside the `dockerfile` local directory.
    pub fn filename(&self) -> &str {
        self.get("filename")
            .filter(|f| !f.is_empty())
            .unwrap_or("Dockerfile")
    }

    /// The subrequest id (`frontend.targets`, ...) when this call is a `--call`.
    pub fn subrequest(&self) -> Option<&str> {
        self.get("requestid").filter(|r| !r.is_empty())
    }

    /// Build args (`--build-arg K=V`), by name.
    pub fn build_args(&self) -> BTreeMap<String, String> {
        self.opts
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("build-arg:")
                    .map(|k| (k.to_string(), v.clone()))
            })
            .collect()
    }

    /// `image-resolve-mode` (`default`, `pull` or `local`), when set.
    pub fn image_resolve_mode(&self) -> Option<&str> {
        self.get("image-resolve-mode").filter(|m| !m.is_empty())
    }

    /// The session id that owns the local directory `name` (bake may share sessions).
    pub fn session_for_local(&self, name: &str) -> String {
        self.get(&format!("local-sessionid:{name}"))
            .map(str::to_string)
            .unwrap_or_else(|| self.session_id.clone())
    }

    /// The value of a named context option (`--build-context NAME=VALUE`), when given.
    pub fn named_context(&self, name: &str) -> Option<&str> {
        self.get(&format!("context:{name}"))
    }

    /// The default platform: the first platform of the first worker, else linux/amd64.
    pub fn default_platform(&self) -> WorkerPlatform {
        self.workers
            .iter()
            .flat_map(|w| w.platforms.first())
            .next()
            .cloned()
            .unwrap_or_else(|| WorkerPlatform {
                os: "linux".into(),
                architecture: "amd64".into(),
                variant: String::new(),
            })
    }
}

impl BuildOpts {
    /// The platforms to build for: `--platform` (a comma-separated list), else the default
    /// platform. Each is normalized (`linux/arm64/v8` is `linux/arm64`, `x86_64` is `amd64`);
    /// duplicates are dropped, the order is kept.
    pub fn target_platforms(&self) -> Result<Vec<WorkerPlatform>, String> {
        let Some(list) = self.get("platform").filter(|p| !p.trim().is_empty()) else {
            return Ok(vec![self.default_platform()]);
        };
        let mut out: Vec<WorkerPlatform> = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let p = if item == "local" {
                self.default_platform()
            } else {
                WorkerPlatform::parse(item)?
            };
            if !out.contains(&p) {
                out.push(p);
            }
        }
        if out.is_empty() {
            return Ok(vec![self.default_platform()]);
        }
        Ok(out)
    }
}

/// One cache to import, as the client asked for it (`--import-cache`, `--cache-from`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CacheImport {
    /// The cache exporter type (`registry`, `local`, `gha`, ...).
    #[serde(rename = "Type")]
    pub kind: String,
    /// Its attributes (`ref`, `src`, ...).
    #[serde(rename = "Attrs", default)]
    pub attrs: BTreeMap<String, String>,
}

impl BuildOpts {
    /// The caches the client asked to import: the `cache-imports` option (a JSON list of
    /// `{"Type", "Attrs"}`, as buildx and buildctl send it), else the legacy `cache-from` (a
    /// comma-separated list of registry refs). A frontend must pass them on in its solves, or
    /// the imports do nothing.
    pub fn cache_imports(&self) -> Result<Vec<CacheImport>, String> {
        if let Some(json) = self.get("cache-imports").filter(|j| !j.trim().is_empty()) {
            return serde_json::from_str(json)
                .map_err(|e| format!("invalid cache-imports option {json:?}: {e}"));
        }
        Ok(self
            .get("cache-from")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| CacheImport {
                kind: "registry".into(),
                attrs: [("ref".to_string(), r.to_string())].into_iter().collect(),
            })
            .collect())
    }
}

impl WorkerPlatform {
    /// The same platform as LLB spells it on an op.
    pub fn to_llb(self) -> pb::Platform {
        pb::Platform {
            architecture: self.architecture,
            os: self.os,
            variant: self.variant,
            ..Default::default()
        }
    }

    /// Parses `os/arch[/variant]` (or a bare `arch`, meaning linux) the way BuildKit's clients
    /// do, normalizing architecture aliases and redundant variants.
    pub fn parse(text: &str) -> Result<WorkerPlatform, String> {
        let parts: Vec<&str> = text.split('/').map(str::trim).collect();
        let (os, arch, variant) = match parts.as_slice() {
            [arch] => ("linux", *arch, ""),
            [os, arch] => (*os, *arch, ""),
            [os, arch, variant] => (*os, *arch, *variant),
            _ => {
                return Err(format!(
                    "invalid platform {text:?}: expected os/arch[/variant]"
                ));
            }
        };
        if os.is_empty() || arch.is_empty() {
            return Err(format!(
                "invalid platform {text:?}: expected os/arch[/variant]"
            ));
        }
        let os = os.to_ascii_lowercase();
        let (arch, variant) = match (arch.to_ascii_lowercase().as_str(), variant) {
            ("x86_64" | "x86-64" | "amd64", v) => ("amd64", if v == "v1" { "" } else { v }),
            ("aarch64" | "arm64", v) => ("arm64", if v == "v8" || v == "8" { "" } else { v }),
            ("i386" | "i486" | "i586" | "i686" | "386", v) => ("386", v),
            ("armhf" | "armv7l", "") => ("arm", "v7"),
            ("armel", "") => ("arm", "v6"),
            ("arm", "") => ("arm", "v7"),
            (other, v) => {
                return Ok(WorkerPlatform {
                    os,
                    architecture: other.to_string(),
                    variant: v.to_string(),
                });
            }
        };
        Ok(WorkerPlatform {
            os,
            architecture: arch.to_string(),
            variant: variant.to_string(),
        })
    }
}

impl std::fmt::Display for WorkerPlatform {
    /// `os/arch[/variant]`, as BuildKit names a platform in results (`linux/arm/v7`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if !self.variant.is_empty() {
            write!(f, "/{}", self.variant)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn cache_imports_come_from_either_option() {
        let mut o = BuildOpts::default();
        assert_eq!(o.cache_imports().unwrap(), vec![]);
        o.opts.insert(
            "cache-from".into(),
            "r.example/a:cache, r.example/b:cache".into(),
        );
        let legacy = o.cache_imports().unwrap();
        assert_eq!(legacy.len(), 2);
        assert_eq!(legacy[1].kind, "registry");
        assert_eq!(legacy[1].attrs["ref"], "r.example/b:cache");
        o.opts.insert(
            "cache-imports".into(),
            r#"[{"Type":"local","Attrs":{"src":"/c"}}]"#.into(),
        );
        let imports = o.cache_imports().unwrap();
        assert_eq!(imports.len(), 1, "cache-imports wins over cache-from");
        assert_eq!(imports[0].attrs["src"], "/c");
        o.opts.insert("cache-imports".into(), "{".into());
        assert!(
            o.cache_imports()
                .unwrap_err()
                .starts_with("invalid cache-imports option")
        );
    }

    use super::*;

    #[test]
    fn platforms_come_from_the_platform_option() {
        let mut o = BuildOpts::default();
        assert_eq!(o.target_platforms().unwrap(), vec![o.default_platform()]);
        o.opts.insert(
            "platform".into(),
            "linux/386, linux/arm64/v8,x86_64,linux/arm/v7,linux/386".into(),
        );
        let names: Vec<String> = o
            .target_platforms()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            names,
            ["linux/386", "linux/arm64", "linux/amd64", "linux/arm/v7"]
        );
        o.opts.insert("platform".into(), "linux/amd64/v2/x".into());
        assert!(
            o.target_platforms()
                .unwrap_err()
                .contains("linux/amd64/v2/x")
        );
    }

    #[test]
    fn parses_options_session_and_workers() {
        let vars = vec![
            (
                "BUILDKIT_FRONTEND_OPT_0".to_string(),
                "target=bookworm/deb".to_string(),
            ),
            (
                "BUILDKIT_FRONTEND_OPT_1".to_string(),
                "build-arg:X=a=b,c".to_string(),
            ),
            (
                "BUILDKIT_FRONTEND_OPT_2".to_string(),
                "no-cache".to_string(),
            ),
            ("BUILDKIT_SESSION_ID".to_string(), "sid".to_string()),
            (
                "BUILDKIT_WORKERS".to_string(),
                r#"[{"id":"w","labels":{},"platforms":[{"architecture":"arm64","os":"linux"}]}]"#
                    .to_string(),
            ),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let o = BuildOpts::from_vars(vars);
        assert_eq!(o.target(), "bookworm/deb");
        assert_eq!(o.build_args().get("X").map(String::as_str), Some("a=b,c"));
        assert_eq!(o.get("no-cache"), Some(""));
        assert_eq!(o.session_id, "sid");
        assert_eq!(o.default_platform().architecture, "arm64");
        assert_eq!(o.filename(), "Dockerfile");
    }

    #[test]
    fn accepts_go_field_names_for_workers() {
        let vars = vec![(
            "BUILDKIT_WORKERS".to_string(),
            r#"[{"ID":"w","Labels":{},"Platforms":[{"architecture":"amd64","os":"linux"}]}]"#
                .to_string(),
        )];
        assert_eq!(BuildOpts::from_vars(vars).workers[0].id, "w");
    }
}
