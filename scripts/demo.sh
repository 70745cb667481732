#!/usr/bin/env bash
# Packages specs/hello.yml for Debian bookworm with the kiln frontend, prints the .deb's path,
# then installs it in a clean bookworm container and runs the packaged program.
set -euo pipefail
cd "$(dirname "$0")/.."

out=out/bookworm
rm -rf "$out"
docker buildx build -f specs/hello.yml --target bookworm/deb --output "type=local,dest=$out" .
deb=$(ls "$out"/hello_*.deb)
echo
echo "built: $deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,/Description:/p'
echo
echo "running the packaged program in a clean debian:bookworm container:"
docker run --rm -v "$PWD/$out:/pkgs:ro" debian:bookworm \
  sh -c 'dpkg -i /pkgs/hello_*.deb >/dev/null && hello'
