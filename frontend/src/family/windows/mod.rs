//! The Windows family (Dalec's `windowscross`): programs cross-compiled for Windows on a Linux
//! worker (mingw-w64 for C and C++, Go with `GOOS=windows`), packed as a zip of the spec's
//! binaries, an MSI ([`msi`]) or a Windows image; their tests run under wine.
//!
//! The build runs the spec's steps (`build.sh`, as for every family) in the patched sources
//! with the cross environment Dalec sets (`GOOS=windows`) plus what a cross build needs
//! (`GOARCH`, the mingw `CC`/`CXX`, `TARGETOS`/`TARGETARCH`); the spec's `build.env` comes
//! after, so it overrides any of them. The binaries are collected by their installed names
//! and zipped reproducibly: sorted entries, times from `SOURCE_DATE_EPOCH`, fixed modes, no
//! extra fields.

pub mod msi;

use crate::build::{self, BUILD_ROOT, Context, PKG_MOUNT};
use crate::distro::Distro;
use crate::family::{Family, MetaPackage, Outputs, Sources, deb, scripts, text};
use crate::install::{self, FileKind, InstallFile, InstallPlan};
use crate::shell::quote;
use crate::spec::{DependencyList, Located, Pos, Spec, SpecErrors, TestSpec};
use crate::targets::Route;
use kiln_buildkit::llb::{CopyOptions, Exec, FileActions, Mount, NetMode, State};
use kiln_buildkit::options::WorkerPlatform;

/// Routes of the Windows family: (path, route, description). The first is the default.
const WINDOWS_ROUTES: &[(&str, Route, &str)] = &[
    (
        "container",
        Route::MinimalContainer,
        "Build a Windows container image: the binaries in /Windows/System32 of the base (image.base, else nanoserver:1809), with file operations only",
    ),
    (
        "zip",
        Route::Package,
        "Build the binaries cross-compiled for Windows, in <name>_<version>-<revision>_<arch>.zip",
    ),
    (
        "msi",
        Route::Installer,
        "Build an MSI installer of the binaries, docs and licenses (ProgramFiles64Folder\\<vendor>\\<name>), made with msitools' wixl",
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

/// Where the build step collects the binaries (`bin/`) and documents (`doc/`), under the
/// build root.
const COLLECTED: &str = ".kiln-windows";
/// Where the build step finds kiln's scripts.
const SCRIPTS: &str = "/run/kiln/scripts";
/// Where the zip step finds the binaries and writes the zip.
const ZIP_IN: &str = "/run/kiln/binaries";
const ZIP_OUT: &str = "/run/kiln/out";

/// The name of the zip or MSI: `<name>_<version>-<revision>_<arch>.<extension>` (Dalec's
/// zip name; revision 1 when the spec has none).
pub fn artifact_name(spec: &Spec, arch: &str, extension: &str) -> String {
    let revision = match text(&spec.revision) {
        "" => "1",
        r => r,
    };
    format!(
        "{}_{}-{revision}_{arch}.{extension}",
        text(&spec.name),
        text(&spec.version)
    )
}

/// What the build collects: the install plan's binaries under `bin/` (a `subpath` kept
/// below it) and its documents and licenses under `doc/`, with no owner (a zip has none).
fn collection(spec: &Spec, distro: &Distro) -> InstallPlan {
    let files = install::plan(spec, distro)
        .files
        .into_iter()
        .filter_map(|f| {
            let dir = if f.base == "usr/bin" {
                let sub = f.dir.strip_prefix("usr/bin").unwrap_or(&f.dir);
                format!("bin{sub}")
            } else if matches!(f.kind, FileKind::Doc | FileKind::License) {
                "doc".to_string()
            } else {
                return None;
            };
            Some(InstallFile {
                dir,
                base: String::new(),
                owner: None,
                caps: None,
                ..f
            })
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

    fn test_image(
        &self,
        spec: &Spec,
        distro: &Distro,
        ctx: &Context,
        packages: &State,
    ) -> Option<Result<State, SpecErrors>> {
        Some(Ok(wine_image(spec, distro, ctx, packages)))
    }

    fn unrunnable_test(&self, t: &Located<TestSpec>) -> Option<(String, Pos)> {
        let linux = |path: &str| path.starts_with('/') && !path.starts_with(WINDOWS_TREE);
        let tree = WINDOWS_TREE.trim_end_matches('/');
        if let Some((path, check)) = t.files.iter().find(|(path, _)| linux(path)) {
            return Some((
                format!(
                    "it checks {path}, a path outside the Windows tree ({tree}) its programs are unpacked into for wine"
                ),
                check.pos,
            ));
        }
        t.steps.iter().find_map(|step| {
            let program = step.command.value.split_whitespace().next()?;
            linux(program).then(|| {
                (
                    format!(
                        "it runs {program}, a program outside the Windows tree ({tree}): its steps run under wine"
                    ),
                    step.command.pos,
                )
            })
        })
    }

    fn test_command_prefix(&self) -> &'static [&'static str] {
        &[WINE_RUNNER]
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
                    scripts::install_script_at(&quote(&collected), &collection(spec, distro))
                        .into_bytes(),
                ),
            &format!("[kiln {}] write the build scripts", distro.key),
        );
        let script = format!(
            "set -e\nbash {SCRIPTS}/build.sh\nrm -rf {collected}\nmkdir -p {collected}/bin {collected}/doc\nbash {SCRIPTS}/collect.sh\n"
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
        build::run_build(&builder, exec, spec, distro, ctx)
    }

    fn programs(&self, built: &State, distro: &Distro) -> Option<State> {
        Some(collected_part(built, distro, "bin", "binaries"))
    }

    fn pack(
        &self,
        spec: &Spec,
        distro: &Distro,
        ctx: &Context,
        built: &State,
        programs: State,
        outputs: Outputs,
    ) -> Result<State, SpecErrors> {
        let arch = &ctx.target_platform.architecture;
        if outputs == Outputs::Installer {
            let version = msi::msi_version(text(&spec.version)).map_err(|e| {
                SpecErrors::from(crate::spec::SpecError::at(
                    ctx.sources.file,
                    ctx.sources.text,
                    spec.version.as_ref().map(|v| v.pos).unwrap_or_default(),
                    e,
                ))
            })?;
            let msi = artifact_name(spec, arch, "msi");
            let add_to_path = ctx
                .sources
                .opts
                .build_args()
                .get("KILN_MSI_PATH")
                .is_some_and(|v| crate::plan::truthy(v));
            let exec = Exec::shell(msi_script(
                spec,
                &version,
                &msi,
                ctx.source_date_epoch,
                add_to_path,
            ))
            .mount(Mount::bind(MSI_BIN, programs).readonly())
            .mount(
                Mount::bind(MSI_DOC, collected_part(built, distro, "doc", "documents")).readonly(),
            )
            .mount(Mount::bind(ZIP_OUT, State::scratch()))
            .network(NetMode::None)
            .name(format!("[kiln {}] wixl {msi}", distro.key));
            return Ok(tools_image(distro, ctx)
                .run(exec)
                .output(ZIP_OUT)
                .unwrap_or_default());
        }
        let zip = artifact_name(spec, arch, "zip");
        let exec = Exec::shell(zip_script(&zip, ctx.source_date_epoch))
            .mount(Mount::bind(ZIP_IN, programs))
            .mount(Mount::bind(ZIP_OUT, State::scratch()))
            .network(NetMode::None)
            .name(format!("[kiln {}] zip {zip}", distro.key));
        Ok(build::worker(distro, ctx)
            .run(exec)
            .output(ZIP_OUT)
            .unwrap_or_default())
    }

    fn minimal_image(
        &self,
        spec: &Spec,
        distro: &Distro,
        ctx: &Context,
        packages: State,
    ) -> Result<State, SpecErrors> {
        if let Some(runtime) = spec
            .dependencies
            .as_ref()
            .and_then(|d| d.runtime.as_ref())
            .filter(|r| !r.0.is_empty())
        {
            let names: Vec<&str> = runtime.0.keys().map(|k| &**k).collect();
            return Err(crate::spec::SpecError::at_key(
                ctx.sources.file,
                ctx.sources.text,
                "runtime",
                Pos::default(),
                format!(
                    "a Windows image cannot have runtime dependencies (dependencies.runtime: {}): it has no package manager to install them",
                    names.join(", ")
                ),
            )
            .into());
        }
        let (reference, pos) = base_image(spec, ctx);
        let base = State::image(&reference, ctx.target_platform.clone(), ctx.resolve_mode)
            .with_location(pos.line, pos.line);
        // The zip's files, unpacked on the worker: the image itself is made with file
        // operations only (nothing runs on Windows).
        let unzip = Exec::shell(format!(
            "set -e\n{}cd {ZIP_OUT}\nfor z in \"$@\"; do unzip -q -o \"$z\"; done\n",
            build::packages_found(self.package_glob(text(&spec.name)))
        ))
        .mount(Mount::bind(PKG_MOUNT, packages).readonly())
        .mount(Mount::bind(ZIP_OUT, State::scratch()))
        .network(NetMode::None)
        .name(format!("[kiln {}] unpack the zip", distro.key));
        let bins = build::worker(distro, ctx)
            .run(unzip)
            .output(ZIP_OUT)
            .unwrap_or_default();
        // Everything copied, and every directory the copies make, is dated SOURCE_DATE_EPOCH:
        // the layers do not depend on when they were built.
        let contents = CopyOptions {
            dir_copy_contents: true,
            create_dest_path: true,
            timestamp: Some(ctx.source_date_epoch),
            ..Default::default()
        };
        let image = base.file(
            FileActions::new().copy(&bins, "/", SYSTEM32, contents),
            &format!("[kiln {}] copy the binaries into {SYSTEM32}", distro.key),
        );
        // Windows has no symbolic links in images: Dalec copies the files, and so does kiln.
        let mut links = FileActions::new();
        for (target, paths) in spec
            .image
            .as_ref()
            .and_then(|i| i.post.as_ref())
            .map(|p| &p.symlinks)
            .into_iter()
            .flatten()
        {
            for path in paths.value.path.iter().chain(&paths.value.paths) {
                links = links.copy(
                    &image,
                    target,
                    &path.value,
                    CopyOptions {
                        create_dest_path: true,
                        timestamp: Some(ctx.source_date_epoch),
                        ..Default::default()
                    },
                );
            }
        }
        Ok(if links.is_empty() {
            image
        } else {
            image.file(
                links,
                &format!("[kiln {}] image.post.symlinks (as copies)", distro.key),
            )
        })
    }

    fn image_bases(&self, spec: &Spec) -> Vec<Pos> {
        // One per entry of `image.bases`: Dalec's multi-platform Windows image, the images
        // told apart by their bases' `os.version`.
        let image = spec.image.as_ref();
        match image.and_then(|i| i.bases.as_ref()) {
            Some(bases) if !bases.is_empty() && image.is_some_and(|i| i.base.is_none()) => {
                bases.iter().map(|b| b.rootfs.pos).collect()
            }
            _ => vec![Pos::default()],
        }
    }

    fn image_base_ref(&self, spec: &Spec, ctx: &Context) -> String {
        base_reference(spec, ctx.image_base).map_or_else(|| DEFAULT_BASE.to_string(), |(r, _)| r)
    }

    fn package_glob(&self, name: &str) -> (String, String) {
        (format!("{}_*.zip", quote(name)), format!("{name}_*.zip"))
    }

    fn meta_package(&self, _meta: &MetaPackage, _distro: &Distro, _ctx: &Context) -> Option<State> {
        None
    }
}

/// One part of what the build step collected (`bin`, `doc`), at the root of a state.
fn collected_part(built: &State, distro: &Distro, dir: &str, what: &str) -> State {
    State::scratch().file(
        FileActions::new().copy(
            built,
            &format!("/{COLLECTED}/{dir}"),
            "/",
            CopyOptions {
                dir_copy_contents: true,
                ..Default::default()
            },
        ),
        &format!("[kiln {}] collect the {what}", distro.key),
    )
}

/// The base of a Windows image when the spec names none (Dalec's).
pub const DEFAULT_BASE: &str = "mcr.microsoft.com/windows/nanoserver:1809";
/// Where the binaries go in the image.
const SYSTEM32: &str = "/Windows/System32/";
/// The Windows tree of the image and of the tests' image: paths a test can check.
const WINDOWS_TREE: &str = "/Windows/";

/// The base the spec names for the image `index` (`image.base`, or that entry of
/// `image.bases`) and where.
fn base_reference(spec: &Spec, index: usize) -> Option<(String, Pos)> {
    let image = spec.image.as_ref()?;
    if let Some(b) = &image.base {
        return Some((b.value.clone(), b.pos));
    }
    let base = image.bases.as_ref()?.get(index)?;
    let reference = base.rootfs.value.image.as_ref()?.reference.value.clone();
    Some((reference, base.rootfs.pos))
}

/// The image's base: [`base_reference`] of the context's base, else [`DEFAULT_BASE`].
fn base_image(spec: &Spec, ctx: &Context) -> (String, Pos) {
    base_reference(spec, ctx.image_base)
        .unwrap_or_else(|| (DEFAULT_BASE.to_string(), Pos::default()))
}

/// Where the MSI step finds the binaries and the documents.
const MSI_BIN: &str = "/run/kiln/bin";
const MSI_DOC: &str = "/run/kiln/doc";

/// The MSI step's script: the `.wxs` (kiln's head, a component per file of the binaries and
/// documents, sorted, the feature), then wixl, and msibuild to give the summary information
/// the package code; both under faketime at the build's time, which wixl would otherwise take
/// from the clock (and the package code from chance).
fn msi_script(spec: &Spec, version: &str, file: &str, epoch: i64, add_to_path: bool) -> String {
    let name = text(&spec.name);
    let mut head = msi::wxs_head(spec, version);
    // The PATH entry: its component, its reference, and its tables after wixl.
    let (first_ref, path_tables) = if add_to_path {
        head.push_str(&msi::path_component(spec));
        (
            "      <ComponentRef Id=\"kilnpath\"/>\n",
            format!(
                "msiinfo export {out}/{file_q} InstallExecuteSequence >InstallExecuteSequence.idt\nprintf '%s' {actions} >>InstallExecuteSequence.idt\nprintf '%s' {env} >Environment.idt\nat msibuild {out}/{file_q} -i Environment.idt -i InstallExecuteSequence.idt\n",
                out = ZIP_OUT,
                file_q = quote(file),
                actions = quote(msi::PATH_ACTIONS_IDT),
                env = quote(msi::PATH_ENVIRONMENT_IDT),
            ),
        )
    } else {
        ("", String::new())
    };
    let package_code = msi::guid(&format!("package:{name}:{version}"));
    let summary = text(&spec.description)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    format!(
        r#"set -e
cd /tmp
guid() {{ printf 'kiln:%s:%s' {name_q} "$1" | sha256sum | sed -E 's/^(.{{8}})(.{{4}})(.{{4}})(.{{4}})(.{{12}}).*/\1-\2-\3-\4-\5/' | tr a-f A-F; }}
xml() {{ printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }}
printf '%s' {head_q} >product.wxs
printf '%s' {first_ref_q} >refs
n=0
# The files at the build's time: the cabinet keeps their times.
mkdir -p files.d && cp -r {MSI_BIN} files.d/bin && cp -r {MSI_DOC} files.d/doc
find files.d -exec touch -h -d @{epoch} {{}} +
cd files.d
for dir in bin doc; do
  (cd "$dir" && find . -type f -printf '%P\n') | LC_ALL=C sort | while IFS= read -r f; do
    base=${{f##*/}}
    if [ -e "../seen/$base" ]; then echo "kiln: two files named $base for the MSI's install directory" >&2; exit 1; fi
    mkdir -p ../seen && : >"../seen/$base"
    echo "$dir/$f"
  done
done >../files
cd ..
while IFS= read -r path; do
  n=$((n + 1))
  printf '            <Component Id="c%d" Guid="%s" Win64="yes">\n              <File Id="f%d" Name="%s" Source="%s" KeyPath="yes"/>\n            </Component>\n' \
    "$n" "$(guid "$path")" "$n" "$(xml "${{path##*/}}")" "$(xml "files.d/$path")" >>product.wxs
  printf '      <ComponentRef Id="c%d"/>\n' "$n" >>refs
done <files
[ "$n" -gt 0 ] || {{ echo 'kiln: no files for the MSI' >&2; exit 1; }}
printf '%s' {tail_q} >>product.wxs
cat refs >>product.wxs
printf '%s' {end_q} >>product.wxs
export TZ=UTC
at() {{ faketime -f "$(date -u -d @{epoch} '+%Y-%m-%d %H:%M:%S')" "$@"; }}
at wixl -a x64 -o {out}/{file_q} product.wxs
{path_tables}at msibuild {out}/{file_q} -s {summary_q} {maker_q} 'x64;1033' '{{{package_code}}}'
"#,
        first_ref_q = quote(first_ref),
        name_q = quote(name),
        head_q = quote(&head),
        tail_q = quote(msi::WXS_TAIL),
        end_q = quote(msi::WXS_END),
        out = ZIP_OUT,
        file_q = quote(file),
        summary_q = quote(&summary),
        maker_q = quote(&msi::manufacturer(spec)),
    )
}

/// The image with Windows tools on Linux: Debian's wine (its prefix made once, and
/// `kiln-wine`), msitools (wixl, msiinfo, msiextract), faketime and unzip.
fn tools_image(distro: &Distro, ctx: &Context) -> State {
    let prepare = Exec::shell(format!(
        "set -e\napt-get update\n\
         DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wine wine64 unzip msitools wixl faketime\n\
         rm -rf /var/lib/apt/lists/*\n\
         XDG_RUNTIME_DIR=/tmp/kiln-wine-run WINEDEBUG=-all sh -c 'mkdir -p -m 0700 $XDG_RUNTIME_DIR && wineboot --init && wineserver -w'\n\
         printf '%s' {} >{WINE_RUNNER}\nchmod 0755 {WINE_RUNNER}\n",
        quote(WINE_RUNNER_SCRIPT)
    ))
    .name(format!("[kiln {}] prepare wine and msitools", distro.key));
    State::image(WINE_IMAGE, ctx.platform().clone(), ctx.resolve_mode)
        .run(prepare)
        .root()
}

/// The image Windows programs' tests run in: Debian's wine, its prefix made once, with the
/// zip's binaries where the container route puts them (`/Windows/System32`, which wine sees
/// as `Z:\Windows\System32` and searches for programs).
pub const WINE_IMAGE: &str = "docker.io/library/debian:trixie";
/// What runs each test step's command: wine, with the binaries on its search path and their
/// text-mode line ends (CRLF) given as LF, the test's checks being written for Linux.
const WINE_RUNNER: &str = "/usr/local/bin/kiln-wine";
const WINE_RUNNER_SCRIPT: &str = r#"#!/bin/bash
# Generated by kiln: runs a Windows program under wine for a spec test.
set -o pipefail
export WINEDEBUG=-all WINEPATH='Z:\Windows\System32' XDG_RUNTIME_DIR=/tmp/kiln-wine-run
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
wine "$@" | sed 's/\r$//'
"#;

/// The test image of the spec's programs (see [`WINE_IMAGE`]).
fn wine_image(spec: &Spec, distro: &Distro, ctx: &Context, packages: &State) -> State {
    let wine = tools_image(distro, ctx);
    let unpack = Exec::shell(format!(
        "set -e\n{}mkdir -p {SYSTEM32}\nfor p in \"$@\"; do\n  case $p in\n    *.msi) rm -rf /tmp/kiln-msi && msiextract -C /tmp/kiln-msi \"$p\" >/dev/null && find /tmp/kiln-msi -type f -exec cp {{}} {SYSTEM32} \\; ;;\n    *.zip) unzip -q -o \"$p\" -d {SYSTEM32} ;;\n  esac\ndone\n",
        build::packages_found((
            format!("{}_*.*", quote(text(&spec.name))),
            format!("{}_*.zip or .msi", text(&spec.name)),
        ))
    ))
    .mount(Mount::bind(PKG_MOUNT, packages.clone()).readonly())
    .network(NetMode::None)
    .name(format!(
        "[kiln {}] unpack {} for the tests",
        distro.key,
        text(&spec.name)
    ));
    wine.run(unpack).root()
}

/// The spec's `artifacts.binaries`, if any.
fn binaries_of(spec: &Spec) -> Option<&crate::spec::ArtifactMap> {
    spec.artifacts.as_ref().map(|a| &a.binaries)
}
