//! rpctrace's command line, the same hosted and on the kernel:
//! `rpctrace [-o FILE] [-s SIZE] PROGRAM [ARG...]`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// What rpctrace says when its arguments are wrong.
pub const USAGE: &str = "usage: rpctrace [-o FILE] [-s SIZE] PROGRAM [ARG...]\n";

/// rpctrace's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-o FILE`: where the trace goes (without it, standard error hosted,
    /// standard output on the kernel).
    pub output: Option<String>,
    /// `-s SIZE`: the longest string printed whole.
    pub strsize: usize,
    /// The program and its arguments.
    pub argv: Vec<String>,
}

impl Options {
    /// Parses the arguments after `rpctrace` (options stop at the program).
    ///
    /// # Errors
    ///
    /// What is wrong, for standard error.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut opts = Options {
            output: None,
            strsize: crate::format::STRSIZE,
            argv: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-o" => opts.output = Some(args.next().ok_or("-o needs a file name")?.clone()),
                "-s" => {
                    let size = args.next().ok_or("-s needs a size")?;
                    opts.strsize = size.parse().map_err(|_| format!("bad size: {size}"))?;
                }
                "--" => {
                    opts.argv = args.cloned().collect();
                    break;
                }
                a if a.starts_with('-') && a.len() > 1 => {
                    return Err(format!("unknown option {a}"));
                }
                _ => {
                    opts.argv = core::iter::once(arg).chain(args).cloned().collect();
                    break;
                }
            }
        }
        if opts.argv.is_empty() {
            return Err("no program to trace".into());
        }
        Ok(opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| String::from(*w)).collect()
    }

    #[test]
    fn options() {
        let o =
            Options::parse(&args(&["-o", "/tmp/t", "-s", "10", "cat", "-n", "f"])).expect("parses");
        assert_eq!(o.output.as_deref(), Some("/tmp/t"));
        assert_eq!(o.strsize, 10);
        assert_eq!(o.argv, args(&["cat", "-n", "f"]));
        let o = Options::parse(&args(&["--", "-weird"])).expect("parses");
        assert_eq!(o.argv, args(&["-weird"]));
        assert!(Options::parse(&args(&[])).is_err());
        assert!(Options::parse(&args(&["-o"])).is_err());
        assert!(Options::parse(&args(&["-s", "x", "true"])).is_err());
        assert!(Options::parse(&args(&["-x", "true"])).is_err());
    }
}
