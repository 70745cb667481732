//! `testing/sysext`: a systemd system extension of the built packages, as Dalec makes it.
//!
//! The packages and the spec's `dependencies.sysext` (downloaded without their own
//! dependencies) are unpacked, not installed, into one tree. A system extension carries only
//! `/usr` and `/opt`: `/bin`, `/sbin`, `/lib` and `/lib64` move under `/usr`, and `/etc`
//! (but `/etc/systemd`) moves to `/usr/share/<name>/etc`, copied back at boot by a
//! tmpfiles.d `C+` line per entry. Every non-template service is upheld by
//! `multi-user.target` once the extension is merged. `extension-release.<name>` says which
//! systems take it (`DALEC_SYSEXT_OS_ID`, default `_any`; `DALEC_SYSEXT_OS_VERSION_ID`;
//! `DALEC_SYSEXT_SYSEXT_LEVEL`) and the architecture. The image is EROFS (lz4hc), owned by
//! root, every file dated `SOURCE_DATE_EPOCH`, with a UUID derived from its name: two
//! builds give the same bytes.

use super::{Context, package_manager_step, worker};
use crate::distro::{Distro, Sysext};
use crate::shell::quote;
use crate::spec::{RepoStage, Spec, SpecError, SpecErrors};
use kiln_buildkit::llb::{Exec, Mount, NetMode, State};
use std::collections::BTreeMap;

/// The build args that set `extension-release` fields and the image name.
pub const SYSEXT_ARGS: &[&str] = &[
    "DALEC_SYSEXT_OS_ID",
    "DALEC_SYSEXT_OS_VERSION_ID",
    "DALEC_SYSEXT_SYSEXT_LEVEL",
    "DALEC_SYSEXT_IMAGE_NAME",
];

/// Where the packages are mounted in the extension step.
const PACKAGES: &str = "/run/kiln/sysext/packages";
/// Where the downloaded `dependencies.sysext` packages are mounted.
const DEPENDENCIES: &str = "/run/kiln/sysext/dependencies";
/// Where the image is written.
const OUT: &str = "/run/kiln/sysext/out";

/// systemd's name of a Go architecture (`amd64` is `x86-64`), as `extension-release` and
/// the image name carry it.
fn systemd_architecture(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "amd64" => "x86-64",
        "386" => "x86",
        "arm64" => "arm64",
        "arm" => "arm",
        "ppc64le" => "ppc64-le",
        "ppc64" => "ppc64",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "loong64" => "loongarch64",
        "mips64le" => "mips64-le",
        _ => return None,
    })
}

/// The extension's environment: the distro's defaults (Flatcar's), then the build args.
fn settings(
    spec: &Spec,
    distro: &Distro,
    build_args: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let name = spec.name.as_ref().map_or("", |n| n.value.trim());
    let mut env = BTreeMap::new();
    if distro.sysext == Sysext::Flatcar {
        env.insert("DALEC_SYSEXT_OS_ID".to_string(), "flatcar".to_string());
        env.insert("DALEC_SYSEXT_SYSEXT_LEVEL".to_string(), "1.0".to_string());
        env.insert("DALEC_SYSEXT_IMAGE_NAME".to_string(), name.to_string());
    }
    for key in SYSEXT_ARGS {
        if let Some(v) = build_args.get(*key) {
            env.insert(key.to_string(), v.clone());
        }
    }
    env
}

/// The system extension of `packages` (the package files the package route returns): a
/// state holding `<name>-v<version>-<revision>-<key>-<arch>.raw`, or `<image name>.raw`.
pub fn image(
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
    packages: State,
    build_args: &BTreeMap<String, String>,
) -> Result<State, SpecErrors> {
    let file = ctx.sources.file;
    let name = spec.name.as_ref().map_or("", |n| n.value.trim());
    let version = spec.version.as_ref().map_or("", |v| v.value.trim());
    let revision = spec.revision.as_ref().map_or("1", |r| r.value.trim());
    let arch = &ctx.target_platform.architecture;
    let Some(systemd_arch) = systemd_architecture(arch) else {
        return Err(SpecError::whole_file(
            file,
            format!("testing/sysext: systemd has no architecture name for {arch}"),
        )
        .into());
    };
    let env = settings(spec, distro, build_args);
    let default_image = format!("{name}-v{version}-{revision}-{}-{systemd_arch}", distro.key);
    let image_name = env
        .get("DALEC_SYSEXT_IMAGE_NAME")
        .map(|n| n.trim_end_matches(".raw").to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or(default_image);
    if image_name.contains('/') {
        return Err(SpecError::whole_file(
            file,
            format!("DALEC_SYSEXT_IMAGE_NAME {image_name:?}: an image name has no '/'"),
        )
        .into());
    }
    let uuid = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("kiln:sysext:{image_name}").as_bytes(),
    );

    let config = distro.config;
    let worker = worker(distro, ctx);
    let tools = package_manager_step(
        Exec::shell(format!(
            "set -e\n{}\n{} erofs-utils\n",
            config.refresh, config.install
        )),
        spec,
        RepoStage::Install,
        distro,
        ctx,
    )?
    .name(format!(
        "[kiln {}] erofs-utils for the system extension",
        distro.key
    ));
    let tools = worker.run(tools).root();

    let mut exec = Exec::shell(script(
        name,
        systemd_arch,
        &image_name,
        &uuid.to_string(),
        config.unpack,
        ctx.source_date_epoch,
    ))
    .network(NetMode::None)
    .mount(Mount::bind(PACKAGES, packages).readonly())
    .mount(Mount::bind(OUT, State::scratch()))
    .name(format!(
        "[kiln {}] system extension {image_name}.raw",
        distro.key
    ));
    for (k, v) in &env {
        exec = exec.env(k, v);
    }
    if let Some(deps) = dependencies(spec, distro, ctx)? {
        exec = exec.mount(Mount::bind(DEPENDENCIES, deps).readonly());
    }
    Ok(tools.run(exec).output(OUT).unwrap_or_default())
}

/// The spec's `dependencies.sysext` packages, downloaded without their dependencies (the
/// extension carries exactly what is listed); `None` without any.
fn dependencies(spec: &Spec, distro: &Distro, ctx: &Context) -> Result<Option<State>, SpecErrors> {
    let Some(list) = spec.dependencies.as_ref().and_then(|d| d.sysext.as_ref()) else {
        return Ok(None);
    };
    if list.0.is_empty() {
        return Ok(None);
    }
    let mut errors = Vec::new();
    for (dep, constraints) in &list.0 {
        if let Some(c) = constraints
            .as_ref()
            .filter(|c| !c.version.is_empty() || !c.arch.is_empty())
        {
            let pos = c.version.first().map(|v| v.pos).unwrap_or_default();
            errors.push(ctx.sources.error(
                pos,
                format!("not supported yet: version or architecture constraints in dependencies.sysext ({dep}): the packages are downloaded by name"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    let names: Vec<String> = list.0.keys().map(|n| quote(n)).collect();
    let script = format!(
        "set -e\n{}\ncd {OUT}\n{} {}\n",
        distro.config.refresh,
        distro.config.download,
        names.join(" ")
    );
    let exec = package_manager_step(Exec::shell(script), spec, RepoStage::Install, distro, ctx)?
        .mount(Mount::bind(OUT, State::scratch()))
        .name(format!(
            "[kiln {}] download dependencies.sysext",
            distro.key
        ));
    Ok(worker(distro, ctx).run(exec).output(OUT))
}

/// The extension step's script: unpack, relocate, describe, make the image.
fn script(name: &str, arch: &str, image: &str, uuid: &str, unpack: &str, epoch: i64) -> String {
    let q = |s: &str| quote(s);
    format!(
        r#"set -eu
kiln_unpack() {{ {unpack}; }}
name={name} image={image}
root=$(mktemp -d) tree=$(mktemp -d)
kiln_unpack {PACKAGES} "$root"
if [ -d {DEPENDENCIES} ]; then kiln_unpack {DEPENDENCIES} "$root"; fi
mkdir -p "$tree/usr/lib/extension-release.d"
if [ -d "$root/usr" ]; then cp -a "$root/usr/." "$tree/usr/"; fi
for d in bin sbin lib lib64; do
  if [ -d "$root/$d" ] && [ ! -L "$root/$d" ]; then mkdir -p "$tree/usr/$d"; cp -a "$root/$d/." "$tree/usr/$d/"; fi
done
if [ -d "$root/opt" ]; then mkdir -p "$tree/opt"; cp -a "$root/opt/." "$tree/opt/"; fi
# /etc is no part of an extension: kept under /usr/share/<name>/etc, copied back at boot.
if [ -d "$root/etc" ]; then
  for item in $(cd "$root/etc" && ls -A | LC_ALL=C sort); do
    [ "$item" = systemd ] && continue
    mkdir -p "$tree/usr/share/$name/etc" "$tree/usr/lib/tmpfiles.d"
    cp -a "$root/etc/$item" "$tree/usr/share/$name/etc/"
    echo "C+ /etc/$item - - - - /usr/share/$name/etc/$item" >> "$tree/usr/lib/tmpfiles.d/10-$name.conf"
  done
fi
# Services start when the extension is merged.
for unit in $(ls "$tree/usr/lib/systemd/system" 2>/dev/null | LC_ALL=C sort); do
  case $unit in *@*) continue ;; *.service) ;; *) continue ;; esac
  mkdir -p "$tree/usr/lib/systemd/system/multi-user.target.d"
  printf '[Unit]\nUpholds=%s\n' "$unit" > "$tree/usr/lib/systemd/system/multi-user.target.d/10-$name-${{unit%.service}}.conf"
done
release="$tree/usr/lib/extension-release.d/extension-release.$name"
{{
  echo "ID=${{DALEC_SYSEXT_OS_ID:-_any}}"
  echo "ARCHITECTURE={arch}"
  echo "EXTENSION_RELOAD_MANAGER=1"
  if [ -n "${{DALEC_SYSEXT_OS_VERSION_ID:-}}" ]; then echo "VERSION_ID=$DALEC_SYSEXT_OS_VERSION_ID"; fi
  if [ -n "${{DALEC_SYSEXT_SYSEXT_LEVEL:-}}" ]; then echo "SYSEXT_LEVEL=$DALEC_SYSEXT_SYSEXT_LEVEL"; fi
}} > "$release"
if [ "$image" != "$name" ]; then ln -s "extension-release.$name" "$tree/usr/lib/extension-release.d/extension-release.$image"; fi
mkfs.erofs -zlz4hc --all-root -x -1 -T {epoch} -U {uuid} {OUT}/"$image.raw" "$tree" >/dev/null
"#,
        name = q(name),
        image = q(image),
    )
}
