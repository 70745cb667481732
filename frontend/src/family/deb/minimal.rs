//! Dalec's minimal image (`<distro>/container`): a root made from nothing but the distro's
//! essential packages, `passwd` and the spec's packages, then stripped to what the spec's
//! packages need, in one layer.
//!
//! 1. In the worker, apt resolves that set against an empty package database (so it fetches
//!    the whole closure, as mmdebstrap does) and every package is unpacked into an empty root
//!    (the merged-/usr links first where the release has them).
//! 2. That root is the root filesystem of the next step, which runs dpkg in it: maintainer
//!    scripts run where they would on a real system, with `/proc` and `/dev`. The
//!    `image.post` links are made here too, while the root still has a shell.
//! 3. In the worker again, every package outside the closure of the spec's packages'
//!    `Depends`/`Pre-Depends` (virtual packages through their providers) and `base-files`
//!    is removed by its file list, with dpkg and apt when unused; `/var/log` and the caches
//!    are emptied, manual pages and documents go (licenses and the spec's own stay), so do
//!    what removed packages' scripts left (their directories, dangling links), and every
//!    file is stamped no later than the build's time.
//! 4. The result is copied onto an empty image: one layer.

use super::{Package, copy_all};
use crate::build::{self, Context};
use crate::distro::Distro;
use crate::shell::quote;
use crate::spec::{RepoStage, Spec, SpecErrors};
use kiln_buildkit::llb::{Exec, FileActions, Mount, NetMode, State};

/// Where the packages of the root are collected.
const DEBS: &str = "/kiln/debs";
/// Where the root is made (and, in the last step, cleaned).
const ROOT: &str = "/kiln/root";
/// The file in [`DEBS`] that names the packages the image is for.
const WANTED: &str = "/kiln/debs/kiln-wanted";

/// The minimal image of the spec's packages (`packages`: the built `.deb`s at the root;
/// `glob`: the spec's among them, as a shell pattern and as shown).
pub fn image(
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
    packages: State,
    glob: &(String, String),
) -> Result<State, SpecErrors> {
    let worker = build::worker(distro, ctx);
    let name = &Package::new(spec, distro, ctx.source_date_epoch).name;
    let gather = build::package_manager_step(
        Exec::shell(gather_script(distro, glob)),
        spec,
        RepoStage::Install,
        distro,
        ctx,
    )?
    .mount(Mount::bind(build::PKG_MOUNT, packages).readonly())
    .mount(Mount::bind(DEBS, State::scratch()))
    .mount(Mount::bind(ROOT, State::scratch()))
    .name(format!(
        "[kiln {}] unpack the essential packages and {name} into an empty root",
        distro.key
    ));
    let gathered = worker.run(gather);
    let (Some(debs), Some(unpacked)) = (gathered.output(DEBS), gathered.output(ROOT)) else {
        return Ok(State::scratch());
    };
    let configure = Exec::shell(configure_script(&build::post_symlinks_script(spec)))
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("DEBIAN_FRONTEND", "noninteractive")
        .network(NetMode::None)
        .mount(Mount::bind(DEBS, debs.clone()).readonly())
        .name(format!(
            "[kiln {}] install the packages in the new root",
            distro.key
        ));
    let configured = unpacked.run(configure).root();
    let strip = Exec::shell(strip_script(ctx.source_date_epoch))
        .network(NetMode::None)
        .mount(Mount::bind(DEBS, debs).readonly())
        .mount(Mount::bind(ROOT, configured))
        .name(format!(
            "[kiln {}] remove what {name} does not need",
            distro.key
        ));
    let Some(stripped) = worker.run(strip).output(ROOT) else {
        return Ok(State::scratch());
    };
    Ok(State::scratch().file(
        FileActions::new().copy(&stripped, "/", "/", copy_all()),
        &format!("[kiln {}] the image in one layer", distro.key),
    ))
}

/// Step 1: the essential packages, `passwd` (for the spec's users) and the spec's packages
/// with everything they depend on, fetched as if nothing were installed, and unpacked.
fn gather_script(distro: &Distro, (glob, shown): &(String, String)) -> String {
    let config = distro.config;
    format!(
        r#"set -e
set -- {pkgs}/{glob}
[ -e "$1" ] || {{ echo {missing} >&2; exit 1; }}
{refresh}
: > /tmp/kiln-empty-status
essential=$(apt-cache dumpavail | awk 'BEGIN {{ RS = ""; FS = "\n" }}
  {{ p = ""; e = 0
     for (i = 1; i <= NF; i++) {{
       if ($i ~ /^Package: /) p = substr($i, 10)
       if ($i ~ /^Essential: yes/) e = 1
     }}
     if (e && p != "") print p }}' | sort -u)
# Merged /usr: the marker package, not usrmerge (which would convert a merged root).
merged=
if [ -L /bin ] && apt-cache show usr-is-merged >/dev/null 2>&1; then merged=usr-is-merged; fi
mkdir -p {debs}/partial
apt-get install --download-only -y --no-install-recommends \
  -o Dir::State::status=/tmp/kiln-empty-status -o Dir::Cache::archives={debs}/ \
  $essential $merged passwd "$@"
rm -rf {debs}/partial {debs}/lock
cp "$@" {debs}/
for deb in "$@"; do dpkg-deb -f "$deb" Package; done | sort -u > {wanted}
# The merged-/usr links of the release (the worker is the same release).
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then mkdir -p "{root}/usr/$d"; ln -s "usr/$d" "{root}/$d"; fi
done
for deb in {debs}/*.deb; do
  dpkg-deb --fsys-tarfile "$deb" | tar -xf - -C {root} --keep-directory-symlink
done
"#,
        pkgs = build::PKG_MOUNT,
        missing = quote(&format!("kiln: no {shown} among the packages to install")),
        refresh = config.refresh,
        debs = DEBS,
        root = ROOT,
        wanted = WANTED,
    )
}

/// Step 2, in the new root: dpkg's database, then every package installed and configured
/// (dependencies forced: they are all there, in whatever order dpkg takes them), then the
/// `image.post` links (`links`: their shell lines).
fn configure_script(links: &str) -> String {
    format!(
        r#"set -e
mkdir -p /var/lib/dpkg/info /var/lib/dpkg/updates /var/lib/dpkg/triggers
: > /var/lib/dpkg/status
: > /var/lib/dpkg/available
dpkg --force-depends --install {debs}/base-passwd_*.deb {debs}/base-files_*.deb
dpkg --force-depends --skip-same-version --install {debs}/*.deb
dpkg --configure --pending
{links}"#,
        debs = DEBS,
    )
}

/// Step 3, in the worker with the root at [`ROOT`]: the packages the wanted ones need (their
/// `Depends`/`Pre-Depends` closure, virtual packages through their installed providers,
/// every installed alternative), `base-files` too; every other package's files removed by
/// its file list (directories only when empty and no kept package owns them), its dpkg
/// records dropped; then logs, caches, backups, manual pages and documents (licenses and the
/// wanted packages' own excepted), and dangling alternatives; every file stamped no later
/// than `epoch`.
fn strip_script(epoch: i64) -> String {
    format!(
        r#"set -e
root={root}
adm="$root/var/lib/dpkg"
{{ cat {wanted}; echo base-files; }} > /tmp/kiln-wanted
awk -v wanted="$(cat /tmp/kiln-wanted)" '
function clean(s) {{ sub(/\(.*\)/, "", s); gsub(/[ \t]/, "", s); sub(/:.*/, "", s); return s }}
function add(p) {{ if (!(p in kept)) {{ kept[p] = 1; queue[tail++] = p }} }}
function want(n,   m, ps, j) {{
  if (n in installed) add(n)
  if (n in providers) {{ m = split(providers[n], ps, " "); for (j = 1; j <= m; j++) add(ps[j]) }}
}}
BEGIN {{ RS = ""; FS = "\n" }}
{{ p = ""; st = ""; deps = ""; prov = ""
   for (i = 1; i <= NF; i++) {{
     l = $i
     if (l ~ /^Package: /) p = substr(l, 10)
     else if (l ~ /^Status: /) st = l
     else if (l ~ /^(Depends|Pre-Depends): /) {{ sub(/^[^:]*: /, "", l); deps = deps "," l }}
     else if (l ~ /^Provides: /) {{ sub(/^Provides: /, "", l); prov = l }}
   }}
   if (p == "" || st !~ / installed$/) next
   installed[p] = 1; depends[p] = deps
   n = split(prov, ps, ","); for (j = 1; j <= n; j++) {{ v = clean(ps[j]); if (v != "") providers[v] = providers[v] " " p }}
}}
END {{
  n = split(wanted, w, "\n"); for (i = 1; i <= n; i++) if (w[i] != "") want(w[i])
  while (head < tail) {{
    p = queue[head++]; m = split(depends[p], ds, "[,|]")
    for (k = 1; k <= m; k++) {{ d = clean(ds[k]); if (d != "") want(d) }}
  }}
  for (p in kept) print p
}}' "$adm/status" | sort > /tmp/kiln-keep
dpkg-query --admindir="$adm" -W -f '${{Package}}\n' | sort -u > /tmp/kiln-all
comm -23 /tmp/kiln-all /tmp/kiln-keep > /tmp/kiln-drop
lists() {{ while IFS= read -r p; do cat "$adm/info/$p.list" "$adm/info/$p":*.list 2>/dev/null || true; done; }}
lists < /tmp/kiln-keep | sort -u > /tmp/kiln-kept-files
lists < /tmp/kiln-drop | sort -u | comm -23 - /tmp/kiln-kept-files > /tmp/kiln-remove
while IFS= read -r f; do
  if [ -d "$root$f" ]; then continue; fi
  rm -f "$root$f"
done < /tmp/kiln-remove
sort -r /tmp/kiln-remove | while IFS= read -r f; do
  if [ -d "$root$f" ] && [ ! -L "$root$f" ]; then rmdir "$root$f" 2>/dev/null || true; fi
done
while IFS= read -r p; do
  for s in list md5sums conffiles config postinst postrm preinst prerm shlibs symbols templates triggers; do
    rm -f "$adm/info/$p.$s" "$adm/info/$p":*".$s"
  done
done < /tmp/kiln-drop
awk -v keep="$(cat /tmp/kiln-keep)" 'BEGIN {{ RS = ""; FS = "\n"; ORS = "\n\n"; n = split(keep, k, "\n"); for (i = 1; i <= n; i++) kept[k[i]] = 1 }}
  {{ for (i = 1; i <= NF; i++) if ($i ~ /^Package: /) p = substr($i, 10); if (p in kept) print }}' "$adm/status" > /tmp/kiln-status
cp /tmp/kiln-status "$adm/status"
rm -f "$adm"/*-old "$adm/lock" "$adm/lock-frontend" "$adm/triggers/Lock"
rm -f "$root"/etc/passwd- "$root"/etc/group- "$root"/etc/shadow- "$root"/etc/gshadow-
rm -rf "$root"/var/log/* "$root"/var/cache/apt "$root"/var/cache/ldconfig "$root"/var/lib/apt "$root"/tmp/* "$root"/var/tmp/*
# Documents: licenses and the wanted packages' own stay.
lists < {wanted} | sort -u > /tmp/kiln-wanted-files
for d in usr/share/doc usr/share/man usr/share/info; do
  if [ -d "$root/$d" ]; then
    (cd "$root" && find "$d" ! -type d ! -name copyright) | sed 's|^|/|' | sort | comm -23 - /tmp/kiln-wanted-files |
      while IFS= read -r f; do rm -f "$root$f"; done
    find "$root/$d" -depth -mindepth 1 -type d -empty -delete
  fi
done
# Alternatives whose choice is gone, and the links to them (absolute: resolved in the root).
for l in "$root"/etc/alternatives/*; do
  if [ -L "$l" ] && [ ! -e "$root$(readlink "$l")" ]; then
    rm -f "$l" "$adm/alternatives/${{l##*/}}"
  fi
done
find "$root" -xdev -type l -lname '/etc/alternatives/*' | while IFS= read -r l; do
  if [ ! -L "$root$(readlink "$l")" ]; then rm -f "$l"; fi
done
# Directories only removed packages owned that hold nothing a kept one owns (what their
# scripts wrote: /etc/pam.d, /etc/systemd, ...), dpkg's database and the alternatives aside.
while IFS= read -r d; do
  case "$d" in /var/lib/dpkg|/var/lib/dpkg/*|/etc/alternatives|/*/*) ;; *) continue ;; esac
  case "$d" in /var/lib/dpkg|/var/lib/dpkg/*|/etc/alternatives) continue ;; esac
  if [ -d "$root$d" ] && [ ! -L "$root$d" ] && ! grep -q "^$d/" /tmp/kiln-kept-files; then rm -rf "$root$d"; fi
done < /tmp/kiln-remove
# Links left dangling (resolved in the root).
find "$root" -xdev -type l | while IFS= read -r l; do
  t=$(readlink "$l")
  case "$t" in /*) p="$root$t" ;; *) p="${{l%/*}}/$t" ;; esac
  if [ ! -e "$p" ] && ! grep -qxF "${{l#$root}}" /tmp/kiln-kept-files; then rm -f "$l"; fi
done
find "$root" -newermt @{epoch} -exec touch -h -d @{epoch} {{}} +
"#,
        root = ROOT,
        wanted = WANTED,
    )
}
