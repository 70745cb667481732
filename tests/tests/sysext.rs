//! `testing/sysext`: systemd system extensions, read back with erofs-utils' own tools: Dalec's
//! config-and-systemd example for trixie (its `/etc` relocated, its service upheld, the same
//! bytes from a clean rebuild) and hello for Flatcar.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::path::Path;

const EROFS_IMAGE: &str = "kiln-e2e/erofs:trixie";
const EROFS_DOCKERFILE: &str = "FROM debian:trixie\nRUN apt-get update && apt-get install -y --no-install-recommends erofs-utils && rm -rf /var/lib/apt/lists/*\n";

/// Unpacks the image `raw` of `out` with `fsck.erofs` and runs `script` in the unpacked root
/// `/x` (trixie with erofs-utils); its output.
fn in_extension(out: &Path, raw: &str, script: &str) -> String {
    image_from_dockerfile(EROFS_IMAGE, EROFS_DOCKERFILE);
    stdout_in_container(
        EROFS_IMAGE,
        &[(out, "/out")],
        &format!("set -e\nfsck.erofs --extract=/x /out/{raw} >/dev/null\ncd /x\n{script}"),
    )
}

#[test]
fn dalecs_config_and_systemd_example_becomes_an_extension_with_its_etc_relocated() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    let (dir, spec) = dalec_example_in_tempdir("config-and-systemd.yml");
    let raw = "cfgd-v0.1.0-1-trixie-x86-64.raw";
    let (out, o) = build_into(&spec, "trixie/testing/sysext", dir.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(file_names(out.path()), [raw]);
    let shown = in_extension(
        out.path(),
        raw,
        "find . ! -type d | LC_ALL=C sort\n\
         cat usr/lib/extension-release.d/extension-release.cfgd usr/lib/tmpfiles.d/10-cfgd.conf\n\
         cat usr/lib/systemd/system/multi-user.target.d/10-cfgd-cfgd.conf\n\
         grep -c port=8080 usr/share/cfgd/etc/cfgd/cfgd.conf\n\
         stat -c '%U %a' usr/bin/cfgd",
    );
    let files: Vec<&str> = shown.lines().take_while(|l| l.starts_with("./")).collect();
    for f in [
        "./usr/bin/cfgd",
        "./usr/lib/extension-release.d/extension-release.cfgd",
        "./usr/lib/systemd/system/cfgd.service",
        "./usr/lib/systemd/system/multi-user.target.d/10-cfgd-cfgd.conf",
        "./usr/lib/tmpfiles.d/10-cfgd.conf",
        "./usr/share/cfgd/etc/cfgd/cfgd.conf",
    ] {
        assert!(files.contains(&f), "{f} not in {files:?}");
    }
    assert!(
        files.iter().all(|f| f.starts_with("./usr/")),
        "only /usr: {files:?}"
    );
    let rest: Vec<&str> = shown.lines().skip(files.len()).collect();
    assert_eq!(
        rest,
        [
            "ID=_any",
            "ARCHITECTURE=x86-64",
            "EXTENSION_RELOAD_MANAGER=1",
            "C+ /etc/cfgd - - - - /usr/share/cfgd/etc/cfgd",
            "[Unit]",
            "Upholds=cfgd.service",
            "1",
            "root 755",
        ]
    );

    // Reproducible: a clean rebuild gives the same bytes.
    let (again, o) = build_into(&spec, "trixie/testing/sysext", dir.path(), &["--no-cache"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        sha256_hex(&out.path().join(raw)),
        sha256_hex(&again.path().join(raw)),
        "two builds of the extension differ"
    );
}

#[test]
fn flatcar_gets_an_extension_named_after_the_package_and_build_args_set_its_release() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    let spec = repo_root().join("specs/hello.yml");
    let (out, o) = build_into_tempdir(&spec, "flatcar", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(file_names(out.path()), ["hello.raw"]);
    let shown = in_extension(
        out.path(),
        "hello.raw",
        "cat usr/lib/extension-release.d/extension-release.hello\nusr/bin/hello",
    );
    assert_eq!(
        shown,
        "ID=flatcar\nARCHITECTURE=x86-64\nEXTENSION_RELOAD_MANAGER=1\nSYSEXT_LEVEL=1.0\nHello, world!\n"
    );

    // Build args override the defaults; another image name gets its own release file name.
    let (out, o) = build_into_tempdir(
        &spec,
        "flatcar/testing/sysext",
        &[
            "--build-arg",
            "DALEC_SYSEXT_IMAGE_NAME=hello-extra.raw",
            "--build-arg",
            "DALEC_SYSEXT_OS_VERSION_ID=4152.2.0",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("has no effect"), "{}", text(&o));
    assert_eq!(file_names(out.path()), ["hello-extra.raw"]);
    let shown = in_extension(
        out.path(),
        "hello-extra.raw",
        "readlink usr/lib/extension-release.d/extension-release.hello-extra\ncat usr/lib/extension-release.d/extension-release.hello",
    );
    assert_eq!(
        shown,
        "extension-release.hello\nID=flatcar\nARCHITECTURE=x86-64\nEXTENSION_RELOAD_MANAGER=1\nVERSION_ID=4152.2.0\nSYSEXT_LEVEL=1.0\n"
    );
}
