//! The serde form of a manifest's text: every table denies unknown fields,
//! and every value keeps its place in the text for errors.

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Raw {
    pub(super) image: Spanned<RawImage>,
    pub(super) kernel: Spanned<RawKernel>,
    #[serde(default)]
    pub(super) module: Vec<Spanned<RawModule>>,
    #[serde(default)]
    pub(super) program: Vec<Spanned<RawProgram>>,
    #[serde(default)]
    pub(super) file: Vec<Spanned<RawFile>>,
    #[serde(default)]
    pub(super) dir: Vec<Spanned<RawDir>>,
    #[serde(default)]
    pub(super) translator: Vec<Spanned<RawTranslator>>,
    #[serde(default)]
    pub(super) user: Vec<Spanned<RawUser>>,
    #[serde(default)]
    pub(super) group: Vec<Spanned<RawGroup>>,
    #[serde(default)]
    pub(super) service: Vec<Spanned<RawService>>,
    pub(super) disk: Option<Spanned<RawDisk>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDisk {
    pub(super) size: Spanned<toml::Value>,
    pub(super) mount: Spanned<String>,
    pub(super) source: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    pub(super) name: Spanned<String>,
    pub(super) program: Spanned<String>,
    #[serde(default)]
    pub(super) args: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) after: Vec<Spanned<String>>,
    pub(super) user: Option<Spanned<String>>,
    #[serde(rename = "on-failure")]
    pub(super) on_failure: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUser {
    pub(super) name: Spanned<String>,
    pub(super) uid: Spanned<u32>,
    pub(super) groups: Spanned<Vec<Spanned<String>>>,
    pub(super) home: Option<Spanned<String>>,
    pub(super) shell: Option<Spanned<String>>,
    pub(super) password: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    pub(super) name: Spanned<String>,
    pub(super) gid: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawImage {
    pub(super) name: Spanned<String>,
    #[serde(default)]
    pub(super) cmdline: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKernel {
    pub(super) package: Option<Spanned<String>>,
    pub(super) bin: Option<Spanned<String>>,
    pub(super) path: Option<Spanned<String>>,
    pub(super) protocol: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawModule {
    pub(super) name: Spanned<String>,
    pub(super) package: Option<Spanned<String>>,
    #[serde(rename = "crate")]
    pub(super) krate: Option<Spanned<String>>,
    pub(super) bin: Option<Spanned<String>>,
    pub(super) source: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) args: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProgram {
    pub(super) path: Spanned<String>,
    pub(super) package: Option<Spanned<String>>,
    #[serde(rename = "crate")]
    pub(super) krate: Option<Spanned<String>>,
    pub(super) bin: Option<Spanned<String>>,
    pub(super) source: Option<Spanned<String>>,
    pub(super) mode: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    pub(super) path: Spanned<String>,
    pub(super) text: Option<Spanned<String>>,
    pub(super) source: Option<Spanned<String>>,
    pub(super) mode: Option<Spanned<u32>>,
    pub(super) owner: Option<u32>,
    pub(super) group: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDir {
    pub(super) path: Spanned<String>,
    pub(super) mode: Option<Spanned<u32>>,
    pub(super) owner: Option<u32>,
    pub(super) group: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTranslator {
    pub(super) node: Spanned<String>,
    pub(super) command: Spanned<Vec<String>>,
    pub(super) owner: Option<u32>,
}
