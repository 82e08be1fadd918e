//! Node configuration: who this node is, where it listens, and which peers it
//! trusts. The file is TOML:
//!
//! ```toml
//! node = 1                      # this node's number (1..=65535), in its PortIds
//! listen = "127.0.0.1:7001"     # UDP address for QUIC
//! key = "node1.key"             # PEM PKCS#8 private key (relative to this file)
//! idle_timeout_ms = 5000        # a silent peer is gone after this long (optional)
//!
//! [[peer]]
//! node = 2
//! address = "127.0.0.1:7002"    # where to reach it (leave out: it dials us)
//! fingerprint = "sha256:3f1c…"  # the SHA-256 of its public key
//!
//! [[peer]]
//! node = 3
//! fingerprint = "sha256:99ab…"
//! ```
//!
//! A peer is identified by the SHA-256 fingerprint of its public key (see
//! [`crate::identity`]); a connection whose key matches no `[[peer]]` is
//! refused during the TLS handshake.
//!
//! Reading is strict: a TOML syntax error, an unknown key, a missing one, a
//! value of the wrong type or a meaningless one (node 0, a port that is not a
//! socket address, two peers with one number or one key) is a
//! [`ConfigError`] naming the file, the line and the key.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::identity::Fingerprint;

/// A configured peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerConfig {
    /// Its node number.
    pub node: u16,
    /// Where to reach it; `None` when it connects to us.
    pub address: Option<SocketAddr>,
    /// The fingerprint of its public key.
    pub fingerprint: Fingerprint,
}

/// A node's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConfig {
    /// This node's number (never 0: node 0 is a runtime outside any cluster).
    pub node: u16,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The private key file (PEM, PKCS#8).
    pub key: PathBuf,
    /// How long a silent peer is waited for before it counts as gone.
    pub idle_timeout: Duration,
    /// The trusted peers.
    pub peers: Vec<PeerConfig>,
}

/// The idle timeout when the file gives none.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// The idle timeouts a file may give, in milliseconds.
const IDLE_TIMEOUT_MS: Range<i64> = 100..600_001;

/// A configuration error: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, when the configuration came from one.
    pub file: Option<PathBuf>,
    /// 1-based line number; 0 when the error concerns the whole file.
    pub line: usize,
    /// The key the error is about (`listen`, `peer.fingerprint`), if one.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut place = String::new();
        if let Some(file) = &self.file {
            place.push_str(&file.display().to_string());
        }
        if self.line > 0 {
            if !place.is_empty() {
                place.push(':');
            }
            place.push_str(&self.line.to_string());
        }
        if !place.is_empty() {
            write!(f, "{place}: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The file as TOML gives it, before checking: every value with its place.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    node: Option<Spanned<toml::Value>>,
    listen: Option<Spanned<toml::Value>>,
    key: Option<Spanned<toml::Value>>,
    idle_timeout_ms: Option<Spanned<toml::Value>>,
    #[serde(default)]
    peer: Vec<Spanned<RawPeer>>,
}

/// One `[[peer]]` table as TOML gives it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeer {
    node: Option<Spanned<toml::Value>>,
    address: Option<Spanned<toml::Value>>,
    fingerprint: Option<Spanned<toml::Value>>,
}

impl NodeConfig {
    /// Reads and checks a configuration file; a relative `key` path is taken
    /// relative to the file's directory.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the file: it cannot be read, or
    /// [`NodeConfig::parse`] refuses its text.
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: Some(path.to_owned()),
            line: 0,
            key: None,
            message: format!("cannot read: {e}"),
        })?;
        let mut cfg = NodeConfig::parse(&text).map_err(|mut e| {
            e.file = Some(path.to_owned());
            e
        })?;
        if cfg.key.is_relative()
            && let Some(dir) = path.parent()
        {
            cfg.key = dir.join(&cfg.key);
        }
        Ok(cfg)
    }

    /// Parses and checks configuration text (TOML, see the [module
    /// documentation](self)).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] with the line and key: TOML syntax, an unknown or
    /// missing key, a value of the wrong type or out of range, a peer listed
    /// twice (by number or by key) or with this node's own number.
    pub fn parse(text: &str) -> Result<NodeConfig, ConfigError> {
        let place = Places(text);
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            file: None,
            line: e.span().map_or(0, |span| place.line(&span)),
            key: e.span().and_then(|span| place.key_at(&span)),
            message: e.message().trim_end().to_owned(),
        })?;
        let whole = |key: &str| ConfigError {
            file: None,
            line: 0,
            key: Some(key.to_owned()),
            message: "is not set".to_owned(),
        };
        let node = raw.node.ok_or_else(|| whole("node"))?;
        let node = place.node_number(&node, "node")?;
        let listen = raw.listen.ok_or_else(|| whole("listen"))?;
        let listen = place.socket_address(&listen, "listen")?;
        let key_value = raw.key.ok_or_else(|| whole("key"))?;
        let key = place.string(&key_value, "key")?;
        if key.is_empty() {
            return Err(place.error(&key_value.span(), "key", "needs a file name"));
        }
        let key = PathBuf::from(key);
        let idle_timeout = match &raw.idle_timeout_ms {
            None => DEFAULT_IDLE_TIMEOUT,
            Some(value) => {
                let ms = place.integer(value, "idle_timeout_ms")?;
                if !IDLE_TIMEOUT_MS.contains(&ms) {
                    return Err(place.error(
                        &value.span(),
                        "idle_timeout_ms",
                        &format!("{ms} is not a timeout between 100 and 600000 ms"),
                    ));
                }
                Duration::from_millis(ms.unsigned_abs())
            }
        };
        let mut peers: Vec<PeerConfig> = Vec::new();
        for raw_peer in &raw.peer {
            let peer = place.peer(raw_peer, node, &peers)?;
            peers.push(peer);
        }
        Ok(NodeConfig {
            node,
            listen,
            key,
            idle_timeout,
            peers,
        })
    }

    /// The peer with this node number.
    pub fn peer(&self, node: u16) -> Option<&PeerConfig> {
        self.peers.iter().find(|p| p.node == node)
    }

    /// The peer with this key.
    pub fn peer_by_key(&self, fp: &Fingerprint) -> Option<&PeerConfig> {
        self.peers.iter().find(|p| &p.fingerprint == fp)
    }
}

/// The text being read, to turn spans into lines and build errors.
struct Places<'a>(&'a str);

impl Places<'_> {
    /// The 1-based line of the start of `span`.
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.0.len());
        self.0.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// The key `span` covers, if it covers one (TOML's errors about keys
    /// point at them), with its table: `peer.colour`.
    fn key_at(&self, span: &Range<usize>) -> Option<String> {
        let key = self.0.get(span.clone())?.trim();
        let bare = |k: &str| {
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !bare(key) {
            return None;
        }
        let before = self.0.get(..span.start)?;
        let table = before
            .lines()
            .rev()
            .map(str::trim)
            .find(|line| line.starts_with('['))
            .map(|header| header.split('#').next().unwrap_or("").trim())
            .map(|header| header.trim_matches(|c| c == '[' || c == ']').trim());
        Some(match table {
            Some(table) if bare(table) => format!("{table}.{key}"),
            _ => key.to_owned(),
        })
    }

    /// Checks one `[[peer]]` of the node `node` against the `earlier` ones.
    fn peer(
        &self,
        raw: &Spanned<RawPeer>,
        node: u16,
        earlier: &[PeerConfig],
    ) -> Result<PeerConfig, ConfigError> {
        let p = raw.get_ref();
        let missing = |key: &str| self.error(&raw.span(), key, "is not set in this [[peer]]");
        let n = p.node.as_ref().ok_or_else(|| missing("peer.node"))?;
        let peer_node = self.node_number(n, "peer.node")?;
        if peer_node == node {
            return Err(self.error(
                &n.span(),
                "peer.node",
                &format!("{peer_node} is this node's own number"),
            ));
        }
        if earlier.iter().any(|q| q.node == peer_node) {
            return Err(self.error(
                &n.span(),
                "peer.node",
                &format!("peer {peer_node} is listed twice"),
            ));
        }
        let address = match &p.address {
            None => None,
            Some(a) => Some(self.socket_address(a, "peer.address")?),
        };
        let fp = p
            .fingerprint
            .as_ref()
            .ok_or_else(|| missing("peer.fingerprint"))?;
        let fingerprint: Fingerprint = self
            .string(fp, "peer.fingerprint")?
            .parse()
            .map_err(|e: String| self.error(&fp.span(), "peer.fingerprint", &e))?;
        if earlier.iter().any(|q| q.fingerprint == fingerprint) {
            return Err(self.error(
                &fp.span(),
                "peer.fingerprint",
                &format!("the key of peer {peer_node} is already another peer's"),
            ));
        }
        Ok(PeerConfig {
            node: peer_node,
            address,
            fingerprint,
        })
    }

    fn error(&self, span: &Range<usize>, key: &str, message: &str) -> ConfigError {
        ConfigError {
            file: None,
            line: self.line(span),
            key: Some(key.to_owned()),
            message: message.to_owned(),
        }
    }

    fn string<'v>(
        &self,
        value: &'v Spanned<toml::Value>,
        key: &str,
    ) -> Result<&'v str, ConfigError> {
        value
            .get_ref()
            .as_str()
            .ok_or_else(|| self.error(&value.span(), key, "must be a string"))
    }

    fn integer(&self, value: &Spanned<toml::Value>, key: &str) -> Result<i64, ConfigError> {
        value
            .get_ref()
            .as_integer()
            .ok_or_else(|| self.error(&value.span(), key, "must be an integer"))
    }

    fn node_number(&self, value: &Spanned<toml::Value>, key: &str) -> Result<u16, ConfigError> {
        let n = self.integer(value, key)?;
        u16::try_from(n).ok().filter(|&n| n != 0).ok_or_else(|| {
            self.error(
                &value.span(),
                key,
                &format!("{n} is not a node number (1..=65535)"),
            )
        })
    }

    fn socket_address(
        &self,
        value: &Spanned<toml::Value>,
        key: &str,
    ) -> Result<SocketAddr, ConfigError> {
        let text = self.string(value, key)?;
        text.parse().map_err(|_| {
            self.error(
                &value.span(),
                key,
                &format!("`{text}` is not an IP address and port"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
    const FP2: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000002";

    fn with_peers(peers: &str) -> String {
        format!("node = 1\nlisten = \"127.0.0.1:7001\"\nkey = \"k.pem\"\n{peers}")
    }

    #[test]
    fn parses_a_full_file() {
        let text = format!(
            "# a node\nnode = 1\nlisten = \"127.0.0.1:7001\"\nkey = \"k.pem\"\n\
             idle_timeout_ms = 900\n\n[[peer]]\nnode = 2\naddress = \"127.0.0.1:7002\"\n\
             fingerprint = \"{FP}\"\n\n[[peer]] # dials us\nnode = 3\nfingerprint = \"{FP2}\"\n"
        );
        let cfg = NodeConfig::parse(&text).expect("valid");
        assert_eq!(cfg.node, 1);
        assert_eq!(cfg.listen, "127.0.0.1:7001".parse().expect("address"));
        assert_eq!(cfg.key, PathBuf::from("k.pem"));
        assert_eq!(cfg.idle_timeout, Duration::from_millis(900));
        assert_eq!(cfg.peers.len(), 2);
        assert_eq!(
            cfg.peer(2).map(|p| p.address),
            Some(Some("127.0.0.1:7002".parse().expect("address")))
        );
        assert_eq!(cfg.peer(3).map(|p| p.address), Some(None));
        assert_eq!(
            cfg.peer_by_key(&FP2.parse().expect("fingerprint"))
                .map(|p| p.node),
            Some(3)
        );
        let bare = NodeConfig::parse(&with_peers("")).expect("valid");
        assert_eq!(bare.idle_timeout, DEFAULT_IDLE_TIMEOUT);
        assert!(bare.peers.is_empty());
    }

    #[test]
    fn errors_name_the_line_and_the_key() {
        let peer = |body: &str| with_peers(&format!("[[peer]]\n{body}"));
        let cases = [
            (
                "node = 0\n".to_owned(),
                1,
                Some("node"),
                "not a node number",
            ),
            (
                "node = 70000\n".to_owned(),
                1,
                Some("node"),
                "not a node number",
            ),
            (
                "node = \"one\"\n".to_owned(),
                1,
                Some("node"),
                "must be an integer",
            ),
            (
                "node = 1\nlisten = \"nowhere\"\n".to_owned(),
                2,
                Some("listen"),
                "not an IP address",
            ),
            (
                "node = 1\nlisten = 7001\n".to_owned(),
                2,
                Some("listen"),
                "must be a string",
            ),
            (
                "node = 1\nnode = 2\n".to_owned(),
                2,
                Some("node"),
                "duplicate key",
            ),
            (
                "colour = \"blue\"\n".to_owned(),
                1,
                Some("colour"),
                "unknown field `colour`",
            ),
            ("just words\n".to_owned(), 1, None, ""),
            (
                with_peers("idle_timeout_ms = 5\n"),
                4,
                Some("idle_timeout_ms"),
                "between 100 and 600000",
            ),
            (with_peers("key = \"\"\n"), 4, Some("key"), "duplicate key"),
            (
                peer(&format!("node = 2\nfingerprint = \"{FP}\"\ncolour = 1\n")),
                7,
                Some("peer.colour"),
                "unknown field `colour`",
            ),
            (
                peer("node = 2\n"),
                4,
                Some("peer.fingerprint"),
                "is not set",
            ),
            (
                peer(&format!("fingerprint = \"{FP}\"\n")),
                4,
                Some("peer.node"),
                "is not set",
            ),
            (
                peer("node = 2\nfingerprint = \"sha256:zz\"\n"),
                6,
                Some("peer.fingerprint"),
                "",
            ),
            (
                peer(&format!("node = 1\nfingerprint = \"{FP}\"\n")),
                5,
                Some("peer.node"),
                "own number",
            ),
            (
                peer(&format!(
                    "node = 2\naddress = \"here\"\nfingerprint = \"{FP}\"\n"
                )),
                6,
                Some("peer.address"),
                "not an IP address",
            ),
            (
                peer(&format!(
                    "node = 2\nfingerprint = \"{FP}\"\n[[peer]]\nnode = 2\nfingerprint = \"{FP2}\"\n"
                )),
                8,
                Some("peer.node"),
                "listed twice",
            ),
            (
                peer(&format!(
                    "node = 2\nfingerprint = \"{FP}\"\n[[peer]]\nnode = 3\nfingerprint = \"{FP}\"\n"
                )),
                9,
                Some("peer.fingerprint"),
                "already another peer's",
            ),
        ];
        for (text, line, key, what) in cases {
            let e = NodeConfig::parse(&text).expect_err(&text);
            assert_eq!(e.line, line, "{text}: {e}");
            assert_eq!(e.key.as_deref(), key, "{text}: {e}");
            assert!(e.message.contains(what), "{text}: {e}");
        }
    }

    #[test]
    fn missing_keys_are_named() {
        let e = NodeConfig::parse("node = 1\nlisten = \"127.0.0.1:1\"\n").expect_err("no key");
        assert_eq!(e.to_string(), "`key`: is not set");
        let e = NodeConfig::parse("").expect_err("empty");
        assert_eq!(e.key.as_deref(), Some("node"));
        let e = NodeConfig::parse("node = 1\nlisten = \"127.0.0.1:1\"\nkey = \"\"\n")
            .expect_err("empty key");
        assert_eq!(e.to_string(), "3: `key`: needs a file name");
    }

    #[test]
    fn load_names_the_file_and_resolves_the_key() {
        let e = NodeConfig::load(Path::new("/nonexistent/netmsg.toml")).expect_err("missing");
        assert!(
            e.to_string()
                .starts_with("/nonexistent/netmsg.toml: cannot read")
        );
        let dir = std::env::temp_dir().join(format!("netmsg-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("node.toml");
        std::fs::write(&file, with_peers("")).expect("write");
        let cfg = NodeConfig::load(&file).expect("valid");
        assert_eq!(cfg.key, dir.join("k.pem"));
        std::fs::write(&file, "node = 1\nlisten = \"x\"\n").expect("write");
        let e = NodeConfig::load(&file).expect_err("bad listen");
        assert_eq!(
            e.to_string(),
            format!(
                "{}:2: `listen`: `x` is not an IP address and port",
                file.display()
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
