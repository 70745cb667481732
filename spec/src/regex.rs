//! Regular expressions in Go's syntax (RE2), as Dalec's `matches` checks take them.

/// Compiles a `matches` expression. Go's RE2 syntax and semantics (leftmost-first, `^`/`$` at
/// the ends of the text unless `(?m)`, `.` not matching a newline unless `(?s)`, ASCII `\d\w\s`)
/// are those of `regex-lite`; Unicode classes (`\p{..}`) are not supported.
pub fn compile(re: &str) -> Result<regex_lite::Regex, String> {
    regex_lite::Regex::new(re).map_err(|e| {
        let text = e.to_string();
        // regex-lite's message ends with the reason on its last line.
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or(&text)
            .trim()
            .trim_start_matches("error: ")
            .to_string()
    })
}
