//! The distros kiln builds for. A distro is a row of data; families hold the code.

use crate::family::{Family, FamilyConfig, deb, rpm, windows};

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
    /// Where shared libraries go, relative to the root: the release's `%{_libdir}` on RPM
    /// distros (`usr/lib64` on EL), `usr/lib` on Debian's.
    pub lib_dir: &'static str,
    /// The RPM dist tag (`.el9`), empty for other families.
    pub dist: &'static str,
    /// The release version the package manager takes (`--releasever`), empty if none.
    pub release_version: &'static str,
    /// What the minimal image of an RPM distro starts from: the packages of Dalec's
    /// `dalec-base-<key>` meta-package.
    pub base_packages: &'static [&'static str],
    /// Whether the distro builds systemd system extensions (Dalec's `testing/sysext`).
    pub sysext: Sysext,
}

/// Which system extension routes a distro has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sysext {
    /// None.
    No,
    /// `testing/sysext` besides the family's routes.
    Also,
    /// Only `testing/sysext` (the default) and `worker`, with Flatcar's extension defaults:
    /// Dalec's `flatcar`, whose packages are built on another row's release.
    Flatcar,
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

/// Dalec's windowscross worker packages (mingw-w64 for x86-64, zip, and the build tools
/// Dalec specs' steps use), plus unzip, which unpacks the zip for the container.
const WINDOWSCROSS_BUILDER: &[&str] = &[
    "aptitude",
    "binutils-mingw-w64",
    "build-essential",
    "debhelper",
    "dpkg-dev",
    "g++-mingw-w64-x86-64",
    "gcc",
    "git",
    "make",
    "pkg-config",
    "unzip",
    "zip",
];

/// What Debian and Ubuntu rows share beyond their own fields.
const DEB_ROW: Distro = Distro {
    key: "",
    title: "",
    family: &deb::Deb,
    config: &deb::APT,
    image: "",
    version_id: "",
    codename: "",
    builder_packages: DEB_BUILDER_PACKAGES,
    debhelper_compat: 13,
    systemd_unit_dir: "lib/systemd/system",
    extra_lists: &[],
    lib_dir: "usr/lib",
    dist: "",
    release_version: "",
    base_packages: &[],
    sysext: Sysext::No,
};

/// Dalec's builder packages of Azure Linux 3, plus what kiln's steps use (diff, patch, tar, xz) and Dalec specs' steps expect (git).
const AZLINUX3_BUILDER: &[&str] = &[
    "rpm-build",
    "mariner-rpm-macros",
    "build-essential",
    "ca-certificates",
    "dnf",
    "diffutils",
    "findutils",
    "git",
    "gzip",
    "patch",
    "tar",
    "xz",
];
/// Dalec's builder packages of Azure Linux 4 (no `build-essential` meta-package there).
const AZLINUX4_BUILDER: &[&str] = &[
    "rpm-build",
    "azurelinux-rpm-config",
    "systemd-rpm-macros",
    "autoconf",
    "automake",
    "binutils",
    "bison",
    "diffutils",
    "file",
    "gawk",
    "gcc",
    "glibc-devel",
    "gzip",
    "kernel-headers",
    "libtool",
    "make",
    "patch",
    "pkgconf",
    "tar",
    "ca-certificates",
    "dnf5",
    "findutils",
    "git",
    "xz",
];
/// Dalec's builder packages of AlmaLinux, plus what kiln's steps use (diff, patch, tar, xz) and Dalec specs' steps expect (git).
const ALMALINUX_BUILDER: &[&str] = &[
    "binutils",
    "rpm-build",
    "ca-certificates",
    "systemd-rpm-macros",
    "diffutils",
    "findutils",
    "git",
    "gzip",
    "patch",
    "tar",
    "xz",
];
/// Dalec's builder packages of Rocky Linux, plus what kiln's steps use (diff, patch, tar, xz) and Dalec specs' steps expect (git).
const ROCKYLINUX_BUILDER: &[&str] = &[
    "rpm-build",
    "ca-certificates",
    "systemd-rpm-macros",
    "diffutils",
    "findutils",
    "git",
    "gzip",
    "patch",
    "tar",
    "xz",
];
/// Fedora's packaging tools (beyond Dalec), plus what kiln's steps use (diff, patch, tar, xz) and Dalec specs' steps expect (git).
const FEDORA_BUILDER: &[&str] = &[
    "rpm-build",
    "redhat-rpm-config",
    "systemd-rpm-macros",
    "gcc",
    "make",
    "ca-certificates",
    "diffutils",
    "findutils",
    "git",
    "gzip",
    "patch",
    "tar",
    "xz",
];

/// What RPM rows share beyond their own fields.
const RPM_ROW: Distro = Distro {
    family: &rpm::Rpm,
    config: &rpm::DNF,
    codename: "",
    version_id: "",
    debhelper_compat: 0,
    systemd_unit_dir: "usr/lib/systemd/system",
    lib_dir: "usr/lib64",
    ..DEB_ROW
};

/// Ubuntu 24.04, also the release Flatcar's packages are built on.
const NOBLE: Distro = Distro {
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
    sysext: Sysext::Also,
    ..DEB_ROW
};

/// Every distro kiln knows, in target-list order: Debian's, then Ubuntu's, then the RPM
/// distros (Dalec's, then Fedora), each newest supported first (bookworm stays first: debug routes use the first row's worker). The
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
        ..DEB_ROW
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
        sysext: Sysext::Also,
        ..DEB_ROW
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
        ..DEB_ROW
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
        ..DEB_ROW
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
        ..DEB_ROW
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
        ..DEB_ROW
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
        ..DEB_ROW
    },
    NOBLE,
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
        sysext: Sysext::Also,
        ..DEB_ROW
    },
    // Dalec's flatcar: system extensions of packages built on Ubuntu 24.04.
    Distro {
        key: "flatcar",
        title: "Flatcar Container Linux (packages built on Ubuntu 24.04)",
        sysext: Sysext::Flatcar,
        ..NOBLE
    },
    Distro {
        key: "azlinux3",
        title: "Azure Linux 3",
        config: &rpm::TDNF,
        image: "mcr.microsoft.com/azurelinux/base/core:3.0",
        builder_packages: AZLINUX3_BUILDER,
        lib_dir: "usr/lib",
        dist: ".azl3",
        release_version: "3.0",
        base_packages: &["distroless-packages-minimal", "prebuilt-ca-certificates"],
        ..RPM_ROW
    },
    Distro {
        key: "azlinux4",
        title: "Azure Linux 4 (beta)",
        config: &rpm::DNF5,
        image: "mcr.microsoft.com/azurelinux-beta/base/core:4.0",
        builder_packages: AZLINUX4_BUILDER,
        dist: ".azl4",
        release_version: "4.0",
        base_packages: &["azurelinux-release", "tzdata"],
        ..RPM_ROW
    },
    Distro {
        key: "almalinux9",
        title: "AlmaLinux 9",
        image: "docker.io/library/almalinux:9",
        builder_packages: ALMALINUX_BUILDER,
        dist: ".el9",
        release_version: "9",
        base_packages: &["almalinux-release", "tzdata"],
        ..RPM_ROW
    },
    Distro {
        key: "almalinux8",
        title: "AlmaLinux 8",
        image: "docker.io/library/almalinux:8",
        builder_packages: ALMALINUX_BUILDER,
        dist: ".el8",
        release_version: "8",
        base_packages: &["almalinux-release", "tzdata"],
        ..RPM_ROW
    },
    Distro {
        key: "rockylinux9",
        title: "Rocky Linux 9",
        image: "docker.io/library/rockylinux:9",
        builder_packages: ROCKYLINUX_BUILDER,
        dist: ".el9",
        release_version: "9",
        base_packages: &["rocky-release", "tzdata"],
        ..RPM_ROW
    },
    Distro {
        key: "rockylinux8",
        title: "Rocky Linux 8",
        image: "docker.io/library/rockylinux:8",
        builder_packages: ROCKYLINUX_BUILDER,
        dist: ".el8",
        release_version: "8",
        base_packages: &["rocky-release", "tzdata"],
        ..RPM_ROW
    },
    Distro {
        key: "fedora",
        title: "Fedora 45",
        config: &rpm::DNF5,
        image: "docker.io/library/fedora:45",
        builder_packages: FEDORA_BUILDER,
        dist: ".fc45",
        release_version: "45",
        base_packages: &["fedora-release-container", "tzdata"],
        ..RPM_ROW
    },
    Distro {
        key: "windowscross",
        title: "Windows (cross-compiled on Ubuntu 22.04)",
        family: &windows::Windows,
        image: "docker.io/library/ubuntu:jammy",
        version_id: "ubuntu22.04",
        codename: "jammy",
        builder_packages: WINDOWSCROSS_BUILDER,
        // It builds no Debian packages.
        debhelper_compat: 0,
        ..DEB_ROW
    },
];

/// The distro with target key `key`.
pub fn find(key: &str) -> Option<&'static Distro> {
    DISTROS.iter().find(|d| d.key == key)
}
