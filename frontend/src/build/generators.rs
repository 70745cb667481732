//! Dependency generators (`gomod`, `cargohome`, `pip`, `nodemod`): fetch a source's
//! dependencies with the network, in the build worker, before the build runs offline.
//!
//! Go modules, crates and Python packages land in `.kiln-deps/<kind>` of the package
//! directory, and the build script points the tools there; `nodemod` installs
//! `node_modules` into the source itself, as Dalec does.

use crate::build::sources::SourceInputs;
use crate::shell::quote;
use crate::spec::{
    GeneratorGomod, GeneratorKind, GomodEdits, GomodSsh, Located, SourceGenerator, Spec,
};
use kiln_buildkit::llb::{CopyOptions, Exec, FileActions, Mount, NetMode, State};

/// The directory of the package tree that holds fetched dependencies.
pub const DEPS_DIR: &str = ".kiln-deps";
/// Where the package tree is mounted while generating.
const ROOT: &str = "/build";
/// Where a generator writes what it fetched.
const OUT: &str = "/run/kiln/deps";

/// The kinds of generators the spec uses anywhere, for the build environment.
fn used(spec: &Spec) -> impl Iterator<Item = &SourceGenerator> {
    spec.sources
        .values()
        .flat_map(|s| s.value.generate.iter().map(|g| &g.value))
}

/// Whether the spec has a generator of `kind` (`gomod`, `cargohome`, `pip`, `nodemod`).
pub fn uses(spec: &Spec, kind: &str) -> bool {
    used(spec).any(|g| g.kind().is_some_and(|k| k.name() == kind))
}

/// For a spec with a gomod generator whose Go comes from a versioned package (a build
/// dependency `golang-1.22-go` and no `golang`), that package's `bin` directories
/// (`/usr/lib/go-1.22/bin`), in the dependencies' order: Dalec puts the first that exists on
/// PATH for the gomod generators and the build; a directory that does not exist costs
/// nothing there.
pub fn versioned_go_paths(spec: &Spec) -> Vec<String> {
    let deps = || super::caches::build_dependencies(spec);
    if !uses(spec, "gomod") || deps().any(|name| name == "golang") {
        return Vec::new();
    }
    deps()
        .filter_map(|name| {
            let version = name.strip_prefix("golang-")?;
            let version = version.split('-').next().unwrap_or(version);
            // `golang-1.22-go`, not `golang-go` or `golang-doc`.
            version
                .starts_with(|c: char| c.is_ascii_digit())
                .then(|| format!("/usr/lib/go-{version}/bin"))
        })
        .collect()
}

/// An `export PATH=` line that puts [`versioned_go_paths`] first, or nothing.
fn go_path_export(spec: &Spec) -> String {
    let paths = versioned_go_paths(spec);
    if paths.is_empty() {
        return String::new();
    }
    format!("export PATH=\"{}:$PATH\"\n", paths.join(":"))
}

/// `export` lines for the build script: the tools find the fetched dependencies and do not
/// reach for the network.
pub fn build_env(spec: &Spec) -> String {
    let mut out = go_path_export(spec);
    if used(spec).any(|g| g.gomod.is_some()) {
        out.push_str(&format!(
            "export GOMODCACHE=\"$PWD/{DEPS_DIR}/gomod\" GOPROXY=off GOFLAGS=-mod=mod\n"
        ));
    }
    if used(spec).any(|g| g.cargohome.is_some()) {
        out.push_str(&format!(
            "export CARGO_HOME=\"$PWD/{DEPS_DIR}/cargohome\" CARGO_NET_OFFLINE=true\n"
        ));
    }
    if used(spec).any(|g| g.pip.is_some()) {
        out.push_str(&format!(
            "export PIP_FIND_LINKS=\"$PWD/{DEPS_DIR}/pip\" PIP_NO_INDEX=1\n"
        ));
    }
    out
}

fn paths(list: &[Located<String>]) -> Vec<String> {
    if list.is_empty() {
        vec![".".to_string()]
    } else {
        list.iter().map(|p| p.value.clone()).collect()
    }
}

/// Where the secrets of private Go module hosts are mounted (one directory per host).
const GOMOD_SECRETS: &str = "/run/kiln/gomod-auth";

/// Access to private Go module hosts (`gomod.auth`): each host's secret is mounted for the
/// download only, and git sends it as an `Authorization` header to that host (a token as
/// Basic `x-access-token:<token>`, as Dalec's credential helper does, or a whole header),
/// through `GIT_CONFIG_*` variables so no file keeps it. The hosts join `GOPRIVATE`, so Go
/// fetches them directly rather than through a proxy or checksum database.
fn gomod_auth(gomod: &GeneratorGomod, source: &str) -> (String, Vec<Mount>) {
    if gomod.auth.is_empty() {
        return (String::new(), Vec::new());
    }
    let mut script = String::from(
        "n=0\nadd_git_config() { export GIT_CONFIG_KEY_$n=\"$1\" GIT_CONFIG_VALUE_$n=\"$2\"; n=$((n + 1)); export GIT_CONFIG_COUNT=$n; }\n",
    );
    let mut mounts = Vec::new();
    let mut hosts = Vec::new();
    for (host, auth) in &gomod.auth {
        let (kind, id) = match (&auth.token, &auth.header, &auth.ssh) {
            (Some(id), _, _) => ("token", id),
            (None, Some(id), _) => ("header", id),
            (None, None, Some(ssh)) => {
                script.push_str(&gomod_ssh(host, ssh, source, &mut mounts));
                hosts.push(host.split(':').next().unwrap_or(host).to_string());
                continue;
            }
            (None, None, None) => continue,
        };
        let secret = format!("{GOMOD_SECRETS}/{host}/{kind}");
        mounts.push(Mount::secret(&secret, id).optional());
        // A missing secret is named with what needs it (the step points at the source's line).
        script.push_str(&format!(
            "[ -r {} ] || {{ echo {} >&2; exit 1; }}\n",
            quote(&secret),
            quote(&format!(
                "kiln: secret {id:?} (the {kind} for Go module host {host}, gomod auth of source {source}) was not given: pass --secret id={id},src=FILE"
            ))
        ));
        let header = if kind == "token" {
            format!(
                "\"Authorization: Basic $(printf 'x-access-token:%s' \"$(cat {})\" | base64 -w0)\"",
                quote(&secret)
            )
        } else {
            format!("\"Authorization: $(cat {})\"", quote(&secret))
        };
        for scheme in ["https", "http"] {
            script.push_str(&format!(
                "add_git_config {} {header}\n",
                quote(&format!("http.{scheme}://{host}/.extraHeader"))
            ));
        }
        hosts.push(host.split(':').next().unwrap_or(host).to_string());
    }
    script.push_str(&format!(
        "export GOPRIVATE=\"${{GOPRIVATE:+$GOPRIVATE,}}\"{}\n",
        quote(&hosts.join(","))
    ));
    (script, mounts)
}

/// SSH access to the Go module host `host` (`name` or `name:port`), as Dalec gives it: git
/// fetches `https://name/…` over `ssh://<username or git>@host/…` with the `--ssh` agent
/// `ssh.id` (default `default`), mounted for the download only and named in an ssh config
/// for that host alone, so each host uses its own agent. Host keys are not checked (as in
/// Dalec). A missing `--ssh` is named with what needs it. Returns the script lines.
fn gomod_ssh(host: &str, ssh: &GomodSsh, source: &str, mounts: &mut Vec<Mount>) -> String {
    let id = ssh
        .id
        .as_deref()
        .filter(|i| !i.is_empty())
        .unwrap_or("default");
    let user = ssh
        .username
        .as_deref()
        .filter(|u| !u.is_empty())
        .unwrap_or("git");
    let name = host.split(':').next().unwrap_or(host);
    let socket = format!("{GOMOD_SECRETS}/{host}/ssh-agent.sock");
    mounts.push(Mount::ssh_optional(&socket, id));
    let config = format!(
        "Host {name}\n  IdentityAgent {socket}\n  IdentitiesOnly no\n  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n  LogLevel ERROR\n"
    );
    format!(
        "[ -S {sock} ] || {{ echo {missing} >&2; exit 1; }}\nprintf '%s' {config} >> {GOMOD_SSH_CONFIG}\nexport GIT_SSH_COMMAND=\"ssh -F {GOMOD_SSH_CONFIG}\"\nadd_git_config {key} {from}\n",
        sock = quote(&socket),
        missing = quote(&format!(
            "kiln: SSH agent {id:?} (for Go module host {host}, gomod auth of source {source}) was not given: pass --ssh {id}=SOCKET (such as $SSH_AUTH_SOCK)"
        )),
        config = quote(&config),
        key = quote(&format!("url.ssh://{user}@{host}/.insteadOf")),
        from = quote(&format!("https://{name}/")),
    )
}

/// The ssh config the gomod SSH hosts are written to (in the generator's container only).
const GOMOD_SSH_CONFIG: &str = "/tmp/kiln-gomod-ssh-config";

/// A replacement `path@vN…` for N ≥ 2 whose path has no `/vN` suffix gets `+incompatible`,
/// as Dalec writes it (Go requires it of such versions).
fn incompatible(module: &str) -> String {
    let Some((path, version)) = module.split_once('@') else {
        return module.to_string();
    };
    let major: u64 = version
        .strip_prefix('v')
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major >= 2 && !path.ends_with(&format!("/v{major}")) && !version.contains('+') {
        format!("{path}@{version}+incompatible")
    } else {
        module.to_string()
    }
}

/// `gomod.edits`: `go mod edit` for each dropped requirement and replacement, then `go mod
/// tidy` (and `go mod vendor` where the module vendors), before the download.
fn gomod_edits(edits: &GomodEdits) -> String {
    let mut out = String::new();
    for r in &edits.replace {
        let pair = format!("{}={}", r.old, incompatible(&r.new));
        out.push_str(&format!(" && go mod edit -replace={}", quote(&pair)));
    }
    for m in &edits.drop {
        out.push_str(&format!(" && go mod edit -droprequire={}", quote(&m.value)));
    }
    if !out.is_empty() {
        out.push_str(" && go mod tidy && { [ ! -d vendor ] || go mod vendor; }");
    }
    out
}

/// Whether a generator changes the source itself (not only fetches into [`OUT`]).
fn changes_source(g: &SourceGenerator) -> bool {
    g.nodemod.is_some()
        || g.gomod
            .as_ref()
            .and_then(|m| m.edits.as_ref())
            .is_some_and(|e| !e.replace.is_empty() || !e.drop.is_empty())
}

/// The script of one generator run in `src` (absolute), writing into [`OUT`]; `goproxy` is
/// `DALEC_GOMOD_PROXY` when given.
fn script(g: GeneratorKind, src: &str, goproxy: Option<&str>) -> (String, &'static str) {
    let mut s = String::from("set -e\n");
    let dirs = |list: &[Located<String>]| {
        paths(list)
            .into_iter()
            .map(|p| quote(&format!("{src}/{p}")))
            .collect::<Vec<_>>()
    };
    match g {
        GeneratorKind::Gomod(gomod) => {
            let env = format!("GOMODCACHE={OUT}/gomod GOFLAGS=-mod=mod");
            let edits = gomod.edits.as_ref().map(gomod_edits).unwrap_or_default();
            if edits.is_empty() && goproxy.is_none() {
                // The form of the steps before edits existed: their cache stays valid.
                for d in dirs(&gomod.paths) {
                    s.push_str(&format!("(cd {d} && {env} go mod download)\n"));
                }
            } else {
                s.push_str(&format!("export {env}\n"));
                if let Some(proxy) = goproxy {
                    s.push_str(&format!("export GOPROXY={}\n", quote(proxy)));
                }
                for d in dirs(&gomod.paths) {
                    s.push_str(&format!("(cd {d}{edits} && go mod download)\n"));
                }
            }
        }
        GeneratorKind::Cargohome(cargo) => {
            for d in dirs(&cargo.paths) {
                s.push_str(&format!(
                    "(cd {d} && CARGO_HOME={OUT}/cargohome cargo fetch)\n"
                ));
            }
        }
        GeneratorKind::Pip(pip) => {
            let req = pip
                .requirements_file
                .as_deref()
                .unwrap_or("requirements.txt");
            let mut index = String::new();
            if let Some(url) = &pip.index_url {
                index.push_str(&format!(" --index-url {}", quote(url)));
            }
            for url in &pip.extra_index_urls {
                index.push_str(&format!(" --extra-index-url {}", quote(url)));
            }
            for d in dirs(&pip.paths) {
                s.push_str(&format!(
                    "(cd {d} && pip download --no-binary=:all: --dest {OUT}/pip{index} -r {})\n",
                    quote(req)
                ));
            }
        }
        GeneratorKind::Nodemod(npm) => {
            let registry = npm
                .registry
                .as_ref()
                .map(|r| format!(" --registry={}", quote(r)))
                .unwrap_or_default();
            for d in dirs(&npm.paths) {
                s.push_str(&format!("(cd {d} && npm install{registry})\n"));
            }
        }
    }
    (s, g.name())
}

/// Runs every generator of the spec on `builder` (the worker with the build dependencies,
/// so the spec's own toolchain is used) over the sources in `tree` under `dir`, and returns
/// the tree with the fetched dependencies added.
pub fn generate(
    mut tree: State,
    builder: &State,
    spec: &Spec,
    dir: &str,
    inp: &SourceInputs,
) -> State {
    let goproxy = inp
        .opts
        .build_args()
        .get("DALEC_GOMOD_PROXY")
        .filter(|p| !p.is_empty())
        .cloned();
    for (key, src) in &spec.sources {
        for g in &src.value.generate {
            let sub = g.subpath.as_ref().map_or("", |s| s.value.trim_matches('/'));
            let src_dir = if sub.is_empty() {
                format!("{ROOT}{dir}/{key}")
            } else {
                format!("{ROOT}{dir}/{key}/{sub}")
            };
            // Validation gave every generator exactly one kind.
            let Some(generator) = g.kind() else { continue };
            let (script, kind) = script(generator, &src_dir, goproxy.as_deref());
            let (auth_script, secrets) = g
                .gomod
                .as_ref()
                .map(|m| gomod_auth(m, key))
                .unwrap_or_default();
            // The build's environment applies (proxies, GOPRIVATE, registries, ...).
            let env = spec.build.iter().flat_map(|b| b.env.iter());
            let go_path = if g.gomod.is_some() {
                go_path_export(spec)
            } else {
                String::new()
            };
            let script = go_path + &auth_script + &script;
            let exec = env.fold(Exec::shell(script), |e, (k, v)| e.env(k, &v.value));
            let exec = secrets.into_iter().fold(exec, Exec::mount);
            let run = builder.run(
                exec.network(NetMode::Sandbox)
                    .mount(Mount::bind(ROOT, tree.clone()))
                    .mount(Mount::bind(OUT, State::scratch()))
                    .name(format!("[kiln] {kind} generator for {key}")),
            );
            let line = src.pos.line;
            if changes_source(g) {
                tree = run
                    .output(ROOT)
                    .unwrap_or_default()
                    .with_location(line, line);
            }
            if kind == "nodemod" {
                continue;
            }
            let fetched = run
                .output(OUT)
                .unwrap_or_default()
                .with_location(line, line);
            // Dalec's global source filter applies to what generators fetch too.
            let opts = CopyOptions {
                dir_copy_contents: true,
                create_dest_path: true,
                exclude_patterns: inp.global_excludes.to_vec(),
                ..Default::default()
            };
            tree = tree.file(
                FileActions::new().copy(&fetched, "/", &format!("{dir}/{DEPS_DIR}"), opts),
                &format!("[kiln] add {kind} dependencies of {key}"),
            );
        }
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::load;

    fn first_script(yaml: &str, goproxy: Option<&str>) -> String {
        let spec = load("spec.yml", yaml).unwrap();
        let g = &spec.sources["src"].value.generate[0].value;
        script(g.kind().unwrap(), "/build/src", goproxy).0
    }

    #[test]
    fn the_global_source_filter_applies_to_what_generators_fetch() {
        let yaml = "sources:\n  src:\n    inline: {dir: {}}\n    generate:\n      - gomod: {}\n";
        let spec = load("spec.yml", yaml).unwrap();
        let opts = kiln_buildkit::options::BuildOpts::default();
        let built = std::collections::BTreeMap::new();
        let excludes = ["**/*.md".to_string()];
        let inp = SourceInputs {
            opts: &opts,
            file: "spec.yml",
            text: yaml,
            platform: Default::default(),
            built: &built,
            global_excludes: &excludes,
            tool_image: "docker.io/library/debian:bookworm",
        };
        let tree = generate(State::scratch(), &State::scratch(), &spec, "", &inp);
        let json = kiln_buildkit::llb::definition_to_json(&tree.marshal()).to_string();
        assert!(json.contains("\"excludePatterns\":[\"**/*.md\"]"), "{json}");
    }

    #[test]
    fn ssh_auth_rewrites_the_hosts_https_to_ssh_with_its_own_agent() {
        let yaml = "sources:\n  src:\n    inline: {dir: {}}\n    generate:\n      - gomod:\n          auth:\n            git.example.com:2222:\n              ssh: {id: corp}\n            other.example.com:\n              ssh: {}\n";
        let spec = load("spec.yml", yaml).unwrap();
        let gomod = spec.sources["src"].value.generate[0]
            .value
            .gomod
            .clone()
            .unwrap();
        let (script, mounts) = gomod_auth(&gomod, "src");
        assert_eq!(mounts.len(), 2);
        for line in [
            "[ -S /run/kiln/gomod-auth/git.example.com:2222/ssh-agent.sock ] || { echo 'kiln: SSH agent \"corp\" (for Go module host git.example.com:2222, gomod auth of source src) was not given: pass --ssh corp=SOCKET (such as $SSH_AUTH_SOCK)' >&2; exit 1; }",
            "add_git_config url.ssh://git@git.example.com:2222/.insteadOf https://git.example.com/",
            "add_git_config url.ssh://git@other.example.com/.insteadOf https://other.example.com/",
            "export GIT_SSH_COMMAND=\"ssh -F /tmp/kiln-gomod-ssh-config\"",
            "export GOPRIVATE=\"${GOPRIVATE:+$GOPRIVATE,}\"git.example.com,other.example.com",
        ] {
            assert!(script.contains(line), "{line}\nnot in\n{script}");
        }
        assert!(script.contains("Host git.example.com\n  IdentityAgent /run/kiln/gomod-auth/git.example.com:2222/ssh-agent.sock\n"), "{script}");
        assert!(
            script.contains("pass --ssh default=SOCKET"),
            "the default id"
        );
    }

    #[test]
    fn a_versioned_go_package_puts_its_bin_directory_on_path_for_gomod() {
        let with = |deps: &str, generate: &str| {
            let yaml = format!(
                "dependencies:\n  build:\n{deps}sources:\n  src:\n    inline: {{dir: {{}}}}\n    generate:\n      - {generate}: {{}}\n"
            );
            versioned_go_paths(&load("spec.yml", &yaml).unwrap())
        };
        assert_eq!(
            with(
                "    golang-1.22-go:\n    golang-1.19:\n    golang-doc:\n",
                "gomod"
            ),
            ["/usr/lib/go-1.19/bin", "/usr/lib/go-1.22/bin"]
        );
        assert!(with("    golang-1.22-go:\n    golang:\n", "gomod").is_empty());
        assert!(with("    golang-go:\n", "gomod").is_empty());
        assert!(with("    golang-1.22-go:\n", "pip").is_empty());
        let yaml = "dependencies:\n  build:\n    golang-1.22-go:\nsources:\n  src:\n    inline: {dir: {}}\n    generate:\n      - gomod: {}\n";
        assert!(
            build_env(&load("spec.yml", yaml).unwrap())
                .starts_with("export PATH=\"/usr/lib/go-1.22/bin:$PATH\"\n")
        );
    }

    #[test]
    fn gomod_edits_and_the_proxy_come_before_the_download() {
        let s = first_script(
            "sources:\n  src:\n    inline: {dir: {}}\n    generate:\n      - gomod:\n          edits:\n            drop: [example.com/unused]\n            replace:\n              - example.com/a => example.com/fork@v2.1.0\n              - {old: example.com/b, new: ../b}\n",
            Some("https://proxy.example.com"),
        );
        assert!(
            s.contains("export GOPROXY=https://proxy.example.com\n"),
            "{s}"
        );
        assert!(
            s.contains("(cd /build/src/. && go mod edit -replace=example.com/a=example.com/fork@v2.1.0+incompatible && go mod edit -replace=example.com/b=../b && go mod edit -droprequire=example.com/unused && go mod tidy && { [ ! -d vendor ] || go mod vendor; } && go mod download)"),
            "{s}"
        );
        assert_eq!(
            incompatible("example.com/x/v2@v2.0.0"),
            "example.com/x/v2@v2.0.0"
        );
        assert_eq!(incompatible("example.com/x@v1.2.0"), "example.com/x@v1.2.0");
        assert_eq!(incompatible("example.com/x"), "example.com/x");
        let e = load(
            "spec.yml",
            "sources:\n  src:\n    inline: {dir: {}}\n    generate:\n      - gomod:\n          edits:\n            replace: [example.com/a]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("spec.yml:7:23: "), "{e}");
        assert!(e.contains("a replacement is \"old => new\""), "{e}");
    }

    #[test]
    fn nodemod_uses_the_registry() {
        let s = first_script(
            "sources:\n  src:\n    inline: {dir: {}}\n    generate:\n      - nodemod: {registry: 'https://npm.example.com/'}\n",
            None,
        );
        assert!(
            s.contains("npm install --registry=https://npm.example.com/)"),
            "{s}"
        );
    }
}
