//! The fenced code blocks of a Markdown chapter: what the book's checks
//! read. Only fences of backticks or tildes (three or more) at the start of
//! a line, indented by at most three spaces, are blocks (CommonMark's rule);
//! a block ends at a fence of the same character at least as long.

use std::path::{Path, PathBuf};

/// One fenced code block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The chapter it is in.
    pub file: PathBuf,
    /// The line of its opening fence (1-based).
    pub line: usize,
    /// Its info string split at commas and spaces: the language first
    /// (`console`), then attributes (`run`, `session`, `dir=scratch`).
    pub info: Vec<String>,
    /// Its lines, without the fences.
    pub body: Vec<String>,
}

impl Block {
    /// The block's language: the first word of its info string.
    pub fn language(&self) -> &str {
        self.info.first().map_or("", String::as_str)
    }

    /// Whether the info string holds the word `attribute` (after the
    /// language).
    pub fn has(&self, attribute: &str) -> bool {
        self.info.iter().skip(1).any(|word| word == attribute)
    }

    /// The value of an attribute written `key=value`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.info
            .iter()
            .skip(1)
            .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
    }

    /// `file:line`, for messages.
    pub fn place(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }
}

/// The fenced blocks of `text`, the chapter `file`.
///
/// # Errors
///
/// A fence that is never closed is an error naming its line.
pub fn blocks(file: &Path, text: &str) -> Result<Vec<Block>, String> {
    let mut found = Vec::new();
    let mut open: Option<(char, usize, Block)> = None;
    for (index, line) in text.lines().enumerate() {
        let Some((fence_char, fence_len, rest)) = fence(line) else {
            if let Some((_, _, block)) = open.as_mut() {
                block.body.push(line.to_owned());
            }
            continue;
        };
        match open.take() {
            Some((c, len, block)) if c == fence_char && fence_len >= len && rest.is_empty() => {
                found.push(block);
            }
            Some((c, len, mut block)) => {
                block.body.push(line.to_owned());
                open = Some((c, len, block));
            }
            None => {
                let info = rest
                    .split([',', ' '])
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect();
                open = Some((
                    fence_char,
                    fence_len,
                    Block {
                        file: file.to_owned(),
                        line: index + 1,
                        info,
                        body: Vec::new(),
                    },
                ));
            }
        }
    }
    match open {
        Some((_, _, block)) => Err(format!(
            "{}: this code block is never closed",
            block.place()
        )),
        None => Ok(found),
    }
}

/// A fence line: its character, its length and the info string after it.
fn fence(line: &str) -> Option<(char, usize, &str)> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let c = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = trimmed.chars().take_while(|x| *x == c).count();
    if len < 3 {
        return None;
    }
    let rest = trimmed[len..].trim();
    // A backtick fence's info string may not hold a backtick.
    if c == '`' && rest.contains('`') {
        return None;
    }
    Some((c, len, rest))
}

/// The chapters of the book: every `.md` file under `src`, sorted.
///
/// # Errors
///
/// A directory that cannot be read.
pub fn chapters(src: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let mut dirs = vec![src.to_owned()];
    while let Some(dir) = dirs.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
                .path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_with_their_info_and_lines() {
        let text =
            "# T\n\n```console,run\n$ ls\na\n```\n\n````md\n```bob\n```\n````\n~~~\nx\n~~~\n";
        let found = blocks(Path::new("t.md"), text).unwrap_or_default();
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].language(), "console");
        assert!(found[0].has("run"));
        assert!(!found[0].has("console"));
        assert_eq!(found[0].line, 3);
        assert_eq!(found[0].body, ["$ ls", "a"]);
        // A longer fence holds shorter ones as text.
        assert_eq!(found[1].body, ["```bob", "```"]);
        assert_eq!(found[2].body, ["x"]);
    }

    #[test]
    fn reads_attribute_values() {
        let text = "```console session dir=scratch\n```\n";
        let found = blocks(Path::new("t.md"), text).unwrap_or_default();
        assert_eq!(found[0].value("dir"), Some("scratch"));
        assert_eq!(found[0].value("nope"), None);
        assert!(found[0].has("session"));
    }

    #[test]
    fn an_unclosed_block_is_an_error() {
        let err = blocks(Path::new("t.md"), "a\n```rust\nfn x() {}\n");
        assert_eq!(
            err,
            Err("t.md:2: this code block is never closed".to_owned())
        );
        // Indented by four spaces: code, not a fence.
        assert_eq!(blocks(Path::new("t.md"), "    ```\n"), Ok(Vec::new()));
    }
}
