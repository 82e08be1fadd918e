//! The `fsys` protocol on the control port: a translator's startup, its
//! root, options, syncing and going away.

use super::*;

impl<T: Tree, I: UserIpc> NetFs<T, I> {
    /// The server's name and the tree's options, as an argz vector.
    pub(super) fn options_argz(&self) -> Vec<u8> {
        let opts = self.state().tree.options();
        let mut argv: Vec<&str> = vec![self.opts.name];
        argv.extend(opts.iter().map(String::as_str));
        crate::transbox::argv_to_argz(&argv)
    }

    pub(super) fn shut_down(&self) {
        let mut st = self.state();
        let names: Vec<PortName> = st.protids.keys().copied().collect();
        for n in names {
            self.drop_protid(&mut st, n);
        }
        let boots: Vec<PortName> = st.bootstraps.keys().copied().collect();
        for b in boots {
            let _ = self.ipc.port_mod_refs(b, RightType::Receive, -1);
        }
        st.bootstraps.clear();
        // I/O waiting for mappings learns it too.
        let settling = core::mem::take(&mut st.settling);
        for (wake, (req, op)) in settling {
            let _ = self.ipc.port_destroy(wake);
            let _ = match op {
                IoOp::Read { .. } => io::reply::read(&self.ipc, &req, Err(errno(Errno::Died))),
                IoOp::Write { .. } => io::reply::write(&self.ipc, &req, Err(errno(Errno::Died))),
            };
        }
        // Lookups waiting on a translator's answer learn the server is gone.
        let pending = core::mem::take(&mut st.getroots);
        for (r, p) in pending {
            let _ = self.ipc.port_mod_refs(r, RightType::Receive, -1);
            let _ = self.ipc.port_deallocate(p.w.dotdot);
            let _ = fs::reply::dir_lookup(&self.ipc, &p.w.req, Err(errno(Errno::Died)));
        }
        for b in st.boxes.values_mut() {
            if b.active.is_valid() {
                let _ = self.ipc.port_deallocate(b.active);
                b.active = PortName::NULL;
            }
        }
        let _ = self.ipc.port_mod_refs(self.control, RightType::Receive, -1);
        let _ = self.ipc.port_destroy(self.portset);
    }
}

impl<T: Tree, I: UserIpc> fsys::Server for NetFs<T, I> {
    fn startup(
        &self,
        req: &Request,
        openflags: i32,
        control_port: PortItem,
    ) -> Result<PortItem, Error> {
        let mut st = self.state();
        let Some(node) = st.bootstraps.remove(&req.port) else {
            drop(st);
            self.release(&control_port);
            return Err(errno(Errno::OpNotSupp));
        };
        let starting = st.boxes.get_mut(&node).and_then(|b| b.starting.take());
        let _ = self.ipc.port_mod_refs(req.port, RightType::Receive, -1);
        let Some(starting) = starting else {
            drop(st);
            self.release(&control_port);
            return Err(errno(Errno::Inval));
        };
        let oflags = OpenFlags::from_bits_truncate(openflags as u32) & OpenFlags::OPENMODES;
        let po = self.new_peropen(&mut st, node, oflags, PortName::NULL);
        let realnode = self.new_protid(&mut st, po, starting.owner.clone());
        st.boxes.entry(node).or_default().active = control_port.name;
        drop(st);
        // Answer now: the translator serves its control port only after this.
        let reply = realnode
            .map(|n| send_item(n, Disposition::MakeSend))
            .map_err(errno);
        let _ = fsys::reply::startup(&self.ipc, req, reply);
        for w in starting.waiters {
            self.resume(w, node);
        }
        Err(Error::Mig(MigReturn::NoReply))
    }

    fn goaway(&self, req: &Request, flags: i32) -> Result<(), Error> {
        if req.port != self.control {
            return Err(errno(Errno::OpNotSupp));
        }
        let flags = flags as u32;
        let st = self.state();
        let root = st.tree.root();
        if flags & FSYS_GOAWAY_UNLINK != 0 && is_dir(st.tree.stat(root).map_err(errno)?.mode) {
            return Err(errno(Errno::Busy));
        }
        if flags & FSYS_GOAWAY_FORCE == 0 && !st.protids.is_empty() {
            return Err(errno(Errno::Busy));
        }
        let children: Vec<PortName> = st
            .boxes
            .values()
            .map(|b| b.active)
            .filter(|a| a.is_valid())
            .collect();
        drop(st);
        if flags & FSYS_GOAWAY_RECURSE != 0 {
            for c in children {
                let r = fsys::Client::new(&self.ipc, c).goaway(flags as i32);
                if let Err(e) = r
                    && flags & FSYS_GOAWAY_FORCE == 0
                    && !matches!(
                        e,
                        Error::Msg(MsgReturn::SendInvalidDest) | Error::Mig(MigReturn::ServerDied)
                    )
                {
                    return Err(e);
                }
            }
        }
        self.state().tree.goaway().map_err(errno)?;
        let _ = fsys::reply::goaway(&self.ipc, req, Ok(()));
        self.shut_down();
        Err(Error::Mig(MigReturn::NoReply))
    }

    /// Only a bootstrap file system's parent answers it (as the Hurd's
    /// netfs): `EOPNOTSUPP`.
    fn getpriv(&self, _: &Request) -> Result<(PortItem, PortItem, PortItem), Error> {
        Err(errno(Errno::OpNotSupp))
    }

    fn getroot(
        &self,
        req: &Request,
        dotdot_node: PortItem,
        gen_uids: Vec<u32>,
        gen_gids: Vec<u32>,
        flags: i32,
    ) -> Result<(u32, Name, PortItem), Error> {
        if req.port != self.control {
            self.release(&dotdot_node);
            return Err(errno(Errno::OpNotSupp));
        }
        let user = IdSet::from_vecs(gen_uids, Vec::new(), gen_gids, Vec::new());
        let oflags = OpenFlags::from_bits_truncate(flags as u32);
        let mut st = self.state();
        let root = st.tree.root();
        let checked = self
            .stat_of(&st, root)
            .and_then(|s| Self::check_open(&user, &s, oflags));
        if let Err(e) = checked {
            drop(st);
            self.release(&dotdot_node);
            return Err(errno(e));
        }
        let po = self.new_peropen(
            &mut st,
            root,
            oflags & OpenFlags::OPENMODES,
            dotdot_node.name,
        );
        let port = self.new_protid(&mut st, po, user).map_err(errno)?;
        Ok((
            RetryType::Normal.into(),
            Name::new(),
            send_item(port, Disposition::MakeSend),
        ))
    }

    fn syncfs(&self, req: &Request, wait: i32, _children: i32) -> Result<(), Error> {
        if req.port != self.control {
            return Err(errno(Errno::OpNotSupp));
        }
        self.state().tree.sync(None, wait != 0).map_err(errno)
    }

    fn set_options(&self, req: &Request, options: Vec<u8>, _children: i32) -> Result<(), Error> {
        if req.port != self.control {
            return Err(errno(Errno::OpNotSupp));
        }
        let argv = argz_to_argv(&options).ok_or(errno(Errno::Inval))?;
        // As fsysopts sends them: the server's name may come first.
        let args: Vec<&str> = argv
            .iter()
            .map(String::as_str)
            .skip_while(|a| !a.starts_with('-'))
            .collect();
        self.state().tree.set_options(&args).map_err(errno)
    }

    fn get_options(&self, req: &Request) -> Result<Vec<u8>, Error> {
        if req.port != self.control {
            return Err(errno(Errno::OpNotSupp));
        }
        Ok(self.options_argz())
    }
}
