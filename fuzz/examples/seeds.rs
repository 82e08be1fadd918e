//! `cargo run -p fuzz-targets --example seeds -- DIR`: writes the seeds of
//! every target (see [`fuzz_targets::seeds`]) to `DIR/TARGET/seed-N`, the
//! corpus `cargo xtask fuzz` starts libFuzzer from.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: seeds DIR");
        return ExitCode::from(2);
    };
    for &(target, _) in fuzz_targets::TARGETS {
        let into = dir.join(target);
        let written = std::fs::create_dir_all(&into).and_then(|()| {
            fuzz_targets::seeds(target)
                .iter()
                .enumerate()
                .try_for_each(|(n, seed)| std::fs::write(into.join(format!("seed-{n}")), seed))
        });
        if let Err(err) = written {
            eprintln!("seeds: writing {}: {err}", into.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
