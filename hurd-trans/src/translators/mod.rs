//! Translators built on the frameworks, each a library type plus a program
//! ([`programs`]) a starter runs, hosted or on the hurd-rs kernel.

pub mod ext2;
pub mod hello;
pub mod null;
pub mod ports;
pub mod random;
pub mod shadow;
pub mod storeio;
pub mod tarfs;
pub mod tmpfs;
pub mod union;

pub mod programs;
