//! Windows cross builds (`windowscross`): a C program (mingw-w64) and a Go program (Ubuntu's
//! golang, `GOOS=windows`) cross-built on the Linux worker, zipped reproducibly; the programs
//! run under wine (Debian's) and print what they should. The container route puts them into
//! `/Windows/System32` of the base (a stand-in Windows base pushed to the engine's registry:
//! real ones cannot be fetched here), `image.post.symlinks` as copies. Platforms other than
//! windows/amd64 are refused with the reason.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::path::Path;
use std::process::Output;

/// Debian's wine, to run the cross-built programs, unzip and msitools; osslsigncode, openssl
/// and gpgv for the signatures.
const WINE_IMAGE: &str = "FROM debian:trixie\n\
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wine wine64 unzip msitools osslsigncode openssl gpgv && rm -rf /var/lib/apt/lists/*\n";
const WINE: &str = "kiln-e2e/wine:trixie";

const SPEC: &str = r##"# syntax=kiln/frontend:dev
name: kiln-win-demo
version: "1.0"
revision: 2
license: MIT
vendor: Kiln Example
website: https://example.invalid/kiln
description: A C and a Go program cross-built for Windows
sources:
  src:
    inline:
      dir:
        files:
          hello.c: {contents: "#include <stdio.h>\nint main(void) {\n  puts(\"hello from C on Windows\");\n  return 0;\n}\n"}
          main.go: {contents: "package main\n\nimport (\n\t\"fmt\"\n\t\"runtime\"\n)\n\nfunc main() {\n\tfmt.Println(\"hello from Go on\", runtime.GOOS)\n}\n"}
          LICENSE: {contents: "MIT License\n"}
          go.mod: {contents: "module example.invalid/hello\n\ngo 1.18\n"}
dependencies:
  build:
    golang-go:
build:
  steps:
    - command: $CC -O2 -o hello-c.exe src/hello.c
    - command: cd src && go build -o ../hello-go.exe .
artifacts:
  binaries:
    hello-c.exe:
    hello-go.exe:
  licenses:
    src/LICENSE:
tests:
  - name: prints its greeting
    steps:
      - command: hello-c.exe
        stdout: {equals: "GREETING\n"}
      - command: hello-go.exe
        stdout: {contains: ["on windows"]}
    files:
      /Windows/System32/hello-go.exe: {}
"##;

const ZIP: &str = "kiln-win-demo_1.0-2_amd64.zip";

/// The spec, its test expecting `greeting` from the C program.
fn spec_expecting(greeting: &str) -> String {
    SPEC.replace("GREETING", greeting)
}

/// Runs `script` under the wine image with the zip's directory at /out.
fn in_wine(out: &Path, script: &str) -> String {
    let o = run_in_container(
        WINE,
        &[(out, "/out")],
        &format!(
            "set -e\nexport WINEDEBUG=-all\nmkdir /tmp/z && cd /tmp/z && unzip -q /out/{ZIP}\n{script}"
        ),
    );
    let shown = text(&o);
    assert!(o.status.success(), "{shown}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_c_and_a_go_program_cross_built_for_windows_run_under_wine() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    image_from_dockerfile(WINE, WINE_IMAGE);
    let (dir, spec) = spec_in_tempdir(&spec_expecting("hello from C on Windows"));
    let (out, o) = build_into(&spec, "windowscross/zip", dir.path(), &[]);
    let shown = text(&o);
    assert!(o.status.success(), "{shown}");
    // The test ran under wine (a failing one fails the build: see below); a cached build
    // shows no output of it.
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [ZIP], "windows/amd64 by default");

    let ran = in_wine(out.path(), "wine ./hello-c.exe\nwine ./hello-go.exe");
    // The C runtime writes text-mode line ends.
    assert_eq!(
        ran.replace("\r\n", "\n"),
        "hello from C on Windows\nhello from Go on windows\n"
    );

    // Sorted entries, the build's time (no changelog: kiln's default), no extra fields.
    let listing = in_wine(
        out.path(),
        "unzip -Zl /out/*.zip | sed -n '3,4p' | awk '{ print $1, $8, $9, $10 }'\nunzip -Zv /out/*.zip | grep -c 'length of extra field: *0 bytes'",
    );
    assert_eq!(
        listing,
        "-rwxr-xr-x 22-Dec-18 00:00 hello-c.exe\n-rwxr-xr-x 22-Dec-18 00:00 hello-go.exe\n2\n",
        "{listing}"
    );

    // A clean build gives the same bytes.
    let (again, o) = build_into(&spec, "windowscross/zip", dir.path(), &["--no-cache"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        sha256_hex(&out.path().join(ZIP)),
        sha256_hex(&again.path().join(ZIP))
    );
}

#[test]
fn platforms_without_a_toolchain_are_refused_with_the_reason() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    let (dir, spec) = spec_in_tempdir(&spec_expecting("hello from C on Windows"));
    for (platform, want) in [
        (
            "windows/arm64",
            "platform windows/arm64 is not supported by windowscross: its worker's mingw-w64 toolchain builds for windows/amd64 only",
        ),
        (
            "linux/amd64",
            "platform linux/amd64 is not supported by windowscross: it builds Windows programs (use windows/amd64)",
        ),
    ] {
        let (_out, o) = build_into(
            &spec,
            "windowscross/zip",
            dir.path(),
            &["--platform", platform],
        );
        let shown = text(&o);
        assert!(!o.status.success(), "{platform}: {shown}");
        assert!(shown.contains(want), "{platform}: {want:?} not in\n{shown}");
    }
}

/// The engine's registry (scripts/engine.sh).
fn registry() -> String {
    std::env::var("KILN_REGISTRY_ADDR").unwrap_or_else(|_| "127.0.0.1:5055".to_string())
}

/// Pushes a stand-in Windows base of `os_version` (tests/fixtures/windows/standin-base.sh) as
/// `kiln-e2e/windows-standin:<tag>` to the engine's registry; returns its reference.
fn push_standin_base(tag: &str, os_version: &str) -> String {
    let repo = format!("kiln-e2e/windows-standin:{tag}");
    let o = run(std::process::Command::new("sh").args([
        repo_root()
            .join("tests/fixtures/windows/standin-base.sh")
            .to_str()
            .unwrap(),
        &registry(),
        &repo,
        os_version,
    ]));
    assert!(o.status.success(), "{}", text(&o));
    format!("{}/{repo}", registry())
}

#[test]
fn the_container_route_puts_the_binaries_into_system32_of_the_base() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    image_from_dockerfile(WINE, WINE_IMAGE);
    let base = push_standin_base("1809", "10.0.17763.1");
    let spec_text = spec_expecting("hello from C on Windows").replace(
        "\ntests:\n",
        &format!(
            "\nimage:\n  base: {base}\n  entrypoint: hello-c.exe\n  post:\n    symlinks:\n      /Windows/System32/hello-go.exe:\n        paths: [/Program Files/kiln/hello.exe]\ntests:\n"
        ),
    );
    let (dir, spec) = spec_in_tempdir(&spec_text);
    let (out, o) = build_container_tar(&spec, dir.path(), &["--platform", "windows/amd64"]);
    assert!(o.status.success(), "{}", text(&o));
    let listing = in_wine_dir(out.path(), "tar -tf /out/fs.tar | sort");
    assert_eq!(
        listing,
        "Program Files/\nProgram Files/kiln/\nProgram Files/kiln/hello.exe\nWindows/\nWindows/System32/\n\
         Windows/System32/hello-c.exe\nWindows/System32/hello-go.exe\nWindows/System32/standin.txt\n",
        "the base's files, the binaries and the copy"
    );
    let ran = in_wine_dir(
        out.path(),
        "mkdir /tmp/root && tar -xf /out/fs.tar -C /tmp/root\nwine '/tmp/root/Program Files/kiln/hello.exe'",
    );
    assert_eq!(ran, "hello from Go on windows\n");
}

/// A C program without build dependencies (mingw is the worker's) on the bases `bases`.
fn spec_on_bases(bases: &[String]) -> String {
    let listed: String = bases
        .iter()
        .map(|b| format!("    - rootfs:\n        image:\n          ref: {b}\n"))
        .collect();
    format!(
        "# syntax=kiln/frontend:dev\nname: kiln-win-bases\nversion: \"1.0\"\nrevision: 1\nlicense: MIT\n\
         description: One program on two Windows bases\nsources:\n  src:\n    inline:\n      file:\n\
         \x20       contents: \"int main(void) {{ return 0; }}\\n\"\nbuild:\n  steps:\n\
         \x20   - command: $CC -x c -o mb.exe src\nartifacts:\n  binaries:\n    mb.exe:\nimage:\n  bases:\n{listed}"
    )
}

#[test]
fn several_image_bases_give_an_image_per_base_keyed_by_its_os_version() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    image_from_dockerfile(WINE, WINE_IMAGE);
    let bases = [
        push_standin_base("1809", "10.0.17763.1"),
        push_standin_base("ltsc2022", "10.0.20348.1"),
    ];
    let (dir, spec) = spec_in_tempdir(&spec_on_bases(&bases));
    let (out, o) = build_container_tar(&spec, dir.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let listing = in_wine_dir(
        out.path(),
        "tar -tf /out/fs.tar | grep -v '/$' | sort\nmkdir /tmp/r && tar -xf /out/fs.tar -C /tmp/r\ncat /tmp/r/*/Windows/System32/standin.txt",
    );
    assert_eq!(
        listing,
        "windows(10.0.17763.1)_amd64/Windows/System32/mb.exe\n\
         windows(10.0.17763.1)_amd64/Windows/System32/standin.txt\n\
         windows(10.0.20348.1)_amd64/Windows/System32/mb.exe\n\
         windows(10.0.20348.1)_amd64/Windows/System32/standin.txt\n\
         kiln stand-in\nkiln stand-in 10.0.20348.1\n",
        "a file system per base, each with the program and its own base's files"
    );

    // Two bases of one os.version: an error at the second base's line.
    let twin = push_standin_base("1809-twin", "10.0.17763.1");
    let (dir, spec) = spec_in_tempdir(&spec_on_bases(&[bases[0].clone(), twin]));
    let o = build(&spec, "windowscross/container", dir.path(), &[]);
    let shown = text(&o);
    assert!(!o.status.success(), "{shown}");
    assert!(
        shown.contains(
            "spec.yml:24:9: this base has the platform windows(10.0.17763.1)/amd64, as the base at line 21 has"
        ),
        "{shown}"
    );
}

/// Builds `windowscross/container` of `spec` with `extra` arguments into `fs.tar` of a new
/// directory (Docker's own BuildKit exports no Windows image; the file system shows it).
fn build_container_tar(spec: &Path, context: &Path, extra: &[&str]) -> (tempfile::TempDir, Output) {
    let out = tempfile::tempdir().unwrap();
    let dest = format!("type=tar,dest={}", out.path().join("fs.tar").display());
    let o = build(
        spec,
        "windowscross/container",
        context,
        &[&["--output", dest.as_str()][..], extra].concat(),
    );
    (out, o)
}

/// Runs `script` under the wine image with `dir` at /out.
fn in_wine_dir(dir: &Path, script: &str) -> String {
    stdout_in_container(
        WINE,
        &[(dir, "/out")],
        &format!("set -e\nexport WINEDEBUG=-all\n{script}"),
    )
}

#[test]
fn a_failing_test_under_wine_fails_the_build_at_its_step() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    let (dir, spec) = spec_in_tempdir(&spec_expecting("hello from Linux"));
    let (_out, o) = build_into(&spec, "windowscross/zip", dir.path(), &[]);
    let shown = text(&o);
    assert!(!o.status.success(), "{shown}");
    assert!(
        shown.contains(
            "kiln test prints its greeting: step 1 stdout is not \"hello from Linux\\n\""
        ),
        "{shown}"
    );
}

/// `msiinfo export MSI Property` as (property, value) lines.
fn msi_properties(dir: &Path, msi: &str) -> String {
    in_wine_dir(
        dir,
        &format!("msiinfo export /out/{msi} Property | tail -n +4 | LC_ALL=C sort"),
    )
}

#[test]
fn the_msi_installs_the_files_with_the_specs_metadata_and_a_stable_upgrade_code() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    image_from_dockerfile(WINE, WINE_IMAGE);
    let msi = "kiln-win-demo_1.0-2_amd64.msi";
    let (dir, spec) = spec_in_tempdir(&spec_expecting("hello from C on Windows"));
    let (out, o) = build_into(&spec, "windowscross/msi", dir.path(), &[]);
    let shown = text(&o);
    assert!(o.status.success(), "{shown}");
    let props = msi_properties(out.path(), msi);
    for want in [
        "ARPURLINFOABOUT\thttps://example.invalid/kiln",
        "Manufacturer\tKiln Example",
        "ProductName\tkiln-win-demo",
        "ProductVersion\t1.0.0",
    ] {
        assert!(props.lines().any(|l| l == want), "{want:?} not in\n{props}");
    }
    let info = in_wine_dir(out.path(), &format!("msiinfo suminfo /out/{msi}"));
    for want in [
        "Subject: A C and a Go program cross-built for Windows",
        "Author: Kiln Example",
        "Comments: MIT",
        "Created: Sun Dec 18 00:00:00 2022",
    ] {
        assert!(info.contains(want), "{want:?} not in\n{info}");
    }
    // The files under Program Files\<vendor>\<name>, and the program runs.
    let files = in_wine_dir(
        out.path(),
        &format!(
            "cd /tmp && msiextract /out/{msi} | LC_ALL=C sort && wine 'Kiln Example/kiln-win-demo/hello-go.exe'"
        ),
    );
    assert_eq!(
        files,
        "Kiln Example/kiln-win-demo/LICENSE\nKiln Example/kiln-win-demo/hello-c.exe\n\
         Kiln Example/kiln-win-demo/hello-go.exe\nhello from Go on windows\n"
    );
    // A newer version keeps the upgrade code, with a new product code.
    let newer =
        spec_expecting("hello from C on Windows").replace("version: \"1.0\"", "version: \"1.1\"");
    let (dir2, spec2) = spec_in_tempdir(&newer);
    let (out2, o) = build_into(&spec2, "windowscross/msi", dir2.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let props2 = msi_properties(out2.path(), "kiln-win-demo_1.1-2_amd64.msi");
    let code = |p: &str, key: &str| {
        p.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}\t")).map(str::to_string))
            .unwrap_or_default()
    };
    assert_eq!(code(&props, "UpgradeCode"), code(&props2, "UpgradeCode"));
    assert!(!code(&props, "UpgradeCode").is_empty());
    assert_ne!(code(&props, "ProductCode"), code(&props2, "ProductCode"));
    // A clean build gives the same bytes.
    let (again, o) = build_into(&spec, "windowscross/msi", dir.path(), &["--no-cache"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        sha256_hex(&out.path().join(msi)),
        sha256_hex(&again.path().join(msi))
    );
}

/// The signer's image, built by `make image`.
const SIGNER: &str = "kiln/signer:dev";

#[test]
fn signed_by_kiln_signer_every_exe_and_the_msi_carry_authenticode_and_the_zip_its_signature() {
    if !engine_ready()
        || !image_ready("kiln/frontend:dev", "image")
        || !image_ready(SIGNER, "image")
    {
        return;
    }
    image_from_dockerfile(WINE, WINE_IMAGE);
    let keys = tempfile::tempdir().unwrap();
    let pgp = openpgp_key(keys.path(), "ed25519", "", &[]);
    authenticode_keys(WINE, keys.path());
    let spec_text = spec_expecting("hello from C on Windows").replace(
        "\ntests:\n",
        &format!(
            "\npackage_config:\n  signer:\n    image: {SIGNER}\n    cmdline: /kiln-signer\nimage:\n  base: {}/kiln-e2e/windows-standin:1809\ntests:\n",
            registry()
        ),
    );
    let (dir, spec) = spec_in_tempdir(&spec_text);
    let (p12, pass) = (keys.path().join("cs.p12"), keys.path().join("cs.pass"));
    let secrets = secret_args(&[
        ("kiln-signing-key", pgp.secret.as_path()),
        ("kiln-authenticode", &p12),
        ("kiln-authenticode-password", &pass),
    ]);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let verify = |file: &str| {
        format!("osslsigncode verify -CAfile /keys/ca.crt -in {file} >/dev/null && echo {file}: ok")
    };
    let in_wine_with_keys = |out: &Path, script: &str| {
        stdout_in_container(
            WINE,
            &[(out, "/out"), (keys.path(), "/keys")],
            &format!("set -e\nexport WINEDEBUG=-all\ncd /tmp\n{script}"),
        )
    };

    // The zip: its programs signed before they were packed (and run by the spec's test), the
    // zip signed after, with its checksum list.
    let (out, o) = build_into(&spec, "windowscross/zip", dir.path(), &secrets);
    let shown = text(&o);
    assert!(o.status.success(), "{shown}");
    assert_eq!(
        file_names(out.path()),
        [
            "SHA256SUMS".to_string(),
            "SHA256SUMS.asc".into(),
            ZIP.into(),
            format!("{ZIP}.asc"),
        ]
    );
    let checked = in_wine_with_keys(
        out.path(),
        &format!(
            "unzip -q /out/{ZIP}\nls\n{}\n{}\ngpgv --quiet --keyring /keys/public.gpg /out/{ZIP}.asc /out/{ZIP} 2>/dev/null && echo zip: ok\nwine ./hello-c.exe | tr -d '\\r'",
            verify("hello-c.exe"),
            verify("hello-go.exe")
        ),
    );
    assert_eq!(
        checked,
        "hello-c.exe\nhello-go.exe\nhello-c.exe: ok\nhello-go.exe: ok\nzip: ok\nhello from C on Windows\n",
        "only the programs in the zip, each with Authenticode"
    );

    // The MSI: signed itself, and made of the signed programs.
    let msi = "kiln-win-demo_1.0-2_amd64.msi";
    let (out, o) = build_into(&spec, "windowscross/msi", dir.path(), &secrets);
    assert!(o.status.success(), "{}", text(&o));
    let checked = in_wine_with_keys(
        out.path(),
        &format!(
            "{}\nmsiextract /out/{msi} >/dev/null\ncd 'Kiln Example/kiln-win-demo'\n{}",
            verify(&format!("/out/{msi}")),
            verify("hello-go.exe")
        ),
    );
    assert_eq!(checked, format!("/out/{msi}: ok\nhello-go.exe: ok\n"));

    // The image: the signed programs in System32.
    push_standin_base("1809", "10.0.17763.1");
    let (image, o) = build_container_tar(&spec, dir.path(), &secrets);
    assert!(o.status.success(), "{}", text(&o));
    let checked = in_wine_with_keys(
        image.path(),
        &format!(
            "tar -xf /out/fs.tar\ncd Windows/System32\n{}\n{}",
            verify("hello-c.exe"),
            verify("hello-go.exe")
        ),
    );
    assert_eq!(checked, "hello-c.exe: ok\nhello-go.exe: ok\n");
}

#[test]
fn a_signer_gets_the_binaries_as_dalecs_contract_has_it_then_the_zip() {
    if !engine_ready()
        || !image_ready("kiln/frontend:dev", "image")
        || !image_ready("kiln/test-signer:dev", "test-signer")
    {
        return;
    }
    image_from_dockerfile(WINE, WINE_IMAGE);
    let spec_text = spec_expecting("hello from C on Windows").replace(
        "\ntests:\n",
        "\npackage_config:\n  signer:\n    image: kiln/test-signer:dev\ntests:\n",
    );
    let (dir, spec) = spec_in_tempdir(&spec_text);
    let (out, o) = build_into(&spec, "windowscross/zip", dir.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    // The second round: the zip, with the record beside it.
    let record = std::fs::read_to_string(out.path().join("signed-by-test-signer")).unwrap();
    assert_eq!(
        record,
        format!("target=windowscross\nstage=packages\nfile={ZIP}\n")
    );
    // The first: the binaries, each at the root; what the signer returned is what is
    // zipped (the record too, as in Dalec).
    let inside = in_wine(out.path(), "ls\ncat signed-by-test-signer");
    assert_eq!(
        inside,
        "hello-c.exe\nhello-go.exe\nsigned-by-test-signer\n\
         target=windowscross\nstage=programs\nfile=hello-c.exe\nfile=hello-go.exe\n"
    );
}

#[test]
fn dalecs_example_builds_its_tests_of_linux_paths_skipped_with_the_reason() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    // Dalec runs no tests for windowscross; kiln runs them under wine, and these two check
    // a Linux path, so they are skipped, and the build says so.
    let (dir, spec) = dalec_example_in_tempdir("hello.inline.yml");
    let (out, o) = build_into(&spec, "windowscross/zip", dir.path(), &[]);
    let shown = text(&o);
    assert!(o.status.success(), "{shown}");
    for test in [
        "test \"binary exists and is executable\" skipped on windowscross: it checks /usr/bin/hello-inline",
        "test \"running binary prints version/platform\" skipped on windowscross: it runs /usr/bin/hello-inline",
    ] {
        assert!(shown.contains(test), "{test:?} not in\n{shown}");
    }
    assert_eq!(file_names(out.path()), ["hello-inline_0.1.0-1_amd64.zip"]);
}

#[test]
fn the_msi_installs_with_windows_installer_under_wine_and_puts_its_directory_on_path_when_asked() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    image_from_dockerfile(WINE, WINE_IMAGE);
    let msi = "kiln-win-demo_1.0-2_amd64.msi";
    let (dir, spec) = spec_in_tempdir(&spec_expecting("hello from C on Windows"));
    let args = ["--build-arg", "KILN_MSI_PATH=1"];
    let (out, o) = build_into(&spec, "windowscross/msi", dir.path(), &args);
    assert!(o.status.success(), "{}", text(&o));
    let path = "reg query 'HKLM\\System\\CurrentControlSet\\Control\\Session Manager\\Environment' /v PATH | tr -d '\\r' | grep -c 'Kiln Example.kiln-win-demo' || :";
    let installed = in_wine_dir(
        out.path(),
        &format!(
            "wineboot --init >/dev/null 2>&1\nwine msiexec /i /out/{msi} /qn\n\
             dir=\"$HOME/.wine/drive_c/Program Files/Kiln Example/kiln-win-demo\"\n\
             ls \"$dir\"\nwine \"$dir/hello-c.exe\" | tr -d '\\r'\nwine {path}\n\
             wine msiexec /x /out/{msi} /qn\nls \"$dir\" 2>/dev/null || echo removed\nwine {path}"
        ),
    );
    assert_eq!(
        installed, "LICENSE\nhello-c.exe\nhello-go.exe\nhello from C on Windows\n1\nremoved\n0\n",
        "installed, on PATH, then uninstalled and off PATH"
    );
    // The PATH entry keeps the MSI reproducible.
    let (again, o) = build_into(
        &spec,
        "windowscross/msi",
        dir.path(),
        &[&args[..], &["--no-cache"]].concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        sha256_hex(&out.path().join(msi)),
        sha256_hex(&again.path().join(msi))
    );
}
