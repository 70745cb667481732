//! The RPM family (Azure Linux, AlmaLinux, Rocky Linux, Fedora): a generated `.spec` file
//! (see [`specfile`]), a source RPM made from the sources as fetched, and the binary RPMs
//! rebuilt from that source RPM, as a distro's build system would.

pub mod specfile;

use crate::build::{self, BUILD_ROOT, Context, PKG_MOUNT};
use crate::distro::Distro;
use crate::family::{Family, FamilyConfig, MetaPackage, Outputs, Sources, scripts, text};
use crate::install;
use crate::shell::quote;
use crate::spec::{DependencyList, Located, Pos, Spec, SpecErrors, version};
use crate::targets::Route;
use kiln_buildkit::llb::{CopyOptions, Exec, FileActions, Mount, NetMode, State};
use specfile::{BUILD_SCRIPT, CHANGES_PATCH, DEPS_TARBALL, INSTALL_SCRIPT};

/// Routes of the RPM family: (path, route, description). The first is the default.
const RPM_ROUTES: &[(&str, Route, &str)] = &[
    (
        "container",
        Route::MinimalContainer,
        "Build a container image: the RPMs installed into an empty root with the distro's base packages (image.base: installed there)",
    ),
    (
        "container/depsonly",
        Route::RuntimeDepsContainer,
        "Build a container image with only the spec's runtime dependencies (a <name>-runtime-deps meta-package), on an empty root or image.base",
    ),
    (
        "rpm",
        Route::Package,
        "Build the RPMs (RPMS/) and the source RPM they are built from (SRPMS/)",
    ),
    (
        "rpm/debug/spec",
        Route::PackageInputs(Outputs::Recipe),
        "The generated .spec file (SPECS/<name>/<name>.spec)",
    ),
    (
        "rpm/debug/sources",
        Route::PackageInputs(Outputs::RecipeSources),
        "The rpmbuild sources (SOURCES/): tarballs, patch and scripts",
    ),
    (
        "rpm/debug/buildroot",
        Route::PackageInputs(Outputs::RecipeTree),
        "The rpmbuild top directory: SOURCES/ and SPECS/",
    ),
    ("worker", Route::Worker, "The build worker image"),
];

/// Defines `kiln_meta NAME RELATIONS DIR`: builds into `DIR/RPMS` an empty package NAME that
/// requires each line of RELATIONS (`%ifarch` blocks kept), so the package manager resolves
/// them as it resolves any package's (Dalec installs build dependencies the same way).
macro_rules! meta_package_fn {
    () => {
        "kiln_meta() {\n\
  mkdir -p \"$3/SPECS\"\n\
  { printf 'Name: %s\\nVersion: 1\\nRelease: 1\\nSummary: what %s needs\\nLicense: none\\n' \"$1\" \"$1\"\n\
    printf '%s\\n' \"$2\" | sed -e '/^%/!s/^/Requires: /' -e '/^Requires: $/d'\n\
    printf '\\n%%%%description\\nA meta-package made by kiln.\\n\\n%%%%files\\n'\n\
  } >\"$3/SPECS/$1.spec\"\n\
  rpmbuild -bb --quiet --define \"_topdir $3\" \"$3/SPECS/$1.spec\" >&2\n\
}\n"
    };
}

/// Defines `kiln_pm`: dnf where the image has it, else tdnf (Azure Linux 3 has both; tdnf
/// refuses signed local RPMs into custom bases, Dalec #991).
macro_rules! package_manager_fn {
    () => {
        "kiln_pm() { if command -v dnf >/dev/null 2>&1; then dnf \"$@\"; else tdnf \"$@\"; fi; }\n"
    };
}

/// `kiln_satisfy RELATIONS`: the relations' meta-package, installed.
macro_rules! satisfy_fn {
    ($install:literal) => {
        concat!(
            meta_package_fn!(),
            "kiln_satisfy() { d=$(mktemp -d); kiln_meta kiln-dependencies \"$1\" \"$d\"; ",
            $install,
            " \"$d\"/RPMS/*/*.rpm; s=$?; rm -rf \"$d\"; return $s; }; kiln_satisfy"
        )
    };
}

/// dnf (Azure Linux 4, AlmaLinux, Rocky Linux, Fedora's dnf5 takes the same options), as data.
pub const DNF: FamilyConfig = FamilyConfig {
    caches: &[("/var/cache/dnf", "dnf-cache")],
    env: &[],
    keep_downloads: "for f in /etc/dnf/dnf.conf /etc/tdnf/tdnf.conf; do if [ -f \"$f\" ]; then echo keepcache=1 >>\"$f\"; fi; done",
    refresh: concat!(package_manager_fn!(), "kiln_pm makecache"),
    install: "kiln_pm install -y --setopt=install_weak_deps=False",
    satisfy: satisfy_fn!("kiln_pm install -y --setopt=install_weak_deps=False"),
    image_logs: &[
        "/var/log/dnf.log",
        "/var/log/dnf.librepo.log",
        "/var/log/dnf.rpm.log",
        "/var/log/hawkey.log",
        "/var/log/dnf5.log",
        "/var/lib/dnf/history.sqlite",
        "/var/lib/dnf/history.sqlite-shm",
        "/var/lib/dnf/history.sqlite-wal",
        "/var/cache/ldconfig/aux-cache",
    ],
    image_packages: &[],
    repo_lists_dir: "/etc/yum.repos.d",
    repo_list_suffixes: &["repo"],
    repo_keys_dir: "/etc/pki/rpm-gpg",
    relation_separator: "\n",
    license_root: "usr/share/licenses",
    download: "kiln_pm download",
    unpack: "find \"$1\" -name '*.rpm' | sort | while read -r p; do (cd \"$2\" && rpm2cpio \"$p\" | cpio -idm --quiet); done",
};

/// dnf5 (Azure Linux 4, Fedora): [`DNF`] with dnf5's cache directory.
pub const DNF5: FamilyConfig = FamilyConfig {
    caches: &[("/var/cache/libdnf5", "dnf5-cache")],
    ..DNF
};

/// tdnf (Azure Linux 3), or dnf where the image has it: [`DNF`] with both caches.
pub const TDNF: FamilyConfig = FamilyConfig {
    caches: &[
        ("/var/cache/tdnf", "tdnf-cache"),
        ("/var/cache/dnf", "dnf-cache"),
    ],
    install: "kiln_pm install -y",
    satisfy: satisfy_fn!("kiln_pm install -y"),
    ..DNF
};

/// Go and Debian architecture names with their RPM names.
pub const ARCH_NAMES: &[(&str, &str)] = &[
    ("amd64", "x86_64"),
    ("arm64", "aarch64"),
    ("386", "i686"),
    ("i386", "i686"),
    ("arm", "armv7hl"),
    ("armhf", "armv7hl"),
    ("ppc64el", "ppc64le"),
];

/// The RPM family.
#[derive(Debug)]
pub struct Rpm;

/// Facts about the package the generated files share.
#[derive(Debug, Clone)]
pub struct Package {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Release without the dist tag (the spec's revision, 1 by default).
    pub release: String,
    /// The build's time (its SOURCE_DATE_EPOCH).
    pub epoch: i64,
}

impl Package {
    /// The package facts; `epoch` is the build's (see [`crate::build::build_epoch`]).
    pub fn new(spec: &Spec, epoch: i64) -> Package {
        Package {
            name: text(&spec.name).to_string(),
            version: text(&spec.version).to_string(),
            release: match text(&spec.revision) {
                "" => "1".to_string(),
                r => r.to_string(),
            },
            epoch,
        }
    }

    /// The `.spec` file's path in the rpmbuild top directory.
    pub fn spec_path(&self) -> String {
        format!("SPECS/{0}/{0}.spec", self.name)
    }

    /// The build directory, relative to the build root.
    pub fn source_dir(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

/// The summary and description of the spec: its description's first line, and all of it.
fn description(spec: &Spec) -> (String, String) {
    let d = text(&spec.description);
    let first = d.lines().next().unwrap_or("").trim().to_string();
    (first, d.to_string())
}

/// The packager line of a generated changelog entry.
pub fn packager(spec: &Spec) -> String {
    crate::family::deb::maintainer(text(&spec.packager))
}

/// An RPM dependency for each constraint: `name >= 1.0`, in an `%ifarch` block when the
/// spec limits it to architectures.
fn relation(name: &str, version: &[Located<String>], arch: &[String]) -> Vec<String> {
    let plain: Vec<String> = if version.is_empty() {
        vec![specfile::escape(name)]
    } else {
        // Constraints RPM cannot express never get here: see [`check`].
        version
            .iter()
            .filter_map(|c| version::parse(&c.value))
            .filter_map(|c| {
                Some(format!(
                    "{} {} {}",
                    specfile::escape(name),
                    rpm_op(c.op)?,
                    specfile::escape(c.version)
                ))
            })
            .collect()
    };
    if arch.is_empty() {
        return plain;
    }
    let archs: Vec<&str> = arch.iter().map(|a| specfile::rpm_arch(a)).collect();
    plain
        .into_iter()
        .map(|r| format!("%ifarch {}\n{r}\n%endif", archs.join(" ")))
        .collect()
}

/// The RPM operator of a constraint; RPM has no `!=`.
fn rpm_op(op: version::Op) -> Option<&'static str> {
    use version::Op;
    Some(match op {
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Eq => "=",
        Op::Ne => return None,
        Op::Ge => ">=",
        Op::Gt => ">",
    })
}

/// A dependency list as RPM dependencies (each entry one line, or an `%ifarch` block).
pub fn relation_lines(list: Option<&DependencyList>) -> Vec<String> {
    list.into_iter()
        .flat_map(|l| &l.0)
        .flat_map(|(name, c)| {
            let (v, a) = c
                .as_ref()
                .map_or((&[][..], &[][..]), |c| (&c.version[..], &c.arch[..]));
            relation(name, v, a)
        })
        .collect()
}

/// Checks what RPM needs beyond the general spec rules.
pub fn check(spec: &Spec) -> Vec<(String, Pos)> {
    let mut problems = Vec::new();
    let pos = |f: &Option<Located<String>>| f.as_ref().map(|f| f.pos).unwrap_or_default();
    let name = text(&spec.name);
    if spec.name.is_none() {
        problems.push(("name is required to build a package".into(), Pos::default()));
    } else if name.is_empty()
        || name.starts_with('-')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
    {
        problems.push((
            format!("invalid RPM package name {name:?}: use letters, digits, '.', '_', '+' and '-', not starting with '-'"),
            pos(&spec.name),
        ));
    }
    let v = text(&spec.version);
    if spec.version.is_none() {
        problems.push((
            "version is required to build a package".into(),
            Pos::default(),
        ));
    } else if !v.starts_with(|c: char| c.is_ascii_digit())
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+~^".contains(c))
    {
        problems.push((
            format!("invalid RPM version {v:?}: it must start with a digit and use only letters, digits, '.', '_', '+', '~' and '^' (no '-')"),
            pos(&spec.version),
        ));
    }
    let r = text(&spec.revision);
    if !r
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._+~^".contains(c))
    {
        problems.push((
            format!("invalid revision {r:?}: an RPM release uses only letters, digits, '.', '_', '+', '~' and '^' (no '-')"),
            pos(&spec.revision),
        ));
    }
    if text(&spec.description).is_empty() {
        problems.push((
            "description is required for RPM packages (it gives Summary and %description)".into(),
            pos(&spec.description),
        ));
    }
    if spec.license.as_deref().is_none_or(|l| l.trim().is_empty()) {
        problems.push((
            "license is required for RPM packages (rpmbuild refuses a package without License)"
                .into(),
            Pos::default(),
        ));
    }
    for (field, list) in crate::family::relation_lists(spec) {
        for (name, c) in list.into_iter().flat_map(|l| &l.0) {
            if name.is_empty()
                || name.contains(|c: char| c.is_whitespace() || c.is_control() || c == ',')
            {
                problems.push((
                    format!(
                        "{field}: {:?} is not an RPM dependency name (no white space or commas)",
                        &**name
                    ),
                    Pos::default(),
                ));
            }
            for v in c.iter().flat_map(|c| &c.version) {
                let Some(parsed) = version::parse(&v.value) else {
                    continue;
                };
                if rpm_op(parsed.op).is_none() {
                    problems.push((
                        format!("version constraint {:?} of {} cannot be written as an RPM dependency: RPM has <, <=, =, >= and > but no !=", v.value, &**name),
                        v.pos,
                    ));
                }
            }
        }
    }
    problems
}

/// Where the source RPM step finds its inputs.
const SRC_UNPATCHED: &str = "/run/kiln/unpatched";
const SRC_PREPARED: &str = "/run/kiln/prepared";
const SRC_GENERATED: &str = "/run/kiln/generated";
const SRC_OUT: &str = "/run/kiln/out";
/// rpmbuild's top directory in the build steps.
const TOPDIR: &str = "/tmp/kiln-rpm";

/// rpmbuild's options of every kiln build: the top directory, the distro's dist tag, and what
/// makes two builds give the same bytes (build time and host, file times clamped to the
/// build's time: `clamp_mtime_to_source_epoch` up to rpm 4.19, `build_mtime_policy` from 4.20).
fn rpmbuild(distro: &Distro, topdir: &str) -> String {
    format!(
        "rpmbuild --define {} --define {} --define '_buildhost kiln' \
         --define 'use_source_date_epoch_as_buildtime 1' --define 'clamp_mtime_to_source_epoch 1' \
         --define 'build_mtime_policy clamp_to_source_date_epoch' \
         --define 'source_date_epoch_from_changelog 0'",
        quote(&format!("_topdir {topdir}")),
        quote(&format!("dist {}", distro.dist)),
    )
}

/// The rpmbuild top directory (`SOURCES/`, `SPECS/<name>/<name>.spec`) at the root of a
/// state, made on `builder` with no network: each source of the spec as fetched (plus what
/// the generators added to it) packed, the generators' downloads, and the spec's patches and
/// generator edits as one patch.
fn topdir(builder: &State, spec: &Spec, distro: &Distro, pkg: &Package, sources: Sources) -> State {
    let plan = install::plan(spec, distro);
    let generated = State::scratch().file(
        FileActions::new()
            .mkdir(&format!("/SPECS/{}", pkg.name), 0o755, true)
            .mkdir("/SOURCES", 0o755, true)
            .mkfile(
                &format!("/{}", pkg.spec_path()),
                0o644,
                specfile::spec_file(spec, distro, pkg, &plan).into_bytes(),
            )
            .mkfile(
                &format!("/SOURCES/{BUILD_SCRIPT}"),
                0o755,
                scripts::build_script(spec).into_bytes(),
            )
            .mkfile(
                &format!("/SOURCES/{INSTALL_SCRIPT}"),
                0o755,
                scripts::install_script_at("\"$RPM_BUILD_ROOT\"", &plan).into_bytes(),
            ),
        &format!("[kiln] write the .spec file for {}", distro.key),
    );
    let d = quote(&pkg.source_dir());
    let mut script = format!(
        "set -e\nmkdir -p /tmp/kiln-src && cd /tmp/kiln-src\n\
cp -a {SRC_UNPATCHED}/{d} {d}\n\
# What the generators added joins the sources; what they changed goes to the patch.\n\
cp -an {SRC_PREPARED}/{d}/. {d}/\n\
cp -a {SRC_GENERATED}/. {SRC_OUT}/\n\
kiln_pack() {{ tar --sort=name --mtime=\"@$SOURCE_DATE_EPOCH\" --owner=0 --group=0 --numeric-owner -C {d} -cf - \"$1\" | gzip -n -9 >\"{SRC_OUT}/SOURCES/$2\"; }}\n"
    );
    for (key, src) in &spec.sources {
        let file = specfile::source_file(key, &src.value);
        if specfile::is_file_source(&src.value) {
            script.push_str(&format!(
                "cp -p {d}/{} {SRC_OUT}/SOURCES/{}\n",
                quote(key),
                quote(&file)
            ));
        } else {
            script.push_str(&format!("kiln_pack {} {}\n", quote(key), quote(&file)));
        }
    }
    if specfile::has_deps_tarball(spec) {
        let deps = build::generators::DEPS_DIR;
        script.push_str(&format!(
            "mkdir -p {d}/{deps}\nkiln_pack {deps} {DEPS_TARBALL}\n"
        ));
    }
    if specfile::has_changes_patch(spec) {
        script.push_str(&format!(
            "rc=0; diff -ruN --text {d} {SRC_PREPARED}/{d} >/tmp/kiln-changes.patch || rc=$?\n\
[ \"$rc\" -le 1 ] || {{ echo 'kiln: cannot diff the patched sources against the fetched ones' >&2; exit 1; }}\n\
sed -E -e 's/^((---|\\+\\+\\+) [^\\t]*)\\t.*/\\1/' -e 's|^(\\+\\+\\+\\|diff -ruN --text [^ ]*) {SRC_PREPARED}/|\\1 b/|' \
/tmp/kiln-changes.patch >{SRC_OUT}/SOURCES/{CHANGES_PATCH}\n"
        ));
    }
    let exec = Exec::shell(script)
        .env("SOURCE_DATE_EPOCH", &pkg.epoch.to_string())
        .mount(Mount::bind(SRC_UNPATCHED, sources.unpatched).readonly())
        .mount(Mount::bind(SRC_PREPARED, sources.prepared).readonly())
        .mount(Mount::bind(SRC_GENERATED, generated).readonly())
        .mount(Mount::bind(SRC_OUT, State::scratch()))
        .network(NetMode::None)
        .name(format!(
            "[kiln {}] rpmbuild sources of {} {}",
            distro.key, pkg.name, pkg.version
        ));
    builder.run(exec).output(SRC_OUT).unwrap_or_default()
}

/// A copy of a directory's contents.
fn copy_all() -> CopyOptions {
    CopyOptions {
        dir_copy_contents: true,
        create_dest_path: true,
        ..Default::default()
    }
}

impl Family for Rpm {
    fn routes(&self) -> &'static [(&'static str, Route, &'static str)] {
        RPM_ROUTES
    }

    fn check(&self, spec: &Spec, _distro: &Distro) -> Vec<(String, Pos)> {
        check(spec)
    }

    fn relations(&self, list: Option<&DependencyList>) -> Vec<String> {
        relation_lines(list)
    }

    fn build_requirements(&self, _distro: &Distro) -> Vec<String> {
        Vec::new()
    }

    fn source_dir(&self, spec: &Spec, _distro: &Distro, ctx: &Context) -> String {
        Package::new(spec, ctx.source_date_epoch).source_dir()
    }

    fn package(
        &self,
        spec: &Spec,
        distro: &Distro,
        ctx: &Context,
        sources: Sources,
        builder: State,
        outputs: Outputs,
    ) -> Result<State, SpecErrors> {
        let pkg = Package::new(spec, ctx.source_date_epoch);
        let top = topdir(&builder, spec, distro, &pkg, sources);
        let part = |from: &str, to: &str, what: &str| {
            State::scratch().file(
                FileActions::new().copy(&top, from, to, copy_all()),
                &format!("[kiln {}] {what}", distro.key),
            )
        };
        match outputs {
            Outputs::RecipeTree => return Ok(top),
            Outputs::RecipeSources => return Ok(part("/SOURCES", "/SOURCES", "rpmbuild sources")),
            Outputs::Recipe => {
                let path = format!("/{}", pkg.spec_path());
                return Ok(State::scratch().file(
                    FileActions::new().copy(
                        &top,
                        &path,
                        &path,
                        CopyOptions {
                            create_dest_path: true,
                            ..Default::default()
                        },
                    ),
                    &format!("[kiln {}] the .spec file", distro.key),
                ));
            }
            Outputs::Source | Outputs::Binary | Outputs::Installer => {}
        }
        let script = format!(
            "set -e\nmkdir -p {SRC_OUT}/SRPMS\ncp -a /run/kiln/top {TOPDIR}\n{} --define {} -bs {TOPDIR}/{}\n",
            rpmbuild(distro, TOPDIR),
            quote(&format!("_srcrpmdir {SRC_OUT}/SRPMS")),
            quote(&pkg.spec_path()),
        );
        let exec = Exec::shell(script)
            .env("SOURCE_DATE_EPOCH", &pkg.epoch.to_string())
            .mount(Mount::bind("/run/kiln/top", top).readonly())
            .mount(Mount::bind(SRC_OUT, State::scratch()))
            .network(NetMode::None)
            .name(format!(
                "[kiln {}] rpmbuild -bs {} {}",
                distro.key, pkg.name, pkg.version
            ));
        let srpm = builder.run(exec).output(SRC_OUT).unwrap_or_default();
        if outputs == Outputs::Source {
            return Ok(srpm);
        }
        // The binary RPMs are rebuilt from the source RPM, as a distro's build system would.
        let script = format!(
            "set -e\nmkdir -p {BUILD_ROOT}/RPMS\n{} --define {} --rebuild {BUILD_ROOT}/SRPMS/*.src.rpm\n",
            rpmbuild(distro, TOPDIR),
            quote(&format!("_rpmdir {BUILD_ROOT}/RPMS")),
        );
        let exec = Exec::shell(script)
            .env("SOURCE_DATE_EPOCH", &pkg.epoch.to_string())
            .cwd(BUILD_ROOT)
            .mount(Mount::bind(BUILD_ROOT, srpm.clone()))
            .name(format!(
                "[kiln {}] rpmbuild --rebuild {} {}",
                distro.key, pkg.name, pkg.version
            ));
        let built = build::run_build(&builder, exec, spec, distro, ctx)?;
        Ok(State::scratch().file(
            FileActions::new()
                .copy(&built, "/RPMS", "/RPMS", copy_all())
                .copy(&srpm, "/SRPMS", "/SRPMS", copy_all()),
            &format!("[kiln {}] collect packages", distro.key),
        ))
    }

    fn minimal_image(
        &self,
        spec: &Spec,
        distro: &Distro,
        ctx: &Context,
        packages: State,
    ) -> Result<State, SpecErrors> {
        let config = distro.config;
        let epoch = ctx.source_date_epoch;
        let root = "/run/kiln/rootfs";
        let base_mount = "/run/kiln/base";
        let base = MetaPackage::internal(
            &format!("kiln-base-{}", distro.key),
            &format!("The base packages of a {} image", distro.title),
            distro.base_packages.iter().map(|p| p.to_string()).collect(),
        );
        let base_package = self.meta_package(&base, distro, ctx).unwrap_or_default();
        let mut script = format!(
            "set -e\n{}\n{}{} --installroot={root} --releasever={} --setopt=reposdir=/etc/yum.repos.d \"$@\" {base_mount}/RPMS/*/*.rpm\n",
            config.refresh,
            build::packages_found(self.package_glob(text(&spec.name))),
            config.install,
            quote(distro.release_version),
        );
        script.push_str(&build::post_symlinks_script_in(spec, root));
        // sqlite's shared-memory index is made again when the database is opened.
        script.push_str(&format!(
            "rm -rf {root}/var/cache/dnf {root}/var/cache/libdnf5 {root}/var/cache/tdnf {root}/var/log/dnf* {root}/var/lib/dnf/history* {root}/var/lib/rpm/rpmdb.sqlite-shm\n\
             find {root} -xdev -exec touch -h -d @{epoch} {{}} +\n"
        ));
        let exec = build::package_manager_step(
            Exec::shell(script),
            spec,
            crate::spec::RepoStage::Install,
            distro,
            ctx,
        )?
        // rpm >= 4.18 stamps the database's install times with it, not the clock.
        .env("SOURCE_DATE_EPOCH", &epoch.to_string())
        .mount(Mount::bind(PKG_MOUNT, packages).readonly())
        .mount(Mount::bind(base_mount, base_package).readonly())
        .mount(Mount::bind(root, State::scratch()))
        .name(format!(
            "[kiln {}] install {} into an empty root",
            distro.key,
            text(&spec.name)
        ));
        let worker = build::worker(distro, ctx);
        Ok(worker.run(exec).output(root).unwrap_or_default())
    }

    fn package_glob(&self, name: &str) -> (String, String) {
        (
            format!("RPMS/*/{}-[0-9]*.rpm", quote(name)),
            format!("RPMS/*/{name}-<version>.rpm"),
        )
    }

    fn meta_package(&self, meta: &MetaPackage, distro: &Distro, ctx: &Context) -> Option<State> {
        let file = State::scratch().file(
            FileActions::new().mkfile(
                "/meta.spec",
                0o644,
                specfile::meta_spec_file(meta).into_bytes(),
            ),
            &format!(
                "[kiln {}] write the .spec file of {}",
                distro.key, meta.name
            ),
        );
        let script = format!(
            "set -e\n{} --define {} --quiet -bb /run/kiln/meta/meta.spec >&2\n",
            rpmbuild(distro, TOPDIR),
            quote(&format!("_rpmdir {SRC_OUT}/RPMS")),
        );
        let exec = Exec::shell(script)
            .env("SOURCE_DATE_EPOCH", &ctx.source_date_epoch.to_string())
            .mount(Mount::bind("/run/kiln/meta", file).readonly())
            .mount(Mount::bind(SRC_OUT, State::scratch()))
            .network(NetMode::None)
            .name(format!(
                "[kiln {}] rpmbuild the meta-package {}",
                distro.key, meta.name
            ));
        build::worker(distro, ctx).run(exec).output(SRC_OUT)
    }
}
