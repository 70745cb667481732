//! Per-target overrides: the spec as one target sees it (reference/dalec.md §1.8).
//!
//! kiln follows Dalec's merge rules with two fixes: a target's `image.user` is applied, and
//! a target that sets some dependency lists keeps the root's `sysext` list.

use super::model::{Dependencies, DependencyList, ImageConfig, Spec, Target};

/// The spec with the overrides of `targets.<key>` applied (the `targets` map is emptied).
pub fn for_target(spec: &Spec, key: &str) -> Spec {
    let mut out = spec.clone();
    out.targets.clear();
    let Some(t) = spec.targets.get(key) else {
        return out;
    };
    let t: &Target = t;
    if let Some(deps) = &t.dependencies {
        out.dependencies = Some(merge_dependencies(spec.dependencies.as_ref(), deps));
    }
    if let Some(img) = &t.image {
        out.image = Some(match &spec.image {
            Some(root) => merge_image(root.clone(), img),
            None => img.clone(),
        });
    }
    if let Some(a) = &t.artifacts {
        out.artifacts = Some(a.clone());
    }
    out.tests.extend(t.tests.iter().cloned());
    if let Some(p) = &t.package_config {
        out.package_config = Some(p.clone());
    }
    for (dst, src) in [
        (&mut out.conflicts, &t.conflicts),
        (&mut out.replaces, &t.replaces),
        (&mut out.provides, &t.provides),
    ] {
        if src.is_some() {
            *dst = src.clone();
        }
    }
    out
}

fn non_empty(list: &Option<DependencyList>) -> bool {
    list.as_ref().is_some_and(|l| !l.0.is_empty())
}

fn merge_dependencies(root: Option<&Dependencies>, target: &Dependencies) -> Dependencies {
    let Some(root) = root else {
        return target.clone();
    };
    let mut out = root.clone();
    let t = &target;
    for (dst, src) in [
        (&mut out.build, &t.build),
        (&mut out.runtime, &t.runtime),
        (&mut out.recommends, &t.recommends),
        (&mut out.test, &t.test),
        (&mut out.sysext, &t.sysext),
    ] {
        if non_empty(src) {
            *dst = src.clone();
        }
    }
    if !t.extra_repos.is_empty() {
        out.extra_repos = t.extra_repos.clone();
    }
    out
}

fn merge_image(mut root: ImageConfig, t: &ImageConfig) -> ImageConfig {
    if t.entrypoint.is_some() {
        root.entrypoint = t.entrypoint.clone();
    }
    if t.cmd.is_some() {
        root.cmd = t.cmd.clone();
    }
    if t.working_dir.is_some() {
        root.working_dir = t.working_dir.clone();
    }
    if t.stop_signal.is_some() {
        root.stop_signal = t.stop_signal.clone();
    }
    if t.user.is_some() {
        root.user = t.user.clone();
    }
    if t.base.is_some() {
        root.base = t.base.clone();
    }
    root.env.extend(t.env.iter().cloned());
    root.labels
        .extend(t.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    root.volumes
        .extend(t.volumes.iter().map(|(k, v)| (k.clone(), v.clone())));
    if t.post.is_some() {
        root.post = t.post.clone();
    }
    if t.bases.is_some() {
        root.bases = t.bases.clone();
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load;

    const SPEC: &str = "name: a\nversion: '1'\n\
dependencies:\n  build: {gcc: }\n  runtime: {libc: }\n  sysext: {s: }\n\
image:\n  entrypoint: a\n  env: [A=1]\n  labels: {x: '1'}\n  user: root\n\
tests:\n  - name: root\n\
provides: {p1: }\n\
targets:\n  bookworm:\n    dependencies:\n      build: {clang: }\n    image:\n      cmd: --help\n      env: [B=2]\n      labels: {y: '2'}\n      user: nobody\n    tests:\n      - name: extra\n    provides: {p2: }\n";

    #[test]
    fn applies_dalec_merge_rules() {
        let s = load("spec.yml", SPEC).unwrap();
        let m = for_target(&s, "bookworm");
        let d = &m.dependencies.as_ref().unwrap();
        assert!(d.build.as_ref().unwrap().0.contains_key("clang"));
        assert!(!d.build.as_ref().unwrap().0.contains_key("gcc"));
        assert!(
            d.runtime.as_ref().unwrap().0.contains_key("libc"),
            "empty target list inherits"
        );
        assert!(d.sysext.is_some(), "kiln keeps sysext");
        let img = &m.image.as_ref().unwrap();
        assert_eq!(img.entrypoint.as_ref().unwrap().value, "a");
        assert_eq!(img.cmd.as_ref().unwrap().value, "--help");
        assert_eq!(
            img.env.iter().map(|e| e.value.as_str()).collect::<Vec<_>>(),
            ["A=1", "B=2"]
        );
        assert_eq!(img.labels.len(), 2);
        assert_eq!(
            img.user.as_deref(),
            Some("nobody"),
            "kiln applies the target's user"
        );
        assert_eq!(m.tests.len(), 2);
        assert!(m.provides.unwrap().0.contains_key("p2"));
        assert!(m.targets.is_empty());
    }

    #[test]
    fn other_targets_see_the_root() {
        let s = load("spec.yml", SPEC).unwrap();
        let m = for_target(&s, "trixie");
        assert!(m.dependencies.unwrap().build.unwrap().0.contains_key("gcc"));
        assert_eq!(m.tests.len(), 1);
    }
}
