//! The Windows family (Dalec's `windowscross`): programs cross-compiled for Windows on a Linux
//! worker (mingw-w64 for C and C++, Go with `GOOS=windows`), packed as a zip of the spec's
//! binaries.
//!
//! The build runs the spec's steps (`build.sh`, as for every family) in the patched sources
//! with the cross environment Dalec sets (`GOOS=windows`) plus what a cross build needs
//! (`GOARCH`, the mingw `CC`/`CXX`, `TARGETOS`/`TARGETARCH`); the spec's `build.env` comes
//! after, so it overrides any of them. The binaries are collected by their installed names
//! and zipped reproducibly: sorted entries, times from `SOURCE_DATE_EPOCH`, fixed modes, no
//! extra fields.

use crate::build::{self, BUILD_ROOT, Context};
use crate::distro::Distro;
use crate::family::{Family, MetaPackage, Outputs, Sources, deb, scripts, text};
use crate::install::{self, InstallFile, InstallPlan};
use crate::shell::quote;
use crate::spec::{DependencyList, Pos, Spec, SpecErrors};
use crate::targets::Route;
use kiln_buildkit::llb::{CopyOptions, Exec, FileActions, Mount, NetMode, State};
use kiln_buildkit::options::WorkerPlatform;

/// Routes of the Windows family: (path, route, description). The first is the default.
const WINDOWS_ROUTES: &[(&str, Route, &str)] = &[
    (
        "zip",
        Route::Package,
        "Build the binaries cross-compiled for Windows, in <name>_<version>-<revision>_<arch>.zip",
    ),
    (
        "worker",
        Route::Worker,
        "The build worker image (the Linux image with the cross toolchains)",
    ),
];

/// The Windows architectures the worker's toolchains build for, with their mingw-w64 triplet.
pub const TOOLCHAINS: &[(&str, &str)] = &[("amd64", "x86_64-w64-mingw32")];

/// The Windows family.
#[derive(Debug)]
pub struct Windows;

/// Where the build step collects the binaries, under the build root.
const COLLECTED: &str = ".kiln-windows-binaries";
/// Where the build step finds kiln's scripts.
const SCRIPTS: &str = "/run/kiln/scripts";
/// Where the zip step finds the binaries and writes the zip.
const ZIP_IN: &str = "/run/kiln/binaries";
const ZIP_OUT: &str = "/run/kiln/out";

/// The zip's file name: `<name>_<version>-<revision>_<arch>.zip` (Dalec's; revision 1 when
/// the spec has none).
pub fn zip_name(spec: &Spec, arch: &str) -> String {
    let revision = match text(&spec.revision) {
        "" => "1",
        r => r,
    };
    format!(
        "{}_{}-{revision}_{arch}.zip",
        text(&spec.name),
        text(&spec.version)
    )
}

/// The spec's binaries as the build collects them: the install plan's binaries, at the top
/// of the collection (a `subpath` kept below it), with no owner (a zip has none).
fn binaries(spec: &Spec, distro: &Distro) -> InstallPlan {
    let files = install::plan(spec, distro)
        .files
        .into_iter()
        .filter(|f| f.base == "usr/bin")
        .map(|f| InstallFile {
            dir: f
                .dir
                .strip_prefix("usr/bin")
                .unwrap_or(&f.dir)
                .trim_start_matches('/')
                .to_string(),
            base: String::new(),
            owner: None,
            caps: None,
            ..f
        })
        .collect();
    InstallPlan {
        files,
        ..Default::default()
    }
}

/// The cross environment of the build for `arch`: Dalec's `GOOS`, and what Go and C builds
/// for that architecture need.
fn cross_env(arch: &str) -> Vec<(&'static str, String)> {
    let triplet = TOOLCHAINS
        .iter()
        .find(|(a, _)| *a == arch)
        .map_or("x86_64-w64-mingw32", |(_, t)| t);
    vec![
        ("CC", format!("{triplet}-gcc")),
        ("CXX", format!("{triplet}-g++")),
        ("GOARCH", arch.to_string()),
        ("GOOS", "windows".to_string()),
        ("TARGETARCH", arch.to_string()),
        ("TARGETOS", "windows".to_string()),
    ]
}

/// The zip step's script: modes and times fixed, entries sorted, no extra fields, times in
/// UTC.
fn zip_script(file: &str, epoch: i64) -> String {
    format!(
        "set -e\ncd {ZIP_IN}\n\
         find . -mindepth 1 -type d -exec chmod 0755 {{}} +\n\
         find . -type f -exec chmod u+rw,go-w,a+r {{}} +\n\
         find . -mindepth 1 -exec touch -h -d @{epoch} {{}} +\n\
         find . -type f -printf '%P\\n' | LC_ALL=C sort | TZ=UTC zip -X -D -q -@ {ZIP_OUT}/{}\n",
        quote(file)
    )
}

impl Family for Windows {
    fn routes(&self) -> &'static [(&'static str, Route, &'static str)] {
        WINDOWS_ROUTES
    }

    fn target_os(&self) -> &'static str {
        "windows"
    }

    fn runs_spec_tests(&self) -> bool {
        false
    }

    fn check_platform(&self, platform: &WorkerPlatform, distro: &Distro) -> Result<(), String> {
        let archs: Vec<String> = TOOLCHAINS
            .iter()
            .map(|(a, _)| format!("windows/{a}"))
            .collect();
        if platform.os != "windows" {
            return Err(format!(
                "platform {platform} is not supported by {}: it builds Windows programs (use {})",
                distro.key,
                archs.join(" or ")
            ));
        }
        if !TOOLCHAINS.iter().any(|(a, _)| *a == platform.architecture) {
            return Err(format!(
                "platform {platform} is not supported by {}: its worker's mingw-w64 toolchain builds for {} only",
                distro.key,
                archs.join(", ")
            ));
        }
        Ok(())
    }

    fn check(&self, spec: &Spec, _distro: &Distro) -> Vec<(String, Pos)> {
        let mut problems = Vec::new();
        let pos = |f: &Option<crate::spec::Located<String>>| {
            f.as_ref().map(|f| f.pos).unwrap_or_default()
        };
        for (field, value, what) in [
            ("name", &spec.name, "package"),
            ("version", &spec.version, "version"),
        ] {
            let v = text(value);
            if value.is_none() {
                problems.push((
                    format!("{field} is required to build a Windows zip"),
                    Pos::default(),
                ));
            } else if v.is_empty()
                || v.contains(|c: char| {
                    c == '/' || c == '\\' || c.is_whitespace() || c.is_control()
                })
            {
                problems.push((
                    format!("invalid {what} {v:?} for a zip file name: no slashes or white space"),
                    pos(value),
                ));
            }
        }
        if binaries_of(spec).is_none_or(|b| b.is_empty()) {
            problems.push((
                "a Windows zip holds the spec's artifacts.binaries, and it has none".to_string(),
                Pos::default(),
            ));
        }
        problems
    }

    fn relations(&self, list: Option<&DependencyList>) -> Vec<String> {
        // Build dependencies are installed on the Linux worker, with apt.
        deb::Deb.relations(list)
    }

    fn build_requirements(&self, _distro: &Distro) -> Vec<String> {
        Vec::new()
    }

    fn source_dir(&self, spec: &Spec, _distro: &Distro, _ctx: &Context) -> String {
        format!("{}-{}", text(&spec.name), text(&spec.version))
    }

    fn package(
        &self,
        spec: &Spec,
        distro: &Distro,
        ctx: &Context,
        sources: Sources,
        builder: State,
        _outputs: Outputs,
    ) -> Result<State, SpecErrors> {
        let dir = self.source_dir(spec, distro, ctx);
        let arch = ctx.target_platform.architecture.clone();
        let collected = format!("{BUILD_ROOT}/{COLLECTED}");
        let files = State::scratch().file(
            FileActions::new()
                .mkfile("/build.sh", 0o755, scripts::build_script(spec).into_bytes())
                .mkfile(
                    "/collect.sh",
                    0o755,
                    scripts::install_script_at(&quote(&collected), &binaries(spec, distro))
                        .into_bytes(),
                ),
            &format!("[kiln {}] write the build scripts", distro.key),
        );
        let script = format!(
            "set -e\nbash {SCRIPTS}/build.sh\nrm -rf {collected}\nbash {SCRIPTS}/collect.sh\n"
        );
        let exec = cross_env(&arch)
            .iter()
            .fold(Exec::shell(script), |exec, (k, v)| exec.env(k, v))
            .env("SOURCE_DATE_EPOCH", &ctx.source_date_epoch.to_string())
            .cwd(&format!("{BUILD_ROOT}/{dir}"))
            .mount(Mount::bind(BUILD_ROOT, sources.prepared))
            .mount(Mount::bind(SCRIPTS, files).readonly())
            .name(format!(
                "[kiln {}] build {} {} for windows/{arch}",
                distro.key,
                text(&spec.name),
                text(&spec.version)
            ));
        let built = build::run_build(&builder, exec, spec, distro, ctx)?;
        let bins = State::scratch().file(
            FileActions::new().copy(
                &built,
                &format!("/{COLLECTED}"),
                "/",
                CopyOptions {
                    dir_copy_contents: true,
                    ..Default::default()
                },
            ),
            &format!("[kiln {}] collect the binaries", distro.key),
        );
        let zip = zip_name(spec, &arch);
        let exec = Exec::shell(zip_script(&zip, ctx.source_date_epoch))
            .mount(Mount::bind(ZIP_IN, bins))
            .mount(Mount::bind(ZIP_OUT, State::scratch()))
            .network(NetMode::None)
            .name(format!("[kiln {}] zip {zip}", distro.key));
        Ok(builder.run(exec).output(ZIP_OUT).unwrap_or_default())
    }

    fn minimal_image(
        &self,
        _spec: &Spec,
        distro: &Distro,
        ctx: &Context,
        _packages: State,
    ) -> Result<State, SpecErrors> {
        Err(crate::spec::SpecError::whole_file(
            ctx.sources.file,
            format!("{}: Windows container images are not built yet", distro.key),
        )
        .into())
    }

    fn package_glob(&self, name: &str) -> (String, String) {
        (format!("{}_*.zip", quote(name)), format!("{name}_*.zip"))
    }

    fn meta_package(&self, _meta: &MetaPackage, _distro: &Distro, _ctx: &Context) -> Option<State> {
        None
    }
}

/// The spec's `artifacts.binaries`, if any.
fn binaries_of(spec: &Spec) -> Option<&crate::spec::ArtifactMap> {
    spec.artifacts.as_ref().map(|a| &a.binaries)
}
