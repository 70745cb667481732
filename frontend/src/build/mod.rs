//! The build as LLB, the same for every family: worker image → build dependencies → sources
//! (patched, dependencies generated) → the family's package build → packages → container →
//! tests. What differs between families comes from the distro row: its
//! [`crate::family::Family`] (code) and its [`FamilyConfig`] (the package manager as data).
//!
//! **Architecture Invariant:** this module does no I/O; the same spec and options give the
//! same definitions (BuildKit's cache depends on it).

pub mod caches;
pub mod contexts;
pub mod generators;
pub mod repos;
pub mod sources;
pub mod spectests;
pub mod sysext;

use self::contexts::Worker;
use self::sources::SourceInputs;
use crate::distro::Distro;
use crate::family::{FamilyConfig, MetaPackage, Outputs, Sources, text};
use crate::shell::quote;
use crate::spec::RepoStage as Stage;
use crate::spec::{self, Network, SourceMount, Spec, SpecError, SpecErrors};
use kiln_buildkit::llb::{Exec, FileActions, Mount, NetMode, Sharing, State};
use kiln_buildkit::pb;
use std::collections::BTreeMap;

/// Where the package tree is mounted in the build container.
pub const BUILD_ROOT: &str = "/build";
/// Where built packages are mounted when installing them into an image.
pub const PKG_MOUNT: &str = "/run/kiln/pkgs";
/// Where patch sources are mounted while patching.
const PATCH_MOUNT: &str = "/run/kiln/patches";

/// The time a build's packages, files and images carry, in seconds since 1970: the
/// `SOURCE_DATE_EPOCH` build arg, else the spec's newest changelog entry, else
/// [`DEFAULT_EPOCH`]. Builds never read the clock, so two builds of the same spec are
/// byte-identical.
pub fn build_epoch(spec: &Spec, arg: Option<i64>) -> i64 {
    arg.or_else(|| spec.changelog.iter().filter_map(|e| e.epoch()).max())
        .unwrap_or(DEFAULT_EPOCH)
}

/// The time of a spec without a changelog: 2022-12-18, the day after Debian Policy 4.6.2,
/// the `Standards-Version` kiln's packages follow, was released (distro linters call files
/// from 1970 errors, and a date before the standard a time warp).
pub const DEFAULT_EPOCH: i64 = 1_671_321_600;

/// The request-level facts the pipeline needs.
pub struct Context<'a> {
    /// The spec's sources' access to the request (session, named contexts, platform).
    pub sources: SourceInputs<'a>,
    /// `image-resolve-mode` of the request.
    pub resolve_mode: Option<&'a str>,
    /// The time the build's files and images carry (see [`build_epoch`]).
    pub source_date_epoch: i64,
    /// The frontend's own image, mounted into test containers that need its `match` command.
    pub frontend_image: State,
    /// The platform the packages are for (Windows for the Windows family; the images it
    /// pulls are the worker's, [`Context::platform`]).
    pub target_platform: pb::Platform,
    /// Which entry of `image.bases` the image is built on (a Windows image is built once per
    /// base).
    pub image_base: usize,
    /// A worker (or the image to make it from) given as a named build context.
    pub worker: Option<Worker>,
}

impl Context<'_> {
    /// The platform the build's images are pulled for: the packages' platform, or for a
    /// cross build the worker's own.
    pub fn platform(&self) -> &pb::Platform {
        &self.sources.platform
    }

    fn errors(&self, list: Vec<SpecError>) -> Result<(), SpecErrors> {
        if list.is_empty() {
            Ok(())
        } else {
            Err(SpecErrors(list))
        }
    }
}

/// A package-manager step: the family's cache mounts and environment.
fn package_manager_caches(exec: Exec, distro: &Distro) -> Exec {
    let config = distro.config;
    let exec = config.caches.iter().fold(exec, |exec, (dest, suffix)| {
        exec.mount(Mount::cache(
            dest,
            &format!("kiln-{}-{suffix}", distro.key),
            Sharing::Locked,
        ))
    });
    config
        .env
        .iter()
        .fold(exec, |exec, (name, value)| exec.env(name, value))
}

/// `set -e`, `before`, a refresh of the package lists, then `command` followed by `args`.
fn package_manager_script(
    config: &FamilyConfig,
    before: &str,
    command: &str,
    args: &str,
) -> String {
    format!("set -e\n{before}{}\n{command} {args}\n", config.refresh)
}

/// The distro's base image.
pub fn base_image(distro: &Distro, ctx: &Context) -> State {
    State::image(distro.image, ctx.platform().clone(), ctx.resolve_mode)
}

/// The build worker: the distro image with the packaging tools installed, unless the request
/// gives one (see [`crate::build::contexts`]).
pub fn worker(distro: &Distro, ctx: &Context) -> State {
    let config = distro.config;
    let script = package_manager_script(
        config,
        &format!("{}\n", config.keep_downloads),
        config.install,
        &distro.builder_packages.join(" "),
    );
    let exec = package_manager_caches(Exec::shell(script), distro)
        .name(format!("[kiln {}] prepare build worker", distro.key));
    match &ctx.worker {
        Some(Worker::Complete(worker)) => worker.clone(),
        Some(Worker::Base(base)) => base.clone().run(exec).root(),
        None => base_image(distro, ctx).run(exec).root(),
    }
}

/// The worker with the spec's build dependencies installed (the family's `satisfy`, which
/// takes its relation syntax with versions and architectures); the worker itself when
/// neither the family nor the spec asks for any, as a package manager run for nothing
/// costs a refresh of its lists (and `apt-get satisfy` fails on an empty relation).
fn with_build_deps(
    worker: State,
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
) -> Result<State, SpecErrors> {
    let mut deps = distro.family.build_requirements(distro);
    deps.extend(
        distro
            .family
            .relations(spec.dependencies.as_ref().and_then(|d| d.build.as_ref())),
    );
    if deps.is_empty() {
        return Ok(worker);
    }
    let exec = satisfy_step(&deps, spec, Stage::Build, distro, ctx)?
        .name(format!("[kiln {}] install build dependencies", distro.key));
    Ok(worker.run(exec).root())
}

/// A package-manager step that installs what the relations `deps` ask for, with the
/// repositories of `stage`.
fn satisfy_step(
    deps: &[String],
    spec: &Spec,
    stage: Stage,
    distro: &Distro,
    ctx: &Context,
) -> Result<Exec, SpecErrors> {
    let config = distro.config;
    let script = package_manager_script(
        config,
        "",
        config.satisfy,
        &quote(&deps.join(config.relation_separator)),
    );
    package_manager_step(Exec::shell(script), spec, stage, distro, ctx)
}

/// Shell lines that set the arguments to the packages a glob of [`Family::package_glob`] finds
/// under [`PKG_MOUNT`], and stop with an error naming the pattern when it finds none.
///
/// [`Family::package_glob`]: crate::family::Family::package_glob
pub fn packages_found((glob, shown): (String, String)) -> String {
    format!(
        "set -- {PKG_MOUNT}/{glob}\n[ -e \"$1\" ] || {{ echo {} >&2; exit 1; }}\n",
        quote(&format!("kiln: no {shown} among the packages to install"))
    )
}

/// A package-manager step that installs the packages named `name` in `packages` (their
/// dependencies with them).
fn install_packages_step(
    name: &str,
    packages: State,
    spec: &Spec,
    stage: Stage,
    distro: &Distro,
    ctx: &Context,
) -> Result<Exec, SpecErrors> {
    let config = distro.config;
    let found = packages_found(distro.family.package_glob(name));
    let script = package_manager_script(config, &found, config.install, "\"$@\"");
    Ok(
        package_manager_step(Exec::shell(script), spec, stage, distro, ctx)?
            .mount(Mount::bind(PKG_MOUNT, packages).readonly()),
    )
}

/// The package `container/depsonly` installs, `<name>-runtime-deps`: it holds nothing and
/// requires the spec's runtime dependencies. What a bare spec lacks gets Dalec's defaults
/// (version 0.0.1, revision 1, license MIT). Returns the spec of that package (the image
/// settings are the spec's) and the package, built on the worker.
pub fn runtime_deps_package(
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
) -> Result<(Spec, State), SpecErrors> {
    let runtime = spec.dependencies.as_ref().and_then(|d| d.runtime.as_ref());
    if runtime.is_none_or(|r| r.0.is_empty()) {
        return Err(SpecError::at_key(
            ctx.sources.file,
            ctx.sources.text,
            "dependencies",
            spec::Pos::default(),
            format!(
                "target {}/container/depsonly makes an image of the spec's runtime dependencies, but dependencies.runtime lists none",
                distro.key
            ),
        )
        .into());
    }
    let or = |field: &Option<spec::Located<String>>, default: &str| {
        let pos = field.as_ref().map(|f| f.pos).unwrap_or_default();
        let value = match text(field) {
            "" => default.to_string(),
            v => v.to_string(),
        };
        Some(spec::Located { value, pos })
    };
    let mut deps = spec.clone();
    let name = match text(&spec.name) {
        "" => "kiln-user".to_string(),
        n => n.to_string(),
    };
    deps.name = Some(spec::Located {
        value: format!("{name}-runtime-deps"),
        pos: spec.name.as_ref().map(|f| f.pos).unwrap_or_default(),
    });
    deps.version = or(&spec.version, "0.0.1");
    deps.revision = or(&spec.revision, "1");
    deps.description = or(&None, &format!("The runtime dependencies of {name}"));
    if spec.license.as_deref().is_none_or(|l| l.trim().is_empty()) {
        deps.license = Some("MIT".into());
    }
    check(&deps, distro, ctx)?;
    let meta = MetaPackage {
        name: text(&deps.name).to_string(),
        version: text(&deps.version).to_string(),
        release: text(&deps.revision).to_string(),
        license: deps.license.clone().unwrap_or_default().trim().to_string(),
        summary: text(&deps.description).to_string(),
        relations: distro.family.relations(runtime),
    };
    let package = distro
        .family
        .meta_package(&meta, distro, ctx)
        .ok_or_else(|| {
            SpecErrors::from(SpecError::at(
                ctx.sources.file,
                ctx.sources.text,
                spec::Pos::default(),
                format!(
                    "{}: the {} family makes no deps-only images",
                    distro.key, distro.title
                ),
            ))
        })?;
    Ok((deps, package))
}

/// A package-manager step: its caches, the distro's extra package lists, plus the spec's
/// extra repositories for `stage`.
pub fn package_manager_step(
    exec: Exec,
    spec: &Spec,
    stage: Stage,
    distro: &Distro,
    ctx: &Context,
) -> Result<Exec, SpecErrors> {
    let repos = repos::mounts(spec, stage, distro.config, &ctx.sources)?;
    let lists = distro.extra_lists.iter().map(|(name, contents)| {
        let file = State::scratch().file(
            FileActions::new().mkfile("/list", 0o644, contents.as_bytes().to_vec()),
            &format!("[kiln {}] {name}", distro.key),
        );
        Mount::bind(&format!("{}/{name}", distro.config.repo_lists_dir), file)
            .selector("/list")
            .readonly()
    });
    Ok(lists
        .chain(repos)
        .fold(package_manager_caches(exec, distro), Exec::mount))
}

/// Every source placed under `<dir>/<key>` (`dir` empty: at the root), in one file op.
///
/// The state depends on the spec's sources only, not on the target.
pub fn sources(spec: &Spec, dir: &str, ctx: &Context) -> Result<State, SpecErrors> {
    let mut files = if dir.is_empty() {
        FileActions::new()
    } else {
        FileActions::new().mkdir(dir, 0o755, true)
    };
    let mut errors = Vec::new();
    for (key, src) in &spec.sources {
        // Each source's actions on their own, then appended: no copy of the growing chain.
        match sources::place(FileActions::new(), dir, key, src, &ctx.sources) {
            Ok(f) => files = files.then(f),
            Err(e) => errors.push(e),
        }
    }
    ctx.errors(errors)?;
    Ok(State::scratch().file(files, "[kiln] assemble sources"))
}

/// Applies the spec's patches, in order, with `patch` in the worker (no network), one step
/// per patch so that a patch that does not apply points at its own line. `dir` is where the
/// sources are inside `tree`.
pub fn patched(
    mut tree: State,
    worker: &State,
    spec: &Spec,
    dir: &str,
    ctx: &Context,
) -> Result<State, SpecErrors> {
    let mut errors = Vec::new();
    for (target, list) in &spec.patches {
        for p in &list.value {
            let name = &p.source.value;
            let Some(src) = spec.sources.get(name) else {
                continue;
            };
            let fetched = match sources::fetch(name, src, &ctx.sources) {
                Ok(f) => f,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let mount = format!("{PATCH_MOUNT}/{name}");
            let file = match (&fetched.file_name, &p.path) {
                (Some(file), _) => format!("{mount}/{file}"),
                (None, Some(path)) => format!("{mount}/{}", path.value.trim_start_matches('/')),
                (None, None) => mount.clone(),
            };
            let script = format!(
                "set -e\necho {}\npatch -d {} -p{} --forward --batch --input {}\n",
                quote(&format!("kiln: applying {name} to {target}")),
                quote(&format!("{BUILD_ROOT}{dir}/{target}")),
                p.strip.unwrap_or(1),
                quote(&file)
            );
            let exec = Exec::shell(script)
                .network(NetMode::None)
                .mount(Mount::bind(BUILD_ROOT, tree))
                .mount(Mount::bind(&mount, fetched.state).readonly())
                .name(format!("[kiln] patch {target} with {name}"));
            let line = p.source.pos.line;
            tree = worker
                .run(exec)
                .output(BUILD_ROOT)
                .unwrap_or_default()
                .with_location(line, line);
        }
    }
    ctx.errors(errors)?;
    Ok(tree)
}

/// Checks the family's rules, as located errors.
fn check(spec: &Spec, distro: &Distro, ctx: &Context) -> Result<(), SpecErrors> {
    let errors = distro
        .family
        .check(spec, distro)
        .into_iter()
        .map(|(msg, pos)| SpecError::at(ctx.sources.file, ctx.sources.text, pos, msg))
        .collect();
    ctx.errors(errors)
}

/// Adds the spec's network mode and build caches to the package build run on `builder`.
fn build_settings(
    exec: Exec,
    builder: &State,
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
) -> Result<Exec, SpecErrors> {
    let exec = exec.network(match spec.build.as_ref().map(|b| b.network()) {
        Some(Network::Sandbox) => NetMode::Sandbox,
        Some(Network::None) | None => NetMode::None,
    });
    caches::add(exec, builder, spec, distro, ctx)
        .map_err(|(message, pos)| ctx.sources.error(pos, message).into())
}

/// The spec lines of the build steps (first step to the end of the last), for errors.
fn steps_lines(spec: &Spec) -> Option<(u32, u32)> {
    let steps = &spec.build.as_ref()?.steps;
    let first = steps.first()?.command.pos.line;
    let last = steps.last()?;
    let lines = last.command.value.trim_end().lines().count().max(1) as u32;
    Some((first, last.command.pos.line + lines - 1))
}

/// The build steps' `mounts`, read-only for the whole build (the steps run as one script
/// under the family's package build; Dalec parses them and mounts nothing). One mount point serves one
/// source: two different sources at the same point are an error.
fn step_mounts(spec: &Spec, ctx: &Context) -> Result<Vec<Mount>, SpecErrors> {
    let mut seen: BTreeMap<&str, &SourceMount> = BTreeMap::new();
    let mut list = Vec::new();
    let mut errors = Vec::new();
    for m in spec
        .build
        .iter()
        .flat_map(|b| &b.steps)
        .flat_map(|s| &s.mounts)
    {
        match seen.get(m.dest.value.as_str()) {
            Some(first) if first.spec.value == m.spec.value => continue,
            Some(_) => errors.push(ctx.sources.error(
                m.dest.pos,
                format!(
                    "mount point {} is given two different sources by the build steps (they all run in one build)",
                    m.dest.value
                ),
            )),
            None => {
                seen.insert(&m.dest.value, m);
                list.push(m.clone());
            }
        }
    }
    ctx.errors(errors)?;
    Ok(sources::mounts(&list, &ctx.sources)?)
}

/// The package files (at the root of the result) built from the spec by the distro's family:
/// the source package, and for [`Outputs::Binary`] the binary packages built from it.
pub fn package(
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
    outputs: Outputs,
) -> Result<State, SpecErrors> {
    check(spec, distro, ctx)?;
    let worker = worker(distro, ctx);
    let dir = format!("/{}", distro.family.source_dir(spec, distro, ctx));
    let unpatched = sources(spec, &dir, ctx)?;
    let tree = patched(unpatched.clone(), &worker, spec, &dir, ctx)?;
    let builder = with_build_deps(worker, spec, distro, ctx)?;
    let prepared = generators::generate(tree, &builder, spec, &dir, &ctx.sources);
    let sources = Sources {
        unpatched,
        prepared,
    };
    distro
        .family
        .package(spec, distro, ctx, sources, builder, outputs)
}

/// What the spec's generators of `kind` (`gomod`, `cargohome`, `pip`) fetch for the build,
/// at the root of the result (`debug/gomods` and the like): the sources patched, the
/// generators run on the worker with the build dependencies, as for a package.
pub fn generated(
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
    kind: &str,
) -> Result<State, SpecErrors> {
    if !generators::uses(spec, kind) {
        return Err(SpecError::whole_file(
            ctx.sources.file,
            format!("the spec has no {kind} generator (sources.<name>.generate)"),
        )
        .into());
    }
    let worker = worker(distro, ctx);
    let tree = patched(sources(spec, "", ctx)?, &worker, spec, "", ctx)?;
    let builder = with_build_deps(worker, spec, distro, ctx)?;
    let tree = generators::generate(tree, &builder, spec, "", &ctx.sources);
    let all = kiln_buildkit::llb::CopyOptions {
        dir_copy_contents: true,
        ..Default::default()
    };
    Ok(State::scratch().file(
        FileActions::new().copy(
            &tree,
            &format!("/{}/{kind}", generators::DEPS_DIR),
            "/",
            all,
        ),
        &format!("[kiln] the {kind} generators' output"),
    ))
}

/// Runs a family's package build `exec` (its tree mounted at [`BUILD_ROOT`]) on `builder` with
/// the spec's build settings (network mode, caches, the build steps' mounts), and returns the
/// tree after it; a failure points at the build steps' lines.
pub fn run_build(
    builder: &State,
    exec: Exec,
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
) -> Result<State, SpecErrors> {
    let exec = step_mounts(spec, ctx)?.into_iter().fold(
        build_settings(exec, builder, spec, distro, ctx)?,
        Exec::mount,
    );
    let built = builder.run(exec).output(BUILD_ROOT).unwrap_or_default();
    Ok(match steps_lines(spec) {
        Some((first, last)) => built.with_location(first, last),
        None => built,
    })
}

/// The image the container route installs the package into: the spec's `image.base` or its one
/// `image.bases` entry (an image source, `cmd` steps included), else the distro image. Also
/// the reference whose config the result image starts from.
pub fn output_base(
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
) -> Result<(State, String), SpecErrors> {
    let image = spec.image.as_ref();
    if let Some(base) = image.and_then(|i| i.base.as_ref()) {
        let state = State::image(&base.value, ctx.platform().clone(), ctx.resolve_mode)
            .with_location(base.pos.line, base.pos.line);
        return Ok((state, base.value.clone()));
    }
    let bases = image
        .and_then(|i| i.bases.as_ref())
        .map_or(&[][..], |b| &b[..]);
    match bases {
        [] => Ok((base_image(distro, ctx), distro.image.to_string())),
        [one] => {
            let reference = one
                .rootfs
                .value
                .image
                .as_ref()
                .map(|i| i.reference.value.clone())
                .unwrap_or_default();
            let fetched =
                sources::fetch("image.bases[0]", &one.rootfs, &ctx.sources).map_err(SpecErrors::from)?;
            Ok((fetched.state, reference))
        }
        [_, second, ..] => Err(SpecError::at_key(
            ctx.sources.file,
            ctx.sources.text,
            "rootfs",
            second.rootfs.pos,
            format!(
                "image.bases lists {} images: a Linux container has one base (Dalec takes several only for Windows)",
                bases.len()
            ),
        )
        .into()),
    }
}

/// The package installed into `base` (see [`output_base`]) with the family's package manager,
/// plus its image packages (`ca-certificates`) as Dalec's images have them, then the links of
/// `image.post`: one step, so one layer, made reproducible by [`reproducible_layer`].
pub fn container(
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
    packages: State,
    base: State,
) -> Result<State, SpecErrors> {
    let config = distro.config;
    let (layer_start, layer_end) = reproducible_layer(config, ctx.source_date_epoch);
    let found = format!(
        "{layer_start}{}",
        packages_found(distro.family.package_glob(text(&spec.name)))
    );
    let mut install = config.image_packages.join(" ");
    install.push_str(" \"$@\"");
    let mut script = package_manager_script(config, &found, config.install, &install);
    script.push_str(&post_symlinks_script(spec));
    script.push_str(&layer_end);
    let exec = package_manager_step(Exec::shell(script), spec, Stage::Install, distro, ctx)?
        .mount(Mount::bind(PKG_MOUNT, packages).readonly())
        .name(format!(
            "[kiln {}] install {} into the image",
            distro.key,
            spec.name.as_ref().map_or("", |n| n.value.trim())
        ));
    Ok(base.run(exec).root())
}

/// The shell lines around a step that changes an image, which make the layer it leaves the
/// same in every build. At the start: a marker, and a copy of the package manager's logs and
/// time-stamped caches. At the end: those restored as they were (removed if new: a deleted
/// file would leave a whiteout stamped with the clock), then every file the step changed
/// stamped no later than `epoch` (what it did not change keeps its time, so the base's files
/// stay out of the layer), and the directories BuildKit put mount points in before the step
/// began. GNU find and touch, which every family's images have.
pub fn reproducible_layer(config: &FamilyConfig, epoch: i64) -> (String, String) {
    let logs: Vec<String> = config.image_logs.iter().map(|l| quote(l)).collect();
    let logs = logs.join(" ");
    let mount_dirs = ["/etc", "/run", config.repo_lists_dir, config.repo_keys_dir]
        .map(quote)
        .join(" ");
    let start = format!(
        "kiln_marker=$(mktemp /dev/shm/kiln-layer.XXXXXX)\n\
         mkdir -p /dev/shm/kiln-saved\n\
         for f in {logs}; do if [ -e \"$f\" ]; then cp -a --parents \"$f\" /dev/shm/kiln-saved/; fi; done\n"
    );
    let end = format!(
        "for f in {logs}; do\n  \
           if [ -e \"/dev/shm/kiln-saved$f\" ]; then cp -a \"/dev/shm/kiln-saved$f\" \"$f\"; else rm -f \"$f\"; fi\n\
         done\n\
         find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o \\\n  \
           -cnewer \"$kiln_marker\" -newermt @{epoch} -exec touch -h -d @{epoch} {{}} +\n\
         for d in {mount_dirs}; do\n  \
           if [ -d \"$d\" ]; then find \"$d\" -maxdepth 0 -newermt @{epoch} -exec touch -h -d @{epoch} {{}} +; fi\n\
         done\n\
         rm -rf \"$kiln_marker\" /dev/shm/kiln-saved\n"
    );
    (start, end)
}

/// One link of `image.post.symlinks`: where it goes, what it points at, its owner, and the
/// spec line of its path.
struct PostSymlink<'a> {
    target: &'a str,
    path: &'a str,
    user: Option<&'a str>,
    group: Option<&'a str>,
}

/// The links of `image.post.symlinks`, in the spec's order (targets sorted), if any.
fn post_symlinks(spec: &Spec) -> Option<Vec<PostSymlink<'_>>> {
    let post = spec.image.as_ref()?.post.as_ref()?;
    let links: Vec<PostSymlink> = post
        .symlinks
        .iter()
        .flat_map(|(target, links)| {
            links
                .path
                .iter()
                .chain(&links.paths)
                .map(move |path| PostSymlink {
                    target,
                    path: &path.value,
                    user: links.user.as_deref(),
                    group: links.group.as_deref(),
                })
        })
        .collect();
    (!links.is_empty()).then_some(links)
}

/// The directory a path is in (`/` for a top-level path).
fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/')
        .map_or("/", |(d, _)| if d.is_empty() { "/" } else { d })
}

/// The shell lines that make the links of `image.post.symlinks` in the image: parents created,
/// an existing path an error, owned as asked (user only: group 0; group only: user 0, as
/// Dalec makes them). A shell rather than BuildKit's symlink action: that stamps the parent
/// directories with the clock, and the step's clamp sets them right.
pub fn post_symlinks_script(spec: &Spec) -> String {
    post_symlinks_script_in(spec, "")
}

/// [`post_symlinks_script`] for an image whose root is the directory `root` of the step (the
/// step runs outside it): the links go there, and owners are looked up in that root's
/// `/etc/passwd` and `/etc/group`, not the step's.
pub fn post_symlinks_script_in(spec: &Spec, root: &str) -> String {
    let links = post_symlinks(spec).unwrap_or_default();
    let mut script = String::new();
    let owned = links.iter().any(|l| l.user.is_some() || l.group.is_some());
    if owned && !root.is_empty() {
        // kiln_id FILE NAME: NAME's number in FILE (a number is kept as it is; root is 0).
        script.push_str(&format!(
            "kiln_id() {{ case $2 in root) echo 0 ;; ''|*[!0-9]*) awk -F: -v n=\"$2\" '$1 == n {{ print $3; f = 1; exit }} END {{ exit !f }}' {root}\"$1\" || {{ echo \"kiln: image.post.symlinks: no $2 in the image's $1\" >&2; exit 1; }} ;; *) echo \"$2\" ;; esac; }}\n",
            root = quote(root)
        ));
    }
    for l in links {
        let full = format!("{root}{}", l.path);
        let p = quote(&full);
        let exists = quote(&format!(
            "kiln: image.post.symlinks: {} already exists in the image",
            l.path
        ));
        script.push_str(&format!(
            "mkdir -p {}\nif [ -e {p} ] || [ -L {p} ]; then echo {exists} >&2; exit 1; fi\nln -s {} {p}\n",
            quote(parent_dir(&full)),
            quote(l.target)
        ));
        let owner = if root.is_empty() {
            match (l.user, l.group) {
                (Some(u), Some(g)) => Some(format!("{u}:{g}")),
                (Some(u), None) => Some(u.to_string()),
                (None, Some(g)) => Some(format!(":{g}")),
                (None, None) => None,
            }
            .map(|o| quote(&o))
        } else {
            // Looked up first: a failed lookup stops the step (in `chown "$(..)"` it would not).
            let mut id = |var: &str, file: &str, name: Option<&str>| match name {
                Some(n) => {
                    script.push_str(&format!("{var}=$(kiln_id {file} {})\n", quote(n)));
                    format!("${var}")
                }
                None => String::new(),
            };
            let user = id("kiln_u", "/etc/passwd", l.user);
            let group = id("kiln_g", "/etc/group", l.group);
            match (l.user, l.group) {
                (Some(_), Some(_)) => Some(format!("\"{user}:{group}\"")),
                (Some(_), None) => Some(format!("\"{user}\"")),
                (None, Some(_)) => Some(format!("\":{group}\"")),
                (None, None) => None,
            }
        };
        if let Some(o) = owner {
            script.push_str(&format!("chown -h {o} {p}\n"));
        }
    }
    script
}

/// Where a test that carries the packages mounts them (writable: the mount's output, the same
/// files, is what the test gives).
const CARRIED: &str = "/run/kiln/passed";

/// One state per spec test: the test's script run in its own copy of `image` (the package
/// installed) with `dependencies.test` added. Evaluating a state runs its test.
///
/// With `carry` (the packages), each test mounts them and its state is that mount's output:
/// the same files, but only once the test has passed. A package build returns that instead of
/// evaluating its tests on the side, which saves BuildKit a solve of the whole graph.
pub fn tests(
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
    image: State,
    carry: Option<&State>,
) -> Result<Vec<State>, SpecErrors> {
    if spec.tests.is_empty() {
        return Ok(Vec::new());
    }
    let deps = distro
        .family
        .relations(spec.dependencies.as_ref().and_then(|d| d.test.as_ref()));
    let image = if deps.is_empty() {
        image
    } else {
        let meta = MetaPackage::internal(
            "kiln-test-dependencies",
            &format!("What the tests of {} need", text(&spec.name)),
            deps.clone(),
        );
        let exec = match distro.family.meta_package(&meta, distro, ctx) {
            Some(package) => {
                install_packages_step(&meta.name, package, spec, Stage::Test, distro, ctx)?
            }
            None => satisfy_step(&deps, spec, Stage::Test, distro, ctx)?,
        };
        image
            .run(exec.name(format!("[kiln {}] install test dependencies", distro.key)))
            .root()
    };
    let mut states = Vec::new();
    let mut errors = Vec::new();
    for t in &spec.tests {
        // The script is a file, so a failure names `/run/kiln/test/run.sh`, not its text.
        let script = State::scratch().file(
            FileActions::new().mkfile(
                "/run.sh",
                0o755,
                spectests::script(t, distro.family.test_command_prefix()).into_bytes(),
            ),
            &format!("[kiln] write test {}", t.name.value),
        );
        let mut exec = Exec::new(["/bin/sh", "/run/kiln/test/run.sh"])
            .mount(Mount::bind("/run/kiln/test", script).readonly())
            .network(NetMode::None)
            .name(format!("[kiln {}] test {}", distro.key, t.name.value));
        if spectests::uses_matches(t) {
            exec = exec.mount(
                Mount::bind(spectests::FRONTEND_MOUNT, ctx.frontend_image.clone()).readonly(),
            );
        }
        match sources::mounts(&t.mounts, &ctx.sources) {
            Ok(mounts) => exec = mounts.into_iter().fold(exec, Exec::mount),
            Err(e) => errors.push(e),
        }
        if let Some(packages) = carry {
            exec = exec.mount(Mount::bind(CARRIED, packages.clone()));
        }
        let (first, last) = spectests::lines(t);
        let run = image.run(exec);
        let state = match carry {
            Some(_) => run.output(CARRIED).unwrap_or_default(),
            None => run.root(),
        };
        states.push(state.with_location(first, last));
    }
    ctx.errors(errors)?;
    Ok(states)
}

/// Where a secret check mounts the secret it looks for.
const SECRET_CHECK: &str = "/run/kiln/secret";

/// One state per secret the spec's git sources authenticate with: evaluating it fails, at the
/// source's lines, with a message that names the secret, the source and how to pass it when
/// the request did not give it (BuildKit's git would only say "could not read Username").
pub fn secret_checks(spec: &Spec, distro: &Distro, ctx: &Context) -> Vec<State> {
    let mut checks = Vec::new();
    for (key, src) in &spec.sources {
        let Some(spec::SourceKind::Git(git)) = src.value.kind() else {
            continue;
        };
        let Some(auth) = &git.auth else { continue };
        for (what, id) in [("token", &auth.token), ("header", &auth.header)] {
            let Some(id) = id else { continue };
            let message = format!(
                "kiln: secret {id:?} (the auth {what} of git source {key}) was not given: pass --secret id={id},src=FILE"
            );
            let exec = Exec::shell(format!(
                "[ -r {SECRET_CHECK} ] || {{ echo {} >&2; exit 1; }}\n",
                quote(&message)
            ))
            .network(NetMode::None)
            .mount(Mount::secret(SECRET_CHECK, id).optional())
            .name(format!("[kiln] secret {id} for git source {key}"));
            let line = git.url.pos.line;
            checks.push(
                base_image(distro, ctx)
                    .run(exec)
                    .root()
                    .with_location(line, line),
            );
        }
    }
    checks
}
