//! QUIC between nodes.
//!
//! # Streams
//!
//! Each direction of a connection has:
//!
//! * a **control stream**, opened first, starting with `HELLO`; it carries
//!   `RELEASED`, `PORT_DEAD` and `ONCE_DESTROYED`;
//! * **one stream per destination port**, opened on the first message to that
//!   port and closed when the port is forgotten. Messages to a port, and the
//!   `RELEASE` frames for it, go in order on its stream; different ports never
//!   wait for each other. This is what keeps the memory_object init/ready
//!   exchange (`memory_object_init` to the pager's port, `memory_object_ready`
//!   to the kernel's control port) from ever queueing behind other traffic,
//!   and what makes ordering per port rather than per connection;
//! * one stream for messages to send-once rights (replies), which never block
//!   at their destination — except that a reply to a port this node also
//!   sends messages to goes on that port's stream, behind them (a kernel's
//!   `lock_completed` must not overtake its `data_return`).
//!
//! A stream is read one frame at a time, and a frame's message is delivered
//! before the next frame is read: when the destination queue is full, reading
//! stops, QUIC flow control stops the sender's stream, the sender's proxy
//! leaves its port set and the local senders wait on its queue limit. Queue
//! limits thus hold end to end.
//!
//! A malformed frame, or a frame breaking the protocol, closes the
//! connection it came on (application error code 1) and no other.
//!
//! # Memory
//!
//! A frame is at most [`MAX_FRAME`](crate::frame::MAX_FRAME) bytes, and
//! the frames of one connection being read, or read and not yet handled,
//! hold at most [`MAX_BUFFERED`] bytes together: a stream's frame takes its
//! announced length from the connection's budget before its first byte is
//! read and gives it back once handled. A stream whose frame does not fit
//! waits, unread (QUIC flow control stops its sender), so a peer that opens
//! many streams and never finishes their frames holds that much of the
//! node's memory and no more.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hurd_ipc::PortId;
use hurd_ipc::wire::Limits;
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use tokio::sync::{Semaphore, mpsc};

use crate::config::PeerConfig;
use crate::frame::{self, Frame};
use crate::identity::{ALPN, ALPN_PROBE, Fingerprint, Identity, SERVER_NAME};
use crate::node::{Shared, StartError};

/// The QUIC error code a node closes a connection with after a malformed frame.
pub const CLOSE_MALFORMED: u32 = 1;
/// The QUIC error code for a second connection between the same two nodes.
pub const CLOSE_DUPLICATE: u32 = 2;
/// Frames queued per port stream before its proxy stops being read.
const STREAM_QUEUE: usize = 16;
/// The most bytes of frames one connection may have read and not yet
/// handled (see the module documentation): one frame of the largest size
/// and 16 MiB of others.
pub const MAX_BUFFERED: u32 = crate::frame::MAX_FRAME + 16 * 1024 * 1024;

/// An authenticated connection to a peer, as the node uses it.
pub(crate) struct Peer {
    conn: quinn::Connection,
    control: mpsc::UnboundedSender<Vec<u8>>,
    streams: Mutex<HashMap<PortId, mpsc::Sender<Vec<u8>>>>,
    handle: tokio::runtime::Handle,
    /// Bytes of frames this connection may still read (of [`MAX_BUFFERED`]).
    budget: Arc<Semaphore>,
}

impl Peer {
    /// Bytes of the connection's budget taken: by frames read, or being
    /// read, and not yet handled, and by the next frame waiting for room.
    pub(crate) fn buffered(&self) -> u64 {
        (MAX_BUFFERED as usize).saturating_sub(self.budget.available_permits()) as u64
    }

    fn stream(&self, key: PortId) -> mpsc::Sender<Vec<u8>> {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        streams
            .entry(key)
            .or_insert_with(|| {
                let (tx, rx) = mpsc::channel(STREAM_QUEUE);
                self.handle.spawn(write_stream(self.conn.clone(), rx));
                tx
            })
            .clone()
    }

    /// Queues a frame on `key`'s stream if there is room.
    pub(crate) fn try_send(&self, key: PortId, bytes: Vec<u8>) -> Result<(), Vec<u8>> {
        match self.stream(key).try_send(bytes) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => Ok(()),
            Err(mpsc::error::TrySendError::Full(b)) => Err(b),
        }
    }

    /// Queues a frame on `key`'s stream, waiting for room.
    pub(crate) async fn send(&self, key: PortId, bytes: Vec<u8>) {
        let _ = self.stream(key).send(bytes).await;
    }

    /// Queues a frame on the control stream.
    pub(crate) fn control(&self, bytes: Vec<u8>) {
        let _ = self.control.send(bytes);
    }

    /// Ends `key`'s stream once its queued frames are written.
    pub(crate) fn close_stream(&self, key: PortId) {
        self.streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
    }
}

async fn write_stream(conn: quinn::Connection, mut rx: mpsc::Receiver<Vec<u8>>) {
    let Ok(mut s) = conn.open_uni().await else {
        return;
    };
    while let Some(b) = rx.recv().await {
        if s.write_all(&b).await.is_err() {
            return;
        }
    }
    let _ = s.finish();
}

async fn write_control(conn: quinn::Connection, mut rx: mpsc::UnboundedReceiver<Vec<u8>>) {
    let Ok(mut s) = conn.open_uni().await else {
        return;
    };
    while let Some(b) = rx.recv().await {
        if s.write_all(&b).await.is_err() {
            return;
        }
    }
    let _ = s.finish();
}

fn transport_config(idle: Duration) -> Arc<quinn::TransportConfig> {
    let mut t = quinn::TransportConfig::default();
    t.max_concurrent_uni_streams(quinn::VarInt::from_u32(65_536));
    t.max_concurrent_bidi_streams(quinn::VarInt::from_u32(0));
    // Room for a few large out-of-line messages in flight per port.
    t.stream_receive_window(quinn::VarInt::from_u32(8 << 20));
    t.receive_window(quinn::VarInt::from_u32(32 << 20));
    t.send_window(32 << 20);
    t.keep_alive_interval(Some(idle / 4));
    t.max_idle_timeout(quinn::IdleTimeout::try_from(idle).ok());
    Arc::new(t)
}

fn client_config(
    identity: &Identity,
    expected: Fingerprint,
    alpn: &[u8],
    idle: Duration,
) -> Result<quinn::ClientConfig, String> {
    let tls = identity
        .client_config(expected, alpn)
        .map_err(|e| e.to_string())?;
    let quic = QuicClientConfig::try_from(tls).map_err(|e| e.to_string())?;
    let mut cfg = quinn::ClientConfig::new(Arc::new(quic));
    cfg.transport_config(transport_config(idle));
    Ok(cfg)
}

/// The node's QUIC endpoint and its connection tasks.
pub(crate) struct Transport {
    endpoint: quinn::Endpoint,
}

impl Transport {
    pub(crate) fn start(shared: Arc<Shared>, identity: Identity) -> Result<Transport, StartError> {
        let cfg = &shared.config;
        let trusted = cfg.peers.iter().map(|p| p.fingerprint).collect();
        let tls = identity
            .server_config(trusted)
            .map_err(|e| StartError(format!("TLS: {e}")))?;
        let quic = QuicServerConfig::try_from(tls).map_err(|e| StartError(format!("QUIC: {e}")))?;
        let mut server = quinn::ServerConfig::with_crypto(Arc::new(quic));
        server.transport_config(transport_config(cfg.idle_timeout));
        let endpoint = quinn::Endpoint::server(server, cfg.listen)
            .map_err(|e| StartError(format!("cannot listen on {}: {e}", cfg.listen)))?;
        shared
            .handle
            .spawn(accept_loop(shared.clone(), endpoint.clone()));
        for p in cfg.peers.iter().filter(|p| p.node > cfg.node) {
            let Some(addr) = p.address else { continue };
            let client = client_config(&identity, p.fingerprint, ALPN, cfg.idle_timeout)
                .map_err(|e| StartError(format!("TLS for peer {}: {e}", p.node)))?;
            shared.handle.spawn(dial_loop(
                shared.clone(),
                endpoint.clone(),
                client,
                addr,
                p.node,
            ));
        }
        Ok(Transport { endpoint })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.endpoint
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    pub(crate) fn close(&self) {
        self.endpoint
            .close(quinn::VarInt::from_u32(0), b"node stopping");
    }
}

async fn dial_loop(
    shared: Arc<Shared>,
    endpoint: quinn::Endpoint,
    client: quinn::ClientConfig,
    addr: SocketAddr,
    node: u16,
) {
    let mut pause = Duration::from_millis(100);
    loop {
        if shared
            .shutting_down
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return;
        }
        match endpoint.connect_with(client.clone(), addr, SERVER_NAME) {
            Ok(connecting) => match connecting.await {
                Ok(conn) => {
                    pause = Duration::from_millis(100);
                    run_connection(shared.clone(), conn, node).await;
                }
                Err(e) => log::debug!("node {}: dialing {node} at {addr}: {e}", shared.config.node),
            },
            Err(quinn::ConnectError::EndpointStopping) => return,
            Err(e) => log::warn!("node {}: cannot dial {addr}: {e}", shared.config.node),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

async fn accept_loop(shared: Arc<Shared>, endpoint: quinn::Endpoint) {
    while let Some(incoming) = endpoint.accept().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let conn = match incoming.await {
                Ok(c) => c,
                Err(e) => {
                    log::info!("node {}: refused a connection: {e}", shared.config.node);
                    return;
                }
            };
            let Some(node) = peer_fingerprint(&conn)
                .and_then(|fp| shared.config.peer_by_key(&fp))
                .map(|p| p.node)
            else {
                conn.close(quinn::VarInt::from_u32(CLOSE_MALFORMED), b"unknown peer");
                return;
            };
            if alpn(&conn).as_deref() == Some(ALPN_PROBE) {
                conn.close(quinn::VarInt::from_u32(0), b"authenticated");
                return;
            }
            run_connection(shared, conn, node).await;
        });
    }
}

fn peer_fingerprint(conn: &quinn::Connection) -> Option<Fingerprint> {
    let certs = conn
        .peer_identity()?
        .downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>()
        .ok()?;
    Fingerprint::of_certificate(certs.first()?)
}

fn alpn(conn: &quinn::Connection) -> Option<Vec<u8>> {
    conn.handshake_data()?
        .downcast::<quinn::crypto::rustls::HandshakeData>()
        .ok()?
        .protocol
}

/// Serves one authenticated connection until it closes.
async fn run_connection(shared: Arc<Shared>, conn: quinn::Connection, node: u16) {
    let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
    let peer = Arc::new(Peer {
        conn: conn.clone(),
        control: ctl_tx,
        streams: Mutex::new(HashMap::new()),
        handle: tokio::runtime::Handle::current(),
        budget: Arc::new(Semaphore::new(MAX_BUFFERED as usize)),
    });
    {
        let mut peers = shared.peers.lock().unwrap_or_else(|e| e.into_inner());
        if peers.contains_key(&node) {
            conn.close(
                quinn::VarInt::from_u32(CLOSE_DUPLICATE),
                b"already connected",
            );
            return;
        }
        peers.insert(node, peer.clone());
    }
    log::info!("node {}: peer {node} up", shared.config.node);
    tokio::spawn(write_control(conn.clone(), ctl_rx));
    let hello = match shared.registry.peer_port(node, &shared.task) {
        Ok(right) => shared.proxies().hello(right, node),
        Err(e) => {
            log::warn!(
                "node {}: no registry port for {node}: {e:?}",
                shared.config.node
            );
            None
        }
    };
    match hello {
        Some(h) => peer.control(h),
        None => log::warn!("node {}: no HELLO for {node}", shared.config.node),
    }
    while let Ok(recv) = conn.accept_uni().await {
        tokio::spawn(read_stream(
            shared.clone(),
            conn.clone(),
            (node, peer.budget.clone()),
            recv,
        ));
    }
    {
        let mut peers = shared.peers.lock().unwrap_or_else(|e| e.into_inner());
        if peers
            .get(&node)
            .is_some_and(|p| p.conn.stable_id() == conn.stable_id())
        {
            // Under the lock, so a new connection from the peer gets a new
            // registry port, never the one going away.
            shared.registry.peer_left(node);
            peers.remove(&node);
        }
    }
    let mut actions = Vec::new();
    shared.proxies().peer_lost(node, &mut actions);
    shared.run_actions(actions);
    log::info!(
        "node {}: peer {node} down: {}",
        shared.config.node,
        conn.close_reason()
            .map(|r| r.to_string())
            .unwrap_or_default()
    );
}

/// Reads frames from one stream, in order, until it ends.
async fn read_stream(
    shared: Arc<Shared>,
    conn: quinn::Connection,
    (from, budget): (u16, Arc<Semaphore>),
    mut recv: quinn::RecvStream,
) {
    let malformed = |why: String| {
        log::warn!(
            "node {}: closing connection to {from}: {why}",
            shared.config.node
        );
        conn.close(quinn::VarInt::from_u32(CLOSE_MALFORMED), why.as_bytes());
    };
    loop {
        let mut len = [0u8; 4];
        match recv.read_exact(&mut len).await {
            Ok(()) => {}
            Err(quinn::ReadExactError::FinishedEarly(0)) => return,
            Err(quinn::ReadExactError::FinishedEarly(_)) => {
                return malformed("stream ends inside a frame".into());
            }
            Err(e) => {
                log::debug!("node {}: stream from {from}: {e}", shared.config.node);
                return;
            }
        }
        let n = match frame::body_length(len) {
            Ok(n) => n,
            Err(e) => return malformed(e.to_string()),
        };
        // The frame's share of the connection's budget, held until it is
        // handled (`n` is at most MAX_FRAME, below the budget's size).
        let Ok(_held) = budget.acquire_many(n as u32).await else {
            return;
        };
        // Grown as the bytes arrive: a length field alone reserves nothing.
        let mut buf = Vec::with_capacity(n.min(64 * 1024));
        while buf.len() < n {
            match recv.read_chunk(n - buf.len(), true).await {
                Ok(Some(chunk)) => buf.extend_from_slice(&chunk.bytes),
                Ok(None) => return malformed("stream ends inside a frame".into()),
                Err(_) => return,
            }
        }
        let f = match frame::decode(&buf, &Limits::DEFAULT) {
            Ok(f) => f,
            Err(e) => return malformed(e.to_string()),
        };
        drop(buf);
        let mut actions = Vec::new();
        let r = {
            let mut p = shared.proxies();
            match f {
                Frame::Hello { node, registry } if node == from => {
                    p.incoming_hello(from, registry, &mut actions)
                }
                Frame::Hello { node, .. } => Err(crate::proxy::Violation(format!(
                    "says it is node {node}, its key is node {from}'s"
                ))),
                Frame::Message {
                    dest,
                    rights,
                    message,
                } => p.incoming_message(from, dest, rights, message, &mut actions),
                Frame::Release { id, count } => {
                    p.incoming_release(from, id, count, &mut actions);
                    Ok(())
                }
                Frame::Released { id, count } => {
                    p.incoming_released(from, id, count, &mut actions);
                    Ok(())
                }
                Frame::PortDead { id } => {
                    p.incoming_dead(from, id, &mut actions);
                    Ok(())
                }
                Frame::OnceDestroyed { id, secret } => {
                    p.incoming_once_destroyed(id, secret);
                    Ok(())
                }
            }
        };
        if let Err(v) = r {
            shared.run_actions(actions);
            return malformed(v.0);
        }
        shared.run_actions_async(actions).await;
    }
}

/// A bare authenticated connection to one peer, outside any node: for
/// `netmsg connect` and for tests that speak the frame protocol directly.
pub struct RawConnection {
    rt: tokio::runtime::Runtime,
    conn: quinn::Connection,
    open: Mutex<Vec<quinn::SendStream>>,
    _endpoint: quinn::Endpoint,
}

impl RawConnection {
    /// Connects to `peer` with `identity`, checking the peer's key; `probe`
    /// asks the peer only to authenticate and close.
    ///
    /// # Errors
    ///
    /// A message saying why: the peer has no address, does not answer within
    /// `timeout`, or fails the handshake (its key is not `peer`'s, or it does
    /// not trust ours).
    pub fn connect(
        identity: &Identity,
        peer: &PeerConfig,
        probe: bool,
        timeout: Duration,
    ) -> Result<RawConnection, String> {
        let addr = peer
            .address
            .ok_or_else(|| format!("peer {} has no address", peer.node))?;
        // A worker of its own drives the connection between calls (streams
        // left open, keep-alives).
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let alpn = if probe { ALPN_PROBE } else { ALPN };
        let client = client_config(identity, peer.fingerprint, alpn, Duration::from_secs(5))?;
        let bind: SocketAddr = if addr.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let (endpoint, conn) = rt.block_on(async {
            let endpoint = quinn::Endpoint::client(bind).map_err(|e| e.to_string())?;
            let connecting = endpoint
                .connect_with(client, addr, SERVER_NAME)
                .map_err(|e| e.to_string())?;
            match tokio::time::timeout(timeout, connecting).await {
                Ok(Ok(conn)) => Ok((endpoint, conn)),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer from {addr} within {timeout:?}")),
            }
        })?;
        Ok(RawConnection {
            rt,
            conn,
            open: Mutex::new(Vec::new()),
            _endpoint: endpoint,
        })
    }

    /// Sends `bytes` as a new stream (a frame, or anything).
    ///
    /// # Errors
    ///
    /// The connection's error when the stream cannot be opened or written.
    pub fn send_stream(&self, bytes: &[u8]) -> Result<(), String> {
        self.rt.block_on(async {
            let mut s = self.conn.open_uni().await.map_err(|e| e.to_string())?;
            s.write_all(bytes).await.map_err(|e| e.to_string())?;
            s.finish().map_err(|e| e.to_string())?;
            Ok(())
        })
    }

    /// Sends `bytes` on a new stream and leaves it open: a frame begun and
    /// not finished (the stream stays open as long as this connection).
    ///
    /// # Errors
    ///
    /// The connection's error when the stream cannot be opened or written.
    pub fn begin_stream(&self, bytes: &[u8]) -> Result<(), String> {
        let s = self.rt.block_on(async {
            let mut s = self.conn.open_uni().await.map_err(|e| e.to_string())?;
            s.write_all(bytes).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(s)
        })?;
        self.open.lock().unwrap_or_else(|e| e.into_inner()).push(s);
        Ok(())
    }

    /// The first frame of the next stream the peer opens (a node's control
    /// stream starts with its `HELLO`), or `None` when none comes within
    /// `timeout` or it is not a frame.
    pub fn first_frame(&self, timeout: Duration) -> Option<Frame> {
        self.rt.block_on(async {
            let read = async {
                let mut recv = self.conn.accept_uni().await.ok()?;
                let mut len = [0u8; 4];
                recv.read_exact(&mut len).await.ok()?;
                let mut buf = vec![0u8; frame::body_length(len).ok()?];
                recv.read_exact(&mut buf).await.ok()?;
                frame::decode(&buf, &Limits::DEFAULT).ok()
            };
            tokio::time::timeout(timeout, read).await.ok().flatten()
        })
    }

    /// Whether the peer opens a stream (a node sends `HELLO` at once to an
    /// accepted peer) within `timeout`.
    pub fn received_any(&self, timeout: Duration) -> bool {
        self.rt.block_on(async {
            matches!(
                tokio::time::timeout(timeout, self.conn.accept_uni()).await,
                Ok(Ok(_))
            )
        })
    }

    /// Waits until the peer closes the connection; returns its error code and
    /// reason, or `None` after `timeout`.
    pub fn closed(&self, timeout: Duration) -> Option<(u64, String)> {
        self.rt.block_on(async {
            match tokio::time::timeout(timeout, self.conn.closed()).await {
                Ok(quinn::ConnectionError::ApplicationClosed(c)) => Some((
                    c.error_code.into_inner(),
                    String::from_utf8_lossy(&c.reason).into_owned(),
                )),
                Ok(other) => Some((u64::MAX, other.to_string())),
                Err(_) => None,
            }
        })
    }
}
