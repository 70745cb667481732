//! Compatibility with Dalec's own example specs (tests/compat/dalec): every spec lints
//! clean and lowers to LLB for every kiln target, except for the features kiln cannot build
//! yet, which must fail with a located "not supported yet" error (never a silent skip).

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_buildkit::llb::State;
use kiln_buildkit::options::BuildOpts;
use kiln_frontend::{plan, resolve, targets};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn compat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/compat/dalec")
}

/// kiln's own compatibility specs: the fields Dalec added since v0.18.
fn newer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/compat/v0.21")
}

/// Spec files (the signer config is not a spec).
fn specs() -> Vec<(String, String)> {
    let entries = |dir: PathBuf| std::fs::read_dir(dir).expect("compat dir");
    let mut out: Vec<(String, String)> = entries(compat_dir())
        .chain(entries(newer_dir()))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml") && !p.ends_with("sign_config.yml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Build args the specs need (Dalec's own tests pass these).
fn args_for(name: &str) -> Vec<(&'static str, &'static str)> {
    match name {
        "moby-runc.yml" => vec![
            ("VERSION", "1.1.12"),
            ("RUNC_COMMIT", "51d5e94601ceffbbd85688df1c928ecccbfa4685"),
        ],
        _ => vec![],
    }
}

/// Specs that are deliberately partial (no name/version): lint only.
const PARTIAL: &[&str] = &["source-inline.yml"];

#[test]
fn every_compat_spec_lints_clean() {
    let specs = specs();
    assert!(specs.len() >= 14, "compat specs missing: {}", specs.len());
    for (name, text) in specs {
        if let Err(e) = resolve::lint(&name, &text) {
            panic!("{name} does not lint clean:\n{e}");
        }
    }
}

#[test]
fn every_compat_spec_lowers_to_llb_for_every_target() {
    for (name, text) in specs() {
        if PARTIAL.contains(&name.as_str()) {
            continue;
        }
        for t in targets::list() {
            let mut opts = BuildOpts::default();
            opts.opts.insert("target".into(), t.name.clone());
            for (k, v) in args_for(&name) {
                opts.opts.insert(format!("build-arg:{k}"), v.into());
            }
            // Dockerfile build sources are solved by BuildKit's Dockerfile frontend before
            // planning; their contexts stand in for the results here.
            let built: BTreeMap<String, State> =
                plan::build_sources(&plan::Loaded::load(&name, &text).unwrap(), &opts)
                    .unwrap_or_else(|e| panic!("{name} {}: {e}", t.name))
                    .into_iter()
                    .map(|b| (b.key, b.context))
                    .collect();
            let def = match plan::plan_text(&name, &text, &opts, &built) {
                Ok(p) => p.state.marshal(),
                // debug/gomods and the like need a generator of their kind.
                Err(e)
                    if e.to_string()
                        .contains("generator (sources.<name>.generate)") =>
                {
                    continue;
                }
                // A deps-only image needs runtime dependencies, a Windows zip binaries; ...
                Err(e) if refused_for_want_of_content(&t.name, &e.to_string()) => continue,
                Err(e) => panic!("{name} {}: does not lower:\n{e}", t.name),
            };
            // A spec without sources has nothing to show in debug/sources.
            if !t.name.starts_with("debug/") {
                assert!(def.def.len() >= 2, "{name} {}: empty definition", t.name);
            }
            let again = plan::plan_text(&name, &text, &opts, &built)
                .unwrap()
                .state
                .marshal();
            assert_eq!(def, again, "{name} {}: LLB is not deterministic", t.name);
        }
    }
}

#[test]
fn offline_a_dockerfile_build_source_is_a_located_error() {
    let text = std::fs::read_to_string(compat_dir().join("nested.yml")).unwrap();
    let mut opts = BuildOpts::default();
    opts.opts.insert("target".into(), "bookworm/deb".into());
    let e = plan::plan_text("nested.yml", &text, &opts, &Default::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.starts_with("nested.yml:15:5: "), "{e}");
    assert!(
        e.contains("is a Dockerfile build: it needs a BuildKit engine"),
        "{e}"
    );
}

#[test]
fn sources_do_not_depend_on_the_target() {
    // The same source gives the same op digest for bookworm and trixie.
    let text = std::fs::read_to_string(compat_dir().join("http-src.yml")).unwrap();
    let source_digests = |target: &str| -> Vec<String> {
        let mut opts = BuildOpts::default();
        opts.opts.insert("target".into(), target.into());
        let def = plan::plan_text("http-src.yml", &text, &opts, &Default::default())
            .unwrap()
            .state
            .marshal();
        let json = kiln_buildkit::llb::definition_to_json(&def);
        json["ops"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|op| {
                op["op"]["source"]["identifier"]
                    .as_str()
                    .is_some_and(|i| i.starts_with("https://"))
            })
            .map(|op| op["digest"].as_str().unwrap().to_string())
            .collect()
    };
    let bookworm = source_digests("bookworm/deb");
    assert_eq!(bookworm.len(), 2, "http-src.yml has two http sources");
    assert_eq!(bookworm, source_digests("trixie/deb"));
}

#[test]
fn resolve_merges_any_spec_target_key() {
    let text = std::fs::read_to_string(compat_dir().join("moby-runc.yml")).unwrap();
    let mut opts = BuildOpts::default();
    opts.opts.insert("target".into(), "jammy".into());
    opts.opts
        .insert("build-arg:VERSION".into(), "1.1.12".into());
    let yaml = resolve::resolve_yaml("moby-runc.yml", &text, &opts).unwrap();
    assert!(
        yaml.contains("libseccomp2:"),
        "jammy's runtime dependencies:\n{yaml}"
    );
    assert!(yaml.contains("version: \"1.1.12\""), "{yaml}");
    assert!(!yaml.contains("targets:"), "{yaml}");
    opts.opts.insert("target".into(), "nosuch".into());
    assert!(
        resolve::resolve_yaml("moby-runc.yml", &text, &opts)
            .unwrap_err()
            .to_string()
            .starts_with("unknown target")
    );
}

/// The error of planning `text` (as spec.yml) for `target`; panics if it plans.
fn plan_error(text: &str, target: &str) -> String {
    let mut opts = BuildOpts::default();
    opts.opts.insert("target".into(), target.into());
    match plan::plan_text("spec.yml", text, &opts, &Default::default()) {
        Ok(_) => panic!("{target}: planned, expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn arg_values_are_checked_when_a_target_is_planned() {
    let text = "name: a\nversion: \"1\"\npackager: a <a@b.c>\ndescription: d\nargs:\n  D: md5:abc\nsources:\n  f:\n    http:\n      url: http://x/y\n      digest: ${D}\n";
    let e = plan_error(text, "bookworm/deb");
    assert!(
        e.starts_with("spec.yml:11:15: invalid digest \"md5:abc\""),
        "{e}"
    );
}

#[test]
fn regular_expressions_from_args_are_checked_when_a_target_is_planned() {
    let text = "name: a\nversion: \"1\"\npackager: a <a@b.c>\ndescription: d\nargs:\n  V: \"1.0\"\ntests:\n  - name: t\n    files:\n      /etc/v:\n        matches: [\"^v1\", \"[${V}\"]\n";
    let e = plan_error(text, "bookworm/deb");
    assert!(
        e.starts_with("spec.yml:11:26: invalid regular expression \"[1.0\""),
        "{e}"
    );
}

#[test]
fn targets_with_their_own_frontend_are_forwarded_not_planned() {
    let text = "name: a\nversion: \"1\"\npackager: a <a@b.c>\ndescription: d\ntargets:\n  mine:\n    frontend:\n      image: example.org/my/frontend:1\n      cmdline: --fast\n  bookworm:\n    frontend:\n      image: example.org/other:2\n";
    let loaded = plan::Loaded::load("spec.yml", text).unwrap();
    let f = plan::forward(&loaded, "mine/rpm/debug").expect("forwarded");
    assert_eq!((f.key.as_str(), f.rest.as_str()), ("mine", "rpm/debug"));
    assert_eq!(f.frontend.image.value, "example.org/my/frontend:1");
    assert_eq!(f.frontend.cmdline.as_deref(), Some("--fast"));
    // A spec target with a frontend wins over kiln's own target of the same name.
    let f = plan::forward(&loaded, "bookworm").expect("forwarded");
    assert_eq!((f.key.as_str(), f.rest.as_str()), ("bookworm", ""));
    assert!(plan::forward(&loaded, "trixie/deb").is_none());
    // Offline, kiln cannot follow it and says so at the frontend's line.
    let e = plan_error(text, "mine/x");
    assert!(
        e.starts_with(
            "spec.yml:8:14: target \"mine\" is built by the frontend example.org/my/frontend:1"
        ),
        "{e}"
    );
}

#[test]
fn two_sources_at_one_build_mount_point_are_refused() {
    let text = "name: ab\nversion: \"1\"\npackager: a <a@b.c>\ndescription: d\nbuild:\n  steps:\n    - command: a\n      mounts:\n        - dest: /opt/x\n          spec: {inline: {file: {contents: one}}}\n    - command: b\n      mounts:\n        - dest: /opt/x\n          spec: {inline: {file: {contents: two}}}\n";
    let e = plan_error(text, "bookworm/deb");
    assert!(
        e.starts_with("spec.yml:13:17: mount point /opt/x is given two different sources"),
        "{e}"
    );
}

#[test]
fn an_invalid_source_date_epoch_is_an_error_not_dropped() {
    let text = std::fs::read_to_string(compat_dir().join("http-src.yml")).unwrap();
    let mut opts = BuildOpts::default();
    opts.opts.insert("target".into(), "bookworm/deb".into());
    opts.opts
        .insert("build-arg:SOURCE_DATE_EPOCH".into(), "yesterday".into());
    let e = plan::plan_text("http-src.yml", &text, &opts, &Default::default())
        .err()
        .expect("an error")
        .to_string();
    assert!(
        e.starts_with("invalid build arg SOURCE_DATE_EPOCH=\"yesterday\": expected a whole number"),
        "{e}"
    );
    opts.opts
        .insert("build-arg:SOURCE_DATE_EPOCH".into(), " 1700000000 ".into());
    assert!(plan::plan_text("http-src.yml", &text, &opts, &Default::default()).is_ok());
}

#[test]
fn a_git_source_with_an_auth_secret_gets_a_check_that_names_it() {
    let text = "name: ab\nversion: \"1\"\npackager: a <a@b.c>\ndescription: d\nsources:\n  src:\n    git:\n      url: https://example.invalid/private.git\n      commit: main\n      auth:\n        token: MY_GIT_TOKEN\n";
    let mut opts = BuildOpts::default();
    opts.opts.insert("target".into(), "bookworm/deb".into());
    let plan = plan::plan_text("spec.yml", text, &opts, &Default::default()).unwrap();
    assert_eq!(plan.checks.len(), 1);
    let json = kiln_buildkit::llb::definition_to_json(&plan.checks[0].marshal()).to_string();
    assert!(
        json.contains("kiln: secret \\\"MY_GIT_TOKEN\\\" (the auth token of git source src) was not given: pass --secret id=MY_GIT_TOKEN,src=FILE"),
        "{json}"
    );
    assert!(json.contains("\"optional\":true"), "{json}");
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

#[test]
fn a_windows_build_skips_tests_of_linux_paths_with_a_located_warning() {
    let name = "hello.inline.yml";
    let text = std::fs::read_to_string(compat_dir().join(name)).unwrap();
    let mut opts = BuildOpts::default();
    opts.opts.insert("target".into(), "windowscross/zip".into());
    let p = plan::plan_text(name, &text, &opts, &BTreeMap::new()).unwrap();
    let line_of = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
            .unwrap()
    };
    let skipped: Vec<&String> = p
        .warnings
        .iter()
        .filter(|w| w.contains("skipped"))
        .collect();
    assert_eq!(
        skipped,
        [
            &format!(
                "hello.inline.yml:{}: test \"binary exists and is executable\" skipped on windowscross: it checks /usr/bin/hello-inline, a path outside the Windows tree (/Windows) its programs are unpacked into for wine",
                line_of("      /usr/bin/hello-inline:") + 1
            ),
            &format!(
                "hello.inline.yml:{}: test \"running binary prints version/platform\" skipped on windowscross: it runs /usr/bin/hello-inline, a program outside the Windows tree (/Windows): its steps run under wine",
                line_of("- command: /usr/bin/hello-inline")
            ),
        ]
    );
    // The same tests run on Linux targets.
    opts.opts.insert("target".into(), "bookworm/deb".into());
    let p = plan::plan_text(name, &text, &opts, &BTreeMap::new()).unwrap();
    assert!(
        !p.warnings.iter().any(|w| w.contains("skipped")),
        "{:?}",
        p.warnings
    );
}
