//! The install layout of a package, checked where it counts: in a clean container of the
//! distro, after dpkg installed the package (file modes, systemd units and their links).

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;

fn layout_is_installed(distro: &str, version_id: &str) {
    if !engine_ready() {
        return;
    }
    let spec = repo_root().join("tests/fixtures/install-layout.yml");
    let out = build_to_dir(&spec, &format!("{distro}/deb"));
    let deb = format!("kiln-layout_1.0-{version_id}u1_amd64.deb");
    let files = file_names(out.path());
    assert!(files.contains(&deb), "expected {deb} in {files:?}");
    let o = install_and_run(
        out.path(),
        distro,
        &deb,
        "stat -c '%a %n' /usr/bin/layout-tool /etc/secret.conf \
         && /usr/bin/layout-tool \
         && test -f /usr/lib/systemd/system/kiln-layout.service \
         && test -f /usr/lib/systemd/system/kiln-layout-idle.service \
         && readlink /etc/systemd/system/multi-user.target.wants/kiln-layout.service \
         && if [ -e /etc/systemd/system/multi-user.target.wants/kiln-layout-idle.service ]; then echo idle unit enabled; fi",
    );
    let shown = text(&o);
    assert!(o.status.success(), "install or checks failed:\n{shown}");
    assert!(shown.contains("700 /usr/bin/layout-tool"), "{shown}");
    assert!(shown.contains("600 /etc/secret.conf"), "{shown}");
    assert!(shown.contains("layout-tool ran"), "{shown}");
    assert!(
        shown.contains("/lib/systemd/system/kiln-layout.service"),
        "the enabled unit has no multi-user.target.wants link:\n{shown}"
    );
    assert!(!shown.contains("idle unit enabled"), "{shown}");
}

#[test]
fn bookworm_keeps_modes_and_installs_units() {
    layout_is_installed("bookworm", "debian12");
}

#[test]
fn trixie_keeps_modes_and_installs_units() {
    layout_is_installed("trixie", "debian13");
}

/// Dalec's own systemd example (tests/compat/dalec/systemd-unit.yml), unchanged: the unit is
/// installed and enabled as its (commented-out) Dalec test expects.
#[test]
fn dalecs_systemd_example_installs_its_enabled_unit() {
    if !engine_ready() {
        return;
    }
    let spec = repo_root().join("tests/compat/dalec/systemd-unit.yml");
    for (distro, id) in [("bookworm", "debian12"), ("trixie", "debian13")] {
        // Its `# syntax=` line names Dalec's image; BUILDKIT_SYNTAX makes it kiln's.
        let syntax = format!("BUILDKIT_SYNTAX={FRONTEND_IMAGE}");
        let (out, o) =
            build_into_tempdir(&spec, &format!("{distro}/deb"), &["--build-arg", &syntax]);
        assert!(o.status.success(), "{distro}:\n{}", text(&o));
        let deb = format!("test-systemd-unit_0.0.1-{id}u1_all.deb");
        let files = file_names(out.path());
        let deb = if files.contains(&deb) {
            deb
        } else {
            format!("test-systemd-unit_0.0.1-{id}u1_amd64.deb")
        };
        let o = install_and_run(
            out.path(),
            distro,
            &deb,
            "grep ExecStart=/usr/bin/service /usr/lib/systemd/system/simple.service \
             && grep ExecStart=/usr/bin/service /etc/systemd/system/multi-user.target.wants/simple.service",
        );
        let shown = text(&o);
        assert!(o.status.success(), "{distro} ({files:?}):\n{shown}");
    }
}

#[test]
fn opt_artifacts_and_file_capabilities_survive_installation_and_ownership() {
    if !engine_ready() {
        return;
    }
    let spec = "# syntax=kiln/frontend:dev\nname: kiln-caps\nversion: \"1.0\"\nrevision: 1\nlicense: MIT\npackager: kiln <kiln@example.invalid>\ndescription: Programs with file capabilities\nbuild:\n  steps:\n    - command: cp /bin/true pinger && cp /bin/true admin && mkdir -p tree/sub && echo x > tree/sub/file && cp /bin/true /tmp/made-outside\nartifacts:\n  data_dirs:\n    tree:\n      user: daemon\n  binaries:\n    /tmp/made-outside:\n    pinger:\n      linux_capabilities:\n        - {name: cap_net_raw, effective: true, permitted: true}\n  opt:\n    admin:\n      subpath: kiln/bin\n      user: daemon\n      linux_capabilities:\n        - {name: cap_net_admin, effective: true, inheritable: true, permitted: true}\n        - {name: cap_chown}\n";
    let (dir, path) = spec_in_tempdir(spec);
    let (out, o) = build_into(&path, "bookworm/deb", dir.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let deb = "kiln-caps_1.0-debian12u1_amd64.deb";
    // apt brings libcap2-bin, which the package depends on for setcap.
    let o = run_in_container(
        "debian:bookworm",
        &[(out.path(), "/pkgs")],
        &format!(
            "apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /pkgs/{deb} >/dev/null \
             && getcap /usr/bin/pinger /opt/kiln/bin/admin && stat -c '%U %n' /opt/kiln/bin/admin /usr/share/tree /usr/share/tree/sub/file && /usr/bin/made-outside && echo outside-ran"
        ),
    );
    let shown = text(&o);
    assert!(o.status.success(), "{shown}");
    assert!(shown.contains("/usr/bin/pinger cap_net_raw=ep"), "{shown}");
    assert!(
        shown.contains("/opt/kiln/bin/admin cap_net_admin=eip"),
        "{shown}"
    );
    assert!(shown.contains("daemon /opt/kiln/bin/admin"), "{shown}");
    // An absolute artifact key: a file a build step made outside the build root.
    assert!(shown.contains("outside-ran"), "{shown}");
    // A data dir's owner owns what it holds too.
    assert!(shown.contains("daemon /usr/share/tree\n"), "{shown}");
    assert!(shown.contains("daemon /usr/share/tree/sub/file"), "{shown}");

    // Capabilities on a kind that is not executable fail at their line.
    let bad = spec.replace("  opt:\n    admin:", "  docs:\n    admin:");
    let (dir, path) = spec_in_tempdir(&bad);
    let o = build(&path, "bookworm/deb", dir.path(), &[]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains("linux_capabilities can only be set on executable files (binaries, libs, libexec, opt), not on docs \"admin\""),
        "{log}"
    );
}

#[test]
fn an_upgrade_keeps_the_admins_conffile_and_unit_choices() {
    if !engine_ready() {
        return;
    }
    let written =
        std::fs::read_to_string(repo_root().join("tests/fixtures/install-layout.yml")).unwrap();
    assert!(written.contains("revision: 1\n"), "the fixture has changed");
    let (old_dir, old_spec) = spec_in_tempdir(&written);
    let (old, o) = build_into(&old_spec, "bookworm/deb", old_dir.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    // Revision 2 ships a changed conffile.
    let newer = written
        .replace("revision: 1\n", "revision: 2\n")
        .replace("token=not-a-real-secret", "token=changed-upstream");
    let (new_dir, new_spec) = spec_in_tempdir(&newer);
    let (new, o) = build_into(&new_spec, "bookworm/deb", new_dir.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let wants = "/etc/systemd/system/multi-user.target.wants";
    let o = run_in_container(
        "debian:bookworm",
        &[(old.path(), "/old"), (new.path(), "/new")],
        &format!(
            "set -e\n\
             dpkg -i /old/kiln-layout_1.0-debian12u1_amd64.deb >/dev/null\n\
             test -L {wants}/kiln-layout.service\n\
             echo token=mine > /etc/secret.conf\n\
             DPKG_MAINTSCRIPT_PACKAGE=kiln-layout deb-systemd-helper disable kiln-layout.service\n\
             dpkg -i --force-confdef --force-confold /new/kiln-layout_1.0-debian12u2_amd64.deb >/dev/null\n\
             echo version $(dpkg-query -W -f '${{Version}}' kiln-layout)\n\
             echo conf $(cat /etc/secret.conf)\n\
             echo upstream $(cat /etc/secret.conf.dpkg-dist)\n\
             if [ -e {wants}/kiln-layout.service ]; then echo re-enabled; fi\n\
             if [ -e {wants}/kiln-layout-idle.service ]; then echo idle enabled; fi\n\
             dpkg-query -W -f '${{Conffiles}}' kiln-layout\n"
        ),
    );
    let shown = text(&o);
    assert!(o.status.success(), "{shown}");
    assert!(shown.contains("version 1.0-debian12u2"), "{shown}");
    assert!(
        shown.contains("conf token=mine"),
        "the admin's conffile was replaced:\n{shown}"
    );
    assert!(shown.contains("upstream token=changed-upstream"), "{shown}");
    assert!(
        !shown.contains("re-enabled"),
        "the upgrade re-enabled a disabled unit:\n{shown}"
    );
    assert!(!shown.contains("idle enabled"), "{shown}");
    assert!(shown.contains("/etc/secret.conf"), "{shown}");
}
