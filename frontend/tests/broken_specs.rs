//! The broken-spec corpus (tests/broken): every file is a spec with one class of mistake and
//! begins with the errors `kiln-frontend lint` must report for it, in order:
//!
//! ```yaml
//! # expect: <line>:<column>: <message prefix>
//! ```
//!
//! Lines and columns are those of the file as written (the `# expect:` lines count). The test
//! checks the position and the message of every error, and that each rendered error starts
//! with `file:line:col: ` and quotes the offending line.

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_frontend::resolve;
use kiln_frontend::spec::SpecError;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The corpus must not shrink below this.
const MIN_CASES: usize = 60;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/broken")
}

/// One expected error: position and the start of its message.
#[derive(Debug)]
struct Expected {
    line: u32,
    column: u32,
    prefix: String,
}

/// A corpus file: its name, text and expectations.
struct Case {
    name: String,
    text: String,
    expected: Vec<Expected>,
}

/// Parses `<line>:<column>: <message prefix>`.
fn parse_expectation(rest: &str) -> Result<Expected, String> {
    let mut parts = rest.splitn(3, ':');
    let (Some(line), Some(column), Some(prefix)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "expected `<line>:<column>: <message>`, got {rest:?}"
        ));
    };
    let number = |s: &str, what: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|e| format!("bad {what} {s:?} in {rest:?}: {e}"))
    };
    let prefix = prefix
        .strip_prefix(' ')
        .ok_or_else(|| format!("expected a space after `<line>:<column>:` in {rest:?}"))?;
    if prefix.trim().is_empty() {
        return Err(format!("empty message prefix in {rest:?}"));
    }
    Ok(Expected {
        line: number(line, "line")?,
        column: number(column, "column")?,
        prefix: prefix.trim_end().to_string(),
    })
}

/// The `# expect:` lines at the top of the file, in order.
fn parse_case(name: String, text: String) -> Result<Case, String> {
    let mut expected = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# expect:") else {
            break;
        };
        expected.push(parse_expectation(rest.trim_start())?);
    }
    if expected.is_empty() {
        return Err("the file does not begin with `# expect: <line>:<column>: <message>`".into());
    }
    Ok(Case {
        name,
        text,
        expected,
    })
}

fn load_corpus() -> Vec<Case> {
    let dir = corpus_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the corpus directory {}: {e}", dir.display()));
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for entry in entries {
        let path = entry.expect("corpus directory entry").path();
        if path.extension().is_none_or(|x| x != "yml") {
            continue;
        }
        let name = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        match parse_case(name.clone(), text) {
            Ok(c) => cases.push(c),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    assert!(
        problems.is_empty(),
        "malformed corpus files:\n{}",
        problems.join("\n")
    );
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

fn show_expected(expected: &[Expected]) -> String {
    let mut s = String::new();
    for e in expected {
        let _ = writeln!(s, "    {}:{}: {}", e.line, e.column, e.prefix);
    }
    s
}

fn show_got(got: &[SpecError]) -> String {
    let mut s = String::new();
    for e in got {
        let _ = writeln!(s, "    {}:{}: {}", e.line, e.column, e.message);
    }
    s
}

/// Checks one case; `Err` describes every mismatch.
fn check(case: &Case) -> Result<(), String> {
    let errors = match resolve::lint(&case.name, &case.text) {
        Ok(()) => {
            return Err(format!(
                "{}: lint accepted the spec, expected:\n{}",
                case.name,
                show_expected(&case.expected)
            ));
        }
        Err(e) => e.0,
    };
    let matches = errors.len() == case.expected.len()
        && errors.iter().zip(&case.expected).all(|(got, want)| {
            got.line == want.line
                && got.column == want.column
                && got.message.starts_with(&want.prefix)
        });
    if !matches {
        return Err(format!(
            "{}: wrong errors\n  expected:\n{}  got:\n{}",
            case.name,
            show_expected(&case.expected),
            show_got(&errors)
        ));
    }
    let mut problems = Vec::new();
    for e in &errors {
        let rendered = e.to_string();
        let head = if e.line == 0 {
            format!("{}: ", case.name)
        } else {
            format!("{}:{}:{}: ", case.name, e.line, e.column)
        };
        if !rendered.starts_with(&head) {
            problems.push(format!(
                "rendered error does not start with {head:?}:\n{rendered}"
            ));
        }
        if e.line > 0 {
            let source_line = case
                .text
                .lines()
                .nth(e.line as usize - 1)
                .unwrap_or_default();
            if e.source_line.as_deref() != Some(source_line) {
                problems.push(format!(
                    "error at line {} carries source line {:?}, the file has {source_line:?}",
                    e.line, e.source_line
                ));
            }
            if !rendered.contains(source_line) {
                problems.push(format!(
                    "rendered error does not quote line {} ({source_line:?}):\n{rendered}",
                    e.line
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {}", case.name, problems.join("\n")))
    }
}

#[test]
fn every_broken_spec_fails_with_its_expected_errors() {
    let cases = load_corpus();
    assert!(
        cases.len() >= MIN_CASES,
        "the broken-spec corpus has {} files in {}, expected at least {MIN_CASES}",
        cases.len(),
        corpus_dir().display()
    );
    let failures: Vec<String> = cases.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} broken specs do not fail as expected:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn expectation_lines_parse() {
    let e = parse_expectation("12:3: unknown field `x`").unwrap();
    assert_eq!(
        (e.line, e.column, e.prefix.as_str()),
        (12, 3, "unknown field `x`")
    );
    // Messages may contain colons.
    let e = parse_expectation("4:1: duplicate mapping key: name").unwrap();
    assert_eq!(e.prefix, "duplicate mapping key: name");
    assert!(parse_expectation("4: no column").is_err());
    assert!(parse_expectation("a:1: x").is_err());
    assert!(parse_expectation("1:1: ").is_err());
    assert!(parse_case("x.yml".into(), "name: a\n".into()).is_err());
}
