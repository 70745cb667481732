# kiln-signer's signing step, run in the signing worker with the artifacts at $OUT, the keys as
# BuildKit secrets and a tmpfs GNUPGHOME. What it signs comes from $KINDS (and $DEBSIGS,
# $SIGSTORE, $IDENTITY, $DIGEST, $TSA), which the signer planned from kiln-signer.yml;
# $PROGRAMS=1 says the artifacts are programs before they are packed (Authenticode only). Every
# failure says what is wrong and exits non-zero: nothing is exported half-signed. Every
# signature made is checked with the verifier the distro's users run before the step ends.
set -eu

fail() { echo "kiln-signer: $*" >&2; exit 1; }
note() { echo "kiln-signer: $*"; }
on() { case " $KINDS " in *" $1 "*) return 0 ;; esac; return 1; }
given() { [ -e "$1" ]; }
# A secret's text without one trailing newline (`echo pass > file`), into a tmpfs file.
secret_text() {
    if [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ]; then
        head -c -1 "$1" >"$2"
    else
        cat "$1" >"$2"
    fi
}

chmod 700 "$GNUPGHOME"
work=$GNUPGHOME/kiln
mkdir -m 700 "$work"
export HOME=$work
digest=$(echo "$DIGEST" | tr 'A-Z' 'a-z')

cd "$OUT"
if find . -type f | grep -q '[[:space:]]'; then
    fail "file names with white space cannot be signed: $(find . -type f | grep '[[:space:]]' | head -n 3 | tr '\n' ' ')"
fi
# The artifacts by kind (signatures and checksum lists from an earlier signer are not).
files() { find . -type f \( "$@" \) ! -name '*.asc' ! -name '*.sigstore.json' ! -name SHA256SUMS | sed 's|^\./||' | sort; }
debs=$(files -name '*.deb' -o -name '*.ddeb')
rpms=$(files -name '*.rpm')
dscs=$(files -name '*.dsc')
changes=$(files -name '*.changes')
pes=$(files -name '*.exe' -o -name '*.dll' -o -name '*.msi')
# Covered by the .dsc and .changes signatures (and an .orig.tar.*.asc means the upstream
# author's signature to dpkg-source, which must not be faked).
covered=$(files -name '*.buildinfo' -o -name '*.orig.tar.*' -o -name '*.orig-*.tar.*' -o -name '*.debian.tar.*' -o -name '*.diff.gz')
all=$(files -name '*')
[ -n "$all" ] || fail "there is nothing to sign: the artifacts are empty"
# Files of a known kind are signed as that kind or not at all.
known=$(echo $debs $rpms $dscs $changes $covered)
on deb || debs=
on rpm || rpms=
on dsc || { dscs= changes=; }

# Authenticode needs its PKCS#12 bundle; without a config asking for it, PE files without one
# get a detached OpenPGP signature instead.
authenticode=
if on authenticode && [ -n "$pes" ]; then
    if given "$AC_KEY"; then
        authenticode=$pes
    elif [ "$KINDS_LISTED" = 1 ]; then
        fail "kiln-signer.yml lists authenticode, but secret $AC_KEY_ID was not given: pass --secret id=$AC_KEY_ID,src=FILE (a PKCS#12 bundle of the code-signing certificate and key)"
    elif [ "$PROGRAMS" = 1 ]; then
        note "no Authenticode key (secret $AC_KEY_ID): $(echo $pes) stay without Authenticode (what they are packed into is signed next)"
    else
        note "no Authenticode key (secret $AC_KEY_ID): $(echo $pes) get a detached OpenPGP signature only"
    fi
fi
others=
if on files; then
    for f in $all; do
        case " $(echo $known $authenticode) " in
            *" $f "*) ;;
            *) others="$others $f" ;;
        esac
    done
fi
sigstore=
case $SIGSTORE in
    1) given "$COSIGN_KEY" || fail "kiln-signer.yml asks for sigstore bundles, but secret $COSIGN_KEY_ID was not given: pass --secret id=$COSIGN_KEY_ID,src=FILE (a key from cosign generate-key-pair)"
       sigstore=1 ;;
    auto) given "$COSIGN_KEY" && sigstore=1 ;;
esac
checksums=
on checksums && checksums=1
if [ -z "$debs$rpms$dscs$changes$others$checksums" ]; then
    openpgp=
else
    openpgp=1
fi
if [ -z "$openpgp$authenticode$sigstore" ]; then
    if [ "$PROGRAMS" = 1 ]; then
        note "nothing among the programs to sign before they are packed ($(echo $all))"
        exit 0
    fi
    fail "nothing among the artifacts is of a kind to sign ($KINDS): $(echo $all)"
fi

# --- The OpenPGP key: imported into the tmpfs home, checked against the policy. ---
if [ -n "$openpgp" ]; then
    given "$PGP_KEY" || fail "secret $PGP_KEY_ID was not given: pass --secret id=$PGP_KEY_ID,src=FILE (an armored OpenPGP secret key)"
    {
        echo batch
        echo pinentry-mode loopback
        echo digest-algo "$DIGEST"
        echo personal-digest-preferences "$DIGEST"
        echo cert-digest-algo "$DIGEST"
    } >"$GNUPGHOME/gpg.conf"
    if given "$PGP_PASS"; then
        secret_text "$PGP_PASS" "$work/pgp.pass"
        echo "passphrase-file $work/pgp.pass" >>"$GNUPGHOME/gpg.conf"
    fi
    gpg --quiet --import "$PGP_KEY" 2>"$work/import.log" || {
        grep -q 'unknown version\|version 6' "$work/import.log" &&
            fail "secret $PGP_KEY_ID is an OpenPGP v6 key: kiln-signer signs with v4 keys only (Debian 12's gpgv cannot check v6 signatures)"
        fail "secret $PGP_KEY_ID is not an OpenPGP secret key gpg can read: $(tail -n 1 "$work/import.log")"
    }
    # The first secret key: its primary must sign (Debian 12's debsig-verify cannot check a
    # signing subkey) and pass the policy (the tools sign with weak keys without a word).
    keys=$(gpg --with-colons --list-secret-keys)
    sec=$(printf '%s\n' "$keys" | grep '^sec:' | head -n 1)
    [ -n "$sec" ] || fail "secret $PGP_KEY_ID holds no secret key (a public key only?)"
    fpr=$(printf '%s\n' "$keys" | awk -F: '/^sec:/ { s = 1; next } s && /^fpr:/ { print $10; exit }')
    validity=$(echo "$sec" | cut -d: -f2)
    bits=$(echo "$sec" | cut -d: -f3)
    algo=$(echo "$sec" | cut -d: -f4)
    created=$(echo "$sec" | cut -d: -f6)
    caps=$(echo "$sec" | cut -d: -f12)
    if [ -n "$IDENTITY" ] && [ "$fpr" != "$IDENTITY" ]; then
        fail "secret $PGP_KEY_ID holds key $fpr, but kiln-signer.yml's identity is $IDENTITY"
    fi
    case $validity in
        e) fail "key $fpr has expired: sign with a key that is valid now" ;;
        r) fail "key $fpr is revoked" ;;
    esac
    case $algo in
        1 | 3) [ "$bits" -ge 2048 ] || fail "key $fpr is RSA-$bits: kiln-signer refuses RSA keys under 2048 bits" ;;
        17) fail "key $fpr is DSA: kiln-signer refuses DSA keys (use RSA-3072+ or Ed25519)" ;;
        16 | 20) fail "key $fpr is ElGamal, which cannot sign" ;;
        19 | 22) ;;
        *) fail "key $fpr uses public-key algorithm $algo, which kiln-signer does not know" ;;
    esac
    case $caps in
        *s*) ;;
        *) fail "key $fpr cannot sign with its primary key (a signing subkey only): debsig-verify on Debian 12 cannot check such signatures; use a primary key with the sign capability" ;;
    esac
    # Signatures carry the signing time, which must not precede the key (rpm-sequoia rejects
    # such signatures as BAD).
    [ "$created" -le "$(date +%s)" ] ||
        fail "key $fpr was created $(date -u -d "@$created" +%FT%TZ), after this machine's time $(date -u +%FT%TZ): its signatures would predate it"
    echo probe | gpg --local-user "$fpr" --sign -o /dev/null 2>"$work/probe.log" ||
        fail "cannot sign with key $fpr (a passphrase-protected key needs --secret id=$PGP_PASS_ID,src=FILE; a wrong passphrase fails the same way): $(tail -n 1 "$work/probe.log")"
    gpg --export "$fpr" >"$work/keyring.gpg"
    gpg --armor --export "$fpr" >"$work/public.asc"
fi
# A detached armored signature, remembered for the self-check.
made=
asc() {
    gpg --local-user "$fpr" --armor --detach-sign -o "$1.asc" "$1"
    made="$made $1.asc"
}

# --- The Authenticode certificate: out of the PKCS#12 bundle, checked against the policy. ---
if [ -n "$authenticode" ]; then
    passin=pass:
    if given "$AC_PASS"; then
        secret_text "$AC_PASS" "$work/ac.pass"
        [ -s "$work/ac.pass" ] && passin=file:$work/ac.pass
    fi
    p12() {
        openssl pkcs12 -in "$AC_KEY" -passin "$passin" "$@" 2>"$work/p12.log" ||
            openssl pkcs12 -legacy -in "$AC_KEY" -passin "$passin" "$@" 2>>"$work/p12.log"
    }
    p12 -nokeys -clcerts -out "$work/ac.crt" ||
        fail "secret $AC_KEY_ID is not a PKCS#12 bundle openssl can open with the password in secret $AC_PASS_ID: $(tail -n 1 "$work/p12.log")"
    p12 -nocerts -nodes -out /dev/null ||
        fail "secret $AC_KEY_ID holds no private key kiln-signer can use with the password in secret $AC_PASS_ID"
    subject=$(openssl x509 -in "$work/ac.crt" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
    cert=$(openssl x509 -in "$work/ac.crt" -noout -text)
    bits=$(echo "$cert" | sed -n 's/.*Public-Key: (\([0-9]*\) bit).*/\1/p' | head -n 1)
    case $cert in
        *rsaEncryption*) [ "$bits" -ge 2048 ] || fail "certificate '$subject' has an RSA-$bits key: kiln-signer refuses RSA keys under 2048 bits" ;;
        *dsaEncryption*) fail "certificate '$subject' has a DSA key: kiln-signer refuses DSA keys" ;;
    esac
    sigalg=$(echo "$cert" | sed -n 's/^ *Signature Algorithm: //p' | head -n 1)
    case $sigalg in
        *[Ss][Hh][Aa]1* | *[Mm][Dd]5*) fail "certificate '$subject' is signed with $sigalg: kiln-signer refuses SHA-1 and MD5 certificates" ;;
    esac
    openssl x509 -in "$work/ac.crt" -noout -checkend 0 >/dev/null ||
        fail "certificate '$subject' has expired ($(openssl x509 -in "$work/ac.crt" -noout -enddate))"
    case $cert in
        *"Code Signing"*) ;;
        *) fail "certificate '$subject' is not for code signing (its extended key usage lacks codeSigning)" ;;
    esac
    # The trust anchors of the self-check (for the signature and a timestamp): the bundle's
    # chain, the system's CAs, and the certificate itself when it is self-signed.
    p12 -nokeys -cacerts -out "$work/ac-chain.pem" || :
    cat "$work/ac-chain.pem" /etc/ssl/certs/ca-certificates.crt >"$work/ac-ca.pem" 2>/dev/null || :
    grep -q CERTIFICATE "$work/ac-chain.pem" 2>/dev/null || cat "$work/ac.crt" >>"$work/ac-ca.pem"
fi

# --- Signing: files that change first, then what covers them. ---
for f in $authenticode; do
    set -- -pkcs12 "$AC_KEY" -h "$digest"
    [ "$passin" = pass: ] || set -- "$@" -readpass "$work/ac.pass"
    [ -z "$AC_DESCRIPTION" ] || set -- "$@" -n "$AC_DESCRIPTION"
    [ -z "$AC_URL" ] || set -- "$@" -i "$AC_URL"
    [ -z "$TSA" ] || set -- "$@" -ts "$TSA"
    rm -f "$work/signed"
    osslsigncode sign "$@" -in "$f" -out "$work/signed" >"$work/ossl.log" 2>&1 ||
        fail "osslsigncode could not sign $f: $(tail -n 2 "$work/ossl.log")"
    cat "$work/signed" >"$f"
    note "signed $f (Authenticode, $subject)"
done
for f in $debs; do
    # The origin signature first: it changes the .deb, which the detached one then covers.
    if [ "$DEBSIGS" = 1 ]; then
        debsigs --sign=origin --default-key="$fpr" "$f" || fail "debsigs could not sign $f"
        asc "$f"
        note "signed $f (origin signature and $f.asc) with $fpr"
    else
        asc "$f"
        note "signed $f ($f.asc) with $fpr"
    fi
done
for f in $rpms; do
    rpmsign --addsign --define "_gpg_name $fpr" --define "_gpg_digest_algo $digest" \
        --define "_gpg_path $GNUPGHOME" "$f" </dev/null >"$work/rpmsign.log" 2>&1 ||
        fail "rpmsign could not sign $f: $(tail -n 3 "$work/rpmsign.log")"
    note "signed $f (header signature) with $fpr"
done
# debsign signs each .changes' .dsc and .buildinfo, updates their checksums in the .changes,
# then signs the .changes; a .dsc no .changes lists is signed on its own.
for f in $changes; do
    (cd "$(dirname "$f")" && debsign --no-conf --re-sign -k"$fpr" "$(basename "$f")" </dev/null) >"$work/debsign.log" 2>&1 ||
        fail "debsign could not sign $f: $(tail -n 3 "$work/debsign.log")"
    note "signed $f and what it lists (clearsigned) with $fpr"
done
for f in $dscs; do
    gpgv --quiet --keyring "$work/keyring.gpg" "$f" 2>/dev/null && continue
    (cd "$(dirname "$f")" && debsign --no-conf --re-sign -k"$fpr" "$(basename "$f")" </dev/null) >"$work/debsign.log" 2>&1 ||
        fail "debsign could not sign $f: $(tail -n 3 "$work/debsign.log")"
    note "signed $f (clearsigned) with $fpr"
done
for f in $others; do
    asc "$f"
    note "signed $f ($f.asc) with $fpr"
done
if [ -n "$checksums" ]; then
    files -name '*' | xargs -d '\n' sha256sum >SHA256SUMS
    asc SHA256SUMS
    note "signed SHA256SUMS (SHA256SUMS.asc) with $fpr"
fi
if [ -n "$sigstore" ]; then
    export COSIGN_PASSWORD=
    if given "$COSIGN_PASS"; then
        secret_text "$COSIGN_PASS" "$work/cosign.pass"
        COSIGN_PASSWORD=$(cat "$work/cosign.pass")
    fi
    cosign public-key --key "$COSIGN_KEY" >"$work/cosign.pub" 2>"$work/cosign.log" ||
        fail "cannot use the cosign key in secret $COSIGN_KEY_ID (a wrong password in secret $COSIGN_PASS_ID?): $(tail -n 1 "$work/cosign.log")"
    for f in $(find . -type f ! -name '*.asc' ! -name '*.sigstore.json' | sed 's|^\./||' | sort); do
        cosign sign-blob --yes --key "$COSIGN_KEY" --tlog-upload=false --new-bundle-format \
            --bundle "$f.sigstore.json" "$f" >"$work/cosign.log" 2>&1 ||
            fail "cosign could not sign $f: $(tail -n 2 "$work/cosign.log")"
    done
    note "made a sigstore bundle (<file>.sigstore.json) for every file"
fi

# --- The self-check: every signature with the distros' own verifiers. ---
check=$work/check
mkdir -p "$check"
for sig in $made; do
    gpgv --quiet --keyring "$work/keyring.gpg" "$sig" "${sig%.asc}" 2>"$work/gpgv.log" ||
        fail "self-check: gpgv does not accept $sig: $(cat "$work/gpgv.log")"
done
if [ "$DEBSIGS" = 1 ] && [ -n "$debs" ]; then
    mkdir -p "$check/policies/$fpr" "$check/keyrings/$fpr"
    cp "$work/keyring.gpg" "$check/keyrings/$fpr/debsig.gpg"
    cat >"$check/policies/$fpr/kiln.pol" <<POLICY
<?xml version="1.0"?>
<!DOCTYPE Policy SYSTEM "https://www.debian.org/debsig/1.0/policy.dtd">
<Policy xmlns="https://www.debian.org/debsig/1.0/">
  <Origin Name="kiln-signer" id="$fpr" Description="kiln-signer self-check"/>
  <Selection><Required Type="origin" File="debsig.gpg" id="$fpr"/></Selection>
  <Verification MinOptional="0"><Required Type="origin" File="debsig.gpg" id="$fpr"/></Verification>
</Policy>
POLICY
    for f in $debs; do
        debsig-verify --policies-dir "$check/policies" --keyrings-dir "$check/keyrings" "$f" >"$work/debsig.log" 2>&1 ||
            fail "self-check: debsig-verify does not accept $f: $(cat "$work/debsig.log")"
    done
fi
if [ -n "$rpms" ]; then
    # rpm-sequoia, the strictest rpm verifier; an unsigned package passes `rpm -K` unless the
    # level is `signature`.
    rpmkeys --dbpath "$check/rpmdb" --import "$work/public.asc" >"$work/rpmkeys.log" 2>&1 ||
        fail "self-check: rpmkeys does not import key $fpr: $(cat "$work/rpmkeys.log")"
    for f in $rpms; do
        rpmkeys --dbpath "$check/rpmdb" --define '_pkgverify_level signature' --checksig -v "$f" >"$work/rpmkeys.log" 2>&1 ||
            fail "self-check: rpmkeys --checksig does not accept $f: $(cat "$work/rpmkeys.log")"
    done
fi
for f in $changes $dscs; do
    (cd "$(dirname "$f")" && dscverify --no-conf --keyring "$work/keyring.gpg" "$(basename "$f")") >"$work/dscverify.log" 2>&1 ||
        fail "self-check: dscverify does not accept $f: $(cat "$work/dscverify.log")"
done
for f in $authenticode; do
    set -- -CAfile "$work/ac-ca.pem"
    [ -z "$TSA" ] || set -- "$@" -TSA-CAfile "$work/ac-ca.pem"
    osslsigncode verify "$@" -in "$f" >"$work/ossl.log" 2>&1 ||
        fail "self-check: osslsigncode verify does not accept $f: $(tail -n 5 "$work/ossl.log")"
done
if [ -n "$checksums" ]; then
    sha256sum --quiet -c SHA256SUMS || fail "self-check: SHA256SUMS does not match the files"
fi
if [ -n "$sigstore" ]; then
    echo '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}' >"$work/trusted_root.json"
    for f in $(find . -type f ! -name '*.asc' ! -name '*.sigstore.json' | sed 's|^\./||' | sort); do
        cosign verify-blob --key "$work/cosign.pub" --bundle "$f.sigstore.json" --new-bundle-format \
            --trusted-root "$work/trusted_root.json" --insecure-ignore-tlog "$f" >"$work/cosign.log" 2>&1 ||
            fail "self-check: cosign verify-blob does not accept $f: $(tail -n 2 "$work/cosign.log")"
    done
fi
