//! Every source kind in a real build: context (main and named, with path and excludes),
//! inline, http from a server on loopback, git from a `git daemon`, an image with cmd steps,
//! and a patch; then a patch that does not apply.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::path::Path;
use std::process::Command;

struct Fixture {
    dir: tempfile::TempDir,
    _http: Server,
    _git: Server,
}

/// Writes the contexts, starts the servers and writes the spec with their ports.
fn fixture(patch: &str) -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("app/hello.sh", "#!/bin/sh\necho unpatched\n");
    write("app/skip.txt", "must not be transferred\n");
    write("extra/data.txt", "from-named-context\n");
    write("www/greeting.txt", "from-http\n");
    std::fs::create_dir_all(root.join("git")).unwrap();
    let commit = bare_repo(
        &root.join("git"),
        "repo",
        &[(
            "README",
            "from-git
",
        )],
        None,
    );

    let http = Server::http(&root.join("www"));
    let gitd = Server::git(&root.join("git"));
    let template = std::fs::read_to_string(repo_root().join("tests/fixtures/sources.yml"))
        .expect("fixture spec");
    let spec = template
        .replace("@HTTP_PORT@", &http.port.to_string())
        .replace("@GIT_PORT@", &gitd.port.to_string())
        .replace("@DIGEST@", &sha256_hex(&root.join("www/greeting.txt")))
        .replace("@COMMIT@", &commit)
        .replace("-echo unpatched\n          +echo patched", patch);
    write("spec.yml", &spec);
    Fixture {
        dir,
        _http: http,
        _git: gitd,
    }
}

fn build_in(dir: &Path, out: &Path) -> std::process::Output {
    let dest = format!("type=local,dest={}", out.display());
    let extra = format!("extra={}", dir.join("extra").display());
    build(
        &dir.join("spec.yml"),
        "bookworm/deb",
        dir,
        &["--build-context", &extra, "--output", &dest],
    )
}

#[test]
fn every_source_kind_reaches_the_package() {
    if !engine_ready() {
        return;
    }
    let f = fixture("-echo unpatched\n          +echo patched");
    let out = f.dir.path().join("out");
    let o = build_in(f.dir.path(), &out);
    assert!(o.status.success(), "{}", text(&o));
    let deb = "kiln-sources-demo_1.0-debian12u1_amd64.deb";
    assert!(out.join(deb).exists(), "{:?}", file_names(&out));
    let o = install_and_run(&out, "bookworm", deb, "kiln-sources-demo");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "patched\nfrom-named-context\nfrom-http\nfrom-git\nfrom-image\n",
        "{}",
        text(&o)
    );
}

#[test]
fn a_patch_that_does_not_apply_fails_with_its_output_and_line() {
    if !engine_ready() {
        return;
    }
    let f = fixture("-echo something else\n          +echo patched");
    let o = build_in(f.dir.path(), &f.dir.path().join("out"));
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(log.contains("kiln: applying fix.patch to app"), "{log}");
    assert!(log.contains("FAILED"), "patch's own message:\n{log}");
    assert!(
        log.contains(">>>     - source: fix.patch"),
        "points at the patch:\n{log}"
    );
}

#[test]
fn dockerfile_build_source_is_built_and_used() {
    if !engine_ready() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    std::fs::create_dir_all(root.join("nested")).unwrap();
    std::fs::write(
        root.join("nested/Dockerfile"),
        "FROM debian:bookworm AS make\nARG GREETING\nRUN echo \"$GREETING\" > /hello\nFROM scratch\nCOPY --from=make /hello /hello\n",
    )
    .unwrap();
    let spec = "# syntax=kiln/frontend:dev\nname: nested-build\nversion: \"0.0.1\"\npackager: kiln <kiln@example.invalid>\n\
description: A source built from a Dockerfile\nnoarch: true\nsources:\n  src:\n    build:\n      source:\n        path: nested\n        context: {}\n      args:\n        GREETING: hello world!\n\
build:\n  steps:\n    - command: '[ \"$(cat src/hello)\" = \"hello world!\" ]'\nartifacts:\n  docs:\n    src/hello:\n";
    std::fs::write(root.join("spec.yml"), spec).unwrap();
    let out = root.join("out");
    let dest = format!("type=local,dest={}", out.display());
    let o = build(
        &root.join("spec.yml"),
        "bookworm/deb",
        root,
        &["--output", &dest],
    );
    assert!(o.status.success(), "{}", text(&o));
    let deb = out.join("nested-build_0.0.1-debian12u1_all.deb");
    let listing = text(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)));
    assert!(
        listing.contains("./usr/share/doc/nested-build/hello"),
        "{listing}"
    );
}

#[test]
fn debug_routes_show_resolved_spec_sources_and_patched_sources() {
    if !engine_ready() {
        return;
    }
    let f = fixture("-echo unpatched\n          +echo patched");
    let extra = format!("extra={}", f.dir.path().join("extra").display());
    let out = |target: &str| {
        let dir = f.dir.path().join(target.replace('/', "-"));
        let dest = format!("type=local,dest={}", dir.display());
        let o = build(
            &f.dir.path().join("spec.yml"),
            target,
            f.dir.path(),
            &["--build-context", &extra, "--output", &dest],
        );
        assert!(o.status.success(), "{target}: {}", text(&o));
        dir
    };
    let resolved = std::fs::read_to_string(out("debug/resolve").join("spec.yml")).unwrap();
    assert!(resolved.contains("name: kiln-sources-demo"), "{resolved}");
    assert!(!resolved.contains("@HTTP_PORT@"), "{resolved}");

    let sources = out("debug/sources");
    let hello = |dir: &Path| std::fs::read_to_string(dir.join("app/hello.sh")).unwrap();
    assert_eq!(hello(&sources), "#!/bin/sh\necho unpatched\n");
    assert!(!sources.join("app/skip.txt").exists(), "excluded");
    assert_eq!(
        std::fs::read_to_string(sources.join("repo/README")).unwrap(),
        "from-git\n"
    );
    assert_eq!(
        std::fs::read_to_string(sources.join("fromimage/marker")).unwrap(),
        "from-image\n"
    );

    assert_eq!(
        hello(&out("debug/patched-sources")),
        "#!/bin/sh\necho patched\n"
    );
}

#[test]
fn git_source_authenticates_with_a_secret() {
    if !engine_ready() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    std::fs::create_dir_all(root.join("git")).unwrap();
    bare_repo(
        &root.join("git"),
        "private",
        &[(
            "README", "private
",
        )],
        None,
    );
    let token = "s3cret-token";
    let server = Server::git_http_with_token(&root.join("git"), token);
    let spec = format!(
        "# syntax=kiln/frontend:dev\nname: private-src\nversion: \"1.0\"\npackager: kiln <kiln@example.invalid>\n\
description: A source from an authenticated git server\nnoarch: true\nsources:\n  src:\n    git:\n      url: http://127.0.0.1:{}/private.git\n      commit: main\n      auth:\n        token: MY_GIT_TOKEN\n\
build:\n  steps:\n    - command: grep -q private src/README\n",
        server.port
    );
    std::fs::write(root.join("spec.yml"), spec).unwrap();
    std::fs::write(root.join("token"), token).unwrap();
    let secret = format!("id=MY_GIT_TOKEN,src={}", root.join("token").display());
    let o = build(
        &root.join("spec.yml"),
        "bookworm/deb",
        root,
        &["--secret", &secret],
    );
    assert!(o.status.success(), "with the secret: {}", text(&o));

    std::fs::write(root.join("token"), "wrong").unwrap();
    let o = build(
        &root.join("spec.yml"),
        "bookworm/deb",
        root,
        &["--secret", &secret, "--no-cache"],
    );
    assert!(
        !o.status.success(),
        "a wrong token must fail:\n{}",
        text(&o)
    );

    // Without the secret, the build names it, the source that needs it and how to pass it,
    // at the source's lines (BuildKit's git alone says "could not read Username").
    let o = build(
        &root.join("spec.yml"),
        "bookworm/deb",
        root,
        &["--no-cache"],
    );
    let log = text(&o);
    assert!(!o.status.success(), "a missing secret must fail:\n{log}");
    assert!(
        log.contains("kiln: secret \"MY_GIT_TOKEN\" (the auth token of git source src) was not given: pass --secret id=MY_GIT_TOKEN,src=FILE"),
        "{log}"
    );
    assert!(log.contains("spec.yml:"), "no spec lines in:\n{log}");
}

#[test]
fn build_step_mounts_are_there_during_the_build() {
    if !engine_ready() {
        return;
    }
    let spec = "# syntax=kiln/frontend:dev\nname: mounted\nversion: \"1.0\"\nrevision: 1\nlicense: MIT\npackager: kiln <kiln@example.invalid>\ndescription: A package built with a step mount\nbuild:\n  steps:\n    - command: cat /opt/greeting/hello.txt > greeting\n      mounts:\n        - dest: /opt/greeting\n          spec:\n            inline:\n              dir:\n                files:\n                  hello.txt:\n                    contents: \"hi from a mount\\n\"\nartifacts:\n  docs:\n    greeting:\n";
    let (dir, path) = spec_in_tempdir(spec);
    let (out, o) = build_into(&path, "bookworm/deb", dir.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let deb = deb_of(out.path(), "mounted", "1.0");
    let run = install_and_run(
        out.path(),
        "bookworm",
        &deb,
        "cat /usr/share/doc/mounted/greeting",
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "hi from a mount\n",
        "{}",
        text(&run)
    );
}

#[test]
fn a_context_source_can_be_an_image() {
    if !engine_ready() {
        return;
    }
    let spec = "# syntax=kiln/frontend:dev\nname: ctximage\nversion: \"1.0\"\nrevision: 1\nlicense: MIT\npackager: kiln <kiln@example.invalid>\ndescription: A package built from files of an image given as a named context\nsources:\n  osinfo:\n    context:\n      name: osimage\n    includes: [etc/debian_version]\nbuild:\n  steps:\n    - command: test ! -e osinfo/bin && cp osinfo/etc/debian_version version\nartifacts:\n  docs:\n    version:\n";
    let (dir, path) = spec_in_tempdir(spec);
    let (out, o) = build_into(
        &path,
        "bookworm/deb",
        dir.path(),
        &["--build-context", "osimage=docker-image://debian:bookworm"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let deb = deb_of(out.path(), "ctximage", "1.0");
    let run = install_and_run(
        out.path(),
        "bookworm",
        &deb,
        "cat /usr/share/doc/ctximage/version",
    );
    assert!(
        String::from_utf8_lossy(&run.stdout).starts_with("12."),
        "{}",
        text(&run)
    );
}

#[test]
fn the_global_source_filter_excludes_from_every_directory_source_and_unknown_args_warn() {
    if !engine_ready() {
        return;
    }
    let spec = "# syntax=kiln/frontend:dev\nname: filtered\nversion: \"1.0\"\nrevision: 1\nlicense: MIT\npackager: kiln <kiln@example.invalid>\ndescription: A package whose sources pass a global filter\nsources:\n  src:\n    context: {}\n  inl:\n    inline:\n      dir:\n        files:\n          kept.txt: {contents: kept}\n          scratch.tmp: {contents: dropped}\nbuild:\n  steps:\n    - command: (cd src && ls) > listing && (cd inl && ls) >> listing\nartifacts:\n  docs:\n    listing:\n";
    let (dir, path) = spec_in_tempdir(spec);
    std::fs::write(dir.path().join("notes.txt"), "kept").unwrap();
    std::fs::write(dir.path().join("build.tmp"), "dropped").unwrap();
    let options = tempfile::tempdir().unwrap();
    std::fs::write(
        options.path().join("filter.yml"),
        "global_excludes: [\"*.tmp\"]\n",
    )
    .unwrap();
    let context = format!("dalec-source-options={}", options.path().display());
    let (out, o) = build_into(
        &path,
        "bookworm/deb",
        dir.path(),
        &[
            "--build-context",
            &context,
            "--build-arg",
            "DALEC_SOURCE_FILTER_CONFIG_PATH=filter.yml",
            "--build-arg",
            "DALEC_SKIP_TEST=1",
        ],
    );
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains(
            "unknown build arg DALEC_SKIP_TEST: neither kiln nor Dalec knows it (a typo?)"
        ),
        "{log}"
    );
    let deb = deb_of(out.path(), "filtered", "1.0");
    let run = install_and_run(
        out.path(),
        "bookworm",
        &deb,
        "cat /usr/share/doc/filtered/listing",
    );
    let listing = String::from_utf8_lossy(&run.stdout);
    assert!(
        listing.contains("notes.txt") && listing.contains("kept.txt"),
        "{listing}"
    );
    assert!(!listing.contains(".tmp"), "{listing}");

    // A filter file that is not Dalec's format fails at its line.
    std::fs::write(options.path().join("filter.yml"), "global_exclude: [x]\n").unwrap();
    let (_out, o) = build_into(
        &path,
        "bookworm/deb",
        dir.path(),
        &[
            "--build-context",
            &context,
            "--build-arg",
            "DALEC_SOURCE_FILTER_CONFIG_PATH=filter.yml",
        ],
    );
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains("filter.yml:1:1: unknown field `global_exclude`"),
        "{log}"
    );
}

#[test]
fn a_git_checksum_pins_a_tag_and_a_mismatch_fails_at_its_line() {
    if !engine_ready() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    std::fs::create_dir_all(root.join("git")).unwrap();
    let commit = bare_repo(
        &root.join("git"),
        "pinned",
        &[("README", "pinned\n")],
        Some("v1.0"),
    );
    let server = Server::git_http(&root.join("git"), "127.0.0.1", free_port(), "-");
    let spec = |checksum: &str| {
        format!(
            "# syntax=kiln/frontend:dev\nname: pinned-src\nversion: \"1.0\"\npackager: kiln <kiln@example.invalid>\n\
description: A source pinned by a tag and its checksum\nnoarch: true\nsources:\n  src:\n    git:\n      url: http://127.0.0.1:{}/pinned.git\n      commit: v1.0\n      checksum: {checksum}\n\
build:\n  steps:\n    - command: grep -q pinned src/README && test ! -e src/.git\n",
            server.port
        )
    };
    std::fs::write(root.join("spec.yml"), spec(&commit[..12])).unwrap();
    let o = build(&root.join("spec.yml"), "bookworm/deb", root, &[]);
    assert!(o.status.success(), "the right checksum: {}", text(&o));

    let wrong = "0123456789abcdef0123456789abcdef01234567";
    std::fs::write(root.join("spec.yml"), spec(wrong)).unwrap();
    let o = build(&root.join("spec.yml"), "bookworm/deb", root, &[]);
    let log = text(&o);
    assert!(!o.status.success(), "a wrong checksum must fail:\n{log}");
    // BuildKit v0.23+ checks it (its own words); older engines get kiln's check.
    assert!(
        log.contains(&format!("expected checksum to match {wrong}"))
            || log.contains(&format!(
                "kiln: git source src: the checksum {wrong} does not match the commit checked out: {commit}"
            )),
        "{log}"
    );
    assert!(log.contains("spec.yml:"), "no spec lines in:\n{log}");
}
