//! The `io` protocol: reads and writes (deferred while kernels map the
//! file), seeks, open modes, stat, reauthentication, duplicates and `io_map`.

use super::*;

impl<T: Tree, I: UserIpc> io::Server for NetFs<T, I> {
    fn write(&self, req: &Request, data: Vec<u8>, offset: i64) -> Result<u64, Error> {
        let len = data.len() as u64;
        let op = IoOp::Write { data, offset };
        match self.defer_for_mappings(req, op, offset, len, false)? {
            None => Err(Error::Mig(MigReturn::NoReply)),
            Some(IoOp::Write { data, offset }) => self.write_now(req, &data, offset),
            Some(IoOp::Read { .. }) => Err(errno(Errno::Io)),
        }
    }

    fn read(&self, req: &Request, offset: i64, amount: u64) -> Result<Vec<u8>, Error> {
        let op = IoOp::Read { offset, amount };
        match self.defer_for_mappings(req, op, offset, amount, true)? {
            None => Err(Error::Mig(MigReturn::NoReply)),
            Some(_) => self.read_now(req, offset, amount),
        }
    }

    fn seek(&self, req: &Request, offset: i64, whence: i32) -> Result<i64, Error> {
        let (p, node) = self.protid(req.port)?;
        let mut st = self.state();
        let size = self.stat_of(&st, node).map_err(errno)?.size;
        let po = st.peropens.get_mut(&p.po).ok_or(errno(Errno::BadF))?;
        let base: i64 = match whence {
            0 => 0,
            1 => po.offset as i64,
            2 => size as i64,
            _ => return Err(errno(Errno::Inval)),
        };
        let new = base.checked_add(offset).ok_or(errno(Errno::Inval))?;
        if new < 0 {
            return Err(errno(Errno::Inval));
        }
        po.offset = new as u64;
        Ok(new)
    }

    fn readable(&self, req: &Request) -> Result<u64, Error> {
        let (p, node) = self.protid(req.port)?;
        let st = self.state();
        let size = self.stat_of(&st, node).map_err(errno)?.size;
        let po = st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?;
        if !po.flags.contains(OpenFlags::READ) {
            return Err(errno(Errno::BadF));
        }
        Ok(size.saturating_sub(po.offset))
    }

    /// A file is always ready for reading and writing, never has urgent
    /// data (as the Hurd's libnetfs answers).
    fn select(&self, req: &Request, select_type: i32) -> Result<i32, Error> {
        self.protid(req.port)?;
        Ok(select_type & !crate::protocol::SELECT_URG)
    }

    fn set_all_openmodes(&self, req: &Request, newbits: i32) -> Result<(), Error> {
        self.change_modes(req.port, |f| {
            (f - OpenFlags::HONORED_STATE_MODES)
                | (OpenFlags::from_bits_truncate(newbits as u32) & OpenFlags::HONORED_STATE_MODES)
        })
    }

    fn get_openmodes(&self, req: &Request) -> Result<i32, Error> {
        let (p, _) = self.protid(req.port)?;
        let st = self.state();
        let po = st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?;
        Ok(po.flags.bits() as i32)
    }

    fn set_some_openmodes(&self, req: &Request, bits: i32) -> Result<(), Error> {
        self.change_modes(req.port, |f| {
            f | (OpenFlags::from_bits_truncate(bits as u32) & OpenFlags::HONORED_STATE_MODES)
        })
    }

    fn clear_some_openmodes(&self, req: &Request, bits: i32) -> Result<(), Error> {
        self.change_modes(req.port, |f| {
            f - (OpenFlags::from_bits_truncate(bits as u32) & OpenFlags::HONORED_STATE_MODES)
        })
    }

    fn stat(&self, req: &Request) -> Result<Stat, Error> {
        let (_, node) = self.protid(req.port)?;
        let st = self.state();
        self.stat_of(&st, node).map_err(errno)
    }

    fn reauthenticate(&self, req: &Request, rendezvous2: PortItem) {
        // Owned from here: whatever kind of right came is released on every
        // path that does not hand it to the auth server.
        let rendezvous = Right::received(&self.ipc, rendezvous2).into_send();
        let (Ok((p, _)), Some(rendezvous)) = (self.protid(req.port), rendezvous) else {
            return;
        };
        if !self.auth.is_valid() {
            // No auth server to meet the user at: no port is made.
            return;
        }
        let Ok(newport) = ReceiveRight::allocate(&self.ipc) else {
            return;
        };
        // The auth server answers when the user presents the rendezvous,
        // which may be never: the answer comes to a port of the server's
        // set, and is taken up by `reauth_reply`.
        let Ok(reply) = ReceiveRight::allocate(&self.ipc) else {
            return;
        };
        if self
            .ipc
            .port_move_member(reply.name(), self.portset)
            .is_err()
        {
            return;
        }
        let msg = hurd_auth::protocol::auth::Call::server_authenticate {
            rendezvous: rendezvous.move_item(),
            newport: newport.make_send_item(),
        }
        .encode(self.auth, Disposition::CopySend)
        .with_reply(reply.name(), Disposition::MakeSendOnce);
        let sent = self.send_call_out(msg);
        // A request that never left leaves the rendezvous right ours:
        // released here (and the new port and the reply port go).
        rendezvous.settle(&sent);
        if sent.is_err() {
            return;
        }
        let pending = PendingReauth {
            po: p.po,
            newport: newport.into_raw(),
        };
        // The pending call holds the peropen: the client may let go of the
        // port it reauthenticated as soon as the auth server has answered
        // it, before the answer reaches us.
        let mut st = self.state();
        if let Some(po) = st.peropens.get_mut(&p.po) {
            po.refs += 1;
        }
        st.reauths.insert(reply.into_raw(), pending);
    }

    fn restrict_auth(
        &self,
        req: &Request,
        uids: Vec<u32>,
        gids: Vec<u32>,
    ) -> Result<PortItem, Error> {
        let (p, _) = self.protid(req.port)?;
        let user = if p.user.has_euid(0) {
            IdSet::from_vecs(uids, Vec::new(), gids, Vec::new())
        } else {
            let uids = uids.into_iter().filter(|u| p.user.has_euid(*u)).collect();
            let gids = gids.into_iter().filter(|g| p.user.has_egid(*g)).collect();
            IdSet::from_vecs(uids, Vec::new(), gids, Vec::new())
        };
        let mut st = self.state();
        let port = self.new_protid(&mut st, p.po, user).map_err(errno)?;
        Ok(send_item(port, Disposition::MakeSend))
    }

    fn duplicate(&self, req: &Request) -> Result<PortItem, Error> {
        let (p, _) = self.protid(req.port)?;
        let mut st = self.state();
        let port = self.new_protid(&mut st, p.po, p.user).map_err(errno)?;
        Ok(send_item(port, Disposition::MakeSend))
    }

    fn server_version(&self, req: &Request) -> Result<(String, i32, i32, i32), Error> {
        self.protid(req.port)?;
        Ok((self.opts.name.into(), 0, 1, 0))
    }

    fn map(&self, req: &Request) -> Result<(PortItem, PortItem), Error> {
        let (p, node) = self.protid(req.port)?;
        let Some(mapper) = self.mapper.as_ref() else {
            return Err(errno(Errno::OpNotSupp));
        };
        let flags = {
            let st = self.state();
            let s = self.stat_of(&st, node).map_err(errno)?;
            if !crate::mode::is_reg(s.mode) {
                return Err(errno(Errno::OpNotSupp));
            }
            st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?.flags
        };
        let mut make_io = || {
            let mut st = self.state();
            let po = self.new_peropen(&mut st, node, OpenFlags::RDWR, PortName::NULL);
            let port = self.new_protid(&mut st, po, IdSet::root())?;
            if let Some(p) = st.protids.get_mut(&port) {
                p.pager = true;
            }
            if self
                .ipc
                .port_insert_right(port, port, Disposition::MakeSend)
                .is_err()
            {
                self.drop_protid(&mut st, port);
                return Err(Errno::NoMem);
            }
            Ok(port)
        };
        let (rw, ro) = mapper.memory_objects(node, &mut make_io).map_err(errno)?;
        let none = send_item(PortName::NULL, Disposition::CopySend);
        let make = |n| send_item(n, Disposition::MakeSend);
        // Readers get the object for reading, writers for writing; one
        // open for both gets the same (read/write) object twice.
        let rd = flags.contains(OpenFlags::READ);
        let wr = flags.contains(OpenFlags::WRITE);
        Ok(match (rd, wr) {
            (true, true) => (make(rw), make(rw)),
            (true, false) => (make(ro), none),
            (false, true) => (none, make(rw)),
            (false, false) => return Err(errno(Errno::BadF)),
        })
    }

    fn pathconf(&self, req: &Request, name: i32) -> Result<i32, Error> {
        self.protid(req.port)?;
        match name {
            // _PC_LINK_MAX, _PC_NAME_MAX, _PC_PATH_MAX
            0 => Ok(i32::MAX),
            3 => Ok(NAME_MAX as i32),
            4 => Ok(PATH_MAX as i32),
            _ => Err(errno(Errno::Inval)),
        }
    }
}

impl<T: Tree, I: UserIpc> NetFs<T, I> {
    /// Hands `op` back to be done now, or — when kernels map the file —
    /// starts [`Mapper::settle`] for its bytes and keeps it until the mapper
    /// wakes us (`None`: the reply is deferred). An `offset` of -1 (the
    /// file pointer, or appending) settles the whole file.
    pub(super) fn defer_for_mappings(
        &self,
        req: &Request,
        op: IoOp,
        offset: i64,
        len: u64,
        keep: bool,
    ) -> Result<Option<IoOp>, Error> {
        let Some(m) = self.mapper.as_ref() else {
            return Ok(Some(op));
        };
        let node = {
            let st = self.state();
            let p = st.protids.get(&req.port).ok_or(errno(Errno::OpNotSupp))?;
            match st.peropens.get(&p.po) {
                Some(po) if !p.pager => po.node,
                _ => return Ok(Some(op)),
            }
        };
        if !m.is_mapped(node) {
            return Ok(Some(op));
        }
        let (start, len) = match u64::try_from(offset) {
            Ok(o) => (o, len),
            Err(_) => (0, u64::MAX),
        };
        let Ok(port) = ReceiveRight::allocate(&self.ipc) else {
            return Ok(Some(op));
        };
        let wake = port.name();
        let armed = self
            .ipc
            .port_move_member(wake, self.portset)
            .and_then(|()| port.make_send());
        let Ok(send) = armed else {
            return Ok(Some(op));
        };
        if m.settle(node, start, len, keep, wake).is_err() {
            // Released with the port (`send` and `port` drop here).
            return Ok(Some(op));
        }
        // The mapper holds the send right; the table the receive right.
        send.into_raw();
        port.into_raw();
        self.state().settling.insert(wake, (*req, op));
        Ok(None)
    }

    pub(super) fn write_now(&self, req: &Request, data: &[u8], offset: i64) -> Result<u64, Error> {
        let (p, node) = self.protid(req.port)?;
        let mut st = self.state();
        let po = st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?;
        if !po.flags.contains(OpenFlags::WRITE) {
            return Err(errno(Errno::BadF));
        }
        let append = po.flags.contains(OpenFlags::APPEND);
        let at = if offset == -1 {
            if append {
                self.stat_of(&st, node).map_err(errno)?.size
            } else {
                po.offset
            }
        } else if offset < 0 {
            return Err(errno(Errno::Inval));
        } else {
            offset as u64
        };
        at.checked_add(data.len() as u64)
            .ok_or(errno(Errno::FBig))?;
        // As on Linux, a write by an unprivileged user clears the
        // set-user-id bit, and the set-group-id bit of a file its group may
        // execute.
        if !data.is_empty()
            && !p.user.has_euid(0)
            && let Ok(s) = self.stat_of(&st, node)
        {
            let mut kill = s.mode & crate::mode::S_ISUID;
            if s.mode & 0o010 != 0 {
                kill |= s.mode & crate::mode::S_ISGID;
            }
            if kill != 0 {
                st.tree
                    .set_attr(node, AttrChange::Mode(s.mode & !kill & CHMOD_BITS))
                    .map_err(errno)?;
            }
        }
        let n = st.tree.write(node, at, data).map_err(errno)?;
        if offset == -1
            && let Some(po) = st.peropens.get_mut(&p.po)
        {
            po.offset = at + n as u64;
        }
        Ok(n as u64)
    }

    pub(super) fn read_now(
        &self,
        req: &Request,
        offset: i64,
        amount: u64,
    ) -> Result<Vec<u8>, Error> {
        let (p, node) = self.protid(req.port)?;
        let mut st = self.state();
        let po = st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?;
        if !po.flags.contains(OpenFlags::READ) {
            return Err(errno(Errno::BadF));
        }
        let at = match offset {
            -1 => po.offset,
            o if o < 0 => return Err(errno(Errno::Inval)),
            o => o as u64,
        };
        let s = self.stat_of(&st, node).map_err(errno)?;
        if is_dir(s.mode) {
            return Err(errno(Errno::IsDir));
        }
        // At most what one reply carries (a short read, as `io_read`
        // allows), rather than a reply the transport refuses.
        let most = self.opts.max_read.min(self.ipc.max_inline_data());
        let len = amount.min(most as u64) as usize;
        let data = st.tree.read(node, at, len).map_err(errno)?;
        if offset == -1
            && let Some(po) = st.peropens.get_mut(&p.po)
        {
            po.offset = at + data.len() as u64;
        }
        Ok(data)
    }
}

impl<T: Tree, I: UserIpc> NetFs<T, I> {
    pub(super) fn change_modes(
        &self,
        port: PortName,
        f: impl FnOnce(OpenFlags) -> OpenFlags,
    ) -> Result<(), Error> {
        let (p, _) = self.protid(port)?;
        let mut st = self.state();
        let po = st.peropens.get_mut(&p.po).ok_or(errno(Errno::BadF))?;
        po.flags = f(po.flags);
        Ok(())
    }
}
