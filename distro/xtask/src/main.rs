//! `cargo xtask`: the hurd-rs development tool.
fn main() {}
