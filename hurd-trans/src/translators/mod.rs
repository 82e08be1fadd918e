//! Translators built on the frameworks, each a library type plus (hosted) a
//! [`Program`](crate::transbox::Program) a starter can run.

pub mod hello;
pub mod null;
pub mod tarfs;
pub mod tmpfs;

#[cfg(feature = "std")]
pub mod programs;
