//! Splitting a command line into words and redirections.
//!
//! The grammar is a small part of the POSIX shell's: words separated by
//! blanks; `'...'` quotes literally; `"..."` quotes with `\"` and `\\`
//! escapes; a backslash outside quotes takes the next character literally;
//! `>` and `>>` redirect standard output to the next word; `#` at the start of
//! a word starts a comment.

use alloc::string::String;
use alloc::vec::Vec;

/// Where standard output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// `> file`: truncate (or create) and write.
    Truncate(String),
    /// `>> file`: append (or create).
    Append(String),
}

/// One parsed command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Command {
    /// The command name and its arguments.
    pub words: Vec<String>,
    /// Standard output's redirection, if any.
    pub redirect: Option<Redirect>,
}

/// Why a line could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// A quote was not closed.
    UnterminatedQuote,
    /// `>` or `>>` with no file after it.
    MissingRedirectTarget,
    /// Two redirections of standard output.
    TwoRedirects,
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ParseError::UnterminatedQuote => "unterminated quote",
            ParseError::MissingRedirectTarget => "a redirection needs a file name",
            ParseError::TwoRedirects => "only one redirection of output is supported",
        })
    }
}

/// A token: a word, or a redirection operator.
#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Out,
    OutAppend,
}

fn tokens(line: &str) -> Result<Vec<Token>, ParseError> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&c) = chars.peek() else {
            return Ok(out);
        };
        if c == '#' {
            return Ok(out);
        }
        if c == '>' {
            chars.next();
            out.push(if chars.next_if_eq(&'>').is_some() {
                Token::OutAppend
            } else {
                Token::Out
            });
            continue;
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || c == '>' {
                break;
            }
            chars.next();
            match c {
                '\'' => loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(ParseError::UnterminatedQuote),
                    }
                },
                '"' => loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => word.push(e),
                            Some(other) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err(ParseError::UnterminatedQuote),
                        },
                        Some(c) => word.push(c),
                        None => return Err(ParseError::UnterminatedQuote),
                    }
                },
                '\\' => {
                    if let Some(next) = chars.next() {
                        word.push(next);
                    }
                }
                c => word.push(c),
            }
        }
        out.push(Token::Word(word));
    }
}

/// Parses one command line.
///
/// # Errors
///
/// A [`ParseError`] saying what in the line cannot be parsed.
pub fn parse(line: &str) -> Result<Command, ParseError> {
    let mut cmd = Command::default();
    let mut tokens = tokens(line)?.into_iter();
    while let Some(t) = tokens.next() {
        let append = match t {
            Token::Word(w) => {
                cmd.words.push(w);
                continue;
            }
            Token::Out => false,
            Token::OutAppend => true,
        };
        let Some(Token::Word(target)) = tokens.next() else {
            return Err(ParseError::MissingRedirectTarget);
        };
        if cmd.redirect.is_some() {
            return Err(ParseError::TwoRedirects);
        }
        cmd.redirect = Some(if append {
            Redirect::Append(target)
        } else {
            Redirect::Truncate(target)
        });
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn words(line: &str) -> Vec<String> {
        parse(line).map(|c| c.words).unwrap_or_default()
    }

    #[test]
    fn words_quotes_and_escapes() {
        assert_eq!(words("  ls   -l /tmp "), ["ls", "-l", "/tmp"]);
        assert_eq!(
            words("echo 'a  b' \"c \\\"d\\\"\" e\\ f"),
            ["echo", "a  b", "c \"d\"", "e f"]
        );
        assert_eq!(words("echo ''"), ["echo", ""]);
        assert_eq!(words("echo a#b # comment"), ["echo", "a#b"]);
        assert_eq!(words(""), Vec::<String>::new());
    }

    #[test]
    fn redirections() {
        assert_eq!(
            parse("echo hi > /tmp/x"),
            Ok(Command {
                words: vec!["echo".into(), "hi".into()],
                redirect: Some(Redirect::Truncate("/tmp/x".into())),
            })
        );
        assert_eq!(
            parse("echo hi>>log").map(|c| c.redirect),
            Ok(Some(Redirect::Append("log".into())))
        );
        assert_eq!(parse("echo >"), Err(ParseError::MissingRedirectTarget));
        assert_eq!(parse("echo > a > b"), Err(ParseError::TwoRedirects));
        assert_eq!(parse("echo 'open"), Err(ParseError::UnterminatedQuote));
        assert_eq!(parse("echo \"open\\"), Err(ParseError::UnterminatedQuote));
    }
}
