//! netmsg for hurd-rs: Mach ports carried between machines.
//!
//! A *node* is a hosted [`hurd_ipc`] runtime joined to other nodes over QUIC.
//! Tasks on a node hold send rights to *proxy* ports standing for ports on other
//! nodes, and send them messages carrying data, out-of-line memory and port
//! rights of every disposition, exactly as they would locally. The netmsg task
//! of each node relays those messages.
//!
//! What it guarantees (and the seed's TCP relay did not):
//!
//! * **Authenticated, encrypted transport.** QUIC with TLS 1.3 (quinn, rustls
//!   with the *ring* provider). Each node has a key pair; peers are configured by
//!   the fingerprint of their public key, and both sides check (see
//!   [`identity`]). An unknown or wrongly keyed peer is refused during the
//!   handshake: it sees the node's certificate (its public key, as any TLS
//!   client would) and a TLS alert, never a frame or a port.
//! * **Global port identity.** Proxies are keyed by the port's
//!   [`PortId`](hurd_ipc::PortId), so a port reached through two paths is one
//!   proxy, and one name in any space (the auth rendezvous needs this); a port
//!   that comes back home is the original port.
//! * **Ordering per port**, not per connection: one QUIC stream per destination
//!   port ([`transport`]). The memory_object init/ready exchange never waits
//!   behind other traffic.
//! * **Queue limits end to end**: a full destination queue stops its stream,
//!   which stops the sender's proxy, whose queue limit stops the senders.
//! * **Two-phase release** of remote send rights (see [`ledger`]): no-senders
//!   reaches the real receiver only when the last remote send right is gone,
//!   including when a release crosses a right in flight.
//! * **Dead names** when a port dies or a node goes away; a node killed in the
//!   middle of an RPC makes the RPC fail (its reply right dies), never hang.
//! * **Strictly validated frames** ([`frame`]): a malformed frame closes only
//!   the connection it came on.
//! * **Reconnection**: the lower-numbered node of each pair dials the other and
//!   redials after a loss. Rights held through a lost connection are dead (as
//!   they would be if the node had crashed); new ones are obtained again, for
//!   example from the peer's registry.
//!
//! The node, its transport and its identities need `std` (threads, sockets,
//! the hosted runtime): the `std` feature, on by default. Without it the
//! crate is `no_std` with `alloc` and holds what a node on bare metal shares
//! with the hosted one: the frame format ([`frame`]) and the release ledger
//! ([`ledger`]).
//!
//! ```no_run
//! use hurd_netmsg::{Identity, Node, NodeConfig};
//!
//! let config = NodeConfig::load("node1.toml".as_ref())?;
//! let identity = Identity::load(&config.key)?;
//! let node = Node::start(config, identity)?;
//! let task = node.runtime().task();
//! node.wait_for_peer(2, std::time::Duration::from_secs(5));
//! let registry = node.peer_registry(2, &task).expect("peer 2 is up");
//! let port = hurd_netmsg::registry::Client::new(&task, registry).lookup("echo".into())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

/// The `hurd-ipc` this crate is built with, so that the types its API takes
/// and returns can be named without a second dependency that might differ
/// in version.
pub use hurd_ipc;

#[cfg(feature = "std")]
pub mod config;
#[cfg(feature = "std")]
pub mod echo;
pub mod frame;
#[cfg(feature = "std")]
pub mod identity;
pub mod ledger;
#[cfg(feature = "std")]
mod naming;
#[cfg(feature = "std")]
mod node;
#[cfg(feature = "std")]
mod proxy;
#[cfg(feature = "std")]
pub mod transport;

#[cfg(feature = "std")]
pub use config::{ConfigError, NodeConfig, PeerConfig};
#[cfg(feature = "std")]
pub use identity::{Fingerprint, Identity};
#[cfg(feature = "std")]
pub use naming::{EAGAIN, EEXIST, EHOSTUNREACH, EINVAL, ENOENT, EPERM, MAX_WAITING, registry};
#[cfg(feature = "std")]
pub use node::{Node, PeerStatus, StartError};
