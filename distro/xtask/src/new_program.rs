//! `cargo xtask new-program NAME [--dir DIR]`: a crate for a program of
//! one's own on the hurd-rs kernel, made from the template
//! `distro/templates/program` into `DIR/NAME` (`DIR` is the current
//! directory by default).
//!
//! The crate is a workspace of its own (an empty `[workspace]` table), so it
//! builds wherever it is, inside this checkout or not; its one dependency,
//! `hurd-rt`, comes from the checkout it was made from (its absolute path),
//! and its `Cargo.lock` is the template's, the versions the template is
//! tested with. An image's manifest names it as `crate = "DIR/NAME"`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::Failure;
use crate::workspace::Workspace;

/// The template, from the workspace root.
pub const TEMPLATE: &str = "distro/templates/program";

/// The template's package name, replaced by the new program's.
const TEMPLATE_NAME: &str = "my-program";

/// How the template's `Cargo.toml` reaches `hurd-rt`, replaced by the
/// checkout's absolute path.
const TEMPLATE_RT_PATH: &str = "path = \"../../../hurd-rt\"";

/// The longest name taken: it is also the program's file name in an image.
const MAX_NAME: usize = 64;

/// Names Cargo keeps for itself or that are Rust keywords (a binary's name,
/// with `-` as `_`, is its crate's name).
const RESERVED: &[&str] = &[
    "alloc",
    "core",
    "proc_macro",
    "std",
    "test",
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "macro",
    "override",
    "priv",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "try",
];

/// `cargo xtask new-program NAME [--dir DIR]`.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    let mut name = None;
    let mut dir = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => match args.next() {
                Some(d) => dir = Some(PathBuf::from(d)),
                None => return Err(Failure::Usage("`--dir` needs a directory".to_owned())),
            },
            flag if flag.starts_with('-') => {
                return Err(Failure::Usage(format!(
                    "unknown option `{flag}` for `cargo xtask new-program`"
                )));
            }
            n if name.is_none() => name = Some(n.to_owned()),
            extra => {
                return Err(Failure::Usage(format!(
                    "`cargo xtask new-program` takes one NAME (`{extra}` is one too many)"
                )));
            }
        }
    }
    let Some(name) = name else {
        return Err(Failure::Usage(
            "`cargo xtask new-program` needs the program's NAME".to_owned(),
        ));
    };
    check_name(&name).map_err(Failure::Usage)?;
    let ws = Workspace::find()?;
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let made = dir.join(&name);
    make(&ws.root, &name, &made)?;
    let shown = std::path::absolute(&made).unwrap_or(made);
    println!(
        "made {}: the program `{name}`, a crate of its own",
        shown.display()
    );
    println!();
    println!("Build it there with");
    println!("    cargo build --release --target x86_64-unknown-none");
    println!("and put it into an image with, in the manifest:");
    println!("    [[program]]");
    println!("    path = \"/bin/{name}\"");
    println!("    crate = \"{}\"", shown.display());
    Ok(ExitCode::SUCCESS)
}

/// Checks `name` as the program's name: a Cargo package name that is also a
/// plain file name — ASCII letters, digits, `-` and `_`, starting with a
/// letter, at most [`MAX_NAME`] characters, not a name Cargo or Rust keeps.
///
/// # Errors
///
/// What is wrong with the name.
pub fn check_name(name: &str) -> Result<(), String> {
    let Some(first) = name.chars().next() else {
        return Err("the program's name is empty".to_owned());
    };
    if !first.is_ascii_alphabetic() {
        return Err(format!("`{name}`: a program's name starts with a letter"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "`{name}`: `{bad}` is not allowed in a program's name (letters, digits, `-`, `_`)"
        ));
    }
    if name.len() > MAX_NAME {
        return Err(format!("`{name}`: longer than {MAX_NAME} characters"));
    }
    if RESERVED.contains(&name.replace('-', "_").as_str()) {
        return Err(format!("`{name}`: a name Cargo or Rust keeps for itself"));
    }
    Ok(())
}

/// Makes the crate of the program `name` in `dir` (which must not exist),
/// from the template in the workspace `root`.
///
/// # Errors
///
/// `dir` exists, the template cannot be read or is not as expected, a file
/// cannot be written.
pub fn make(root: &Path, name: &str, dir: &Path) -> Result<(), String> {
    if dir.exists() {
        return Err(format!(
            "{} exists already: choose another name or `--dir`",
            dir.display()
        ));
    }
    let template = root.join(TEMPLATE);
    let read = |file: &str| {
        let path = template.join(file);
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let manifest = read("Cargo.toml")?;
    let main = read("src/main.rs")?;
    let lock = read("Cargo.lock")?;
    let package = format!("name = \"{TEMPLATE_NAME}\"");
    for (file, text, wanted) in [
        ("Cargo.toml", &manifest, package.as_str()),
        ("Cargo.toml", &manifest, TEMPLATE_RT_PATH),
        ("Cargo.lock", &lock, package.as_str()),
    ] {
        if !text.contains(wanted) {
            return Err(format!(
                "{}/{file}: no `{wanted}` in it to replace (the template changed?)",
                template.display()
            ));
        }
    }
    let rt = root.join("hurd-rt");
    let rt = rt.to_str().ok_or_else(|| {
        format!(
            "{}: not a UTF-8 path, which Cargo.toml cannot hold",
            rt.display()
        )
    })?;
    let manifest = without_anchors(&manifest)
        .lines()
        .skip_while(|line| line.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(&package, &format!("name = \"{name}\""))
        .replace(TEMPLATE_RT_PATH, &format!("path = {}", toml_string(rt)));
    let manifest = format!(
        "# `{name}`: a program for the hurd-rs kernel. Build it with\n\
         #\n\
         #     cargo build --release --target x86_64-unknown-none\n\
         #\n\
         # (`rustup target add x86_64-unknown-none` once). `hurd-rt` comes from\n\
         # the hurd-rs checkout this crate was made from; from crates.io it is\n\
         # `hurd-rt = \"0.1\"`.\n\
         {manifest}\n"
    );
    let main = without_anchors(&main).replace(
        &format!("`{TEMPLATE_NAME} [WORDS...]`"),
        &format!("`{name} [WORDS...]`"),
    );
    let lock = lock.replace(&package, &format!("name = \"{name}\""));
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("cannot make {}: {e}", src.display()))?;
    for (path, text) in [
        (dir.join("Cargo.toml"), manifest),
        (src.join("main.rs"), main),
        (dir.join("Cargo.lock"), lock),
    ] {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// `text` without the book's `ANCHOR` comment lines.
fn without_anchors(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("// ANCHOR") || code.starts_with("# ANCHOR") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `s` as a TOML basic string.
/// `s` as a TOML basic string, quoted and escaped.
pub fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(check_name("hello-hurd"), Ok(()));
        assert_eq!(check_name("a_1"), Ok(()));
        assert!(check_name("").is_err());
        assert!(check_name("1st").is_err());
        assert!(check_name("-x").is_err());
        assert!(check_name("a/b").is_err_and(|e| e.contains("`/`")));
        assert!(check_name("../x").is_err());
        assert!(check_name("héllo").is_err());
        assert!(check_name(&"a".repeat(MAX_NAME + 1)).is_err());
        assert!(check_name(&"a".repeat(MAX_NAME)).is_ok());
        assert!(check_name("std").is_err());
        assert!(check_name("self").is_err());
        assert!(check_name("proc-macro").is_err());
    }

    #[test]
    fn makes_a_crate_of_its_own_from_the_template() {
        let ws = Workspace::find().unwrap_or_else(|e| panic!("{e}"));
        let base = std::env::temp_dir().join(format!("xtask-new-program-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let dir = base.join("hello-hurd");
        make(&ws.root, "hello-hurd", &dir).unwrap_or_else(|e| panic!("{e}"));
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{e}"));
        let manifest = read("Cargo.toml");
        assert!(manifest.contains("name = \"hello-hurd\""), "{manifest}");
        assert!(!manifest.contains(TEMPLATE_NAME) && !manifest.contains("ANCHOR"));
        let rt = ws.root.join("hurd-rt");
        assert!(manifest.contains(&format!("path = \"{}\"", rt.display())));
        assert!(manifest.contains("\n[workspace]"), "a workspace of its own");
        let main = read("src/main.rs");
        assert!(
            main.contains("`hello-hurd [WORDS...]`") && main.contains("hurd_rt::entry!(main);")
        );
        assert!(!main.contains("ANCHOR"));
        let lock = read("Cargo.lock");
        assert!(lock.contains("name = \"hello-hurd\"") && !lock.contains(TEMPLATE_NAME));
        // A second time: refused, the first left as it was.
        let again = make(&ws.root, "hello-hurd", &dir);
        assert!(again.is_err_and(|e| e.contains("exists already")));
        assert_eq!(read("Cargo.toml"), manifest);
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn toml_strings() {
        assert_eq!(toml_string("/a b/c"), "\"/a b/c\"");
        assert_eq!(toml_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000A\"");
    }
}
