//! The distros kiln builds for. A distro is a row of data; families hold the code.

use crate::family::{Family, FamilyConfig, deb};

/// One target distro.
#[derive(Debug, Clone, Copy)]
pub struct Distro {
    /// Target key: the first component of `--target` (`bookworm`).
    pub key: &'static str,
    /// Human name for descriptions.
    pub title: &'static str,
    /// Packaging family: the code that makes, checks and installs its packages.
    pub family: &'static dyn Family,
    /// The family's package manager, as data (commands, caches, repository layout).
    pub config: &'static FamilyConfig,
    /// Base image of the build worker and of the container route.
    pub image: &'static str,
    /// Version id used in package versions (`2.10-debian12u1`).
    pub version_id: &'static str,
    /// Distribution name written in the Debian changelog.
    pub codename: &'static str,
    /// Packages every build needs in the worker.
    pub builder_packages: &'static [&'static str],
    /// The `debhelper-compat` level this distro's debhelper supports.
    pub debhelper_compat: u32,
    /// Where the package installs systemd units, relative to the root: where this
    /// release's `dh_installsystemd` looks for them (bookworm's debhelper only under
    /// `lib/systemd/system`; merged-/usr releases under `usr/lib/systemd/system`).
    pub systemd_unit_dir: &'static str,
    /// Package lists (file name, contents) every package-manager step of a build sees
    /// besides the image's own and the spec's.
    pub extra_lists: &'static [(&'static str, &'static str)],
}

const DEB_BUILDER_PACKAGES: &[&str] = &[
    // Dalec's set (build steps of Dalec specs may use git, devscripts, equivs, ...).
    "aptitude",
    "build-essential",
    "devscripts",
    "dh-apparmor",
    "dh-exec",
    "dh-make",
    "dpkg-dev",
    "equivs",
    "fakeroot",
    "git",
    // kiln's debian/rules are debhelper's (Dalec's workers get it through dh-make).
    "debhelper",
];

/// What Dalec adds for Debian 11: its backports, now on Debian's archive server (where the
/// Go that Dalec's tests need is).
const BULLSEYE_LISTS: &[(&str, &str)] = &[(
    "backports.list",
    "deb http://archive.debian.org/debian bullseye-backports main\n",
)];

/// Every distro kiln knows, in target-list order: Debian's, then Ubuntu's, each newest
/// supported first (bookworm stays first: debug routes use the first row's worker). The
/// `debhelper-compat` level is the highest each release's debhelper has (bionic 11, focal
/// 12); units go under `lib/` where that release's `dh_installsystemd` looks only there.
pub const DISTROS: &[Distro] = &[
    Distro {
        key: "bookworm",
        title: "Debian 12 (bookworm)",
        family: &deb::Deb,
        config: &deb::APT,
        image: "docker.io/library/debian:bookworm",
        version_id: "debian12",
        codename: "bookworm",
        builder_packages: DEB_BUILDER_PACKAGES,
        debhelper_compat: 13,
        systemd_unit_dir: "lib/systemd/system",
        extra_lists: &[],
    },
    Distro {
        key: "trixie",
        title: "Debian 13 (trixie)",
        family: &deb::Deb,
        config: &deb::APT,
        image: "docker.io/library/debian:trixie",
        version_id: "debian13",
        codename: "trixie",
        builder_packages: DEB_BUILDER_PACKAGES,
        debhelper_compat: 13,
        systemd_unit_dir: "usr/lib/systemd/system",
        extra_lists: &[],
    },
    Distro {
        key: "bullseye",
        title: "Debian 11 (bullseye)",
        family: &deb::Deb,
        config: &deb::APT,
        image: "docker.io/library/debian:bullseye",
        version_id: "debian11",
        codename: "bullseye",
        builder_packages: DEB_BUILDER_PACKAGES,
        debhelper_compat: 13,
        systemd_unit_dir: "lib/systemd/system",
        extra_lists: BULLSEYE_LISTS,
    },
    Distro {
        key: "forky",
        title: "Debian 14 (forky, testing)",
        family: &deb::Deb,
        config: &deb::APT,
        image: "docker.io/library/debian:forky",
        version_id: "debian14",
        codename: "forky",
        builder_packages: DEB_BUILDER_PACKAGES,
        debhelper_compat: 13,
        systemd_unit_dir: "usr/lib/systemd/system",
        extra_lists: &[],
    },
    Distro {
        key: "bionic",
        title: "Ubuntu 18.04 (bionic)",
        family: &deb::Deb,
        config: &deb::APT_BEFORE_SATISFY,
        image: "docker.io/library/ubuntu:bionic",
        version_id: "ubuntu18.04",
        codename: "bionic",
        builder_packages: DEB_BUILDER_PACKAGES,
        debhelper_compat: 11,
        systemd_unit_dir: "lib/systemd/system",
        extra_lists: &[],
    },
    Distro {
        key: "focal",
        title: "Ubuntu 20.04 (focal)",
        family: &deb::Deb,
        config: &deb::APT,
        image: "docker.io/library/ubuntu:focal",
        version_id: "ubuntu20.04",
        codename: "focal",
        builder_packages: DEB_BUILDER_PACKAGES,
        debhelper_compat: 12,
        systemd_unit_dir: "lib/systemd/system",
        extra_lists: &[],
    },
    Distro {
        key: "jammy",
        title: "Ubuntu 22.04 (jammy)",
        family: &deb::Deb,
        config: &deb::APT,
        image: "docker.io/library/ubuntu:jammy",
        version_id: "ubuntu22.04",
        codename: "jammy",
        builder_packages: DEB_BUILDER_PACKAGES,
        debhelper_compat: 13,
        systemd_unit_dir: "lib/systemd/system",
        extra_lists: &[],
    },
    Distro {
        key: "noble",
        title: "Ubuntu 24.04 (noble)",
        family: &deb::Deb,
        config: &deb::APT,
        image: "docker.io/library/ubuntu:noble",
        version_id: "ubuntu24.04",
        codename: "noble",
        builder_packages: DEB_BUILDER_PACKAGES,
        debhelper_compat: 13,
        systemd_unit_dir: "lib/systemd/system",
        extra_lists: &[],
    },
    Distro {
        key: "resolute",
        title: "Ubuntu 26.04 (resolute)",
        family: &deb::Deb,
        config: &deb::APT,
        image: "docker.io/library/ubuntu:resolute",
        version_id: "ubuntu26.04",
        codename: "resolute",
        builder_packages: DEB_BUILDER_PACKAGES,
        debhelper_compat: 13,
        systemd_unit_dir: "usr/lib/systemd/system",
        extra_lists: &[],
    },
];

/// The distro with target key `key`.
pub fn find(key: &str) -> Option<&'static Distro> {
    DISTROS.iter().find(|d| d.key == key)
}
