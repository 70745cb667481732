//! Source packages: `<distro>/dsc` returns `.dsc`, `.orig.tar.xz` and `.debian.tar.xz` with the
//! spec's patches as a quilt patch, `<distro>/deb` returns them next to the binary packages
//! built from them, and `dpkg-source -x` + `dpkg-buildpackage -b` in a clean Debian 12
//! rebuild the package.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::process::Command;

/// A program whose source is patched by the spec: an inline script and an inline patch.
const SPEC: &str = "# syntax=kiln/frontend:dev\nname: kiln-patched\nversion: \"1.0\"\nrevision: 2\nlicense: MIT\npackager: kiln <kiln@example.invalid>\ndescription: A patched program in a source package\nsources:\n  app:\n    inline:\n      dir:\n        files:\n          greet.sh:\n            contents: |\n              #!/bin/sh\n              echo unpatched\n            permissions: 0755\n  fix.patch:\n    inline:\n      file:\n        contents: |\n          --- a/greet.sh\n          +++ b/greet.sh\n          @@ -1,2 +1,2 @@\n           #!/bin/sh\n          -echo unpatched\n          +echo patched\npatches:\n  app:\n    - source: fix.patch\nbuild:\n  steps:\n    - command: cp app/greet.sh kiln-patched\nartifacts:\n  binaries:\n    kiln-patched:\n";

#[test]
fn the_source_package_carries_the_patches_and_rebuilds_in_a_clean_debian() {
    if !engine_ready() {
        return;
    }
    let (dir, spec) = spec_in_tempdir(SPEC);
    let (src, o) = build_into(&spec, "bookworm/dsc", dir.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let mut names = file_names(src.path());
    names.sort();
    assert_eq!(
        names,
        [
            "kiln-patched_1.0-debian12u2.debian.tar.xz",
            "kiln-patched_1.0-debian12u2.dsc",
            "kiln-patched_1.0.orig.tar.xz"
        ]
    );
    // The upstream tarball holds the source as fetched; the patch is in debian/patches.
    let listing = text(&run(Command::new("tar")
        .arg("-xOJf")
        .arg(src.path().join("kiln-patched_1.0.orig.tar.xz"))
        .arg("kiln-patched-1.0/app/greet.sh")));
    assert!(listing.contains("echo unpatched"), "{listing}");
    let patch = text(&run(Command::new("tar")
        .arg("-xOJf")
        .arg(src.path().join("kiln-patched_1.0-debian12u2.debian.tar.xz"))
        .arg("debian/patches/kiln-changes.patch")));
    assert!(patch.contains("+echo patched"), "{patch}");

    // A Debian maintainer's rebuild, from the source package alone.
    let o = run_in_container(
        "debian:bookworm",
        &[(src.path(), "/src")],
        "set -e; apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends build-essential debhelper dpkg-dev >/dev/null; \
         cd /tmp && dpkg-source -x /src/kiln-patched_1.0-debian12u2.dsc x >/dev/null && cd x && dpkg-buildpackage -b -uc -us >/dev/null 2>&1 && \
         dpkg -i ../kiln-patched_1.0-debian12u2_amd64.deb >/dev/null && kiln-patched",
    );
    let shown = text(&o);
    assert!(o.status.success(), "{shown}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "patched\n", "{shown}");

    // The deb route returns the binary package and the source package it came from.
    let (out, o) = build_into(&spec, "bookworm/deb", dir.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let names = file_names(out.path());
    for want in [
        "kiln-patched_1.0-debian12u2_amd64.deb",
        "kiln-patched_1.0-debian12u2.dsc",
        "kiln-patched_1.0.orig.tar.xz",
    ] {
        assert!(names.iter().any(|n| n == want), "no {want} in {names:?}");
    }
    let o = install_and_run(
        out.path(),
        "bookworm",
        "kiln-patched_1.0-debian12u2_amd64.deb",
        "kiln-patched",
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "patched\n",
        "{}",
        text(&o)
    );
}
