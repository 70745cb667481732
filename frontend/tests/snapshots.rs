//! Snapshots (`insta`) of what kiln generates: the LLB JSON (as `kiln-frontend llb` prints it)
//! of every compat spec and every example spec for every target, and every generated file of
//! the Debian family (`debian/`, build and install scripts, maintainer scripts, spec-test
//! scripts). Users' BuildKit caches depend on the digests: a commit that moves them shows it in
//! its snapshot diff and says why.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_buildkit::llb::{State, definition_to_json};
use kiln_buildkit::options::BuildOpts;
use kiln_frontend::build::spectests;
use kiln_frontend::family::deb as debian;
use kiln_frontend::family::rpm;
use kiln_frontend::{distro, plan, targets};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Build args a spec needs, as (name, value).
type BuildArgs = Vec<(&'static str, &'static str)>;

/// (file name, text, build args) of every spec that lowers: the compat specs (but the partial
/// one and the signer config) and the example specs.
fn specs() -> Vec<(String, String, BuildArgs)> {
    let mut out = Vec::new();
    for dir in ["tests/compat/dalec", "tests/compat/v0.21", "specs"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("spec dir")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yml"))
            .filter(|p| !p.ends_with("sign_config.yml") && !p.ends_with("source-inline.yml"))
            .collect();
        paths.sort();
        for p in paths {
            let name = file_name(&p);
            let args = match name.as_str() {
                "moby-runc.yml" => vec![
                    ("VERSION", "1.1.12"),
                    ("RUNC_COMMIT", "51d5e94601ceffbbd85688df1c928ecccbfa4685"),
                ],
                _ => vec![],
            };
            let text = std::fs::read_to_string(&p).expect("spec text");
            out.push((name, text, args));
        }
    }
    out
}

/// Every spec's LLB is snapshotted for Debian 12 and 13 and AlmaLinux 9; the other releases (the same family code
/// with other rows) for hello.yml only, which keeps the snapshots reviewable.
fn snapshotted(spec: &str, distro_key: &str) -> bool {
    matches!(distro_key, "bookworm" | "trixie" | "almalinux9") || spec == "hello.yml"
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn opts(target: &str, args: &[(&str, &str)]) -> BuildOpts {
    let mut opts = BuildOpts::default();
    opts.opts.insert("target".into(), target.into());
    for (k, v) in args {
        opts.opts.insert(format!("build-arg:{k}"), (*v).into());
    }
    opts
}

fn snapshot_name(spec: &str, what: &str) -> String {
    format!(
        "{}__{}",
        spec.trim_end_matches(".yml"),
        what.replace('/', "-")
    )
}

fn settings(dir: &str) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/snapshots")
            .join(dir),
    );
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

#[test]
fn llb_of_every_spec_for_every_target() {
    let settings = settings("llb");
    for (name, text, args) in specs() {
        for t in targets::list() {
            let key = t.name.split('/').next().unwrap_or_default();
            if distro::find(key).is_some() && !snapshotted(&name, key) {
                continue;
            }
            let opts = opts(&t.name, &args);
            // Dockerfile build sources are solved by BuildKit first; their contexts stand in.
            let built: BTreeMap<String, State> =
                plan::build_sources(&plan::Loaded::load(&name, &text).unwrap(), &opts)
                    .unwrap_or_else(|e| panic!("{name} {}: {e}", t.name))
                    .into_iter()
                    .map(|b| (b.key, b.context))
                    .collect();
            let plan = match plan::plan_text(&name, &text, &opts, &built) {
                Ok(p) => p,
                // debug/gomods and the like need a generator of their kind.
                Err(e)
                    if e.to_string()
                        .contains("generator (sources.<name>.generate)") =>
                {
                    continue;
                }
                // A deps-only image needs runtime dependencies, a Windows zip binaries; ...
                Err(e) if refused_for_want_of_content(&t.name, &e.to_string()) => continue,
                Err(e) => panic!("{name} {}: {e}", t.name),
            };
            let mut out = serde_json::to_string_pretty(&definition_to_json(&plan.state.marshal()))
                .expect("json");
            for (i, test) in plan.tests.iter().enumerate() {
                let json = definition_to_json(&test.marshal());
                let _ = write!(
                    out,
                    "\n--- test {i}\n{}",
                    serde_json::to_string_pretty(&json).expect("json")
                );
            }
            settings.bind(|| insta::assert_snapshot!(snapshot_name(&name, &t.name), out));
        }
    }
}

#[test]
fn generated_files_of_every_spec_for_every_debian_distro() {
    let settings = settings("files");
    for (name, text, args) in specs() {
        for d in distro::DISTROS
            .iter()
            .filter(|d| d.debhelper_compat > 0 && snapshotted(&name, d.key))
        {
            let opts = opts(&format!("{}/deb", d.key), &args);
            let spec = plan::resolve_spec(
                &plan::Loaded::load(&name, &text).unwrap(),
                Some(d.key),
                &opts,
            )
            .unwrap_or_else(|e| panic!("{name} {}: {e}", d.key));
            let pkg =
                debian::Package::new(&spec, d, kiln_frontend::build::build_epoch(&spec, None));
            let mut out = String::new();
            for f in debian::debian_dir(&spec, d, &pkg) {
                let _ = write!(out, "=== {} ({:o})\n{}\n", f.path, f.mode, f.contents);
            }
            for t in &spec.tests {
                let _ = write!(
                    out,
                    "=== test {}\n{}\n",
                    t.name.value,
                    spectests::script(t, &[])
                );
            }
            settings.bind(|| insta::assert_snapshot!(snapshot_name(&name, d.key), out));
        }
    }
}

#[test]
fn generated_spec_file_of_every_spec_for_every_rpm_distro() {
    let settings = settings("rpm");
    for (name, text, args) in specs() {
        for d in distro::DISTROS.iter().filter(|d| !d.dist.is_empty()) {
            let opts = opts(&format!("{}/rpm", d.key), &args);
            let spec = plan::resolve_spec(
                &plan::Loaded::load(&name, &text).unwrap(),
                Some(d.key),
                &opts,
            )
            .unwrap_or_else(|e| panic!("{name} {}: {e}", d.key));
            let pkg = rpm::Package::new(&spec, kiln_frontend::build::build_epoch(&spec, None));
            let plan = kiln_frontend::install::plan(&spec, d);
            let mut out = rpm::specfile::spec_file(&spec, d, &pkg, &plan);
            let _ = write!(
                out,
                "=== SOURCES/install.sh\n{}",
                kiln_frontend::family::scripts::install_script_at("\"$RPM_BUILD_ROOT\"", &plan)
            );
            settings.bind(|| insta::assert_snapshot!(snapshot_name(&name, d.key), out));
        }
    }
}

/// Whether `target` was refused because the spec lacks what it packs or has what the target
/// cannot hold: runtime dependencies for a deps-only image, binaries for a Windows zip, no
/// runtime dependencies in a Windows image.
fn refused_for_want_of_content(target: &str, error: &str) -> bool {
    (target.ends_with("/container/depsonly") && error.contains("dependencies.runtime lists none"))
        || (target.starts_with("windowscross/")
            && (error.contains("artifacts.binaries, and it has none")
                || error.contains("a Windows image cannot have runtime dependencies")))
}
