# kiln-signer's signing step, run in the signing worker with the artifacts at $OUT, the key as
# BuildKit secrets and a tmpfs GNUPGHOME. Every failure says what is wrong and exits non-zero:
# nothing is exported half-signed.
set -eu

fail() { echo "kiln-signer: $*" >&2; exit 1; }

[ -s "$KEY" ] || fail "secret $KEY_ID was not given: pass --secret id=$KEY_ID,src=FILE (an armored OpenPGP secret key)"
chmod 700 "$GNUPGHOME"
{
    echo batch
    echo pinentry-mode loopback
    echo digest-algo SHA512
    echo personal-digest-preferences SHA512 SHA384 SHA256
} >"$GNUPGHOME/gpg.conf"
if [ -e "$PASS" ]; then
    # One trailing newline is not part of the passphrase (`echo pass > file`).
    if [ "$(tail -c 1 "$PASS" | od -An -c | tr -d ' ')" = '\n' ]; then
        head -c -1 "$PASS" >"$GNUPGHOME/pass"
    else
        cat "$PASS" >"$GNUPGHOME/pass"
    fi
    echo "passphrase-file $GNUPGHOME/pass" >>"$GNUPGHOME/gpg.conf"
fi
gpg --quiet --import "$KEY" 2>"$GNUPGHOME/import.log" ||
    fail "secret $KEY_ID is not an OpenPGP secret key gpg can read: $(tail -n 1 "$GNUPGHOME/import.log")"

# The first secret key: its primary must sign (bookworm's debsig-verify cannot check a signing
# subkey) and pass the policy (the tools themselves sign with weak keys without a word).
keys=$(gpg --with-colons --list-secret-keys)
sec=$(printf '%s\n' "$keys" | grep '^sec:' | head -n 1)
[ -n "$sec" ] || fail "secret $KEY_ID holds no secret key (a public key only?)"
fpr=$(printf '%s\n' "$keys" | awk -F: '/^sec:/ { s = 1; next } s && /^fpr:/ { print $10; exit }')
validity=$(echo "$sec" | cut -d: -f2)
bits=$(echo "$sec" | cut -d: -f3)
algo=$(echo "$sec" | cut -d: -f4)
caps=$(echo "$sec" | cut -d: -f12)
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
echo probe | gpg --local-user "$fpr" --sign -o /dev/null 2>"$GNUPGHOME/probe.log" ||
    fail "cannot sign with key $fpr (a passphrase-protected key needs --secret id=$PASS_ID,src=FILE; a wrong passphrase fails the same way): $(tail -n 1 "$GNUPGHOME/probe.log")"

cd "$OUT"
signed=0
for deb in $(find . -name '*.deb' -type f | sort); do
    # The origin signature first: it changes the .deb, which the detached one then covers.
    debsigs --sign=origin --default-key="$fpr" "$deb" || fail "debsigs could not sign $deb"
    gpg --local-user "$fpr" --armor --detach-sign -o "$deb.asc" "$deb"
    echo "kiln-signer: signed ${deb#./} (origin signature and ${deb#./}.asc) with $fpr"
    signed=$((signed + 1))
done
[ "$signed" -gt 0 ] || fail "no artifact it can sign among: $(find . -type f | sed 's|^\./||' | tr '\n' ' ')"
find . -type f ! -name '*.asc' ! -name SHA256SUMS | sed 's|^\./||' | sort | xargs -d '\n' sha256sum >SHA256SUMS
gpg --local-user "$fpr" --armor --detach-sign -o SHA256SUMS.asc SHA256SUMS

# Every signature is checked with the distros' own verifiers before anything is returned.
check=$GNUPGHOME/check
mkdir -p "$check/policies/$fpr" "$check/keyrings/$fpr"
gpg --export "$fpr" >"$check/keyring.gpg"
cp "$check/keyring.gpg" "$check/keyrings/$fpr/debsig.gpg"
cat >"$check/policies/$fpr/kiln.pol" <<POLICY
<?xml version="1.0"?>
<!DOCTYPE Policy SYSTEM "https://www.debian.org/debsig/1.0/policy.dtd">
<Policy xmlns="https://www.debian.org/debsig/1.0/">
  <Origin Name="kiln-signer" id="$fpr" Description="kiln-signer self-check"/>
  <Selection><Required Type="origin" File="debsig.gpg" id="$fpr"/></Selection>
  <Verification MinOptional="0"><Required Type="origin" File="debsig.gpg" id="$fpr"/></Verification>
</Policy>
POLICY
for sig in $(find . -name '*.asc' -type f | sort); do
    gpgv --quiet --keyring "$check/keyring.gpg" "$sig" "${sig%.asc}" 2>"$GNUPGHOME/gpgv.log" ||
        fail "self-check: gpgv does not accept ${sig#./}: $(cat "$GNUPGHOME/gpgv.log")"
done
for deb in $(find . -name '*.deb' -type f | sort); do
    debsig-verify --policies-dir "$check/policies" --keyrings-dir "$check/keyrings" "$deb" >"$GNUPGHOME/debsig.log" 2>&1 ||
        fail "self-check: debsig-verify does not accept ${deb#./}: $(cat "$GNUPGHOME/debsig.log")"
done
sha256sum --quiet -c SHA256SUMS || fail "self-check: SHA256SUMS does not match the files"
