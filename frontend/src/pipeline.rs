//! The build as LLB: worker image → build dependencies → source tree → package → container.
//!
//! **Architecture Invariant:** this module does no I/O; the same spec and options give the
//! same definitions (BuildKit's cache depends on it).

use crate::debian::{self, Package};
use crate::distro::Distro;
use crate::shell::quote;
use crate::sources::{self, SourceInputs};
use crate::spec::{Spec, SpecError, SpecErrors};
use kiln_buildkit::llb::{CopyOptions, Exec, FileActions, Mount, NetMode, Sharing, State};
use kiln_buildkit::pb;

/// Where the package tree is mounted in the build container.
const BUILD_ROOT: &str = "/build";
/// Where built packages are mounted when installing them into an image.
const PKG_MOUNT: &str = "/run/kiln/pkgs";

/// The request-level facts the pipeline needs.
pub struct Context<'a> {
    /// The spec's sources' access to the request (session, named contexts).
    pub sources: SourceInputs<'a>,
    /// The platform to build for.
    pub platform: pb::Platform,
    /// `image-resolve-mode` of the request.
    pub resolve_mode: Option<&'a str>,
    /// `SOURCE_DATE_EPOCH` from the build args, when given.
    pub source_date_epoch: Option<i64>,
}

fn apt_caches(exec: Exec, distro: &Distro) -> Exec {
    exec.mount(Mount::cache(
        "/var/cache/apt",
        &format!("kiln-{}-apt-cache", distro.key),
        Sharing::Locked,
    ))
    .mount(Mount::cache(
        "/var/lib/apt",
        &format!("kiln-{}-apt-lib", distro.key),
        Sharing::Locked,
    ))
    .env("DEBIAN_FRONTEND", "noninteractive")
}

/// The distro's base image.
pub fn base_image(distro: &Distro, ctx: &Context) -> State {
    State::image(distro.image, ctx.platform.clone(), ctx.resolve_mode)
}

/// The build worker: the distro image with the packaging tools installed.
pub fn worker(distro: &Distro, ctx: &Context) -> State {
    let script = format!(
        "set -e\n\
         rm -f /etc/apt/apt.conf.d/docker-clean\n\
         echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' > /etc/apt/apt.conf.d/keep-cache\n\
         apt-get update\n\
         apt-get install -y --no-install-recommends {}\n",
        distro.builder_packages.join(" ")
    );
    let exec = apt_caches(Exec::shell(script), distro)
        .name(format!("[kiln {}] prepare build worker", distro.key));
    base_image(distro, ctx).run(exec).root()
}

/// The worker with the spec's build dependencies installed (`apt-get satisfy`, which takes
/// Build-Depends syntax with versions and architectures).
fn with_build_deps(worker: State, spec: &Spec, distro: &Distro) -> State {
    let mut deps = vec![format!("debhelper-compat (= {})", distro.debhelper_compat)];
    deps.extend(
        spec.dependencies
            .as_ref()
            .map(|d| debian::relations(&d.build))
            .unwrap_or_default(),
    );
    let script = format!(
        "set -e\napt-get update\napt-get satisfy -y --no-install-recommends {}\n",
        quote(&deps.join(", "))
    );
    let exec = apt_caches(Exec::shell(script), distro)
        .name(format!("[kiln {}] install build dependencies", distro.key));
    worker.run(exec).root()
}

/// The package directory: sources under their keys plus the generated `debian/`.
fn source_tree(
    spec: &Spec,
    distro: &Distro,
    pkg: &Package,
    ctx: &Context,
) -> Result<State, SpecErrors> {
    let root = format!("/{}", pkg.source_dir());
    let mut files = FileActions::new().mkdir(&root, 0o755, true);
    let mut errors = Vec::new();
    for (key, src) in &spec.sources {
        match sources::place(files.clone(), &root, key, src, &ctx.sources) {
            Ok(f) => files = f,
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    files = files
        .mkdir(&format!("{root}/debian/source"), 0o755, true)
        .mkdir(&format!("{root}/debian/kiln"), 0o755, true);
    for f in debian::debian_dir(spec, distro, pkg) {
        files = files.mkfile(
            &format!("{root}/{}", f.path),
            f.mode,
            f.contents.into_bytes(),
        );
    }
    Ok(State::scratch().file(
        files,
        &format!("[kiln {}] assemble sources and debian/", distro.key),
    ))
}

/// Checks the Debian rules, as located errors.
fn check(spec: &Spec, ctx: &Context) -> Result<(), SpecErrors> {
    let errors: Vec<SpecError> = debian::check(spec)
        .into_iter()
        .map(|(msg, at)| match at {
            Some(loc) => SpecError::at(ctx.sources.file, ctx.sources.text, loc, msg),
            None => SpecError::whole_file(ctx.sources.file, msg),
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SpecErrors(errors))
    }
}

/// The `.deb` files (at the root of the result) built from the spec.
pub fn package(spec: &Spec, distro: &Distro, ctx: &Context) -> Result<State, SpecErrors> {
    check(spec, ctx)?;
    let pkg = Package::new(spec, distro, ctx.source_date_epoch);
    let tree = source_tree(spec, distro, &pkg, ctx)?;
    let builder = with_build_deps(worker(distro, ctx), spec, distro);
    let exec = Exec::new(["dpkg-buildpackage", "-b", "-uc", "-us"])
        .cwd(&format!("{BUILD_ROOT}/{}", pkg.source_dir()))
        .network(NetMode::None)
        .mount(Mount::bind(BUILD_ROOT, tree))
        .name(format!(
            "[kiln {}] dpkg-buildpackage {} {}",
            distro.key, pkg.name, pkg.version
        ));
    let built = builder.run(exec).output(BUILD_ROOT).unwrap_or_default();
    let collect = CopyOptions {
        allow_wildcard: true,
        ..Default::default()
    };
    Ok(State::scratch().file(
        FileActions::new().copy(&built, "/*.deb", "/", collect),
        &format!("[kiln {}] collect packages", distro.key),
    ))
}

/// The distro image with the package installed by apt, so its dependencies resolve.
pub fn container(spec: &Spec, distro: &Distro, ctx: &Context, debs: State) -> State {
    let pkg = Package::new(spec, distro, ctx.source_date_epoch);
    let script = format!(
        "set -e\napt-get update\napt-get install -y --no-install-recommends {PKG_MOUNT}/{}_*.deb\n",
        quote(&pkg.name)
    );
    let exec = apt_caches(Exec::shell(script), distro)
        .mount(Mount::bind(PKG_MOUNT, debs).readonly())
        .name(format!(
            "[kiln {}] install {} into the image",
            distro.key, pkg.name
        ));
    base_image(distro, ctx).run(exec).root()
}
