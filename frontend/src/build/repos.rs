//! The spec's extra package repositories (`dependencies.extra_repos`) as mounts for the
//! package-manager steps of one stage, where the family's config puts them (for Debian, as
//! Dalec does: each `config` source at `/etc/apt/sources.list.d/<name>.list`, each key at
//! `/usr/share/keyrings/<name>`), each `data` mount at its destination. They are mounted for the step only: the built image keeps no trace
//! of them.

use crate::build::sources::{self, SourceInputs};
use crate::family::FamilyConfig;
use crate::spec::{Located, Mode, RepoStage, Source, SourceMount, Spec, SpecError, SpecErrors};
use kiln_buildkit::llb::Mount;

/// The file name of a repository list: `.list` (one-line format) unless it already ends in
/// `.list` or `.sources` (deb822 format, which Dalec would spoil by appending `.list`).
fn list_file(name: &str, config: &FamilyConfig) -> String {
    let suffixes = config.repo_list_suffixes;
    if suffixes.iter().any(|s| name.ends_with(&format!(".{s}"))) {
        name.to_string()
    } else {
        format!("{name}.{}", suffixes.first().copied().unwrap_or("list"))
    }
}

/// The mounts that show the spec's repositories for `stage` to the package manager.
pub fn mounts(
    spec: &Spec,
    stage: RepoStage,
    config: &FamilyConfig,
    inp: &SourceInputs,
) -> Result<Vec<Mount>, SpecErrors> {
    let repos = spec
        .dependencies
        .as_ref()
        .map_or(&[][..], |d| &d.extra_repos[..]);
    let mut out = Vec::new();
    let mut errors: Vec<SpecError> = Vec::new();
    let mut add = |dest: String, src: &Located<Source>| {
        let m = SourceMount {
            dest: Located::new(dest, src.pos),
            spec: src.clone(),
        };
        match sources::mount(&m, inp) {
            Ok(mount) => out.push(mount),
            Err(e) => errors.push(e),
        }
    };
    for repo in repos.iter().filter(|r| r.serves(stage)) {
        for (name, src) in &repo.config {
            add(
                format!("{}/{}", config.repo_lists_dir, list_file(name, config)),
                src,
            );
        }
        for (name, src) in &repo.keys {
            // Package managers may read keys unprivileged (apt as _apt): a key must be readable.
            let mut key = src.clone();
            if let Some(http) = key.value.http.as_mut() {
                http.permissions = Some(Located::new(Mode(0o644), src.pos));
            }
            add(format!("{}/{name}", config.repo_keys_dir), &key);
        }
        for data in &repo.data {
            add(data.dest.value.clone(), &data.spec);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(SpecErrors(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_files_keep_deb822_names() {
        let apt = &crate::family::deb::APT;
        assert_eq!(list_file("msft", apt), "msft.list");
        assert_eq!(list_file("msft.list", apt), "msft.list");
        assert_eq!(list_file("msft.sources", apt), "msft.sources");
    }
}
