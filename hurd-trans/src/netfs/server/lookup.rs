//! `dir_lookup`: walking a path with its retries, symlinks and translators,
//! and the deferred replies of lookups waiting for a translator's root.

use super::*;

impl<T: Tree, I: UserIpc> NetFs<T, I> {
    pub(super) fn lookup(
        &self,
        req: &Request,
        name: &[u8],
        flags: u32,
        mode: u32,
    ) -> Result<Outcome, Errno> {
        if name.len() > PATH_MAX {
            return Err(Errno::NameTooLong);
        }
        let (protid, start) = self.protid(req.port).map_err(|_| Errno::OpNotSupp)?;
        let user = protid.user.clone();
        let oflags = OpenFlags::from_bits_truncate(flags);
        let create = oflags.contains(OpenFlags::CREAT);
        let excl = oflags.contains(OpenFlags::EXCL);
        let mut name: Vec<u8> = trim_slashes(name).to_vec();
        let mut st = self.state();
        let mut nsymlinks = 0u32;
        let mut dnode = start;
        let mut node = start;
        let mut mustbedir = false;
        let mut newnode = false;
        let mut create = create;
        // The directory's peropen (for the root parent) is the protid's.
        let po = protid.po;
        let root = st.tree.root();
        while !name.is_empty() {
            let owned = core::mem::take(&mut name);
            let (comp, rest, trailing) = next_component(&owned);
            if comp.len() > NAME_MAX {
                return Err(Errno::NameTooLong);
            }
            let lastcomp = rest.is_none();
            if trailing {
                mustbedir = true;
                create = false;
            }
            let ds = self.stat_of(&st, dnode)?;
            if !is_dir(ds.mode) {
                return Err(Errno::NotDir);
            }
            let np = if comp == b".." && dnode == root {
                let rp = st
                    .peropens
                    .get(&po)
                    .map_or(PortName::NULL, |p| p.root_parent);
                if rp.is_valid() {
                    // Leave the translator: the client reauthenticates to the
                    // parent and goes on there.
                    let rp = self.copy_root_parent(&st, po);
                    let retry = if mustbedir {
                        Name::from("/")
                    } else {
                        Name::from(rest.unwrap_or(b""))
                    };
                    return Ok(Outcome::Done(
                        RetryType::Reauth.into(),
                        retry,
                        send_item(rp, Disposition::MoveSend),
                    ));
                }
                dnode
            } else if comp == b"." {
                access::check(&user, &ds, Op::Exec)?;
                dnode
            } else {
                access::check(&user, &ds, Op::Exec)?;
                match st.tree.lookup(dnode, comp) {
                    Ok(n) if lastcomp && create && excl => {
                        let _ = n;
                        return Err(Errno::Exist);
                    }
                    Ok(n) => n,
                    Err(Errno::NoEnt) if lastcomp && create => {
                        access::check(&user, &ds, Op::Write)?;
                        let (uid, m) = match user.euids.iter().next() {
                            Some(u) => (u, mode),
                            None => (ds.uid, mode & !crate::mode::S_ISUID),
                        };
                        let m = (m & ALLPERMS) | S_IFREG;
                        newnode = true;
                        st.tree.create(dnode, Some(comp), m, uid, ds.gid)?
                    }
                    Err(e) => return Err(e),
                }
            };
            let ns = self.stat_of(&st, np)?;
            let notrans = oflags.contains(OpenFlags::NOTRANS);
            if (!notrans || !lastcomp || mustbedir) && self.translated(&st, np) {
                let dotdot_po =
                    self.new_peropen(&mut st, dnode, OpenFlags::empty(), PortName::NULL);
                let rp = self.copy_root_parent(&st, po);
                if let Some(p) = st.peropens.get_mut(&dotdot_po) {
                    p.root_parent = rp;
                }
                let dotdot = self.new_protid(&mut st, dotdot_po, IdSet::empty())?;
                // The waiter holds a send right, so the port outlives a
                // translator that dies holding another.
                if self
                    .ipc
                    .port_insert_right(dotdot, dotdot, Disposition::MakeSend)
                    .is_err()
                {
                    self.drop_protid(&mut st, dotdot);
                    return Err(Errno::NoMem);
                }
                drop(st);
                let waiter = Waiter {
                    req: *req,
                    user,
                    dotdot,
                    flags: if lastcomp { flags } else { 0 },
                    suffix: rest.unwrap_or(b"").to_vec(),
                    mustbedir,
                    restarts: 0,
                };
                return Ok(match self.fetch_root(waiter, np) {
                    Some(Ok((r, n, p))) => Outcome::Done(r, n, p),
                    Some(Err(e)) => return Err(Errno::of(e).unwrap_or(Errno::Died)),
                    None => Outcome::Deferred,
                });
            }
            let follow = !lastcomp
                || mustbedir
                || !oflags.intersects(OpenFlags::NOLINK | OpenFlags::NOTRANS);
            if is_lnk(ns.mode) && follow {
                nsymlinks += 1;
                if nsymlinks > self.opts.max_symlinks {
                    return Err(Errno::Loop);
                }
                let mut target = st.tree.readlink(np)?;
                if let Some(rest) = rest {
                    target.push(b'/');
                    target.extend_from_slice(rest);
                }
                if mustbedir {
                    target.push(b'/');
                }
                if target.len() > PATH_MAX {
                    return Err(Errno::NameTooLong);
                }
                if target.starts_with(b"/") {
                    return Ok(Outcome::Done(
                        RetryType::Magical.into(),
                        Name::from(target),
                        send_item(PortName::NULL, Disposition::CopySend),
                    ));
                }
                name = target;
                mustbedir = false;
                create = false;
                continue;
            }
            node = np;
            if let Some(rest) = rest {
                dnode = np;
                name = rest.to_vec();
            }
        }
        let s = self.stat_of(&st, node)?;
        if (mustbedir || oflags.contains(OpenFlags::DIRECTORY)) && !is_dir(s.mode) {
            return Err(Errno::NotDir);
        }
        if !newnode {
            Self::check_open(&user, &s, oflags)?;
        }
        let rp = self.copy_root_parent(&st, po);
        let newpo = self.new_peropen(&mut st, node, oflags & OpenFlags::OPENMODES, rp);
        let port = self.new_protid(&mut st, newpo, user)?;
        Ok(Outcome::Done(
            RetryType::Normal.into(),
            Name::new(),
            send_item(port, Disposition::MakeSend),
        ))
    }

    /// libfshelp's `fetch_root`: the root of `node`'s translator for the
    /// waiter, starting it if need be. `None` when the answer is deferred.
    pub(super) fn fetch_root(&self, w: Waiter, node: NodeId) -> Option<LookupReply> {
        loop {
            let mut st = self.state();
            let active = st.boxes.get(&node).map_or(PortName::NULL, |b| b.active);
            if active.is_valid() {
                drop(st);
                match self.send_getroot(&w, active) {
                    Ok(reply) => {
                        self.state()
                            .getroots
                            .insert(reply, PendingRoot { w, node, active });
                        return None;
                    }
                    Err(Error::Msg(MsgReturn::SendInvalidDest)) => {
                        // The translator died: forget it and start over.
                        self.forget_active(node, active);
                        continue;
                    }
                    Err(e) => {
                        let mut st = self.state();
                        self.abandon_dotdot(&mut st, w.dotdot);
                        return Some(Err(e));
                    }
                }
            }
            if let Some(starting) = st.boxes.get_mut(&node).and_then(|b| b.starting.as_mut()) {
                starting.waiters.push(w);
                return None;
            }
            let fail = |st: &mut State<T>, e: Errno| {
                self.abandon_dotdot(st, w.dotdot);
                Some(Err(errno(e)))
            };
            let Some(argz) = st.tree.passive(node) else {
                return fail(&mut st, Errno::NoEnt);
            };
            let Some(argv) = argz_to_argv(&argz) else {
                return fail(&mut st, Errno::Inval);
            };
            let Some(starter) = self.starter.as_ref() else {
                return fail(&mut st, Errno::OpNotSupp);
            };
            let s = match st.tree.stat(node) {
                Ok(s) => s,
                Err(e) => return fail(&mut st, e),
            };
            // The translator runs as the node's owner.
            let owner = IdSet::user(s.uid, &[s.gid]);
            drop(st);
            let auth = match AuthClient::new(&self.ipc, self.auth).makeauth(&[], &owner) {
                Ok(a) => a,
                Err(e) => {
                    let mut st = self.state();
                    self.abandon_dotdot(&mut st, w.dotdot);
                    return Some(Err(e));
                }
            };
            let boot = match self.bootstrap_port() {
                Ok(b) => b,
                Err(e) => {
                    let _ = self.ipc.port_deallocate(auth);
                    let mut st = self.state();
                    return fail(&mut st, e);
                }
            };
            // It resolves its file names as the owner too: libfshelp hands it
            // the server's directories reauthenticated with the owner's ids.
            let dir = self.owner_root(&owner);
            let dirs = InitDirs {
                crdir: dir,
                cwdir: dir,
            };
            let started = starter.start_with_dirs(&argv, boot, auth, dirs);
            // Only the program holds senders now: no-senders means it died.
            let _ = self.ipc.port_deallocate(boot);
            if dir.is_valid() {
                let _ = self.ipc.port_deallocate(dir);
            }
            let mut st = self.state();
            if let Err(e) = started {
                let _ = self.ipc.port_mod_refs(boot, RightType::Receive, -1);
                return fail(&mut st, e);
            }
            st.bootstraps.insert(boot, node);
            st.boxes.entry(node).or_default().starting = Some(Starting {
                owner,
                waiters: vec![w],
            });
            return None;
        }
    }

    /// Sends `fsys_getroot` for the waiter to the translator without
    /// waiting: the reply comes to a port in our port set (so the server
    /// goes on serving — the translator may need us to answer it, as tarfs
    /// reads its node before it serves). Returns that reply port.
    pub(super) fn send_getroot(&self, w: &Waiter, active: PortName) -> Result<PortName, Error> {
        // Destroyed on every error path.
        let reply = ReceiveRight::allocate(&self.ipc)?;
        self.ipc.port_move_member(reply.name(), self.portset)?;
        let (uids, _, gids, _) = w.user.clone().into_vecs();
        let mut body = Vec::new();
        send_item(w.dotdot, Disposition::MakeSend).encode(&mut body);
        uids.encode(&mut body);
        gids.encode(&mut body);
        (w.flags as i32).encode(&mut body);
        let msg = Message {
            body,
            ..Message::new(fsys::id::getroot, active, Disposition::CopySend)
                .with_reply(reply.name(), Disposition::MakeSendOnce)
        };
        let opts = MsgOptions {
            send_timeout: Some(GETROOT_SEND_TIMEOUT),
            ..MsgOptions::default()
        };
        match self.ipc.mach_msg(Some(msg), None, &opts) {
            Ok(_) => Ok(reply.into_raw()),
            Err(e) => {
                let code = e.code();
                if let MachMsgError::Send(se) = e {
                    self.ipc.destroy_message(se.message);
                }
                Err(Error::Msg(code))
            }
        }
    }

    pub(super) fn forget_active(&self, node: NodeId, active: PortName) {
        let mut st = self.state();
        if let Some(b) = st.boxes.get_mut(&node)
            && b.active == active
        {
            b.active = PortName::NULL;
            let _ = self.ipc.port_deallocate(active);
        }
    }

    /// The answer to a `fsys_getroot` sent by [`Self::send_getroot`]: the
    /// reply, an error, or the translator's death (its reply right
    /// destroyed: a send-once notification), which starts it again.
    pub(super) fn getroot_reply(&self, p: PendingRoot, msg: Message) {
        let _ = self
            .ipc
            .port_mod_refs(msg.header.local, RightType::Receive, -1);
        let req = p.w.req;
        let died = (msg.header.id == NOTIFY_SEND_ONCE && msg.body.is_empty())
            || (msg.header.id == fsys::id::getroot + REPLY_ID_OFFSET
                && matches!(msg.body.as_slice(), [Item::U32(c)]
                    if *c as i32 == Error::Mig(MigReturn::ServerDied).code()));
        if died {
            self.ipc.destroy_message(msg);
            self.forget_active(p.node, p.active);
            let mut w = p.w;
            if w.restarts >= MAX_RESTARTS {
                // It died again: the lookup fails instead of starting it
                // for ever.
                self.abandon_dotdot(&mut self.state(), w.dotdot);
                let _ = fs::reply::dir_lookup(&self.ipc, &req, Err(errno(Errno::Died)));
                return;
            }
            w.restarts += 1;
            self.resume(w, p.node);
            return;
        }
        let checks: [fn(&Item) -> bool; 3] = [u32::matches, Name::matches, PortItem::matches];
        let result = if msg.header.id != fsys::id::getroot + REPLY_ID_OFFSET {
            self.ipc.destroy_message(msg);
            Err(Error::Mig(MigReturn::ReplyMismatch))
        } else {
            match msg.body.first() {
                Some(Item::U32(0)) if mig::items_match(&msg.body[1..], &checks) => {
                    let mut items = msg.body.into_iter().skip(1);
                    let retry = items.next().map(u32::decode).unwrap_or(0);
                    let mut name = items.next().map(Name::decode).unwrap_or_default();
                    let file = items.next().map(PortItem::decode);
                    let file = file.map_or(PortName::NULL, |f| f.name);
                    if p.w.mustbedir {
                        name.push(b"/");
                    } else if !p.w.suffix.is_empty() {
                        if !name.is_empty() {
                            name.push(b"/");
                        }
                        name.push(&p.w.suffix);
                    }
                    Ok((retry, name, send_item(file, Disposition::MoveSend)))
                }
                Some(Item::U32(c)) if *c != 0 => {
                    let code = *c as i32;
                    self.ipc.destroy_message(msg);
                    Err(Error::from_code(code).unwrap_or(Error::Mig(MigReturn::RemoteError)))
                }
                _ => {
                    self.ipc.destroy_message(msg);
                    Err(Error::Mig(MigReturn::TypeError))
                }
            }
        };
        // The translator holds its own right to ".." now (or released it).
        let _ = self.ipc.port_deallocate(p.w.dotdot);
        let _ = fs::reply::dir_lookup(&self.ipc, &req, result);
    }

    /// A bootstrap port: a receive right in the port set, with one send right
    /// (for the starter) and a no-senders request.
    /// The root directory for a translator started as `owner` (a send
    /// right we hold), or NULL if none can be made. The root of this file
    /// system stands for the directories a Hurd file server gives its
    /// translators (its own, reauthenticated as the owner): hosted servers
    /// are the root file system of their world.
    pub(super) fn owner_root(&self, owner: &IdSet) -> PortName {
        let mut st = self.state();
        let root = st.tree.root();
        let po = self.new_peropen(&mut st, root, OpenFlags::empty(), PortName::NULL);
        let Ok(port) = self.new_protid(&mut st, po, owner.clone()) else {
            return PortName::NULL;
        };
        if self
            .ipc
            .port_insert_right(port, port, Disposition::MakeSend)
            .is_err()
        {
            self.drop_protid(&mut st, port);
            return PortName::NULL;
        }
        port
    }

    pub(super) fn bootstrap_port(&self) -> Result<PortName, Errno> {
        // The port and its send right are released if a step fails.
        let fail = |_| Errno::NoMem;
        let boot = ReceiveRight::allocate(&self.ipc).map_err(fail)?;
        let name = boot.name();
        self.ipc
            .port_move_member(name, self.portset)
            .map_err(fail)?;
        let send = boot.make_send().map_err(fail)?;
        self.ipc
            .request_notification(
                name,
                NotifyKind::NoSenders,
                1,
                name,
                Disposition::MakeSendOnce,
            )
            .map_err(fail)?;
        send.into_raw();
        Ok(boot.into_raw())
    }

    /// Finishes deferred lookups once a translator is up.
    pub(super) fn resume(&self, w: Waiter, node: NodeId) {
        let req = w.req;
        if let Some(r) = self.fetch_root(w, node) {
            let _ = fs::reply::dir_lookup(&self.ipc, &req, r);
        }
    }

    /// Releases a right that came in a request, as its kind needs (a
    /// receive right where a send right belongs is destroyed, not kept).
    pub(super) fn release(&self, item: &PortItem) {
        drop(Right::received(&self.ipc, *item));
    }
}
