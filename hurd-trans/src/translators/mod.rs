//! Translators built on the frameworks, each a library type plus (hosted) a
//! [`Program`](crate::transbox::Program) a starter can run.

pub mod ext2;
pub mod hello;
pub mod null;
pub mod ports;
pub mod shadow;
pub mod tarfs;
pub mod tmpfs;
pub mod union;

#[cfg(feature = "std")]
pub mod programs;
