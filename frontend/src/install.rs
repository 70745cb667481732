//! The install layout as data: which artifact goes where, under which name, with which mode and
//! owner; which directories, links, systemd units, users and groups the package brings. A
//! family renders it (Debian: `install.sh`, `fixperms.sh`, `postinst`, `.links`, the
//! `dh_installsystemd` lines of `debian/rules`); the layout itself is the same for every family.

use crate::distro::Distro;
use crate::spec::{
    ArtifactConfig, ArtifactMap, Artifacts, Spec, SystemdUnit, installed_name, setcap_text,
};

/// What an artifact is, for families that mark files by kind (RPM's `%config`, `%doc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A program, library, header, data or other plain file.
    Plain,
    /// A configuration file (`artifacts.configFiles`).
    Config,
    /// Documentation (`artifacts.docs`).
    Doc,
    /// A license text (`artifacts.licenses`).
    License,
    /// A manual page.
    Manpage,
    /// A systemd unit or drop-in.
    Unit,
}

/// One artifact copied into the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallFile {
    /// What kind of artifact it is.
    pub kind: FileKind,
    /// The directory of its kind (`etc`, `usr/share/doc/<name>`): `dir` is this or below it,
    /// and the levels below are the package's own.
    pub base: String,
    /// What it matches in the build root (a path or a glob).
    pub pattern: String,
    /// The directory it goes into, relative to the root (`usr/bin`, `etc/app`); for a manual
    /// page, the `man<section>` directory when the spec gives one, else empty (the section
    /// comes from the file name).
    pub dir: String,
    /// The name it is installed under; empty: the matched file's own name.
    pub name: String,
    /// The mode the spec gives it (`permissions`).
    pub mode: Option<u32>,
    /// The mode it must keep in the package, even where the family's tools normalize modes:
    /// the spec's, else that of the inline source file it is.
    pub kept_mode: Option<u32>,
    /// `user`, `:group` or `user:group` to own it after installation.
    pub owner: Option<String>,
    /// File capabilities to set after installation (`setcap` text), after the owner.
    pub caps: Option<String>,
}

/// A directory the package creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallDir {
    /// The path, relative to the root (`etc/app`, `var/lib/app`).
    pub path: String,
    /// Its mode after installation.
    pub mode: Option<u32>,
    /// Its owner after installation.
    pub owner: Option<String>,
}

/// A symbolic link the package ships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallLink {
    /// What the link points at, relative to the root.
    pub target: String,
    /// The link, relative to the root.
    pub link: String,
}

/// A systemd unit the package installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallUnit {
    /// The installed unit name.
    pub name: String,
    /// Enabled on installation.
    pub enable: bool,
    /// Started on installation.
    pub start: bool,
}

/// The whole install layout of a package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallPlan {
    /// Plain artifacts (binaries, libexec, data, config files, docs, licenses, libraries,
    /// headers), in install order.
    pub files: Vec<InstallFile>,
    /// Manual pages.
    pub manpages: Vec<InstallFile>,
    /// systemd unit files and drop-ins (their `dir` is the release's unit directory).
    pub unit_files: Vec<InstallFile>,
    /// The units, for enabling and starting.
    pub units: Vec<InstallUnit>,
    /// Directories the package creates.
    pub dirs: Vec<InstallDir>,
    /// Symbolic links.
    pub links: Vec<InstallLink>,
    /// System groups created on installation.
    pub groups: Vec<String>,
    /// System users created on installation (each with its own group).
    pub users: Vec<String>,
}

fn owner(user: Option<&str>, group: Option<&str>) -> Option<String> {
    match (user, group) {
        (Some(u), Some(g)) => Some(format!("{u}:{g}")),
        (Some(u), None) => Some(u.to_string()),
        (None, Some(g)) => Some(format!(":{g}")),
        (None, None) => None,
    }
}

fn subpath(cfg: Option<&ArtifactConfig>) -> &str {
    cfg.and_then(|c| c.subpath.as_ref())
        .map_or("", |s| s.value.trim_matches('/'))
}

fn join(dir: &str, sub: &str) -> String {
    if sub.is_empty() {
        dir.to_string()
    } else {
        format!("{dir}/{sub}")
    }
}

/// The mode an artifact at `path` must keep: the spec's `permissions`, else those of the
/// inline source file it is (`<source>` or `<source>/<file>`), if any.
fn kept_mode(spec: &Spec, path: &str, cfg: Option<&ArtifactConfig>) -> Option<u32> {
    if let Some(p) = cfg.and_then(|c| c.permissions.as_ref()) {
        return Some(p.value.0);
    }
    let (key, rest) = path.split_once('/').unwrap_or((path, ""));
    let inline = spec.sources.get(key)?.value.inline.as_ref()?;
    let file = match (rest, &inline.file, &inline.dir) {
        ("", Some(f), _) => f,
        (name, None, Some(d)) if !name.is_empty() => d.files.get(name)?,
        _ => return None,
    };
    file.permissions.as_ref().map(|p| p.value.0)
}

/// The artifact maps that are plain copies, with their install directories, in install order.
fn plain_kinds<'a>(
    a: &'a Artifacts,
    doc_dir: &'a str,
    license_dir: &'a str,
    lib_dir: &'a str,
) -> [(&'a str, FileKind, &'a ArtifactMap); 9] {
    use FileKind::*;
    [
        ("usr/bin", Plain, &a.binaries),
        ("usr/libexec", Plain, &a.libexec),
        ("usr/share", Plain, &a.data_dirs),
        ("etc", Config, &a.config_files),
        (doc_dir, Doc, &a.docs),
        (license_dir, License, &a.licenses),
        (lib_dir, Plain, &a.libs),
        ("usr/include", Plain, &a.headers),
        ("opt", Plain, &a.opt),
    ]
}

fn file(
    spec: &Spec,
    (kind, base): (FileKind, &str),
    dir: String,
    path: &str,
    cfg: Option<&ArtifactConfig>,
) -> InstallFile {
    InstallFile {
        kind,
        base: base.to_string(),
        pattern: path.to_string(),
        dir,
        name: cfg
            .and_then(|c| c.name.as_ref())
            .map_or(String::new(), |n| n.value.clone()),
        mode: cfg.and_then(|c| c.permissions.as_ref()).map(|p| p.value.0),
        kept_mode: kept_mode(spec, path, cfg),
        owner: cfg.and_then(|c| owner(c.user.as_deref(), c.group.as_deref())),
        caps: cfg.and_then(|c| setcap_text(&c.linux_capabilities)),
    }
}

impl InstallFile {
    /// The installed path of a file that is not a glob, relative to the root.
    pub fn installed_path(&self) -> String {
        format!(
            "{}/{}",
            self.dir,
            installed_name(&self.pattern, Some(self.name.as_str()))
        )
    }
}

/// The install layout of `spec` for `distro` (whose row says where systemd units and
/// libraries go, and whose family where license texts go).
pub fn plan(spec: &Spec, distro: &Distro) -> InstallPlan {
    let mut plan = InstallPlan::default();
    let Some(a) = spec.artifacts.as_ref() else {
        return plan;
    };
    let name = spec.name.as_ref().map_or("", |n| n.value.trim());
    let doc_dir = format!("usr/share/doc/{name}");
    let license_dir = format!("{}/{name}", distro.config.license_root);
    for (dir, kind, map) in plain_kinds(a, &doc_dir, &license_dir, distro.lib_dir) {
        for (path, cfg) in map {
            let cfg = cfg.value.as_ref();
            let placed = file(spec, (kind, dir), join(dir, subpath(cfg)), path, cfg);
            plan.files.push(placed);
        }
    }
    for (path, cfg) in &a.manpages {
        let cfg = cfg.value.as_ref();
        let placed = file(
            spec,
            (FileKind::Manpage, "usr/share/man"),
            subpath(cfg).to_string(),
            path,
            cfg,
        );
        plan.manpages.push(placed);
    }
    if let Some(sd) = &a.systemd {
        let unit_dir = distro.systemd_unit_dir;
        for (path, unit) in &sd.units {
            let name = SystemdUnit::installed(unit.as_ref(), path).to_string();
            let u = unit.clone().unwrap_or_default();
            plan.unit_files.push(InstallFile {
                kind: FileKind::Unit,
                base: unit_dir.to_string(),
                pattern: path.clone(),
                dir: unit_dir.to_string(),
                name: name.clone(),
                mode: None,
                kept_mode: None,
                owner: None,
                caps: None,
            });
            plan.units.push(InstallUnit {
                name,
                enable: u.enable,
                start: u.start,
            });
        }
        for (path, dropin) in &sd.dropins {
            let Some(d) = &dropin else { continue };
            plan.unit_files.push(InstallFile {
                kind: FileKind::Unit,
                base: unit_dir.to_string(),
                pattern: path.clone(),
                dir: format!("{unit_dir}/{}.d", d.unit.value),
                name: installed_name(path, d.name.as_deref()).to_string(),
                mode: None,
                kept_mode: None,
                owner: None,
                caps: None,
            });
        }
    }
    if let Some(dirs) = &a.create_directories {
        for (base, map) in [("etc", &dirs.config), ("var/lib", &dirs.state)] {
            for (dir, cfg) in map {
                let cfg = cfg.as_ref();
                plan.dirs.push(InstallDir {
                    path: format!("{base}/{}", dir.trim_matches('/')),
                    mode: cfg.and_then(|c| c.mode.as_ref()).map(|m| m.value.0),
                    owner: cfg.and_then(|c| owner(c.user.as_deref(), c.group.as_deref())),
                });
            }
        }
    }
    plan.links = a
        .links
        .iter()
        .map(|l| InstallLink {
            target: l.source.value.trim_start_matches('/').to_string(),
            link: l.dest.value.trim_start_matches('/').to_string(),
        })
        .collect();
    plan.groups = a.groups.iter().map(|g| g.name.value.clone()).collect();
    plan.users = a.users.iter().map(|u| u.name.value.clone()).collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distro;
    use crate::spec::load;

    #[test]
    fn the_layout_is_data() {
        let text = "name: app\nsources:\n  src:\n    inline:\n      dir:\n        files:\n          s.conf: {contents: x, permissions: 0600}\nartifacts:\n  binaries:\n    out/app: {permissions: 0700, user: app}\n  configFiles:\n    src/s.conf: {subpath: app}\n  docs:\n    README: {name: README.txt}\n  systemd:\n    units:\n      src/app.service: {name: \"\", enable: true}\n  createDirectories:\n    state:\n      app: {mode: 0750, user: app, group: app}\n  links:\n    - {source: /usr/bin/app, dest: /usr/bin/app2}\n  users:\n    - name: app\n";
        let spec = load("spec.yml", text).unwrap();
        let plan = plan(&spec, distro::find("bookworm").unwrap());
        assert_eq!(
            plan.files[0],
            InstallFile {
                kind: FileKind::Plain,
                base: "usr/bin".into(),
                pattern: "out/app".into(),
                dir: "usr/bin".into(),
                name: String::new(),
                mode: Some(0o700),
                kept_mode: Some(0o700),
                owner: Some("app".into()),
                caps: None,
            }
        );
        assert_eq!(plan.files[1].dir, "etc/app");
        assert_eq!(
            plan.files[1].kept_mode,
            Some(0o600),
            "the inline source's mode"
        );
        assert_eq!(plan.files[1].mode, None);
        assert_eq!(
            plan.files[2].installed_path(),
            "usr/share/doc/app/README.txt"
        );
        assert_eq!(plan.files[0].installed_path(), "usr/bin/app");
        assert_eq!(plan.unit_files[0].dir, "lib/systemd/system");
        assert_eq!(plan.unit_files[0].name, "app.service");
        assert_eq!(
            plan.units,
            vec![InstallUnit {
                name: "app.service".into(),
                enable: true,
                start: false
            }]
        );
        assert_eq!(
            plan.dirs,
            vec![InstallDir {
                path: "var/lib/app".into(),
                mode: Some(0o750),
                owner: Some("app:app".into())
            }]
        );
        assert_eq!(plan.links[0].link, "usr/bin/app2");
        assert_eq!(plan.users, vec!["app".to_string()]);
    }
}
