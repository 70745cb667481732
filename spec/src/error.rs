//! Errors that point at the spec: file, line, column, what was expected, and the line itself.

use super::located::Pos;
use std::fmt;

/// One problem in a spec, with its position (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The spec's file name.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// 1-based column (0 when unknown).
    pub column: u32,
    /// What is wrong and what was expected.
    pub message: String,
    /// The text of the offending line.
    pub source_line: Option<String>,
}

impl SpecError {
    /// An error at a position in `src` (the whole file when the position is unknown).
    pub fn at(file: &str, src: &str, pos: Pos, message: impl Into<String>) -> SpecError {
        SpecError::at_position(file, src, pos.line, pos.column, message)
    }

    /// An error at `line:column` of `src`.
    pub fn at_position(
        file: &str,
        src: &str,
        line: u32,
        column: u32,
        message: impl Into<String>,
    ) -> SpecError {
        let source_line = (line > 0)
            .then(|| src.lines().nth(line as usize - 1).map(str::to_string))
            .flatten();
        SpecError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            source_line,
        }
    }

    /// An error at the line where `key:` is written for a value found at `value_pos`.
    ///
    /// The parser locates a block mapping at its first entry (the line after the key); users
    /// expect the key's own line, so search upward for it.
    pub fn at_key(
        file: &str,
        src: &str,
        key: &str,
        value_pos: Pos,
        message: impl Into<String>,
    ) -> SpecError {
        let lines: Vec<&str> = src.lines().collect();
        let wanted = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ];
        let is_key_line = |text: &str| {
            let trimmed = text.trim_start().trim_start_matches("- ");
            wanted.iter().any(|w| trimmed.starts_with(w.as_str()))
        };
        // Without a position (values the parser does not locate), the first line with the key.
        let value_line = match value_pos.line as usize {
            0 => lines
                .iter()
                .position(|l| is_key_line(l))
                .map_or(0, |i| i + 1),
            n => n,
        };
        for n in (1..=value_line.min(lines.len())).rev() {
            let text = lines[n - 1];
            if is_key_line(text) {
                let trimmed = text.trim_start().trim_start_matches("- ");
                let column = (text.len() - trimmed.len() + 1) as u32;
                return SpecError::at_position(file, src, n as u32, column, message);
            }
        }
        SpecError::at(file, src, value_pos, message)
    }

    /// An error about the whole file.
    pub fn whole_file(file: &str, message: impl Into<String>) -> SpecError {
        SpecError {
            file: file.to_string(),
            line: 0,
            column: 0,
            message: message.into(),
            source_line: None,
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.file, self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(text) = &self.source_line {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            let caret = " ".repeat(self.column.saturating_sub(1) as usize);
            write!(f, "\n{pad} |\n{num} | {text}\n{pad} | {caret}^")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

/// All problems found in a spec, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl SpecErrors {
    /// The first problem (there is always at least one).
    pub fn first(&self) -> Option<&SpecError> {
        self.0.first()
    }
}

impl From<SpecError> for SpecErrors {
    fn from(e: SpecError) -> Self {
        SpecErrors(vec![e])
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}
