//! Version constraints of dependencies (`>= 1.2`, `<< 2`, `!= 1.3`), parsed into an operator
//! and a version, so each family renders (or refuses) the operator it is given.

/// A comparison operator of a version constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<` or `<<`: strictly lower.
    Lt,
    /// `<=`.
    Le,
    /// `=`, `==` or no operator.
    Eq,
    /// `!=`.
    Ne,
    /// `>=`.
    Ge,
    /// `>` or `>>`: strictly greater.
    Gt,
}

/// One version constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constraint<'a> {
    /// The operator.
    pub op: Op,
    /// The version, trimmed.
    pub version: &'a str,
}

/// Parses `>= 1.2`: an operator (optional: `1.2` means `= 1.2`) and a version without white
/// space or operator characters. `None` when it is not one.
pub fn parse(text: &str) -> Option<Constraint<'_>> {
    let c = text.trim();
    let split = c.find(|ch: char| !"<>=!".contains(ch)).unwrap_or(c.len());
    let (op, version) = c.split_at(split);
    let version = version.trim();
    let op = match op {
        "" | "=" | "==" => Op::Eq,
        "!=" => Op::Ne,
        "<" | "<<" => Op::Lt,
        "<=" => Op::Le,
        ">" | ">>" => Op::Gt,
        ">=" => Op::Ge,
        _ => return None,
    };
    let version_ok = !version.is_empty()
        && !version.contains(|ch: char| {
            ch.is_whitespace() || ch.is_control() || "<>=!~^,|()[]".contains(ch)
        });
    version_ok.then_some(Constraint { op, version })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_operators_and_versions() {
        assert_eq!(
            parse(">= 1.2"),
            Some(Constraint {
                op: Op::Ge,
                version: "1.2"
            })
        );
        assert_eq!(parse("1.2").map(|c| c.op), Some(Op::Eq));
        assert_eq!(parse(">>2").map(|c| c.op), Some(Op::Gt));
        assert_eq!(parse("< 2").map(|c| c.op), Some(Op::Lt));
        assert_eq!(parse("!= 1.3").map(|c| c.op), Some(Op::Ne));
        for bad in ["", ">=", "=> 1", "~1", ">= 1 2", ">= 1)\nEssential: yes"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
