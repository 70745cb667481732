//! kiln-signer (kiln/signer:dev, `make image`) run on its own (`# syntax=kiln/signer:dev`, the
//! artifacts as its build context) signs every kind kiln builds besides `.deb`s: an RPM and an
//! SRPM made with Debian's rpmbuild, a PE made with mingw-w64 and an MSI made with wixl, a
//! `.dsc`/`.changes` made with dpkg-source, and a tarball, as `kiln-signer.yml` in the
//! `signing-config` named context asks. The distros' own verifiers accept the result: rpmkeys
//! on Debian 12 (rpm 4.18) and 13 (rpm-sequoia), osslsigncode, dscverify, gpgv, and cosign 2.5
//! and 3.1 offline.
//! Misconfigurations fail with their cause and export nothing.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The signer's image, built by `make image`.
const SIGNER: &str = "kiln/signer:dev";
/// Debian 12 with the tools that make the test artifacts and verify them.
const TOOLS: &str = "kiln-e2e/sign-tools:bookworm";
/// Debian 13's rpm (on rpm-sequoia) and cosign 2.5; sq for an RFC 9580 (v6) key; forky's
/// cosign 3 (links only libc) at /opt/cosign3.
const TRIXIE: &str = "kiln-e2e/sign-tools:trixie";

fn ready() -> bool {
    if !(engine_ready() && image_ready(SIGNER, "image")) {
        return false;
    }
    image_from_dockerfile(
        TOOLS,
        "FROM debian:bookworm\nRUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
rpm gcc-mingw-w64-x86-64-win32 msitools wixl dpkg-dev devscripts osslsigncode openssl gpgv gnupg\n",
    );
    image_from_dockerfile(
        TRIXIE,
        "FROM debian:trixie\nRUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends rpm cosign sq\n\
RUN echo 'deb http://deb.debian.org/debian forky main' > /etc/apt/sources.list.d/forky.list && \\
apt-get update -q -o Acquire::Check-Valid-Until=false && \
cd /tmp && apt-get download -q cosign/forky && dpkg -x cosign_*.deb /opt/cosign3 && rm cosign_*.deb\n",
    );
    true
}

/// Runs `script` in `image` without network, with these host directories mounted
/// (`host:container[:ro]`); panics with the output on failure.
fn in_container(image: &str, mounts: &[String], script: &str) -> String {
    let mut cmd = Command::new("docker");
    cmd.args(["run", "--rm", "--network", "none"]);
    for m in mounts {
        cmd.arg("-v").arg(m);
    }
    let o = run(cmd.args([image, "sh", "-c", script]));
    assert!(o.status.success(), "{image}: {script}\n{}", text(&o));
    text(&o)
}

/// The test's keys: an OpenPGP key (host gpg), an Authenticode CA and code-signing
/// certificate in a PKCS#12 bundle with a password, a weak (RSA-1024) bundle, a cosign key,
/// an OpenPGP v6 key (sq), a timestamp authority's certificate from the same CA.
struct Keys {
    dir: tempfile::TempDir,
    fpr: String,
}

impl Keys {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let fpr = openpgp_key(dir.path(), "ed25519", "", &[]).fpr;
    let keys = format!("{}:/keys", dir.path().display());
    authenticode_keys(TOOLS, dir.path());
    in_container(
        TOOLS,
        std::slice::from_ref(&keys),
        "set -e\ncd /tmp\n\
printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\nextendedKeyUsage=critical,timeStamping\\n' > tsaext\n\
openssl req -newkey rsa:3072 -nodes -subj '/CN=kiln Test TSA' -keyout /keys/tsa.key -out tsa.csr 2>/dev/null\n\
openssl x509 -req -in tsa.csr -CA /keys/ca.crt -CAkey /keys/ca.key -CAcreateserial -days 30 -sha256 -extfile tsaext -out /keys/tsa.crt 2>/dev/null\n\
openssl req -x509 -newkey rsa:1024 -sha256 -nodes -days 30 -subj '/CN=kiln Weak Code Signing' \
  -addext extendedKeyUsage=codeSigning -keyout weak.key -out weak.crt 2>/dev/null\n\
openssl pkcs12 -export -inkey weak.key -in weak.crt -passout pass: -out /keys/weak.p12\n\
chmod -R a+r /keys\n",
    );
    in_container(
        TRIXIE,
        &[keys],
        "set -e\ncd /keys\nCOSIGN_PASSWORD='cosign pass' cosign generate-key-pair --output-key-prefix cosign >/dev/null 2>&1\n\
printf 'cosign pass\\n' > cosign.pass\n\
sq --home none key generate --profile rfc9580 --own-key --name v6 --email v6@example.invalid --without-password \
--output v6.pgp --rev-cert v6.rev >/dev/null 2>&1\nchmod a+r cosign.key v6.pgp\n",
    );
    Keys { dir, fpr }
}

/// The artifacts to sign, made with Debian's tools: an RPM and its SRPM, a PE and an MSI, a
/// native source package with its `.changes`, a tarball.
fn artifacts() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"set -e
cd /tmp
mkdir -p top/SPECS
cat > top/SPECS/kiln-hello.spec <<'EOF'
Name: kiln-hello
Version: 1.0
Release: 1
Summary: kiln test package
License: MIT
BuildArch: noarch
%description
kiln test package.
%install
mkdir -p %{buildroot}/usr/share/kiln-hello
echo hello > %{buildroot}/usr/share/kiln-hello/hello.txt
%files
/usr/share/kiln-hello/hello.txt
EOF
rpmbuild --quiet --define '_topdir /tmp/top' -ba top/SPECS/kiln-hello.spec
cp top/RPMS/noarch/kiln-hello-1.0-1.noarch.rpm top/SRPMS/kiln-hello-1.0-1.src.rpm /in/
printf '#include <stdio.h>\nint main(void) { puts("hello from kiln"); return 0; }\n' > hello.c
x86_64-w64-mingw32-gcc -O2 -s -o hello.exe hello.c
cp hello.exe /in/
cat > hello.wxs <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name="kiln hello" Language="1033" Version="1.0.0" Manufacturer="kiln"
           UpgradeCode="6b3c2f44-9d0e-4c55-8a1e-6f4a3b2c1d0e">
    <Package InstallerVersion="200" Compressed="yes" Platform="x64"/>
    <Media Id="1" Cabinet="hello.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFiles64Folder">
        <Directory Id="INSTALLDIR" Name="kiln-hello">
          <Component Id="Main" Guid="2f1c4b7e-3a5d-4e6f-9b8a-1c2d3e4f5a6b" Win64="yes">
            <File Id="HelloExe" Source="hello.exe" KeyPath="yes"/>
          </Component>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Complete" Level="1"><ComponentRef Id="Main"/></Feature>
  </Product>
</Wix>
EOF
wixl -a x64 -o /in/hello.msi hello.wxs
mkdir -p src/kiln-hello-1.0/debian/source
cd src/kiln-hello-1.0
echo '3.0 (native)' > debian/source/format
cat > debian/control <<'EOF'
Source: kiln-hello
Maintainer: kiln test <kiln-test@example.invalid>
Section: misc
Priority: optional
Standards-Version: 4.6.2

Package: kiln-hello
Architecture: all
Description: kiln test package
 A test package.
EOF
cat > debian/changelog <<'EOF'
kiln-hello (1.0) unstable; urgency=medium

  * Test.

 -- kiln test <kiln-test@example.invalid>  Tue, 01 Dec 2026 00:00:00 +0000
EOF
printf '#!/usr/bin/make -f\n%%:\n\tdh $@\n' > debian/rules
chmod +x debian/rules
echo hi > hello.txt
cd ..
dpkg-source -q -b kiln-hello-1.0
(cd kiln-hello-1.0 && dpkg-genchanges -q -S -O../kiln-hello_1.0_source.changes)
cp kiln-hello_1.0.dsc kiln-hello_1.0.tar.xz kiln-hello_1.0_source.changes /in/
tar -C /tmp -czf /in/docs.tar.gz hello.c
chmod -R a+rw /in
"#;
    in_container(TOOLS, &[format!("{}:/in", dir.path().display())], script);
    dir
}

/// Runs `script` in `image` with the signed files at /out and the keys at /keys (read-only).
fn check(image: &str, out: &Path, keys: &Keys, script: &str) -> String {
    let mounts = [
        format!("{}:/out:ro", out.display()),
        format!("{}:/keys:ro", keys.dir.path().display()),
    ];
    in_container(image, &mounts, script)
}

/// Runs kiln-signer on its own on `context` with these extra arguments (secrets, contexts)
/// into a new directory.
fn sign(context: &Path, extra: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let front = tempfile::tempdir().unwrap();
    let dockerfile = front.path().join("Dockerfile");
    std::fs::write(&dockerfile, format!("# syntax={SIGNER}\n")).unwrap();
    let (out, o) = build_into(&dockerfile, "sign", context, extra);
    (out, o)
}

/// A `signing-config` context holding this `kiln-signer.yml`.
fn config(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kiln-signer.yml"), text).unwrap();
    dir
}

fn secret(id: &str, path: &Path) -> String {
    format!("id={id},src={}", path.display())
}

#[test]
fn rpms_pe_msi_dsc_and_files_signed_by_kiln_signer_pass_the_distros_verifiers() {
    if !ready() {
        return;
    }
    let keys = keys();
    let input = artifacts();
    let conf = config(&format!(
        "# what to sign and how\nkinds: [rpm, dsc, authenticode, files, checksums]\nsigstore: true\nidentity: {}\ndigest: sha256\nauthenticode:\n  description: kiln hello\n  url: https://example.invalid/kiln\nsecrets:\n  authenticode: test-p12\n",
        keys.fpr
    ));
    let ctx = format!("signing-config={}", conf.path().display());
    let args = [
        "--build-context".to_string(),
        ctx,
        "--secret".into(),
        secret("kiln-signing-key", &keys.path("secret.asc")),
        "--secret".into(),
        secret("test-p12", &keys.path("cs.p12")),
        "--secret".into(),
        secret("kiln-authenticode-password", &keys.path("cs.pass")),
        "--secret".into(),
        secret("kiln-cosign-key", &keys.path("cosign.key")),
        "--secret".into(),
        secret("kiln-cosign-password", &keys.path("cosign.pass")),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, o) = sign(input.path(), &args);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    let names = file_names(out.path());
    for want in [
        "kiln-hello-1.0-1.noarch.rpm",
        "kiln-hello-1.0-1.src.rpm",
        "hello.exe",
        "hello.msi",
        "kiln-hello_1.0.dsc",
        "kiln-hello_1.0_source.changes",
        "docs.tar.gz.asc",
        "SHA256SUMS",
        "SHA256SUMS.asc",
        "hello.exe.sigstore.json",
        "kiln-hello-1.0-1.noarch.rpm.sigstore.json",
        "SHA256SUMS.sigstore.json",
    ] {
        assert!(names.iter().any(|n| n == want), "no {want} in {names:?}");
    }
    // Authenticode, RPM header and clearsigned files carry their signatures inside.
    for unwanted in ["hello.exe.asc", "kiln-hello-1.0-1.noarch.rpm.asc"] {
        assert!(
            !names.iter().any(|n| n == unwanted),
            "{unwanted} in {names:?}"
        );
    }
    // No key material in any exported file or the log: the OpenPGP and cosign secret keys'
    // lines, and the PKCS#12 bundle's private key (openssl can print it unencrypted).
    let mut secret_lines = String::new();
    for file in ["secret.asc", "cosign.key"] {
        secret_lines.push_str(&std::fs::read_to_string(keys.path(file)).unwrap());
    }
    secret_lines.push_str(&in_container(
        TOOLS,
        &[format!("{}:/keys:ro", keys.dir.path().display())],
        "openssl pkcs12 -in /keys/cs.p12 -passin 'pass:p12 pass' -nocerts -nodes 2>/dev/null",
    ));
    let lines: Vec<&str> = secret_lines
        .lines()
        .filter(|l| l.len() > 40 && !l.starts_with("-----"))
        .collect();
    assert!(lines.len() > 10, "{secret_lines}");
    for line in lines {
        assert!(!log.contains(line), "the log holds key material");
        for name in &names {
            let data = std::fs::read(out.path().join(name)).unwrap();
            assert!(
                !String::from_utf8_lossy(&data).contains(line),
                "{name} holds key material"
            );
        }
    }

    // Debian 12: rpm 4.18, osslsigncode, dscverify, gpgv.
    let checked = check(
        TOOLS,
        out.path(),
        &keys,
        "set -e\ncd /out\nmkdir /tmp/db\nrpmkeys --dbpath /tmp/db --import /keys/public.asc\n\
for f in *.rpm; do rpmkeys --dbpath /tmp/db --define '_pkgverify_level signature' --checksig -v $f; done\n\
osslsigncode verify -CAfile /keys/ca.crt -in hello.exe\nosslsigncode verify -CAfile /keys/ca.crt -in hello.msi\n\
msiinfo streams hello.msi\n\
dscverify --no-conf --keyring /keys/public.gpg kiln-hello_1.0_source.changes\n\
gpgv --keyring /keys/public.gpg docs.tar.gz.asc docs.tar.gz\n\
gpgv --keyring /keys/public.gpg SHA256SUMS.asc SHA256SUMS\nsha256sum -c SHA256SUMS\n",
    );
    assert!(
        checked.contains("Header V4 EdDSA/SHA256 Signature"),
        "{checked}"
    );
    assert!(checked.contains("Signature verification: ok"), "{checked}");
    assert!(checked.contains("DigitalSignature"), "{checked}");
    assert!(
        checked.contains("All files validated successfully"),
        "{checked}"
    );
    // Debian 13: rpm on rpm-sequoia; cosign, offline.
    let checked = check(
        TRIXIE,
        out.path(),
        &keys,
        "set -e\ncd /out\nmkdir /tmp/db\nrpmkeys --dbpath /tmp/db --import /keys/public.asc\n\
for f in *.rpm; do rpmkeys --dbpath /tmp/db --define '_pkgverify_level signature' --checksig -v $f; done\n\
echo '{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\"}' > /tmp/root.json\n\
for f in hello.exe kiln-hello-1.0-1.noarch.rpm SHA256SUMS; do\n\
  cosign verify-blob --key /keys/cosign.pub --bundle $f.sigstore.json --new-bundle-format \
--trusted-root /tmp/root.json --insecure-ignore-tlog $f\n\
  /opt/cosign3/usr/bin/cosign verify-blob --key /keys/cosign.pub --bundle $f.sigstore.json --insecure-ignore-tlog $f\ndone\n\
zcat /opt/cosign3/usr/share/doc/cosign/changelog.Debian.gz | head -n 1\n",
    );
    assert!(checked.contains("Signature, key ID"), "{checked}");
    assert_eq!(checked.matches("Verified OK").count(), 6, "{checked}");
    assert!(checked.contains("cosign (3."), "{checked}");
}

#[test]
fn a_misconfigured_signer_fails_with_its_cause_and_exports_nothing() {
    if !ready() {
        return;
    }
    let keys = keys();
    let input = artifacts();
    let pgp = secret("kiln-signing-key", &keys.path("secret.asc"));
    let fails = |conf: Option<&str>, secrets: &[String], wanted: &str| {
        let conf = conf.map(config);
        let mut args: Vec<String> = Vec::new();
        if let Some(c) = &conf {
            args.push("--build-context".into());
            args.push(format!("signing-config={}", c.path().display()));
        }
        for s in secrets {
            args.push("--secret".into());
            args.push(s.clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, o) = sign(input.path(), &args);
        let log = text(&o);
        assert!(!o.status.success(), "{log}");
        assert!(log.contains(wanted), "wanted {wanted:?} in:\n{log}");
        assert!(
            file_names(out.path()).is_empty(),
            "{:?}",
            file_names(out.path())
        );
    };
    fails(
        Some("kinds: [deb]\ndigest: sha1\n"),
        std::slice::from_ref(&pgp),
        "signing-config/kiln-signer.yml:2:9: digest \"sha1\": kiln-signer refuses SHA-1 and MD5",
    );
    fails(
        Some("kinds: [authenticode]\n"),
        std::slice::from_ref(&pgp),
        "kiln-signer.yml lists authenticode, but secret kiln-authenticode was not given: pass --secret id=kiln-authenticode,src=FILE",
    );
    fails(
        Some("sigstore: true\n"),
        std::slice::from_ref(&pgp),
        "kiln-signer.yml asks for sigstore bundles, but secret kiln-cosign-key was not given",
    );
    fails(
        Some("identity: 0000000000000000000000000000000000000000\n"),
        std::slice::from_ref(&pgp),
        &format!(
            "secret kiln-signing-key holds key {}, but kiln-signer.yml's identity is 0000000000000000000000000000000000000000",
            keys.fpr
        ),
    );
    fails(
        None,
        &[secret("kiln-signing-key", &keys.path("v6.pgp"))],
        "secret kiln-signing-key is an OpenPGP v6 key: kiln-signer signs with v4 keys only",
    );
    fails(
        None,
        &[
            pgp.clone(),
            secret("kiln-authenticode", &keys.path("weak.p12")),
        ],
        "certificate 'CN=kiln Weak Code Signing' has an RSA-1024 key: kiln-signer refuses RSA keys under 2048 bits",
    );
    fails(
        None,
        &[
            pgp.clone(),
            secret("kiln-authenticode", &keys.path("cs.p12")),
            secret("kiln-authenticode-password", &keys.path("weak.p12")),
        ],
        "secret kiln-authenticode is not a PKCS#12 bundle openssl can open with the password in secret kiln-authenticode-password",
    );
    fails(
        Some("kinds: [files]\nsigstore: true\n"),
        &[
            pgp.clone(),
            secret("kiln-cosign-key", &keys.path("cosign.key")),
            secret("kiln-cosign-password", &keys.path("cs.pass")),
        ],
        "cannot use the cosign key in secret kiln-cosign-key (a wrong password in secret kiln-cosign-password?)",
    );
    // A key made "in the future" (its signatures would predate it).
    let future = tempfile::tempdir().unwrap();
    let future_key = openpgp_key(
        future.path(),
        "ed25519",
        "",
        &["--faked-system-time", "20400101T000000"],
    )
    .secret;
    fails(
        None,
        &[secret("kiln-signing-key", &future_key)],
        "was created 2040-01-01T00:00:00Z, after this machine's time",
    );
    // Without a config and without an Authenticode key, PE files get a detached signature.
    let (out, o) = sign(input.path(), &["--secret", pgp.as_str()]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("no Authenticode key (secret kiln-authenticode)"),
        "{log}"
    );
    let names = file_names(out.path());
    assert!(names.iter().any(|n| n == "hello.exe.asc"), "{names:?}");
}

/// An `openssl ts` config for the TSA in `keys`.
fn tsa_config(keys: &Keys) -> PathBuf {
    let dir = keys.dir.path().display();
    std::fs::write(keys.path("tsa.serial"), "01\n").unwrap();
    let config = keys.path("tsa.cnf");
    std::fs::write(
        &config,
        format!(
            "[ tsa ]\ndefault_tsa = kiln\n[ kiln ]\nserial = {dir}/tsa.serial\nsigner_cert = {dir}/tsa.crt\n\
certs = {dir}/ca.crt\nsigner_key = {dir}/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.3.6.1.4.1.99999.1\n\
digests = sha256, sha384, sha512\naccuracy = secs:1\ness_cert_id_alg = sha256\n"
        ),
    )
    .unwrap();
    config
}

#[test]
fn authenticode_timestamps_come_from_the_configured_tsa_only() {
    if !ready() {
        return;
    }
    let keys = keys();
    let input = artifacts();
    let gateway = bridge_gateway();
    let tsa = Server::tsa(&tsa_config(&keys), &gateway);
    let conf = config(&format!(
        "kinds: [authenticode]\nauthenticode:\n  tsa: http://{gateway}:{}/\n",
        tsa.port
    ));
    let ctx = format!("signing-config={}", conf.path().display());
    let p12 = secret("kiln-authenticode", &keys.path("cs.p12"));
    let pass = secret("kiln-authenticode-password", &keys.path("cs.pass"));
    let (out, o) = sign(
        input.path(),
        &["--build-context", &ctx, "--secret", &p12, "--secret", &pass],
    );
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    let checked = check(
        TOOLS,
        out.path(),
        &keys,
        "cd /out && osslsigncode verify -CAfile /keys/ca.crt -TSA-CAfile /keys/ca.crt -in hello.exe && \
osslsigncode verify -CAfile /keys/ca.crt -TSA-CAfile /keys/ca.crt -in hello.msi",
    );
    assert_eq!(
        checked
            .matches("Timestamp Server Signature verification: ok")
            .count(),
        2,
        "{checked}"
    );
    // Only the kinds listed: no OpenPGP key was needed, and none was used.
    let names = file_names(out.path());
    assert!(!names.iter().any(|n| n.ends_with(".asc")), "{names:?}");
    drop(tsa);

    // Without a config, every kind is asked for: the OpenPGP key is missing.
    let (_out, o) = sign(input.path(), &["--secret", &p12, "--secret", &pass]);
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains("secret kiln-signing-key was not given"),
        "{log}"
    );

    // Without a TSA, no timestamp.
    let conf = config("kinds: [authenticode]\n");
    let ctx = format!("signing-config={}", conf.path().display());
    let (out, o) = sign(
        input.path(),
        &["--build-context", &ctx, "--secret", &p12, "--secret", &pass],
    );
    assert!(o.status.success(), "{}", text(&o));
    let checked = check(
        TOOLS,
        out.path(),
        &keys,
        "cd /out && osslsigncode verify -CAfile /keys/ca.crt -in hello.exe",
    );
    assert!(
        !checked.contains("Timestamp Server Signature verification: ok"),
        "{checked}"
    );
    assert!(checked.contains("Signature verification: ok"), "{checked}");
}
