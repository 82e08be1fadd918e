//! The book step: build the book with its diagrams, and check that what it
//! shows is true.
//!
//! - **Diagrams** are text in the chapters (` ```bob ` blocks), drawn as
//!   SVG by the `mdbook-svgbob` preprocessor when the book is built; the
//!   step checks that each one became a well-formed drawing in the HTML
//!   (see [`diagrams`]).
//! - **Transcripts**: every ` ```console ` block is marked `run` (commands
//!   run to their end) or `session` (an interactive program driven through
//!   the console driver), and is run, its output compared with the book's
//!   (see [`transcript`] for the notation, [`run`] for how).
//!
//! - **Benchmark charts**: the results kept in `book/src/benchmarks` and
//!   their charts, each the renderer's drawing of its results (see
//!   [`charts`]).
//!
//! - **Exercises**: each part's hands-on crate, as the reader starts it and
//!   solved (see [`exercises`]): the solution passes its tests, the start
//!   fails them at its TODOs.
//!
//! `cargo xtask book [CHAPTER...]` runs the step alone, or only the
//! transcripts of the chapters named (file names, e.g.
//! `trying-the-system.md`) and the exercises they use.

pub mod charts;
mod diagrams;
mod exercises;
mod markdown;
mod run;
mod transcript;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::Failure;
use crate::cmd::Cmd;
use crate::setup;
use crate::workspace::Workspace;

/// The book's directory, from the workspace root.
pub const BOOK: &str = "book";

/// Installs what building the book needs: mdBook and the diagram
/// preprocessor. Returns the `mdbook` program.
pub fn ensure_tools(cargo: &std::ffi::OsStr) -> Result<PathBuf, String> {
    let mdbook = setup::ensure_cargo_tool(cargo, "mdbook", 3)?;
    setup::ensure_cargo_tool(cargo, "mdbook-svgbob", 4)?;
    Ok(mdbook)
}

/// `mdbook build book`, with cargo's `bin` directory on `PATH` so mdBook
/// finds the preprocessor where `cargo install` put it.
pub fn build(ws: &Workspace) -> Result<PathBuf, String> {
    let mdbook = ensure_tools(&ws.cargo)?;
    let mut path = OsString::new();
    if let Some(bin) = setup::cargo_bin() {
        path.push(bin);
        path.push(":");
    }
    path.push(std::env::var_os("PATH").unwrap_or_default());
    Cmd::new(mdbook)
        .dir(&ws.root)
        .env("PATH", path)
        .args(["build", BOOK])
        .run()?;
    Ok(ws.root.join(BOOK).join("book"))
}

/// The book step of `cargo xtask test`: build, diagrams, transcripts.
/// `chapters`, if not empty, limits the transcripts run to those chapters,
/// and the exercises checked to those they use.
pub fn test_step(ws: &Workspace, chapters: &[String]) -> Result<(), String> {
    let out = build(ws)?;
    let src = ws.root.join(BOOK).join("src");
    let files = markdown::chapters(&src)?;
    let drawn = diagrams::check(&src, &out, &files)?;
    eprintln!("book: {drawn} diagrams drawn");
    let suites: Vec<&str> = crate::bench::BENCHES.iter().map(|b| b.name).collect();
    let charts = charts::check(&ws.root, Some(&out), &suites)?;
    eprintln!("book: {charts} benchmark charts, each the drawing of its results");
    if crate::profile::check_book(&ws.root)? {
        eprintln!("book: the kernel's profile table and chart are the rendering of its results");
    }

    let runner = run::Runner {
        root: ws.root.clone(),
        // Outside the workspace, so a crate made there with `cargo new` is a
        // package of its own, not a stray member of this workspace; one per
        // run, so two runs at once (two checkouts) keep out of each other's.
        scratch: std::env::temp_dir().join(format!("hurd-rs-book-{}", std::process::id())),
        is_root: Cmd::new("id")
            .arg("-u")
            .read()
            .is_ok_and(|u| u.trim() == "0"),
        chapters_made: Default::default(),
    };
    let mut counts = [0usize; 2];
    let mut used = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let rel = file.strip_prefix(&ws.root).unwrap_or(file);
        if chapters.contains(&name) {
            used.extend(exercises::used_by(&text));
        }
        for block in markdown::blocks(rel, &text)? {
            if block.language() != "console" {
                continue;
            }
            let kind = if block.has("run") {
                "run"
            } else if block.has("session") {
                "session"
            } else {
                return Err(format!(
                    "{}: a console block must say how it is checked: \
                     ```console,run (commands run to their end) or \
                     ```console,session (a program driven at its prompts); \
                     commands shown without output go in a ```sh block",
                    block.place()
                ));
            };
            if !chapters.is_empty() && !chapters.contains(&name) {
                continue;
            }
            eprintln!("\n==> book: {} ({kind})", block.place());
            let start = Instant::now();
            let outcome = if kind == "run" {
                runner.run(&block)?
            } else {
                runner.session(&block)?
            };
            match outcome {
                run::Outcome::Passed => {
                    counts[0] += 1;
                    eprintln!(
                        "book: {}: as shown ({:.1}s)",
                        block.place(),
                        start.elapsed().as_secs_f64()
                    );
                }
                run::Outcome::Skipped(why) => {
                    counts[1] += 1;
                    eprintln!("book: {}: skipped: {why}", block.place());
                }
            }
        }
    }
    eprintln!(
        "book: {} transcripts as shown, {} skipped",
        counts[0], counts[1]
    );
    // Kept when a block failed, to look into; gone when all went as shown.
    let _ = std::fs::remove_dir_all(&runner.scratch);
    // Every exercise, or those the chapters named use.
    let only = (!chapters.is_empty()).then_some(used.as_slice());
    let parts = exercises::check(ws, only)?;
    eprintln!("book: {parts} exercises checked");
    Ok(())
}

/// `cargo xtask book [CHAPTER...]`.
pub fn main(args: &[String]) -> Result<ExitCode, Failure> {
    if let Some(flag) = args.iter().find(|a| a.starts_with('-')) {
        return Err(Failure::Usage(format!(
            "unknown option `{flag}` for `cargo xtask book`"
        )));
    }
    test_step(&Workspace::find()?, args)?;
    Ok(ExitCode::SUCCESS)
}
