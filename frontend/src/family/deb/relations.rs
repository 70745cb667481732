//! Debian relations: a dependency with its version constraints and architectures as
//! `name (>= 1.0) [amd64]`, the syntax of `Depends`, `Build-Depends` and `apt-get satisfy`.

use crate::spec::{DependencyList, Located, version};

/// A Debian relation for one dependency: `pkg (>= 1.0) [amd64]`, once per version constraint.
fn relation(name: &str, version: &[Located<String>], arch: &[String]) -> Vec<String> {
    let arch = if arch.is_empty() {
        String::new()
    } else {
        format!(" [{}]", arch.join(" "))
    };
    if version.is_empty() {
        return vec![format!("{name}{arch}")];
    }
    // Constraints are checked when the spec is read and for the target (see [`check`]): one
    // that does not parse, or that Debian cannot express, never reaches a relation.
    version
        .iter()
        .filter_map(|c| version::parse(&c.value))
        .filter_map(|c| Some(format!("{name} ({} {}){arch}", debian_op(c.op)?, c.version)))
        .collect()
}

/// A Debian relation operator; Debian has no `!=`.
pub(super) fn debian_op(op: version::Op) -> Option<&'static str> {
    use version::Op;
    Some(match op {
        Op::Lt => "<<",
        Op::Le => "<=",
        Op::Eq => "=",
        Op::Ge => ">=",
        Op::Gt => ">>",
        Op::Ne => return None,
    })
}

/// Renders a dependency list as Debian relations.
pub fn relations(list: Option<&DependencyList>) -> Vec<String> {
    list.into_iter()
        .flat_map(|l| l.0.iter())
        .flat_map(|(name, c)| match &c {
            Some(c) => relation(name, &c.version, &c.arch),
            None => relation(name, &[], &[]),
        })
        .collect()
}
