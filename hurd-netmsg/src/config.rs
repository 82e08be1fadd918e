//! Node configuration: who this node is, where it listens, and which peers it
//! trusts.
//!
//! The file is line based; `#` starts a comment. Example:
//!
//! ```text
//! node = 1                       # this node's number (1..=65535), in its PortIds
//! listen = 127.0.0.1:7001        # UDP address for QUIC
//! key = node1.key                # PEM PKCS#8 private key (relative to this file)
//! idle_timeout_ms = 5000         # a silent peer is gone after this long
//! peer 2 127.0.0.1:7002 sha256:3f1c…   # node, address (or -), key fingerprint
//! peer 3 - sha256:99ab…
//! ```
//!
//! A peer is identified by the SHA-256 fingerprint of its public key (see
//! [`crate::identity`]); a connection whose key matches no `peer` line is
//! refused during the TLS handshake.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// A configuration error, with the line it was found on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, when the configuration came from one.
    pub file: Option<PathBuf>,
    /// 1-based line number; 0 when the error concerns the whole file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}:", file.display())?;
        }
        if self.line > 0 {
            write!(f, "{}: ", self.line)?;
        } else if self.file.is_some() {
            f.write_str(" ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

impl NodeConfig {
    /// Reads and checks a configuration file; a relative `key` path is taken
    /// relative to the file's directory.
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: Some(path.to_owned()),
            line: 0,
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

    /// Parses and checks configuration text.
    pub fn parse(text: &str) -> Result<NodeConfig, ConfigError> {
        let mut node = None;
        let mut listen = None;
        let mut key = None;
        let mut idle_timeout = Duration::from_secs(5);
        let mut peers: Vec<PeerConfig> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message: String| ConfigError {
                file: None,
                line,
                message,
            };
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            if let Some(rest) = content.strip_prefix("peer ") {
                let fields: Vec<&str> = rest.split_whitespace().collect();
                let [n, addr, fp] = fields.as_slice() else {
                    return Err(err(
                        "a peer line is `peer NODE ADDRESS|- FINGERPRINT`".to_owned()
                    ));
                };
                let node = parse_node(n).map_err(err)?;
                let address = match *addr {
                    "-" => None,
                    a => Some(
                        a.parse()
                            .map_err(|_| err(format!("`{a}` is not an IP address and port")))?,
                    ),
                };
                let fingerprint: Fingerprint = fp.parse().map_err(|e: String| err(e))?;
                if peers.iter().any(|p| p.node == node) {
                    return Err(err(format!("peer {node} is listed twice")));
                }
                if peers.iter().any(|p| p.fingerprint == fingerprint) {
                    return Err(err(format!(
                        "the key of peer {node} is already another peer's"
                    )));
                }
                peers.push(PeerConfig {
                    node,
                    address,
                    fingerprint,
                });
                continue;
            }
            let Some((k, v)) = content.split_once('=') else {
                return Err(err(format!(
                    "expected `key = value` or a peer line, found `{content}`"
                )));
            };
            let (k, v) = (k.trim(), v.trim());
            let dup = |set: bool| {
                if set {
                    Err(err(format!("`{k}` is set twice")))
                } else {
                    Ok(())
                }
            };
            match k {
                "node" => {
                    dup(node.is_some())?;
                    node = Some(parse_node(v).map_err(err)?);
                }
                "listen" => {
                    dup(listen.is_some())?;
                    listen = Some(
                        v.parse::<SocketAddr>()
                            .map_err(|_| err(format!("`{v}` is not an IP address and port")))?,
                    );
                }
                "key" => {
                    dup(key.is_some())?;
                    if v.is_empty() {
                        return Err(err("`key` needs a file name".to_owned()));
                    }
                    key = Some(PathBuf::from(v));
                }
                "idle_timeout_ms" => {
                    let ms: u64 = v
                        .parse()
                        .ok()
                        .filter(|&ms| (100..=600_000).contains(&ms))
                        .ok_or_else(|| {
                            err(format!("`{v}` is not a timeout between 100 and 600000 ms"))
                        })?;
                    idle_timeout = Duration::from_millis(ms);
                }
                other => return Err(err(format!("unknown setting `{other}`"))),
            }
        }
        let missing = |what: &str| ConfigError {
            file: None,
            line: 0,
            message: format!("`{what}` is not set"),
        };
        let node = node.ok_or_else(|| missing("node"))?;
        if let Some(p) = peers.iter().find(|p| p.node == node) {
            return Err(ConfigError {
                file: None,
                line: 0,
                message: format!("peer {} has this node's own number", p.node),
            });
        }
        Ok(NodeConfig {
            node,
            listen: listen.ok_or_else(|| missing("listen"))?,
            key: key.ok_or_else(|| missing("key"))?,
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

fn parse_node(s: &str) -> Result<u16, String> {
    s.parse::<u16>()
        .ok()
        .filter(|&n| n != 0)
        .ok_or_else(|| format!("`{s}` is not a node number (1..=65535)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
    const FP2: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000002";

    #[test]
    fn parses_a_full_file() {
        let text = format!(
            "# a node\nnode = 1\nlisten = 127.0.0.1:7001\nkey = k.pem\nidle_timeout_ms = 900\n\
             peer 2 127.0.0.1:7002 {FP}\npeer 3 - {FP2} # dials us\n"
        );
        let cfg = NodeConfig::parse(&text).expect("valid");
        assert_eq!(cfg.node, 1);
        assert_eq!(cfg.idle_timeout, Duration::from_millis(900));
        assert_eq!(cfg.peers.len(), 2);
        assert_eq!(cfg.peer(3).map(|p| p.address), Some(None));
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("node = 0\n", 1, "not a node number"),
            ("node = 1\nlisten = nowhere\n", 2, "not an IP address"),
            ("node = 1\nnode = 2\n", 2, "set twice"),
            ("colour = blue\n", 1, "unknown setting"),
            ("node = 1\npeer 2 127.0.0.1:1\n", 2, "a peer line is"),
            ("node = 1\npeer 2 - sha256:zz\n", 2, "fingerprint"),
            ("just words\n", 1, "expected `key = value`"),
        ];
        for (text, line, what) in cases {
            let e = NodeConfig::parse(text).expect_err(text);
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.message.contains(what), "{text}: {e}");
        }
        let e = NodeConfig::parse("node = 1\nlisten = 127.0.0.1:1\n").expect_err("no key");
        assert!(e.to_string().contains("`key` is not set"));
        let dup =
            format!("node = 1\nlisten = 127.0.0.1:1\nkey = k\npeer 2 - {FP}\npeer 3 - {FP}\n");
        assert!(
            NodeConfig::parse(&dup)
                .expect_err("same key twice")
                .message
                .contains("already")
        );
        let own = format!("node = 2\nlisten = 127.0.0.1:1\nkey = k\npeer 2 - {FP}\n");
        assert!(NodeConfig::parse(&own).is_err());
    }

    #[test]
    fn missing_file_is_an_error() {
        let e = NodeConfig::load(Path::new("/nonexistent/netmsg.conf")).expect_err("missing");
        assert!(e.to_string().contains("cannot read"));
    }
}
