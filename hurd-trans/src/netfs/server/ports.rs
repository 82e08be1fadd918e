//! Open files: peropens and protids, their ports and their lifetime
//! (no-senders), and the checks every request on one makes.

use super::*;

impl<T: Tree, I: UserIpc> NetFs<T, I> {
    pub(super) fn state(&self) -> RefMut<'_, State<T>> {
        self.st.borrow_mut()
    }

    // ---- ports, peropens, protids ----

    pub(super) fn new_peropen(
        &self,
        st: &mut State<T>,
        node: NodeId,
        flags: OpenFlags,
        root_parent: PortName,
    ) -> u64 {
        let id = st.next_po;
        st.next_po += 1;
        let count = st.opens.entry(node).or_insert(0);
        *count += 1;
        if *count == 1 {
            st.tree.node_opened(node);
        }
        st.peropens.insert(
            id,
            Peropen {
                node,
                flags,
                offset: 0,
                root_parent,
                refs: 0,
            },
        );
        id
    }

    /// A copy (one more user reference) of a peropen's root parent.
    pub(super) fn copy_root_parent(&self, st: &State<T>, po: u64) -> PortName {
        let rp = st
            .peropens
            .get(&po)
            .map_or(PortName::NULL, |p| p.root_parent);
        if rp.is_valid() && self.ipc.port_mod_refs(rp, RightType::Send, 1).is_err() {
            return PortName::NULL;
        }
        rp
    }

    pub(super) fn new_protid(
        &self,
        st: &mut State<T>,
        po: u64,
        user: IdSet,
    ) -> Result<PortName, Errno> {
        // A peropen made for this protid alone goes with it.
        let fail = |st: &mut State<T>| {
            if st.peropens.get(&po).is_some_and(|p| p.refs == 0) {
                self.release_peropen(st, po);
            }
            Errno::NoMem
        };
        let Ok(port) = ReceiveRight::allocate(&self.ipc) else {
            return Err(fail(st));
        };
        let name = port.name();
        let armed = self
            .ipc
            .port_move_member(name, self.portset)
            .and_then(|()| {
                self.ipc.request_notification(
                    name,
                    NotifyKind::NoSenders,
                    1,
                    name,
                    Disposition::MakeSendOnce,
                )
            });
        if armed.is_err() {
            drop(port);
            return Err(fail(st));
        }
        // The server's protid table owns it from here.
        port.into_raw();
        if let Some(p) = st.peropens.get_mut(&po) {
            p.refs += 1;
        }
        st.protids.insert(
            name,
            Protid {
                po,
                user,
                pager: false,
            },
        );
        Ok(name)
    }

    pub(super) fn release_peropen(&self, st: &mut State<T>, po: u64) {
        let drop_it = match st.peropens.get_mut(&po) {
            Some(p) => {
                p.refs = p.refs.saturating_sub(1);
                p.refs == 0
            }
            None => false,
        };
        if drop_it && let Some(p) = st.peropens.remove(&po) {
            st.listings.forget(po);
            if p.root_parent.is_valid() {
                let _ = self.ipc.port_deallocate(p.root_parent);
            }
            let last = match st.opens.get_mut(&p.node) {
                Some(count) => {
                    *count = count.saturating_sub(1);
                    *count == 0
                }
                None => false,
            };
            if last {
                st.opens.remove(&p.node);
                st.tree.node_released(p.node);
            }
        }
    }

    pub(super) fn drop_protid(&self, st: &mut State<T>, name: PortName) {
        if let Some(p) = st.protids.remove(&name) {
            self.release_peropen(st, p.po);
            let _ = self.ipc.port_mod_refs(name, RightType::Receive, -1);
        }
    }

    /// Gives up a waiter's ".." port: the protid and the send right the
    /// waiter holds on it.
    pub(super) fn abandon_dotdot(&self, st: &mut State<T>, dotdot: PortName) {
        self.drop_protid(st, dotdot);
        let _ = self.ipc.port_deallocate(dotdot);
    }

    /// A no-senders notification on `name`: the protid (or a bootstrap port
    /// whose translator died before `fsys_startup`) goes if it truly has no
    /// senders; the request is re-armed if senders came back. False if the
    /// port is not one of ours or the notification is forged.
    pub(super) fn no_senders(&self, name: PortName) -> bool {
        let status = match self.ipc.port_get_receive_status(name) {
            Ok(s) => s,
            Err(_) => return false,
        };
        let mut st = self.state();
        let is_protid = st.protids.contains_key(&name);
        let boot_node = st.bootstraps.get(&name).copied();
        if !is_protid && boot_node.is_none() {
            return false;
        }
        if status.srights {
            if status.nsrequest {
                return false;
            }
            if let Ok(prev) = self.ipc.request_notification(
                name,
                NotifyKind::NoSenders,
                status.mscount,
                name,
                Disposition::MakeSendOnce,
            ) && prev.is_valid()
            {
                let _ = self.ipc.port_deallocate(prev);
            }
            return true;
        }
        if is_protid {
            self.drop_protid(&mut st, name);
            return true;
        }
        // The translator died while starting: its waiters learn EDIED.
        st.bootstraps.remove(&name);
        let _ = self.ipc.port_mod_refs(name, RightType::Receive, -1);
        let waiters = boot_node
            .and_then(|n| st.boxes.get_mut(&n))
            .and_then(|b| b.starting.take())
            .map(|s| s.waiters)
            .unwrap_or_default();
        for w in waiters {
            self.abandon_dotdot(&mut st, w.dotdot);
            let _ = fs::reply::dir_lookup(&self.ipc, &w.req, Err(errno(Errno::Died)));
        }
        true
    }

    pub(super) fn protid(&self, port: PortName) -> Result<(Protid, NodeId), Error> {
        let st = self.state();
        let p = st
            .protids
            .get(&port)
            .cloned()
            .ok_or(errno(Errno::OpNotSupp))?;
        let node = st
            .peropens
            .get(&p.po)
            .map(|po| po.node)
            .ok_or(errno(Errno::OpNotSupp))?;
        Ok((p, node))
    }

    /// A node's status as clients see it: the tree's, plus the translator
    /// bits and `S_IROOT`.
    pub(super) fn stat_of(&self, st: &State<T>, node: NodeId) -> Result<Stat, Errno> {
        let mut s = st.tree.stat(node)?;
        s.mode &= !(S_IPTRANS | S_IATRANS | S_IROOT);
        if st.tree.passive(node).is_some() {
            s.mode |= S_IPTRANS;
        }
        if st.boxes.get(&node).is_some_and(|b| b.active.is_valid()) {
            s.mode |= S_IATRANS;
        }
        if node == st.tree.root() {
            s.mode |= S_IROOT;
        }
        s.fsid = self.opts.fsid;
        Ok(s)
    }

    pub(super) fn translated(&self, st: &State<T>, node: NodeId) -> bool {
        st.tree.passive(node).is_some() || st.boxes.get(&node).is_some_and(|b| b.active.is_valid())
    }

    pub(super) fn check_open(user: &IdSet, s: &Stat, flags: OpenFlags) -> Result<(), Errno> {
        if flags.contains(OpenFlags::READ) {
            access::check(user, s, Op::Read)?;
        }
        if flags.contains(OpenFlags::WRITE) {
            if is_dir(s.mode) {
                return Err(Errno::IsDir);
            }
            access::check(user, s, Op::Write)?;
        }
        if flags.contains(OpenFlags::EXEC) {
            access::check(user, s, Op::Exec)?;
        }
        Ok(())
    }

    pub(super) fn check_name(name: &[u8]) -> Result<(), Errno> {
        if name.is_empty() || name.contains(&b'/') || name == b"." || name == b".." {
            return Err(Errno::Inval);
        }
        if name.len() > NAME_MAX {
            return Err(Errno::NameTooLong);
        }
        Ok(())
    }

    /// The directory a directory-changing request works on: must be a
    /// directory the user may write and search.
    pub(super) fn writable_dir(&self, port: PortName) -> Result<(Protid, NodeId), Error> {
        let (p, dir) = self.protid(port)?;
        let st = self.state();
        let s = self.stat_of(&st, dir).map_err(errno)?;
        if !is_dir(s.mode) {
            return Err(errno(Errno::NotDir));
        }
        access::check(&p.user, &s, Op::Write).map_err(errno)?;
        access::check(&p.user, &s, Op::Exec).map_err(errno)?;
        Ok((p, dir))
    }
}
