//! The file server example (written next).
fn main() {}
