//! The RPM family through the stand-in worker (`make rpm-standin`: Debian's rpm tools, a dnf
//! shim, systemd's scriptlet macros; a test double, since no RPM distro can be fetched here).
//! Real rpmbuild turns a spec into an RPM and a source RPM whose header, payload, config flags,
//! scriptlets and provides match the spec; the RPM installs into an empty root, the source RPM
//! rebuilds, rpmlint finds no errors (its warnings are in `tests/fixtures/rpmlint/`), and two
//! clean builds give byte-identical RPMs; kiln-signer signs them; the container route puts the
//! package into an empty root (the stand-in installs its files only: there is no distro).

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::path::Path;

const STANDIN: &str = "kiln/rpm-standin:dev";

/// A package with what `%files` and the scriptlets render: a patched program, a config file,
/// a license, an enabled unit, a compiled program, a user, an owned state directory, a runtime dependency with a
/// version and two changelog entries.
const SPEC: &str = r##"# syntax=kiln/frontend:dev
name: kiln-rpm-demo
version: "1.2"
revision: 3
license: MIT
packager: kiln <kiln@example.invalid>
website: https://example.invalid/kiln
description: |
  A demo package for the RPM family
  It has a compiled program, a configuration file, a unit, a user and a patch.
sources:
  app:
    inline:
      dir:
        files:
          demo.c: {contents: "#include <stdio.h>\nint main(void) {\n  puts(\"unpatched\");\n  return 0;\n}\n"}
          demo.conf: {contents: "greeting=hi\n"}
          demo.service: {contents: "[Unit]\nDescription=demo\n[Service]\nExecStart=/usr/bin/kiln-rpm-demo\n[Install]\nWantedBy=multi-user.target\n"}
          LICENSE: {contents: "MIT License\n"}
  fix.patch:
    inline:
      file:
        contents: |
          --- a/demo.c
          +++ b/demo.c
          @@ -1,4 +1,4 @@
           #include <stdio.h>
           int main(void) {
          -  puts("unpatched");
          +  puts("patched");
             return 0;
patches:
  app:
    - source: fix.patch
dependencies:
  build:
    gcc:
  runtime:
    bash: {version: [">= 4"]}
build:
  steps:
    - command: gcc -O2 -g -o kiln-rpm-demo app/demo.c
artifacts:
  binaries:
    kiln-rpm-demo: {permissions: 0755}
  configFiles:
    app/demo.conf: {subpath: kiln-rpm-demo}
  licenses:
    app/LICENSE:
  systemd:
    units:
      app/demo.service: {name: kiln-rpm-demo.service, enable: true}
  users:
    - name: kilndemo
  createDirectories:
    state:
      kiln-rpm-demo: {mode: 0750, user: kilndemo, group: kilndemo}
changelog:
  - date: 2026-11-01
    author: kiln <kiln@example.invalid>
    changes: [Second release.]
  - date: 2026-10-01
    author: kiln <kiln@example.invalid>
    changes: [First release.]
"##;

/// 2026-11-01, the newest changelog entry: the build's time.
const EPOCH: &str = "1793491200";

fn standin_ready() -> bool {
    engine_ready()
        && image_ready("kiln/frontend:dev", "image")
        && image_ready(STANDIN, "rpm-standin")
}

fn build_rpms(spec: &Path, dir: &Path, extra: &[&str]) -> tempfile::TempDir {
    let worker = format!("dalec-almalinux9-worker=docker-image://{STANDIN}");
    let mut args = vec!["--build-context", worker.as_str()];
    args.extend_from_slice(extra);
    let (out, o) = build_into(spec, "almalinux9/rpm", dir, &args);
    assert!(o.status.success(), "{}", text(&o));
    out
}

/// Runs `script` in the stand-in with the packages at /out.
fn in_standin(out: &Path, script: &str) -> String {
    let o = run_in_container(STANDIN, &[(out, "/out")], script);
    let shown = text(&o);
    assert!(o.status.success(), "{shown}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const RPM: &str = "/out/RPMS/x86_64/kiln-rpm-demo-1.2-3.el9.x86_64.rpm";
const SRPM: &str = "/out/SRPMS/kiln-rpm-demo-1.2-3.el9.src.rpm";

#[test]
fn the_standin_builds_an_rpm_that_matches_the_spec() {
    if !standin_ready() {
        return;
    }
    let (dir, spec) = spec_in_tempdir(SPEC);
    let out = build_rpms(&spec, dir.path(), &[]);

    let info = in_standin(out.path(), &format!("rpm -qip {RPM}"));
    for want in [
        "Name        : kiln-rpm-demo",
        "Version     : 1.2",
        "Release     : 3.el9",
        "License     : MIT",
        "Summary     : A demo package for the RPM family",
        "Build Host  : kiln",
        "URL         : https://example.invalid/kiln",
        "Source RPM  : kiln-rpm-demo-1.2-3.el9.src.rpm",
    ] {
        assert!(info.contains(want), "{want:?} not in\n{info}");
    }

    // path size mtime digest mode owner group isconfig isdoc rdev symlink
    let dump = in_standin(out.path(), &format!("rpm -qlp --dump {RPM}"));
    let entry = |path: &str| {
        dump.lines()
            .find(|l| l.split(' ').next() == Some(path))
            .unwrap_or_else(|| panic!("{path} not in\n{dump}"))
            .split(' ')
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let bin = entry("/usr/bin/kiln-rpm-demo");
    assert_eq!(
        (bin[2].as_str(), bin[4].as_str()),
        (EPOCH, "0100755"),
        "{dump}"
    );
    let conf = entry("/etc/kiln-rpm-demo/demo.conf");
    assert_eq!(conf[7], "1", "a config file: {dump}");
    let state = entry("/var/lib/kiln-rpm-demo");
    assert_eq!(
        (state[4].as_str(), state[5].as_str(), state[6].as_str()),
        ("040750", "kilndemo", "kilndemo"),
        "{dump}"
    );
    entry("/usr/lib/systemd/system/kiln-rpm-demo.service");
    entry("/usr/share/licenses/kiln-rpm-demo/LICENSE");

    let config = in_standin(out.path(), &format!("rpm -qcp {RPM}"));
    assert_eq!(config.trim(), "/etc/kiln-rpm-demo/demo.conf");

    let scripts = in_standin(out.path(), &format!("rpm -qp --scripts {RPM}"));
    for want in [
        "getent passwd kilndemo >/dev/null || useradd -r -U -M -d / -s /sbin/nologin kilndemo",
        "if [ $1 -eq 1 ]; then\n    systemctl enable kiln-rpm-demo.service || :\nfi",
        "systemctl --no-reload disable --now kiln-rpm-demo.service",
    ] {
        assert!(scripts.contains(want), "{want:?} not in\n{scripts}");
    }
    let provides = in_standin(out.path(), &format!("rpm -qp --provides {RPM}"));
    for want in [
        "user(kilndemo)",
        "group(kilndemo)",
        "kiln-rpm-demo = 1.2-3.el9",
    ] {
        assert!(provides.contains(want), "{want:?} not in\n{provides}");
    }
    let requires = in_standin(out.path(), &format!("rpm -qp --requires {RPM}"));
    assert!(requires.contains("bash >= 4"), "{requires}");
    let changelog = in_standin(out.path(), &format!("rpm -qp --changelog {RPM}"));
    assert!(
        changelog.find("Second release.").unwrap() < changelog.find("First release.").unwrap(),
        "newest first: {changelog}"
    );

    // Installed into an empty root (no shell there to run scriptlets), the patched program.
    let ran = in_standin(
        out.path(),
        &format!(
            "rpm -i --root /tmp/root --nodeps --noscripts {RPM} && /tmp/root/usr/bin/kiln-rpm-demo && cat /tmp/root/etc/kiln-rpm-demo/demo.conf"
        ),
    );
    assert_eq!(ran, "patched\ngreeting=hi\n");

    // The source RPM holds the sources as fetched and the patch, and rebuilds once its build
    // dependency is installed.
    let listing = in_standin(out.path(), &format!("rpm -qlp {SRPM}"));
    for want in [
        "app.tar.gz",
        "fix.patch",
        "kiln-changes.patch",
        "build.sh",
        "install.sh",
        "kiln-rpm-demo.spec",
    ] {
        assert!(
            listing.lines().any(|l| l == want),
            "{want} not in\n{listing}"
        );
    }
    let rebuilt = in_standin(
        out.path(),
        &format!(
            "dnf makecache >/dev/null && dnf install -y gcc >/dev/null 2>&1 && rpmbuild --define '_topdir /tmp/top' --define 'dist .el9' --rebuild {SRPM} >/tmp/log 2>&1 || {{ cat /tmp/log >&2; exit 1; }}; ls /tmp/top/RPMS/x86_64"
        ),
    );
    assert_eq!(rebuilt.trim(), "kiln-rpm-demo-1.2-3.el9.x86_64.rpm");

    // rpmlint: no errors; its warnings are the expected ones.
    let fixtures = repo_root().join("tests/fixtures/rpmlint");
    let o = run_in_container(
        STANDIN,
        &[(out.path(), "/out"), (&fixtures, "/fixtures")],
        &format!("rpmlint -c /fixtures/kiln.toml {RPM} {SRPM}; echo \"exit $?\""),
    );
    let lint = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(lint.contains(" 0 errors"), "{lint}");
    let mut warnings: Vec<&str> = lint.lines().filter(|l| l.contains(": W: ")).collect();
    warnings.sort();
    let found = warnings.join("\n") + "\n";
    let expected_file = repo_root().join("tests/fixtures/rpmlint/almalinux9.expected");
    if std::env::var("KILN_UPDATE_RPMLINT").is_ok() {
        std::fs::write(&expected_file, &found).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_file).unwrap_or_default();
    assert_eq!(
        found, expected,
        "rpmlint's warnings changed (KILN_UPDATE_RPMLINT=1 rewrites the file):\n{lint}"
    );
}

#[test]
fn two_clean_builds_give_byte_identical_rpms() {
    if !standin_ready() {
        return;
    }
    let (dir, spec) = spec_in_tempdir(SPEC);
    let first = build_rpms(&spec, dir.path(), &[]);
    let second = build_rpms(&spec, dir.path(), &["--no-cache"]);
    for file in [
        "RPMS/x86_64/kiln-rpm-demo-1.2-3.el9.x86_64.rpm",
        "SRPMS/kiln-rpm-demo-1.2-3.el9.src.rpm",
    ] {
        assert_eq!(
            sha256_hex(&first.path().join(file)),
            sha256_hex(&second.path().join(file)),
            "{file}"
        );
    }
}

#[test]
fn rpms_signed_by_kiln_signer_pass_rpmkeys() {
    if !standin_ready() || !image_ready("kiln/signer:dev", "image") {
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let key = openpgp_key(keys.path(), "ed25519", "", &[]);
    let signed = SPEC.replace(
        "\nchangelog:\n",
        "\npackage_config:\n  signer:\n    image: kiln/signer:dev\n    cmdline: /kiln-signer\nchangelog:\n",
    );
    let (dir, spec) = spec_in_tempdir(&signed);
    let secret = format!("id=kiln-signing-key,src={}", key.secret.display());
    let out = build_rpms(&spec, dir.path(), &["--secret", &secret]);
    // The signer's result replaced the packages: rpm's own verifier accepts both.
    let key_dir = key.public_asc.parent().unwrap();
    let o = run_in_container(
        STANDIN,
        &[(out.path(), "/out"), (key_dir, "/keys")],
        &format!(
            "set -e\nmkdir /tmp/db\nrpmkeys --dbpath /tmp/db --import /keys/{}\n\
             for f in {RPM} {SRPM}; do rpmkeys --dbpath /tmp/db --define '_pkgverify_level signature' --checksig -v $f; done",
            key.public_asc.file_name().unwrap().to_string_lossy()
        ),
    );
    let shown = text(&o);
    assert!(o.status.success(), "{shown}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches("Signature, key ID")
            .count(),
        2,
        "{shown}"
    );
}

#[test]
fn the_container_route_installs_the_rpm_into_an_empty_root() {
    if !standin_ready() {
        return;
    }
    let (dir, spec) = spec_in_tempdir(SPEC);
    let worker = format!("dalec-almalinux9-worker=docker-image://{STANDIN}");
    let tag = "kiln-e2e/rpm-demo:container";
    let o = build(
        &spec,
        "almalinux9/container",
        dir.path(),
        &["--build-context", &worker, "-t", tag],
    );
    assert!(o.status.success(), "{}", text(&o));
    let config = text(&run(std::process::Command::new("docker").args([
        "image",
        "inspect",
        tag,
        "--format",
        "{{.Created}} {{len .RootFS.Layers}}",
    ])));
    assert_eq!(
        config.trim(),
        "2026-11-01T00:00:00Z 1",
        "the build's time, one layer"
    );
    // The stand-in's installroot holds the package's files (it has no distro to add).
    let o = run(std::process::Command::new("sh").args([
        "-c",
        &format!("c=$(docker create {tag} /none) && docker export \"$c\" | tar -t; docker rm \"$c\" >/dev/null"),
    ]));
    let files = String::from_utf8_lossy(&o.stdout).into_owned();
    for want in [
        "usr/bin/kiln-rpm-demo",
        "etc/kiln-rpm-demo/demo.conf",
        "usr/lib/systemd/system/kiln-rpm-demo.service",
        "var/lib/kiln-rpm-demo/",
    ] {
        assert!(files.lines().any(|l| l == want), "{want} not in\n{files}");
    }
}
