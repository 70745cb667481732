//! kiln-signer (kiln/signer:dev, `make image`) signs hello's .debs through the signer contract
//! with a throwaway key given as a BuildKit secret: Debian 12's debsig-verify and gpgv accept
//! the signatures, and each misuse (no key, a weak key, a wrong passphrase) fails the build
//! with its cause and exports nothing. No key material reaches the output or the log.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The signer's image, built by `make image`.
const SIGNER: &str = "kiln/signer:dev";
/// Debian 12's verifiers, the oldest the signatures must pass.
const VERIFIER: &str = "kiln-e2e/debsig-verify:bookworm";

/// A throwaway OpenPGP key made with the host's gpg: the armored secret key, the binary public
/// keyring and the fingerprint.
struct Key {
    _home: tempfile::TempDir,
    secret: PathBuf,
    public: PathBuf,
    fpr: String,
}

fn key(algo: &str, passphrase: &str) -> Key {
    let home = tempfile::tempdir().unwrap();
    let k = openpgp_key(home.path(), algo, passphrase, &[]);
    Key {
        _home: home,
        secret: k.secret,
        public: k.public,
        fpr: k.fpr,
    }
}

/// hello.yml with kiln-signer as its signer, given these signer args.
fn signed_spec(args: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let hello = std::fs::read_to_string(repo_root().join("specs/hello.yml")).unwrap();
    assert!(hello.contains("\nchangelog:\n"), "hello.yml has changed");
    let mut signer =
        format!("\npackage_config:\n  signer:\n    image: {SIGNER}\n    cmdline: /kiln-signer\n");
    if !args.is_empty() {
        signer.push_str("    args:\n");
        for (k, v) in args {
            signer.push_str(&format!("      {k}: {v}\n"));
        }
    }
    let spec = hello.replace("\nchangelog:\n", &format!("{signer}\nchangelog:\n"));
    spec_in_tempdir(&spec)
}

fn ready() -> bool {
    engine_ready() && image_ready(SIGNER, "image")
}

/// Builds the signed spec with these secrets (id, file) into a new directory.
fn build_signed(secrets: &[(&str, &Path)]) -> (tempfile::TempDir, std::process::Output) {
    build_signed_with(&[], secrets)
}

/// [`build_signed`] with signer args.
fn build_signed_with(
    args: &[(&str, &str)],
    secrets: &[(&str, &Path)],
) -> (tempfile::TempDir, std::process::Output) {
    let (dir, spec) = signed_spec(args);
    let args = secret_args(secrets);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, o) = build_into(&spec, "bookworm/deb", dir.path(), &args);
    drop(dir);
    (out, o)
}

/// The armored secret key's long lines: what a leak of it would contain.
fn key_lines(key: &Key) -> Vec<String> {
    let secret = std::fs::read_to_string(&key.secret).unwrap();
    let body: Vec<String> = secret
        .lines()
        .filter(|l| l.len() > 40 && !l.starts_with("-----"))
        .map(str::to_string)
        .collect();
    assert!(!body.is_empty());
    body
}

/// No file of `out` and nothing in `log` holds the secret key.
fn assert_no_key_material(out: &Path, log: &str, key: &Key) {
    let body = key_lines(key);
    for name in file_names(out) {
        let data = std::fs::read(out.join(&name)).unwrap();
        let data = String::from_utf8_lossy(&data);
        assert!(
            !data.contains("PRIVATE KEY BLOCK"),
            "{name} holds a secret key"
        );
        assert!(
            body.iter().all(|l| !data.contains(l)),
            "{name} holds key material"
        );
    }
    assert!(
        body.iter().all(|l| !log.contains(l)),
        "the log holds key material"
    );
}

#[test]
fn debs_signed_by_kiln_signer_pass_debsig_verify_and_gpgv() {
    if !ready() {
        return;
    }
    let key = key("ed25519", "");
    let (out, o) = build_signed(&[("kiln-signing-key", &key.secret)]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    let deb = "hello_2.10-debian12u1_amd64.deb";
    let names = file_names(out.path());
    for want in [deb, &format!("{deb}.asc"), "SHA256SUMS", "SHA256SUMS.asc"] {
        assert!(names.iter().any(|n| n == want), "no {want} in {names:?}");
    }
    assert_no_key_material(out.path(), &log, &key);

    // The end user's checks, on Debian 12 (its gpgv and debsig-verify).
    image_from_dockerfile(
        VERIFIER,
        "FROM debian:bookworm\nRUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debsig-verify gpgv\n",
    );
    let fpr = &key.fpr;
    let check = format!(
        "set -e\nmkdir -p /p/{fpr} /k/{fpr}\ncp /key/public.gpg /k/{fpr}/debsig.gpg\n\
cat > /p/{fpr}/kiln.pol <<EOF\n<?xml version=\"1.0\"?>\n<!DOCTYPE Policy SYSTEM \"https://www.debian.org/debsig/1.0/policy.dtd\">\n\
<Policy xmlns=\"https://www.debian.org/debsig/1.0/\">\n<Origin Name=\"kiln\" id=\"{fpr}\" Description=\"kiln\"/>\n\
<Selection><Required Type=\"origin\" File=\"debsig.gpg\" id=\"{fpr}\"/></Selection>\n\
<Verification MinOptional=\"0\"><Required Type=\"origin\" File=\"debsig.gpg\" id=\"{fpr}\"/></Verification>\n</Policy>\nEOF\n\
debsig-verify --policies-dir /p --keyrings-dir /k /out/{deb}\n\
gpgv --keyring /key/public.gpg /out/{deb}.asc /out/{deb}\n\
gpgv --keyring /key/public.gpg /out/SHA256SUMS.asc /out/SHA256SUMS\n\
cd /out && sha256sum -c SHA256SUMS\n"
    );
    let o = run(Command::new("docker")
        .args(["run", "--rm", "--network", "none", "-v"])
        .arg(format!("{}:/out:ro", out.path().display()))
        .arg("-v")
        .arg(format!(
            "{}:/key:ro",
            key.public.parent().unwrap().display()
        ))
        .args([VERIFIER, "sh", "-c", &check]));
    let verified = text(&o);
    assert!(o.status.success(), "{verified}");
    assert!(
        verified.contains("debsig: Verified package from 'kiln'"),
        "{verified}"
    );
    assert!(verified.contains("Good signature"), "{verified}");

    // The signed package still installs and runs.
    let run = install_and_run(out.path(), "bookworm", deb, "hello");
    assert_eq!(String::from_utf8_lossy(&run.stdout), "Hello, world!\n");
}

#[test]
fn misuse_fails_with_its_cause_and_exports_nothing() {
    if !ready() {
        return;
    }
    let no_debs = |out: &Path| !file_names(out).iter().any(|n| n.ends_with(".deb"));
    // No key given.
    let (out, o) = build_signed(&[]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains(
            "secret kiln-signing-key was not given: pass --secret id=kiln-signing-key,src=FILE"
        ),
        "{log}"
    );
    assert!(no_debs(out.path()), "{:?}", file_names(out.path()));

    // A key too weak to trust.
    let weak = key("rsa1024", "");
    let (out, o) = build_signed(&[("kiln-signing-key", &weak.secret)]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains("kiln-signer refuses RSA keys under 2048 bits"),
        "{log}"
    );
    assert!(no_debs(out.path()));

    // A protected key with the wrong passphrase (the file ends in a newline, as `echo` makes it).
    let locked = key("ed25519", "right horse");
    let wrong = locked._home.path().join("pass");
    std::fs::write(&wrong, "wrong horse\n").unwrap();
    let (out, o) = build_signed(&[
        ("kiln-signing-key", &locked.secret),
        ("kiln-signing-passphrase", &wrong),
    ]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains(&format!("cannot sign with key {}", locked.fpr)),
        "{log}"
    );
    assert!(no_debs(out.path()));

    // The right one, newline and all, signs.
    std::fs::write(&wrong, "right horse\n").unwrap();
    let (out, o) = build_signed(&[
        ("kiln-signing-key", &locked.secret),
        ("kiln-signing-passphrase", &wrong),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        file_names(out.path())
            .iter()
            .any(|n| n.ends_with(".deb.asc"))
    );
}

#[test]
fn the_signer_args_rename_the_secret_and_the_signed_image_holds_no_key() {
    if !ready() {
        return;
    }
    let key = key("ed25519", "");
    // The key under another secret id, as the signer's args name it.
    let (out, o) = build_signed_with(
        &[("SIGNING_KEY_SECRET", "release-key")],
        &[("release-key", &key.secret)],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        file_names(out.path())
            .iter()
            .any(|n| n.ends_with(".deb.asc"))
    );

    // The container route installs the signed packages; no layer or config of the image
    // holds the key (`docker save` writes the layers uncompressed).
    let tag = "kiln-e2e/signed-hello:bookworm";
    let (dir, spec) = signed_spec(&[]);
    let secret = format!("id=kiln-signing-key,src={}", key.secret.display());
    let o = build(
        &spec,
        "bookworm/container",
        dir.path(),
        &["--secret", &secret, "-t", tag],
    );
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    let saved = tempfile::tempdir().unwrap();
    let tar = saved.path().join("image.tar");
    let o = run(Command::new("docker")
        .args(["save", "-o"])
        .arg(&tar)
        .arg(tag));
    assert!(o.status.success(), "{}", text(&o));
    let bytes = std::fs::read(&tar).unwrap();
    let image = String::from_utf8_lossy(&bytes);
    assert!(
        image.contains("usr/bin/hello"),
        "the saved layers are not plain tar"
    );
    // (Not "PRIVATE KEY BLOCK": the base image's gpgv holds that armor header as a string.)
    for line in key_lines(&key) {
        assert!(!image.contains(&line), "the image holds key material");
        assert!(!log.contains(&line), "the log holds key material");
    }
    run(Command::new("docker").args(["image", "rm", "-f", tag]));
}

#[test]
fn a_signing_config_context_reaches_the_signer_through_the_frontend() {
    if !ready() {
        return;
    }
    let key = key("ed25519", "");
    // Detached signatures only: no origin signature in the .deb, no SHA256SUMS.
    let conf = tempfile::tempdir().unwrap();
    std::fs::write(
        conf.path().join("kiln-signer.yml"),
        format!("kinds: [deb]\ndebsigs: false\nidentity: {}\n", key.fpr),
    )
    .unwrap();
    let context = format!("signing-config={}", conf.path().display());
    let secret = format!("id=kiln-signing-key,src={}", key.secret.display());
    let (dir, spec) = signed_spec(&[]);
    let (out, o) = build_into(
        &spec,
        "bookworm/deb",
        dir.path(),
        &["--build-context", &context, "--secret", &secret],
    );
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    let deb = "hello_2.10-debian12u1_amd64.deb";
    let names = file_names(out.path());
    assert!(
        names.iter().any(|n| *n == format!("{deb}.asc")),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("SHA256SUMS")),
        "{names:?}"
    );
    let members = run(Command::new("ar").arg("t").arg(out.path().join(deb)));
    let members = text(&members);
    assert!(!members.contains("_gpgorigin"), "{members}");
    assert!(members.contains("data.tar"), "{members}");

    // A config error points at its line, through the frontend too.
    std::fs::write(
        conf.path().join("kiln-signer.yml"),
        "kinds: [deb]\ndigest: md5\n",
    )
    .unwrap();
    let (_out, o) = build_into(
        &spec,
        "bookworm/deb",
        dir.path(),
        &["--build-context", &context, "--secret", &secret],
    );
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains(
            "signing-config/kiln-signer.yml:2:9: digest \"md5\": kiln-signer refuses SHA-1 and MD5"
        ),
        "{log}"
    );
}

#[test]
fn bake_passes_the_secret_and_the_signing_config_to_kiln_signer() {
    if !ready() {
        return;
    }
    let key = key("ed25519", "");
    let (dir, spec) = signed_spec(&[]);
    let conf = dir.path().join("signing");
    std::fs::create_dir(&conf).unwrap();
    std::fs::write(
        conf.join("kiln-signer.yml"),
        "kinds: [deb]\ndebsigs: false\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let file = dir.path().join("bake.hcl");
    std::fs::write(
        &file,
        format!(
            "target \"deb\" {{\n  context = \"{dir}\"\n  dockerfile = \"{spec}\"\n  target = \"bookworm/deb\"\n\
  secret = [\"id=kiln-signing-key,src={key}\"]\n  contexts = {{ signing-config = \"{conf}\" }}\n\
  output = [\"type=local,dest={out}\"]\n}}\n",
            dir = dir.path().display(),
            spec = spec.display(),
            key = key.secret.display(),
            conf = conf.display(),
            out = out.display(),
        ),
    )
    .unwrap();
    let o = bake_file(&file, &[], &["deb"]);
    assert!(o.status.success(), "{}", text(&o));
    let names = file_names(&out);
    assert!(names.iter().any(|n| n.ends_with(".deb.asc")), "{names:?}");
    // The config was read: no SHA256SUMS.
    assert!(
        !names.iter().any(|n| n.starts_with("SHA256SUMS")),
        "{names:?}"
    );
}
