//! The generated `debian/` directory: pure text functions of the spec and the distro.
//!
//! The package is built the Debian way: `dpkg-buildpackage -b` runs `debian/rules`, whose
//! build and install steps are kiln's generated scripts; debhelper does the rest (strip,
//! shlibs, compression, md5sums, permissions, conffiles, systemd maintainer scripts).

use crate::build::{self, BUILD_ROOT, Context};
use crate::distro::Distro;
use crate::family::{Family, FamilyConfig, Outputs, Sources};
mod changelog;
mod control;
mod minimal;
mod relations;
mod rules;
mod scripts;

pub use crate::family::scripts::build_script;
pub use changelog::{changelog, copyright};
pub use control::{control, maintainer};
pub use relations::relations;
pub use rules::rules;
pub use scripts::{fixperms_script, install_script, links_file, postinst};

use crate::install;
use crate::shell::quote;
use crate::spec::{DependencyList, Located, Pos, Spec, SpecErrors, version};
use crate::targets::Route;
use kiln_artifact::{Kind, layout};
use kiln_buildkit::llb::{CopyOptions, Exec, FileActions, Mount, NetMode, State};
use relations::debian_op;

/// Routes of the deb family: (path, route, description). The first is the default.
const DEB_ROUTES: &[(&str, Route, &str)] = &[
    (
        "deb",
        Route::Package,
        "Build the .deb packages and the source package they are built from",
    ),
    (
        "dsc",
        Route::Source,
        "Build the source package (.dsc, .orig.tar.xz, .debian.tar.xz)",
    ),
    (
        "container",
        Route::MinimalContainer,
        "Build a minimal container image: the .deb and what it needs, in one layer (image.base: installed there)",
    ),
    (
        "testing/container",
        Route::Container,
        "Build a container image: the distro image with the .deb installed by apt",
    ),
    ("worker", Route::Worker, "The build worker image"),
];

/// apt, as data.
pub const APT: FamilyConfig = FamilyConfig {
    caches: &[("/var/cache/apt", "apt-cache"), ("/var/lib/apt", "apt-lib")],
    env: &[("DEBIAN_FRONTEND", "noninteractive")],
    keep_downloads: "rm -f /etc/apt/apt.conf.d/docker-clean\n\
                     echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' > /etc/apt/apt.conf.d/keep-cache",
    refresh: "apt-get update",
    install: "apt-get install -y --no-install-recommends",
    satisfy: "apt-get satisfy -y --no-install-recommends",
    image_logs: &[
        "/var/log/apt/history.log",
        "/var/log/apt/term.log",
        "/var/log/apt/eipp.log.xz",
        "/var/log/dpkg.log",
        "/var/log/alternatives.log",
        "/var/cache/ldconfig/aux-cache",
    ],
    image_packages: &["ca-certificates"],
    repo_lists_dir: "/etc/apt/sources.list.d",
    repo_list_suffixes: &["list", "sources"],
    repo_keys_dir: "/usr/share/keyrings",
    relation_separator: ", ",
    license_root: "usr/share/doc",
    download: "apt-get download",
    unpack: "find \"$1\" -name '*.deb' -print0 | sort -z | xargs -0 -r -I{} dpkg-deb --extract {} \"$2\"",
};

/// [`APT`] for releases whose apt (before 1.9: Ubuntu 18.04) has no `satisfy`: the
/// relations become the `Build-Depends` of a throwaway `debian/control` that `apt-get
/// build-dep` installs (it adds `build-essential`, which every build has anyway).
pub const APT_BEFORE_SATISFY: FamilyConfig = FamilyConfig {
    satisfy: "kiln_satisfy() { d=$(mktemp -d); mkdir \"$d/debian\"; \
              printf 'Source: kiln-deps\\nBuild-Depends: %s\\n\\nPackage: kiln-deps\\nArchitecture: all\\nDescription: dependencies\\n' \"$1\" >\"$d/debian/control\"; \
              apt-get build-dep -y --no-install-recommends \"$d\"; s=$?; rm -rf \"$d\"; return $s; }; kiln_satisfy",
    ..APT
};

/// The Debian family: `.deb` packages built with dpkg-buildpackage from a generated
/// `debian/` directory, installed with apt.
#[derive(Debug)]
pub struct Deb;

impl Family for Deb {
    fn routes(&self) -> &'static [(&'static str, Route, &'static str)] {
        DEB_ROUTES
    }

    fn check(&self, spec: &Spec, _distro: &Distro) -> Vec<(String, Pos)> {
        check(spec)
    }

    fn relations(&self, list: Option<&DependencyList>) -> Vec<String> {
        relations(list)
    }

    fn build_requirements(&self, distro: &Distro) -> Vec<String> {
        vec![format!("debhelper-compat (= {})", distro.debhelper_compat)]
    }

    fn source_dir(&self, spec: &Spec, distro: &Distro, ctx: &Context) -> String {
        Package::new(spec, distro, ctx.source_date_epoch).source_dir()
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
        let pkg = Package::new(spec, distro, ctx.source_date_epoch);
        let source = source_package(&builder, spec, distro, &pkg, sources);
        if outputs == Outputs::Source {
            return Ok(source);
        }
        // The binary packages are built from the source package, as a Debian buildd would.
        let dir = pkg.source_dir();
        let script = format!(
            "set -e\ndpkg-source --no-check -x {} {}\ncd {}\ndpkg-buildpackage -b -uc -us\n",
            quote(&pkg.dsc()),
            quote(&dir),
            quote(&dir)
        );
        let exec = Exec::shell(script)
            .cwd(BUILD_ROOT)
            .mount(Mount::bind(BUILD_ROOT, source.clone()))
            .name(format!(
                "[kiln {}] dpkg-buildpackage {} {}",
                distro.key, pkg.name, pkg.version
            ));
        let built = build::run_build(&builder, exec, spec, distro, ctx)?;
        let collect = CopyOptions {
            allow_wildcard: true,
            ..Default::default()
        };
        Ok(State::scratch().file(
            FileActions::new()
                .copy(
                    &built,
                    &layout::glob(Kind::Deb),
                    layout::PACKAGES_DIR,
                    collect.clone(),
                )
                .copy(&source, "/", layout::PACKAGES_DIR, copy_all()),
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
        let glob = self.package_glob(text(&spec.name));
        minimal::image(spec, distro, ctx, packages, &glob)
    }

    fn package_glob(&self, name: &str) -> (String, String) {
        let ext = Kind::Deb.extension();
        (format!("{}_*{ext}", quote(name)), format!("{name}_*{ext}"))
    }

    fn meta_package(
        &self,
        _meta: &crate::family::MetaPackage,
        _distro: &Distro,
        _ctx: &Context,
    ) -> Option<State> {
        // apt-get satisfy takes the relations themselves.
        None
    }
}

/// A copy of a directory's contents.
fn copy_all() -> CopyOptions {
    CopyOptions {
        dir_copy_contents: true,
        ..Default::default()
    }
}

/// Where the source package step finds its inputs.
const SRC_UNPATCHED: &str = "/run/kiln/unpatched";
const SRC_PREPARED: &str = "/run/kiln/prepared";
const SRC_DEBIAN: &str = "/run/kiln/debian";
const SRC_OUT: &str = "/run/kiln/out";

/// The source package (`.dsc`, `.orig.tar.xz`, `.debian.tar.xz`) at the root of a state,
/// made with dpkg-source on `builder`. The upstream tarball holds the sources as fetched plus
/// what the generators added (fetched modules, `node_modules`); the spec's patches and the
/// generators' edits of existing files (`gomod.edits`) become one quilt patch,
/// `debian/patches/kiln-changes.patch` (diffed as text, so files git would call binary keep
/// their changes). Tarballs and patch carry no build-time dates: `SOURCE_DATE_EPOCH` is the
/// package date.
fn source_package(
    builder: &State,
    spec: &Spec,
    distro: &Distro,
    pkg: &Package,
    sources: Sources,
) -> State {
    let d = quote(&pkg.source_dir());
    let orig = quote(&pkg.orig_tarball());
    let mut debian = FileActions::new()
        .mkdir("/debian/source", 0o755, true)
        .mkdir("/debian/kiln", 0o755, true);
    for f in debian_dir(spec, distro, pkg) {
        debian = debian.mkfile(&format!("/{}", f.path), f.mode, f.contents.into_bytes());
    }
    // Named like the other files kiln writes from scratch: BuildKit shows those as done,
    // not cached, on every build (they cost nothing).
    let debian = State::scratch().file(debian, &format!("[kiln] write debian/ for {}", distro.key));
    let script = format!(
        "set -e\nmkdir -p /tmp/kiln-src && cd /tmp/kiln-src\n\
cp -a {SRC_UNPATCHED}/{d} {d}\n\
# What the generators added joins the upstream sources; what they changed goes to the patch.\n\
cp -an {SRC_PREPARED}/{d}/. {d}/\n\
tar --sort=name --mtime=\"@$SOURCE_DATE_EPOCH\" --owner=0 --group=0 --numeric-owner -cf - {d} | xz -9 -T1 >{orig}\n\
rc=0; diff -ruN --text {d} {SRC_PREPARED}/{d} >/tmp/kiln-changes.patch || rc=$?\n\
[ \"$rc\" -le 1 ] || {{ echo 'kiln: cannot diff the patched sources against the fetched ones' >&2; exit 1; }}\n\
cp -a {SRC_DEBIAN}/debian {d}/debian\n\
if [ -s /tmp/kiln-changes.patch ]; then\n\
  mkdir -p {d}/debian/patches\n\
  {{ printf 'Description: the spec'\\''s patches and generator edits, made by kiln\\n---\\n'\n\
    sed -E -e 's/^((---|\\+\\+\\+) [^\\t]*)\\t.*/\\1/' -e 's|^(\\+\\+\\+\\|diff -ruN --text [^ ]*) {SRC_PREPARED}/|\\1 b/|' /tmp/kiln-changes.patch; }} >{d}/debian/patches/kiln-changes.patch\n\
  echo kiln-changes.patch >{d}/debian/patches/series\n\
fi\n\
dpkg-source -b {d}\n\
cp {orig} {} {} {SRC_OUT}/\n",
        quote(&pkg.debian_tarball()),
        quote(&pkg.dsc()),
    );
    let exec = Exec::shell(script)
        .env("SOURCE_DATE_EPOCH", &pkg.epoch.to_string())
        .mount(Mount::bind(SRC_UNPATCHED, sources.unpatched).readonly())
        .mount(Mount::bind(SRC_PREPARED, sources.prepared).readonly())
        .mount(Mount::bind(SRC_DEBIAN, debian).readonly())
        .mount(Mount::bind(SRC_OUT, State::scratch()))
        .network(NetMode::None)
        .name(format!(
            "[kiln {}] dpkg-source {} {}",
            distro.key, pkg.name, pkg.version
        ));
    builder.run(exec).output(SRC_OUT).unwrap_or_default()
}

/// One generated file: path relative to the package directory, mode, contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path such as `debian/control`.
    pub path: String,
    /// Permission bits.
    pub mode: u32,
    /// Contents.
    pub contents: String,
}

/// Facts about the package that the generated files share.
#[derive(Debug, Clone)]
pub struct Package {
    /// Package name.
    pub name: String,
    /// Upstream version.
    pub upstream_version: String,
    /// Full Debian version: `<version>-<version id>u<revision>`.
    pub version: String,
    /// The build's time, seconds since 1970 (its SOURCE_DATE_EPOCH; the date of a changelog
    /// kiln writes for a spec without one).
    pub epoch: i64,
}

use crate::family::{one_line, text};

impl Package {
    /// Derives the package facts; `epoch` is the build's (see [`crate::build::build_epoch`]).
    pub fn new(spec: &Spec, distro: &Distro, epoch: i64) -> Package {
        let revision = match text(&spec.revision) {
            "" => "1",
            r => r,
        };
        let upstream_version = text(&spec.version).to_string();
        Package {
            name: text(&spec.name).to_string(),
            version: format!("{upstream_version}-{}u{revision}", distro.version_id),
            upstream_version,
            epoch,
        }
    }

    /// The source package's description file (`hello_2.10-debian12u1.dsc`).
    pub fn dsc(&self) -> String {
        format!("{}_{}.dsc", self.name, self.version)
    }

    /// The upstream tarball (`hello_2.10.orig.tar.xz`).
    pub fn orig_tarball(&self) -> String {
        format!("{}_{}.orig.tar.xz", self.name, self.upstream_version)
    }

    /// The Debian tarball (`hello_2.10-debian12u1.debian.tar.xz`).
    pub fn debian_tarball(&self) -> String {
        format!("{}_{}.debian.tar.xz", self.name, self.version)
    }

    /// The directory the package is built in (`hello-2.10`).
    pub fn source_dir(&self) -> String {
        format!("{}-{}", self.name, self.upstream_version)
    }
}

/// Checks what Debian needs beyond the general spec rules: (message, position) pairs; an
/// unknown position means the whole file.
pub fn check(spec: &Spec) -> Vec<(String, Pos)> {
    let mut problems = Vec::new();
    let pos = |f: &Option<Located<String>>| f.as_ref().map(|f| f.pos).unwrap_or_default();
    let name = text(&spec.name);
    let valid_name = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    if spec.name.is_none() {
        problems.push(("name is required to build a package".into(), Pos::default()));
    } else if !valid_name {
        problems.push((
            format!("invalid Debian package name {name:?}: use lower-case letters, digits, '+', '-' and '.', at least 2 characters, starting with a letter or digit"),
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
            .all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c))
    {
        problems.push((
            format!("invalid Debian upstream version {v:?}: it must start with a digit and use only letters, digits, '.', '+' and '~'"),
            pos(&spec.version),
        ));
    }
    let r = text(&spec.revision);
    if !r
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c))
    {
        problems.push((
            format!("invalid revision {r:?}: use only letters, digits, '.', '+' and '~'"),
            pos(&spec.revision),
        ));
    }
    if text(&spec.description).is_empty() {
        problems.push((
            "description is required for Debian packages".into(),
            pos(&spec.description),
        ));
    }
    for (field, list) in crate::family::relation_lists(spec) {
        for (name, c) in list.into_iter().flat_map(|l| &l.0) {
            let valid = name.len() >= 2
                && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && name
                    .split_once(':')
                    .map_or(&**name, |(n, _)| n)
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
            if !valid {
                problems.push((
                    format!("{field}: {:?} is not a Debian package name (lower-case letters, digits, '+', '-' and '.'; an optional :arch)", &**name),
                    Pos::default(),
                ));
            }
            for v in c.iter().flat_map(|c| &c.version) {
                let Some(parsed) = version::parse(&v.value) else {
                    continue;
                };
                if debian_op(parsed.op).is_none() {
                    problems.push((
                        format!("version constraint {:?} of {} cannot be written as a Debian relation: Debian has <<, <=, =, >= and >> but no !=", v.value, &**name),
                        v.pos,
                    ));
                } else if field == "provides" && parsed.op != version::Op::Eq {
                    problems.push((
                        format!("provides {} {:?}: a Debian Provides takes only an exact version (= {})", &**name, v.value, parsed.version),
                        v.pos,
                    ));
                }
            }
        }
    }
    if let Some(src) = spec.sources.get("debian") {
        problems.push(("a source named \"debian\" would collide with the generated debian/ directory; rename it".into(), src.pos));
    }
    problems
}

/// The whole generated `debian/` directory.
pub fn debian_dir(spec: &Spec, distro: &Distro, pkg: &Package) -> Vec<GeneratedFile> {
    let layout = install::plan(spec, distro);
    let file = |path: String, mode: u32, contents: String| GeneratedFile {
        path,
        mode,
        contents,
    };
    let mut files = vec![
        file("debian/control".into(), 0o644, control(spec, distro)),
        file("debian/rules".into(), 0o755, rules(spec, &layout)),
        file(
            "debian/changelog".into(),
            0o644,
            changelog(spec, distro, pkg),
        ),
        file("debian/copyright".into(), 0o644, copyright(spec)),
        file("debian/source/format".into(), 0o644, "3.0 (quilt)\n".into()),
        file("debian/kiln/build.sh".into(), 0o755, build_script(spec)),
        file(
            "debian/kiln/install.sh".into(),
            0o755,
            install_script(&pkg.name, &layout),
        ),
    ];
    if let Some(script) = fixperms_script(&pkg.name, &layout) {
        files.push(file("debian/kiln/fixperms.sh".into(), 0o755, script));
    }
    let links = links_file(&layout);
    if !links.is_empty() {
        files.push(file(format!("debian/{}.links", pkg.name), 0o644, links));
    }
    if let Some(postinst) = postinst(&layout) {
        files.push(file(
            format!("debian/{}.postinst", pkg.name),
            0o755,
            postinst,
        ));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distro;
    use crate::spec::load;

    fn layout(spec: &Spec) -> install::InstallPlan {
        install::plan(spec, distro::find("bookworm").unwrap())
    }

    fn install_for(spec: &Spec, key: &str) -> String {
        install_script(
            text(&spec.name),
            &install::plan(spec, distro::find(key).unwrap()),
        )
    }

    const SPEC: &str = r#"name: hello
version: "2.10"
revision: 2
packager: Kiln Team <kiln@example.com>
license: GPL-3.0-or-later
website: https://www.gnu.org/software/hello/
description: |
  The GNU Hello program
  prints a friendly greeting.

  It is an example.
dependencies:
  build:
    gcc: {version: [">= 10", "<< 20"], arch: [amd64]}
    make:
  runtime: [bash]
build:
  env:
    CFLAGS: -O2 'x'
  steps:
    - command: ./configure && make
      env: {V: 1}
artifacts:
  binaries:
    hello-2.10/hello: {permissions: 0755}
  manpages:
    hello-2.10/doc/hello.1:
  docs:
    hello-2.10/NEWS: {subpath: news}
changelog:
  - date: 2024-01-02
    author: A <a@b.c>
    changes: [old]
  - date: 2025-03-04
    author: B <b@b.c>
    changes: [newer]
"#;

    fn fixture() -> (Spec, Package) {
        let spec = load("spec.yml", SPEC).unwrap();
        let epoch = crate::build::build_epoch(&spec, None);
        let pkg = Package::new(&spec, distro::find("bookworm").unwrap(), epoch);
        (spec, pkg)
    }

    #[test]
    fn version_follows_dalec() {
        let (_, pkg) = fixture();
        assert_eq!(pkg.version, "2.10-debian12u2");
        assert_eq!(pkg.source_dir(), "hello-2.10");
    }

    #[test]
    fn control_golden() {
        // `make` (build-essential) and `bash` (essential) without a version are implied.
        let (spec, _) = fixture();
        let expected = "Source: hello\nSection: misc\nPriority: optional\nMaintainer: Kiln Team <kiln@example.com>\n\
Rules-Requires-Root: no\nBuild-Depends: debhelper-compat (= 13), gcc (>= 10) [amd64], gcc (<< 20) [amd64]\n\
Standards-Version: 4.6.2\nHomepage: https://www.gnu.org/software/hello/\n\nPackage: hello\nArchitecture: linux-any\n\
Depends: ${shlibs:Depends}, ${misc:Depends}\nDescription: The GNU Hello program\n prints a friendly greeting.\n .\n It is an example.\n";
        assert_eq!(control(&spec, distro::find("bookworm").unwrap()), expected);
    }

    #[test]
    fn changelog_uses_the_newest_entry() {
        let (spec, pkg) = fixture();
        let text = changelog(&spec, distro::find("bookworm").unwrap(), &pkg);
        assert_eq!(
            text,
            "hello (2.10-debian12u2) bookworm; urgency=medium\n\n  * newer\n\n -- B <b@b.c>  Tue, 04 Mar 2025 00:00:00 +0000\n"
        );
    }

    #[test]
    fn scripts_quote_values() {
        let (spec, _) = fixture();
        let build = build_script(&spec);
        assert!(
            build.contains("export CFLAGS='-O2 '\\''x'\\'''\n"),
            "{build}"
        );
        assert!(
            build.contains("(\n  export V=1\n./configure && make\n)\n"),
            "{build}"
        );
        let install = install_for(&spec, "bookworm");
        assert!(
            install.contains("kiln_install usr/bin hello-2.10/hello '' 755\n"),
            "{install}"
        );
        assert!(
            install.contains("kiln_install usr/share/doc/hello/news hello-2.10/NEWS '' ''\n"),
            "{install}"
        );
        assert!(
            install.contains("kiln_install_man hello-2.10/doc/hello.1 '' '' ''\n"),
            "{install}"
        );
    }

    #[test]
    fn debian_checks_name_the_problem() {
        let spec = load("spec.yml", "name: Hello\nversion: v1\n").unwrap();
        let problems: Vec<String> = check(&spec).into_iter().map(|p| p.0).collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("invalid Debian package name \"Hello\""));
        assert!(problems[1].starts_with("invalid Debian upstream version \"v1\""));
        assert!(problems[2].starts_with("description is required"));
    }

    #[test]
    fn units_go_where_the_release_looks_and_empty_names_mean_the_file() {
        let text = "name: u\nartifacts:\n  systemd:\n    units:\n      src/a.service: {name: \"\", enable: true}\n      src/b.socket: {name: c.socket}\n";
        let spec = load("spec.yml", text).unwrap();
        let bookworm = install_for(&spec, "bookworm");
        assert!(
            bookworm.contains("kiln_install lib/systemd/system src/a.service a.service ''\n"),
            "{bookworm}"
        );
        let trixie = install_for(&spec, "trixie");
        assert!(
            trixie.contains("kiln_install usr/lib/systemd/system src/b.socket c.socket ''\n"),
            "{trixie}"
        );
        let rules = rules(&spec, &layout(&spec));
        assert!(
            rules.contains("\tdh_installsystemd --no-start a.service\n"),
            "{rules}"
        );
        assert!(
            rules.contains("\tdh_installsystemd --no-enable --no-start c.socket\n"),
            "{rules}"
        );
    }

    #[test]
    fn modes_come_back_after_dh_fixperms() {
        let text = "name: m\nsources:\n  src:\n    inline:\n      dir:\n        files:\n          s.conf: {contents: x, permissions: 0600}\n          t: {contents: y}\nartifacts:\n  binaries:\n    src/t: {permissions: 0700}\n  configFiles:\n    src/s.conf:\n";
        let spec = load("spec.yml", text).unwrap();
        let rules = rules(&spec, &layout(&spec));
        assert!(
            rules.contains("override_dh_fixperms:\n\tdh_fixperms\n\tdebian/kiln/fixperms.sh\n"),
            "{rules}"
        );
        let script = fixperms_script("m", &layout(&spec)).unwrap();
        assert!(
            script.contains("kiln_mode usr/bin src/t '' 700\n"),
            "{script}"
        );
        assert!(
            script.contains("kiln_mode etc src/s.conf '' 600\n"),
            "{script}"
        );
        // No modes of its own: no override, the LLB of such specs does not move.
        let plain = "name: p\nartifacts:\n  binaries:\n    out/p:\n";
        assert!(fixperms_script("p", &layout(&load("spec.yml", plain).unwrap())).is_none());
        assert!(!rules_of(plain).contains("dh_fixperms"));
    }

    fn rules_of(text: &str) -> String {
        {
            let spec = load("spec.yml", text).unwrap();
            rules(&spec, &layout(&spec))
        }
    }

    #[test]
    fn debian_refuses_what_a_relation_cannot_say() {
        let text = "name: ab\nversion: \"1\"\npackager: a <a@b.c>\ndescription: d\ndependencies:\n  runtime:\n    libfoo: {version: [\"!= 1.2\"]}\n    Bad_Name:\nprovides:\n  virt: {version: [\">= 2\"]}\n";
        let spec = load("spec.yml", text).unwrap();
        let problems = check(&spec);
        let messages: Vec<&str> = problems.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(problems.len(), 3, "{messages:?}");
        assert!(
            messages[0]
                .starts_with("dependencies.runtime: \"Bad_Name\" is not a Debian package name"),
            "{messages:?}"
        );
        assert!(
            messages[1].starts_with(
                "version constraint \"!= 1.2\" of libfoo cannot be written as a Debian relation"
            ),
            "{messages:?}"
        );
        assert_eq!(
            problems[1].1,
            Pos {
                line: 7,
                column: 24
            }
        );
        assert!(
            messages[2].starts_with("provides virt \">= 2\""),
            "{messages:?}"
        );
        // Never rendered, even if it got this far.
        assert_eq!(
            relations(spec.dependencies.as_ref().and_then(|d| d.runtime.as_ref())),
            vec!["Bad_Name".to_string()]
        );
    }

    #[test]
    fn control_values_stay_on_their_line() {
        assert_eq!(
            one_line(" A <a@b.c>\nEssential: yes "),
            "A <a@b.c> Essential: yes"
        );
    }
}
