//! Where and why a manifest is wrong: [`ManifestError`], and the line,
//! column and key of a place in its text.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// A manifest that cannot be used: where and why.
///
/// Shown as `FILE: line L, column C: KEY: MESSAGE`, e.g.
/// `my.toml: line 12, column 1: module.binary: unknown field `binary`, ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// The manifest's file, when it was read from one ([`Manifest::load`](super::Manifest::load)).
    pub file: Option<PathBuf>,
    /// 1-based line (0 when the error has no place in the text).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// The dotted key at fault, its table first (`module.name`, `image`);
    /// empty when the error has no place in the text.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.display())?;
        }
        if self.line != 0 {
            write!(f, "line {}, column {}: ", self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ManifestError {}

/// Turns byte offsets into 1-based line and column numbers.
pub(super) struct Lines<'a>(pub(super) &'a str);

impl Lines<'_> {
    pub(super) fn at(&self, offset: usize) -> (usize, usize) {
        let upto = &self.0[..floor_char_boundary(self.0, offset)];
        let line = upto.matches('\n').count() + 1;
        let column = upto.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    pub(super) fn error(&self, span: Range<usize>, message: impl Into<String>) -> ManifestError {
        let (line, column) = self.at(span.start);
        ManifestError {
            file: None,
            line,
            column,
            key: key_at(self.0, span.start),
            message: message.into(),
        }
    }
}

impl Lines<'_> {
    /// A checker's error, whose message is `KEY: TEXT` or
    /// `KEY `VALUE`: TEXT`: the key is split off into the error's `key`.
    pub(super) fn field_error(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> ManifestError {
        let message = message.into();
        let mut error = self.error(span, message.clone());
        let end = message
            .find([' ', ':'])
            .filter(|&i| message[i..].starts_with(": ") || message[i..].starts_with(" `"));
        if let Some(i) = end {
            error.key = message[..i].to_owned();
            error.message = message[i..].trim_start_matches(':').trim_start().to_owned();
        }
        error
    }
}

/// The dotted key whose line holds byte `offset` of a TOML text: the name
/// of the table whose header is the nearest above (or at) it, then the key
/// of the nearest `key = ` line from there down to the offset (a value may
/// span lines). `image.name`, `module.args`, `kernel`; empty before any key.
fn key_at(text: &str, offset: usize) -> String {
    let upto = &text[..floor_char_boundary(text, offset)];
    // The whole line holding the offset, and the lines above it, nearest
    // first.
    let line_end = text[upto.len()..]
        .find('\n')
        .map_or(text.len(), |i| upto.len() + i);
    let mut lines = text[..line_end].rsplit('\n');
    let mut key: Option<String> = None;
    for line in lines.by_ref() {
        let t = line.trim_start();
        if let Some(header) = t.strip_prefix('[') {
            let name = header
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim();
            let name: String = name.chars().filter(|c| !c.is_whitespace()).collect();
            return match key {
                Some(k) if !name.is_empty() => format!("{name}.{k}"),
                Some(k) => k,
                None => name,
            };
        }
        if key.is_none()
            && let Some((k, _)) = t.split_once('=')
        {
            let k = k.trim();
            if !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.\"' ".contains(c))
            {
                key = Some(k.to_owned());
            }
        }
    }
    key.unwrap_or_default()
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
