//! What kiln can parse but not build yet: each use is an error at its line, never a silent
//! skip.

use crate::spec::{Pos, Source, Spec, SpecError, SpecErrors};

/// One unsupported use: the message, the key it is written under, and a position at or
/// below that key.
type Gap = (String, &'static str, Pos);

/// The problems of building `spec` (already merged for its target) with today's pipeline.
pub struct Gaps {
    /// Features the build would need: the build must not go on.
    pub errors: Vec<Gap>,
}

impl Gaps {
    /// The errors as located spec errors.
    pub fn into_result(self, file: &str, text: &str) -> Result<(), SpecErrors> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let errors = self
            .errors
            .into_iter()
            .map(|(m, key, p)| SpecError::at_key(file, text, key, p, m))
            .collect();
        Err(SpecErrors(errors))
    }
}

fn source(path: &str, s: &Source, pos: Pos, errors: &mut Vec<Gap>) {
    // Top-level build sources are built by the frontend; nested ones are not yet.
    if s.build.is_some() && path.contains(".image.cmd.mounts") {
        errors.push((
            format!("not supported yet: {path}.build (Dockerfile build sources)"),
            "build",
            pos,
        ));
    }
    if !s.generate.is_empty() && path.contains(".image.cmd.mounts") {
        errors.push((
            format!("not supported yet: {path}.generate (generators on mounted sources)"),
            "generate",
            pos,
        ));
    }
    if let Some(cmd) = s.image.as_ref().and_then(|i| i.cmd.as_ref()) {
        for m in cmd
            .mounts
            .iter()
            .chain(cmd.steps.iter().flat_map(|s| &s.mounts))
        {
            source(
                &format!("{path}.image.cmd.mounts"),
                &m.spec.value,
                m.spec.pos,
                errors,
            );
        }
    }
}

/// Lists the gaps for building `spec` into a package or an image.
pub fn gaps(spec: &Spec) -> Gaps {
    let mut errors = Vec::new();
    for (key, s) in &spec.sources {
        source(&format!("sources.{key}"), &s.value, s.pos, &mut errors);
    }
    Gaps { errors }
}
