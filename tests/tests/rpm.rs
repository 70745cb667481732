//! The RPM family through the stand-in worker (`make rpm-standin`: Debian's rpm tools, a dnf
//! shim, systemd's scriptlet macros; a test double, since no RPM distro can be fetched here).
//! Real rpmbuild turns a spec into an RPM and a source RPM whose header, payload, config flags,
//! scriptlets and provides match the spec; the RPM installs into an empty root, the source RPM
//! rebuilds, rpmlint finds no errors (its warnings are in `tests/fixtures/rpmlint/`), and two
//! clean builds give byte-identical RPMs; kiln-signer signs them; the container route puts the
//! package into an empty root (the stand-in installs its files only: there is no distro), the
//! same bytes in a clean build; the deps-only image holds the runtime dependencies'
//! meta-package; spec tests run with their dependencies in an RPM image (the stand-in as
//! `image.base`); Dalec's examples build, install, run and lint clean.

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
image:
  post:
    symlinks:
      /usr/bin/kiln-rpm-demo:
        paths: [/usr/local/bin/demo]
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
    stdout_in_container(STANDIN, &[(out, "/out")], script)
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
    let tag = "kiln-e2e/rpm-demo:container";
    build_image(&spec, dir.path(), "almalinux9/container", tag, &[]);
    assert_eq!(
        image_facts(tag),
        "2026-11-01T00:00:00Z 1",
        "the build's time, one layer"
    );
    // The stand-in's installroot holds the package's files (it has no distro to add), the
    // rpm database and the spec's link.
    let files = image_files(tag);
    for want in [
        "usr/bin/kiln-rpm-demo",
        "etc/kiln-rpm-demo/demo.conf",
        "usr/lib/systemd/system/kiln-rpm-demo.service",
        "var/lib/kiln-rpm-demo/",
        "var/lib/rpm/rpmdb.sqlite",
        "usr/local/bin/demo -> /usr/bin/kiln-rpm-demo",
    ] {
        assert!(files.lines().any(|l| l == want), "{want} not in\n{files}");
    }
    // A clean build gives the same layer, rpm database included.
    let again = "kiln-e2e/rpm-demo:container-again";
    build_image(
        &spec,
        dir.path(),
        "almalinux9/container",
        again,
        &["--no-cache"],
    );
    assert_eq!(
        layers(tag),
        layers(again),
        "the layers differ between clean builds"
    );
}

/// Builds `target` as the image `tag` through the stand-in.
fn build_image(spec: &Path, dir: &Path, target: &str, tag: &str, extra: &[&str]) {
    let worker = format!("dalec-almalinux9-worker=docker-image://{STANDIN}");
    let mut args = vec!["--build-context", worker.as_str(), "-t", tag];
    args.extend_from_slice(extra);
    let o = build(spec, target, dir, &args);
    assert!(o.status.success(), "{}", text(&o));
}

/// `docker image inspect --format FORMAT` of an image.
fn inspect(tag: &str, format: &str) -> String {
    let o =
        run(std::process::Command::new("docker")
            .args(["image", "inspect", tag, "--format", format]));
    text(&o).trim().to_string()
}

/// An image's creation time and number of layers.
fn image_facts(tag: &str) -> String {
    inspect(tag, "{{.Created}} {{len .RootFS.Layers}}")
}

/// An image's layer digests.
fn layers(tag: &str) -> String {
    inspect(tag, "{{.RootFS.Layers}}")
}

/// The paths in an image's file system (a link as `path -> target`).
fn image_files(tag: &str) -> String {
    let o = run(std::process::Command::new("sh").args([
        "-c",
        &format!("c=$(docker create {tag} /none) && docker export \"$c\" | tar -tv | awk '{{ $1 = $2 = $3 = $4 = $5 = \"\"; sub(/^ +/, \"\"); print }}'; docker rm \"$c\" >/dev/null"),
    ]));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs `script` in the stand-in with the root of the image `tag` at /root-of-image.
fn in_standin_on_image(tag: &str, script: &str) -> String {
    let root = tempfile::tempdir().unwrap();
    let o = run(std::process::Command::new("sh").args([
        "-c",
        &format!(
            "c=$(docker create {tag} /none) && docker export \"$c\" | tar -x -C {}; docker rm \"$c\" >/dev/null",
            root.path().display()
        ),
    ]));
    assert!(o.status.success(), "{}", text(&o));
    stdout_in_container(
        STANDIN,
        &[(root.path(), "/root-of-image")],
        // A copy: the mount is read-only, and sqlite writes beside the database it opens.
        &format!("cp -a /root-of-image /tmp/image && {script}"),
    )
}

#[test]
fn the_deps_only_image_holds_a_meta_package_of_the_runtime_dependencies() {
    if !standin_ready() {
        return;
    }
    let (dir, spec) = spec_in_tempdir(SPEC);
    let tag = "kiln-e2e/rpm-demo:depsonly";
    build_image(&spec, dir.path(), "almalinux9/container/depsonly", tag, &[]);
    assert_eq!(image_facts(tag), "2026-11-01T00:00:00Z 1");
    let files = image_files(tag);
    assert!(
        !files.lines().any(|l| l == "usr/bin/kiln-rpm-demo"),
        "the package itself is not installed:\n{files}"
    );
    assert!(
        files.contains("usr/local/bin/demo -> /usr/bin/kiln-rpm-demo"),
        "image.post applies:\n{files}"
    );
    let db = in_standin_on_image(
        tag,
        "rpm --root /tmp/image -qa --qf '%{NAME}-%{VERSION}-%{RELEASE} %{INSTALLTIME}\\n' | sort; \
         rpm --root /tmp/image -q --requires kiln-rpm-demo-runtime-deps | grep -v rpmlib",
    );
    assert_eq!(
        db,
        format!(
            "kiln-base-almalinux9-1-1.el9 {EPOCH}\nkiln-rpm-demo-runtime-deps-1.2-3.el9 {}\nbash >= 4\n",
            EPOCH.parse::<i64>().unwrap() + 1
        ),
        "install times from SOURCE_DATE_EPOCH; the runtime dependency required"
    );
}

/// A script whose tests need a test dependency; the image is the stand-in itself, so the
/// tests run (an RPM distro's image cannot be fetched here).
const TESTED: &str = r##"# syntax=kiln/frontend:dev
name: kiln-rpm-tested
version: "1.0"
license: MIT
packager: kiln <kiln@example.invalid>
description: A script tested in its image
noarch: true
sources:
  app:
    inline:
      file:
        permissions: 0755
        contents: "#!/bin/sh\necho hello from the rpm\n"
dependencies:
  test:
    file:
image:
  base: kiln/rpm-standin:dev
artifacts:
  binaries:
    app: {name: kiln-rpm-tested}
tests:
  - name: the script runs and file sees it
    steps:
      - command: kiln-rpm-tested
        stdout: {equals: "hello from the rpm\n"}
      - command: file -b /usr/bin/kiln-rpm-tested
        stdout: {contains: ["WANT"]}
"##;

#[test]
fn spec_tests_run_in_an_rpm_image_with_their_dependencies() {
    if !standin_ready() {
        return;
    }
    // `file` is not in the stand-in: the test dependencies' meta-package brings it.
    let (dir, spec) = spec_in_tempdir(&TESTED.replace("WANT", "shell script"));
    let out = build_rpms(&spec, dir.path(), &[]);
    assert!(
        out.path()
            .join("RPMS/noarch/kiln-rpm-tested-1.0-1.el9.noarch.rpm")
            .is_file()
    );
    let (dir, spec) = spec_in_tempdir(&TESTED.replace("WANT", "ELF"));
    let worker = format!("dalec-almalinux9-worker=docker-image://{STANDIN}");
    let (_out, o) = build_into(
        &spec,
        "almalinux9/rpm",
        dir.path(),
        &["--build-context", &worker],
    );
    let shown = text(&o);
    assert!(
        !o.status.success(),
        "a failing test fails the build:\n{shown}"
    );
    assert!(
        shown.contains("the script runs and file sees it: step 2 stdout does not contain \"ELF\""),
        "{shown}"
    );
}

/// Builds Dalec's example `tests/compat/dalec/<file>` for almalinux9/rpm with kiln's syntax
/// line, through the stand-in; returns the packages.
fn dalec_example_rpms(file: &str) -> tempfile::TempDir {
    let (dir, spec) = dalec_example_in_tempdir(file);
    let worker = format!("dalec-almalinux9-worker=docker-image://{STANDIN}");
    // Their tests run in an AlmaLinux image, which cannot be fetched here.
    let (out, o) = build_into(
        &spec,
        "almalinux9/rpm",
        dir.path(),
        &[
            "--build-context",
            &worker,
            "--build-arg",
            "DALEC_SKIP_TESTS=1",
        ],
    );
    let shown = text(&o);
    assert!(o.status.success(), "{file}: {shown}");
    assert!(
        shown.contains("spec test(s) skipped by build arg"),
        "{file}: {shown}"
    );
    out
}

/// rpmlint filters for Dalec's examples, added to `tests/fixtures/rpmlint/kiln.toml`'s: checks
/// of the examples' own words and choices, which kiln builds unchanged. Their descriptions
/// name Dalec and its fields (configFiles, createDirectories); config-and-systemd.yml packages
/// a shell script but does not say `noarch: true`.
const EXAMPLE_FILTERS: &str = r#" "spelling-error", "no-binary","#;

#[test]
fn dalecs_examples_build_rpms_that_install_run_and_lint_clean() {
    if !standin_ready() {
        return;
    }
    let lint = repo_root().join("tests/fixtures/rpmlint");
    for (file, nvr, command, want) in [
        (
            "hello.inline.yml",
            "hello-inline-0.1.0-1.el9",
            "hello-inline --version",
            "hello-inline 0.1.0",
        ),
        (
            "patch-during-build.yml",
            "patched-hello-0.1.0-1.el9",
            "patched-hello --version",
            "patched-hello 0.1.0",
        ),
        (
            "config-and-systemd.yml",
            "cfgd-0.1.0-1.el9",
            "grep -c = /etc/cfgd/cfgd.conf && rpm -qc cfgd",
            "2\n/etc/cfgd/cfgd.conf",
        ),
    ] {
        let out = dalec_example_rpms(file);
        let o = run_in_container(
            STANDIN,
            &[(out.path(), "/out"), (&lint, "/lint")],
            &format!(
                "set -e\nrpm=/out/RPMS/x86_64/{nvr}.x86_64.rpm\nsrpm=/out/SRPMS/{nvr}.src.rpm\n\
                 test -f $rpm && test -f $srpm\n\
                 sed 's/^Filters = \\[/&{EXAMPLE_FILTERS}/' /lint/kiln.toml >/tmp/lint.toml\n\
                 rpmlint -c /tmp/lint.toml $rpm $srpm | tail -1\n\
                 rpm -i --nodeps $rpm\n{command}"
            ),
        );
        let shown = text(&o);
        assert!(o.status.success(), "{file}: {shown}");
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.contains(" 0 errors,"), "{file}: rpmlint:\n{shown}");
        assert!(stdout.contains(want), "{file}: {want:?} not in\n{shown}");
    }
}
