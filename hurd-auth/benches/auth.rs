//! The auth benchmark (written next).
fn main() {}
