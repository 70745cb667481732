//! The lines of a source file that a source map or an error detail needs, and nothing more.
//!
//! BuildKit shows a location by splitting `SourceInfo.data` at newlines and printing the lines
//! of the range by number, with up to two lines of context on each side (buildx and
//! `solver/errdefs` `Source.Print`); it never needs the rest of the file. Sending the whole file
//! with every Solve and every error made a large file fail a build with a raw gRPC size error,
//! so the data sent is the file with every other line left empty: line numbers stay right, and
//! the size follows what is shown rather than the file.

/// Lines kept around each range: what buildx prints as context.
const CONTEXT_LINES: u32 = 2;

/// A kept line longer than this many bytes is cut at a character boundary and ends with `…`;
/// nobody reads a longer line under an error, and a one-line file (JSON, say) stays small.
pub const MAX_LINE_BYTES: usize = 1024;

/// The most an excerpt may weigh (kept lines and the empty lines before them). A larger one
/// (a located range of thousands of lines, or a range past hundreds of thousands of lines) is
/// left out: the error message still names the file, line and column.
pub const MAX_EXCERPT_BYTES: usize = 256 << 10;

/// `data` with only the lines of `ranges` (1-based, inclusive; 0 means unknown and is
/// skipped) and their context kept, every other line empty, and nothing after the last kept
/// line. `None` when no range is known or the excerpt would exceed [`MAX_EXCERPT_BYTES`].
pub fn excerpt(data: &[u8], ranges: impl IntoIterator<Item = (u32, u32)>) -> Option<Vec<u8>> {
    let mut windows: Vec<(u32, u32)> = ranges
        .into_iter()
        .filter(|&(first, _)| first > 0)
        .map(|(first, last)| {
            (
                first.saturating_sub(CONTEXT_LINES).max(1),
                last.max(first).saturating_add(CONTEXT_LINES),
            )
        })
        .collect();
    windows.sort_unstable();
    let end = windows.iter().map(|w| w.1).max()?;
    let mut out = Vec::new();
    let mut next = windows.iter().peekable();
    let mut lines = data.split(|&b| b == b'\n').peekable();
    let mut n = 0u32;
    while let Some(line) = lines.next() {
        n += 1;
        if n > end {
            break;
        }
        while next.peek().is_some_and(|w| w.1 < n) {
            next.next();
        }
        if next.peek().is_some_and(|w| w.0 <= n) {
            out.extend_from_slice(cut(line));
            if line.len() > MAX_LINE_BYTES {
                out.extend_from_slice("…".as_bytes());
            }
        }
        if lines.peek().is_some() && n < end {
            out.push(b'\n');
        }
        if out.len() > MAX_EXCERPT_BYTES {
            return None;
        }
    }
    Some(out)
}

/// The first [`MAX_LINE_BYTES`] of `line` at most, ending at a UTF-8 character boundary.
fn cut(line: &[u8]) -> &[u8] {
    if line.len() <= MAX_LINE_BYTES {
        return line;
    }
    let mut at = MAX_LINE_BYTES;
    // Back up over continuation bytes (10xxxxxx) to the start of a character.
    while at > 0 && line[at] & 0xc0 == 0x80 {
        at -= 1;
    }
    &line[..at]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: usize) -> String {
        (1..=lines).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn keeps_the_ranges_and_their_context_at_their_line_numbers() {
        let data = text(20);
        let got = excerpt(data.as_bytes(), [(10, 11), (3, 3)]).unwrap();
        let got = String::from_utf8(got).unwrap();
        let lines: Vec<&str> = got.split('\n').collect();
        // Up to line 13 (11 + 2), every line where it was.
        assert_eq!(lines.len(), 13);
        for (i, l) in lines.iter().enumerate() {
            let n = i + 1;
            let kept = (1..=5).contains(&n) || (8..=13).contains(&n);
            assert_eq!(
                *l,
                if kept {
                    format!("line {n}")
                } else {
                    String::new()
                }
            );
        }
    }

    #[test]
    fn long_lines_are_cut_and_large_excerpts_left_out() {
        let long = format!("a: {}é\nb: 2\n", "x".repeat(MAX_LINE_BYTES - 4));
        let got = String::from_utf8(excerpt(long.as_bytes(), [(1, 1)]).unwrap()).unwrap();
        assert!(got.starts_with(&format!("a: {}…\nb: 2", "x".repeat(MAX_LINE_BYTES - 4))));
        assert!(got.len() < MAX_LINE_BYTES + 16);
        // A range at line 300,000 would take 300 kB of empty lines: left out.
        let many = "\n".repeat(300_000);
        assert_eq!(excerpt(many.as_bytes(), [(299_999, 299_999)]), None);
        assert_eq!(excerpt(b"a\n", [(0, 0)]), None);
        assert_eq!(excerpt(b"a\n", []), None);
        // A range past the end keeps what there is.
        assert_eq!(excerpt(b"a\nb", [(2, 9)]).unwrap(), b"a\nb");
    }
}
