//! Calls the server makes to other tasks without waiting for them: the
//! request goes out with a reply port in the server's port set (sent with a
//! short timeout, [`CALL_OUT_SEND_TIMEOUT`]), the client's request waits in
//! the server's state, and the answer, when it comes, is handled like any
//! other message — so a task that never answers holds up only the request
//! that called it.

use super::*;

impl<T: Tree, I: UserIpc> NetFs<T, I> {
    /// Sends `msg` (a request with its reply port set) without waiting for
    /// the answer; the request is handed back to be destroyed when it could
    /// not be sent.
    ///
    /// # Errors
    ///
    /// `Error::Msg` with the send's code; the rights the message was to move
    /// are still the server's.
    pub(super) fn send_call_out(&self, msg: Message) -> Result<(), Error> {
        let opts = MsgOptions {
            send_timeout: Some(CALL_OUT_SEND_TIMEOUT),
            ..MsgOptions::default()
        };
        match self.ipc.mach_msg(Some(msg), None, &opts) {
            Ok(_) => Ok(()),
            Err(e) => Err(Error::Msg(e.code())),
        }
    }

    /// The auth server's answer to the `auth_server_authenticate` of an
    /// `io_reauthenticate`: the new protid is made for the ids it names (a
    /// failed handshake: for no ids, as the Hurd does). If the auth server
    /// died, or answered something else, the new port goes: nobody can
    /// have been given a right to it.
    pub(super) fn reauth_reply(&self, p: PendingReauth, msg: Message) {
        let _ = self
            .ipc
            .port_mod_refs(msg.header.local, RightType::Receive, -1);
        let user = if msg.header.id
            == hurd_auth::protocol::auth::id::server_authenticate + REPLY_ID_OFFSET
        {
            match hurd_auth::protocol::auth::Reply::decode(msg) {
                Ok(hurd_auth::protocol::auth::Reply::server_authenticate(Ok((e, a, eg, ag)))) => {
                    Some(IdSet::from_vecs(e, a, eg, ag))
                }
                Ok(hurd_auth::protocol::auth::Reply::server_authenticate(Err(_))) => {
                    Some(IdSet::default())
                }
                Ok(_) => None,
                Err(e) => {
                    self.ipc.destroy_message(e.message);
                    None
                }
            }
        } else {
            self.ipc.destroy_message(msg);
            None
        };
        let Some(user) = user else {
            let _ = self.ipc.port_mod_refs(p.newport, RightType::Receive, -1);
            let mut st = self.state();
            self.release_peropen(&mut st, p.po);
            return;
        };
        let mut st = self.state();
        let armed = self
            .ipc
            .port_move_member(p.newport, self.portset)
            .and_then(|()| {
                self.ipc.request_notification(
                    p.newport,
                    NotifyKind::NoSenders,
                    1,
                    p.newport,
                    Disposition::MakeSendOnce,
                )
            });
        // The reference the pending call held on the peropen passes to the
        // new protid.
        match (armed, st.peropens.contains_key(&p.po)) {
            (Ok(_), true) => {
                st.protids.insert(
                    p.newport,
                    Protid {
                        po: p.po,
                        user,
                        pager: false,
                    },
                );
            }
            // The port cannot be served: it is destroyed, its senders see a
            // dead name.
            _ => {
                self.release_peropen(&mut st, p.po);
                drop(st);
                let _ = self.ipc.port_mod_refs(p.newport, RightType::Receive, -1);
            }
        }
    }

    /// Sends `fsys_goaway(flags)` to the translator `old` without waiting;
    /// the reply port it will answer on.
    ///
    /// # Errors
    ///
    /// Why it could not be sent (`MACH_SEND_INVALID_DEST`: the translator
    /// is gone).
    pub(super) fn send_goaway(&self, old: PortName, flags: i32) -> Result<PortName, Error> {
        let reply = ReceiveRight::allocate(&self.ipc)?;
        self.ipc.port_move_member(reply.name(), self.portset)?;
        let msg = fsys::Call::goaway { flags }
            .encode(old, Disposition::CopySend)
            .with_reply(reply.name(), Disposition::MakeSendOnce);
        self.send_call_out(msg)?;
        Ok(reply.into_raw())
    }

    /// The old translator's answer to the `fsys_goaway` of a
    /// `file_set_translator`: gone (or dead), the new translator is set and
    /// the client answered; refused, the client gets the refusal.
    pub(super) fn goaway_reply(&self, p: PendingSetTranslator, msg: Message) {
        let _ = self
            .ipc
            .port_mod_refs(msg.header.local, RightType::Receive, -1);
        let died = msg.header.id == NOTIFY_SEND_ONCE && msg.body.is_empty();
        let result = if died {
            Ok(())
        } else if msg.header.id == fsys::id::goaway + REPLY_ID_OFFSET {
            match msg.body.as_slice() {
                [Item::U32(0)] => Ok(()),
                [Item::U32(c)] => {
                    Err(Error::from_code(*c as i32).unwrap_or(Error::Mig(MigReturn::RemoteError)))
                }
                _ => Err(Error::Mig(MigReturn::ReplyMismatch)),
            }
        } else {
            Err(Error::Mig(MigReturn::ReplyMismatch))
        };
        self.ipc.destroy_message(msg);
        let req = p.req;
        let r = match result {
            Err(e) if !matches!(e, Error::Mig(MigReturn::ServerDied)) => {
                self.release(&p.active);
                Err(e)
            }
            _ => self.replace_translator(p),
        };
        let _ = fs::reply::file_set_translator(&self.ipc, &req, r);
    }

    /// Puts the new active translator of `p` in place of the old one that
    /// went away, then sets the passive record it asked for.
    fn replace_translator(&self, p: PendingSetTranslator) -> Result<(), Error> {
        let mut st = self.state();
        let current = st.boxes.get(&p.node).map_or(PortName::NULL, |b| b.active);
        if current != p.old {
            // Another file_set_translator replaced it meanwhile.
            drop(st);
            self.release(&p.active);
            return Err(errno(Errno::Busy));
        }
        let _ = self.ipc.port_deallocate(p.old);
        st.boxes.entry(p.node).or_default().active = p.active.name;
        self.set_passive_record(&mut st, p.node, p.passive_flags, p.passive)
    }

    /// The passive part of `file_set_translator` on `node`.
    pub(super) fn set_passive_record(
        &self,
        st: &mut State<T>,
        node: NodeId,
        passive_flags: u32,
        passive: Vec<u8>,
    ) -> Result<(), Error> {
        if passive_flags & FS_TRANS_SET == 0 {
            return Ok(());
        }
        if passive_flags & FS_TRANS_EXCL != 0 && st.tree.passive(node).is_some() {
            return Err(errno(Errno::Busy));
        }
        if passive.is_empty() {
            return st.tree.set_passive(node, None).map_err(errno);
        }
        let argv = argz_words(&passive).ok_or(errno(Errno::Inval))?;
        // A symlink is a short-circuited translator; its target is bytes.
        if argv[0] == HURD_SYMLINK.as_bytes() {
            let target = argv.get(1).ok_or(errno(Errno::Inval))?;
            let s = self.stat_of(st, node).map_err(errno)?;
            if argv.len() != 2 || s.mode & S_IFMT != S_IFREG || s.size != 0 {
                return Err(errno(Errno::Inval));
            }
            return st.tree.set_symlink(node, target).map_err(errno);
        }
        // Any other record names a program and its arguments, started from
        // text: words that are not UTF-8 are refused now, not at the start.
        argz_to_argv(&passive).ok_or(errno(Errno::Inval))?;
        st.tree.set_passive(node, Some(passive)).map_err(errno)
    }
}
