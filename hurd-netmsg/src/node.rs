//! A node: a hosted hurd-ipc runtime joined to its peers.
//!
//! [`Node::start`] makes the runtime (its ports carry the node number in their
//! [`PortId`](hurd_ipc::PortId)s), the netmsg task with its proxy ports, the
//! registry server, and the QUIC endpoint; it dials every configured peer with
//! a higher node number (lower numbers dial higher ones, so each pair has one
//! connection) and accepts the others.
//!
//! Threads: one thread receives on the netmsg task's port set (messages local
//! tasks send to proxies, and notifications); an async runtime (tokio, two
//! worker threads) runs the QUIC connections, one task per stream.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, MsgOptions, MsgReturn, PortName, RightType, UserIpc};

use crate::config::NodeConfig;
use crate::identity::Identity;
use crate::proxy::{Action, Proxies};
use crate::transport::{Peer, Transport};

/// Why a node could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// What [`Node::peers`] reports about one configured peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    /// The peer's node number.
    pub node: u16,
    /// Its configured address, if any.
    pub address: Option<SocketAddr>,
    /// Whether an authenticated connection is up.
    pub connected: bool,
    /// Bytes of the connection's frame budget taken (frames from the peer
    /// read, or being read, and not yet handled, and the next one waiting
    /// for room): at most [`MAX_BUFFERED`](crate::transport::MAX_BUFFERED).
    pub buffered: u64,
}

/// State shared by the node's threads and tasks.
pub(crate) struct Shared {
    pub(crate) config: NodeConfig,
    pub(crate) runtime: Runtime,
    pub(crate) proxies: Mutex<Proxies>,
    pub(crate) peers: Mutex<HashMap<u16, Arc<Peer>>>,
    /// The registry: its ports, names and waiting lookups.
    pub(crate) registry: crate::naming::Registry,
    pub(crate) task: Task,
    pub(crate) handle: tokio::runtime::Handle,
    pub(crate) shutting_down: std::sync::atomic::AtomicBool,
}

impl Shared {
    pub(crate) fn proxies(&self) -> MutexGuard<'_, Proxies> {
        self.proxies.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn peer(&self, node: u16) -> Option<Arc<Peer>> {
        self.peers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&node)
            .cloned()
    }

    /// Carries out actions from a thread outside the async runtime (the IPC
    /// thread): never blocks on a stream.
    pub(crate) fn run_actions(self: &Arc<Self>, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Port {
                    peer,
                    key,
                    bytes,
                    hold,
                } => {
                    let Some(p) = self.peer(peer) else { continue };
                    if let Err(bytes) = p.try_send(key, bytes) {
                        // The port's stream is backed up: its proxy leaves the
                        // port set (senders wait on its queue limit) until this
                        // frame is on its way.
                        let me = self.clone();
                        if let Some(x) = hold {
                            let _ = self.task.port_move_member(x, PortName::NULL);
                        }
                        self.handle.spawn(async move {
                            p.send(key, bytes).await;
                            if let Some(x) = hold {
                                let pset = me.proxies().pset;
                                let _ = me.task.port_move_member(x, pset);
                            }
                        });
                    }
                }
                Action::Control { peer, bytes } => {
                    if let Some(p) = self.peer(peer) {
                        p.control(bytes);
                    }
                }
                Action::Deliver(msg) => {
                    let me = self.clone();
                    match self.try_deliver(msg) {
                        Ok(()) => {}
                        Err(msg) => {
                            self.handle.spawn(async move { me.deliver(msg).await });
                        }
                    }
                }
                Action::CloseStreams(id) => {
                    for p in self
                        .peers
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .values()
                    {
                        p.close_stream(id);
                    }
                }
            }
        }
    }

    /// Carries out actions inside the async runtime, in order: frames wait for
    /// room on their stream, deliveries for room in their port's queue.
    pub(crate) async fn run_actions_async(self: &Arc<Self>, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Port {
                    peer, key, bytes, ..
                } => {
                    if let Some(p) = self.peer(peer) {
                        p.send(key, bytes).await;
                    }
                }
                Action::Deliver(msg) => self.deliver(msg).await,
                other => self.run_actions(vec![other]),
            }
        }
    }

    /// One non-blocking delivery attempt; a full queue hands the message back.
    fn try_deliver(&self, msg: hurd_ipc::Message) -> Result<(), hurd_ipc::Message> {
        let opts = MsgOptions {
            send_timeout: Some(Duration::ZERO),
            ..MsgOptions::default()
        };
        match self.task.mach_msg(Some(msg), None, &opts) {
            Ok(_) => Ok(()),
            Err(hurd_ipc::MachMsgError::Send(e)) if e.code == MsgReturn::SendTimedOut => {
                Err(e.message)
            }
            Err(hurd_ipc::MachMsgError::Send(e)) => {
                log::debug!("node {}: delivery failed: {:?}", self.config.node, e.code);
                self.task.destroy_message(e.message);
                Ok(())
            }
            Err(hurd_ipc::MachMsgError::Receive(_)) => Ok(()),
        }
    }

    /// Delivers to a local port, waiting while its queue is full (the stream
    /// it came on is not read meanwhile, so the sender's side waits too).
    pub(crate) async fn deliver(&self, msg: hurd_ipc::Message) {
        let mut msg = msg;
        let mut pause = Duration::from_micros(200);
        loop {
            match self.try_deliver(msg) {
                Ok(()) => return,
                Err(m) => msg = m,
            }
            if self
                .shutting_down
                .load(std::sync::atomic::Ordering::Acquire)
            {
                self.task.destroy_message(msg);
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

/// A running node.
pub struct Node {
    shared: Arc<Shared>,
    transport: Transport,
    registry_task: Task,
    _async_runtime: Option<tokio::runtime::Runtime>,
    threads: Vec<std::thread::JoinHandle<()>>,
    services: Mutex<Vec<Task>>,
}

impl Node {
    /// Starts a node: binds the listen address, serves the registry, and dials
    /// the peers it should.
    ///
    /// # Errors
    ///
    /// When the async runtime or a thread cannot start, the hosted runtime
    /// refuses a port, the listen address cannot be bound, or the identity's
    /// TLS configuration is refused.
    pub fn start(config: NodeConfig, identity: Identity) -> Result<Node, StartError> {
        let async_rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(format!("netmsg-{}", config.node))
            .enable_all()
            .build()
            .map_err(|e| StartError(format!("cannot start the async runtime: {e}")))?;
        let handle = async_rt.handle().clone();
        let runtime = Runtime::with_node(config.node);
        let task = runtime.task();
        let registry_task = runtime.task();
        let kr = |e: hurd_ipc::KernReturn| StartError(format!("IPC: {e:?}"));
        let registry = crate::naming::Registry::new(registry_task.clone()).map_err(kr)?;
        let proxies = Proxies::new(config.node, task.clone()).map_err(kr)?;
        let shared = Arc::new(Shared {
            config,
            runtime,
            proxies: Mutex::new(proxies),
            peers: Mutex::new(HashMap::new()),
            registry,
            task,
            handle,
            shutting_down: std::sync::atomic::AtomicBool::new(false),
        });
        let transport = {
            let _guard = async_rt.enter();
            Transport::start(shared.clone(), identity)?
        };
        let mut threads = Vec::new();
        let ipc = shared.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("netmsg-ipc-{}", shared.config.node))
                .spawn(move || ipc_loop(ipc))
                .map_err(|e| StartError(format!("cannot start a thread: {e}")))?,
        );
        let reg = shared.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("netmsg-registry-{}", shared.config.node))
                .spawn(move || crate::naming::Registry::serve(&reg))
                .map_err(|e| StartError(format!("cannot start a thread: {e}")))?,
        );
        Ok(Node {
            shared,
            transport,
            registry_task,
            _async_runtime: Some(async_rt),
            threads,
            services: Mutex::new(Vec::new()),
        })
    }

    /// This node's number.
    pub fn node(&self) -> u16 {
        self.shared.config.node
    }

    /// The address the node listens on (with the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.transport.local_addr()
    }

    /// The hosted runtime local tasks run in.
    pub fn runtime(&self) -> &Runtime {
        &self.shared.runtime
    }

    /// Gives `task` a send right to this node's registry; returns its name there.
    ///
    /// # Errors
    ///
    /// The code of the failed right transfer (`task` is dead, or its space
    /// is full).
    pub fn registry(&self, task: &Task) -> Result<PortName, hurd_ipc::KernReturn> {
        self.shared.registry.local_right(task)
    }

    /// Gives `task` a send right to peer `node`'s registry (a proxy), if
    /// connected.
    pub fn peer_registry(&self, node: u16, task: &Task) -> Option<PortName> {
        let p = self.shared.proxies();
        let name = *p.peer_registry.get(&node)?;
        p.task.give_right(name, Disposition::CopySend, task).ok()
    }

    /// Waits until peer `node` is connected and has introduced itself, at
    /// most `timeout` (`Duration::MAX` waits as long as it takes).
    pub fn wait_for_peer(&self, node: u16, timeout: Duration) -> bool {
        let end = Instant::now().checked_add(timeout);
        loop {
            if self.shared.proxies().peer_registry.contains_key(&node) {
                return true;
            }
            if end.is_some_and(|end| Instant::now() >= end) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts the [`echo`](crate::echo) service in a task of its own and
    /// registers it as `"echo"` in this node's registry.
    ///
    /// # Errors
    ///
    /// When its port cannot be made or registered (the name is taken).
    pub fn start_echo(&self) -> Result<(), hurd_ipc::Error> {
        let task = self.runtime().task();
        let port = task
            .port_allocate(RightType::Receive)
            .map_err(hurd_ipc::Error::Kern)?;
        let reg = self.registry(&task).map_err(hurd_ipc::Error::Kern)?;
        let r = crate::registry::Client::new(&task, reg).register(
            "echo".into(),
            hurd_ipc::PortItem {
                disposition: Disposition::MakeSend,
                name: port,
            },
        );
        let _ = task.port_deallocate(reg);
        r?;
        let t = task.clone();
        std::thread::Builder::new()
            .name("netmsg-echo".into())
            .spawn(move || crate::echo::serve(&t, port))
            .map_err(|_| hurd_ipc::Error::Kern(hurd_ipc::KernReturn::ResourceShortage))?;
        self.services
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(task);
        Ok(())
    }

    /// The configured peers and whether each is connected.
    pub fn peers(&self) -> Vec<PeerStatus> {
        let connected = self.shared.peers.lock().unwrap_or_else(|e| e.into_inner());
        self.shared
            .config
            .peers
            .iter()
            .map(|p| PeerStatus {
                node: p.node,
                address: p.address,
                connected: connected.contains_key(&p.node),
                buffered: connected.get(&p.node).map_or(0, |c| c.buffered()),
            })
            .collect()
    }

    /// How many ports the node's proxy table holds (proxies and exports).
    pub fn port_count(&self) -> usize {
        self.shared.proxies().port_count()
    }

    /// Stops the node: connections close (peers see it go), local rights held
    /// by the netmsg task die.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared
            .shutting_down
            .store(true, std::sync::atomic::Ordering::Release);
        self.transport.close();
        self.shared.task.terminate();
        self.registry_task.terminate();
        for t in self
            .services
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            t.terminate();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Some(rt) = self._async_runtime.take() {
            rt.shutdown_timeout(Duration::from_millis(500));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The IPC thread: everything local tasks send to proxies, and notifications.
fn ipc_loop(shared: Arc<Shared>) {
    let pset = shared.proxies().pset;
    loop {
        let msg = match shared.task.receive(pset) {
            Ok(m) => m,
            Err(e) => {
                if shared.task.is_terminated() {
                    return;
                }
                log::warn!(
                    "node {}: IPC thread: receive: {:?}",
                    shared.config.node,
                    e.code
                );
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
        };
        let mut actions = Vec::new();
        log::debug!(
            "node {}: IPC thread got {} on {:?}",
            shared.config.node,
            msg.header.id,
            msg.header.local
        );
        shared.proxies().outgoing(msg, &mut actions);
        shared.run_actions(actions);
    }
}
