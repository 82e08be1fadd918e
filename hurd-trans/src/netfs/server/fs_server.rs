//! The `fs` protocol: changing a node's attributes, directories, links,
//! translators.

use super::*;

impl<T: Tree, I: UserIpc> NetFs<T, I> {
    pub(super) fn set_attr(&self, port: PortName, change: AttrChange) -> Result<(), Error> {
        let (p, node) = self.protid(port)?;
        let mut st = self.state();
        let s = self.stat_of(&st, node).map_err(errno)?;
        match change {
            AttrChange::Owner(uid, gid) => {
                let new_uid = if uid == u32::MAX { s.uid } else { uid };
                let new_gid = if gid == u32::MAX { s.gid } else { gid };
                if !p.user.has_euid(0) {
                    access::is_owner(&p.user, &s).map_err(errno)?;
                    if new_uid != s.uid || (new_gid != s.gid && !p.user.has_egid(new_gid)) {
                        return Err(errno(Errno::Perm));
                    }
                }
                st.tree
                    .set_attr(node, AttrChange::Owner(new_uid, new_gid))
                    .map_err(errno)
            }
            AttrChange::Mode(m) => {
                access::is_owner(&p.user, &s).map_err(errno)?;
                st.tree
                    .set_attr(node, AttrChange::Mode(m & CHMOD_BITS))
                    .map_err(errno)
            }
            other => {
                access::is_owner(&p.user, &s).map_err(errno)?;
                st.tree.set_attr(node, other).map_err(errno)
            }
        }
    }
}

/// `file_utimens`'s nanoseconds for "leave this time as it is".
const UTIME_OMIT: i64 = -1;
/// `file_utimens`'s nanoseconds for "the time it is now".
const UTIME_NOW: i64 = -2;

/// A time `file_utimens` was given: `None` to leave it; "now" is the
/// tree's clock (`now`), if it has one.
fn utime(sec: i64, nsec: i64, now: Option<TimeSpec>) -> Option<TimeSpec> {
    match nsec {
        UTIME_OMIT => None,
        UTIME_NOW => now,
        n if (0..1_000_000_000).contains(&n) => Some(TimeSpec {
            sec,
            nsec: n as u32,
        }),
        _ => None,
    }
}

impl<T: Tree, I: UserIpc> fs::Server for NetFs<T, I> {
    fn file_chown(&self, req: &Request, new_owner: u32, new_group: u32) -> Result<(), Error> {
        self.set_attr(req.port, AttrChange::Owner(new_owner, new_group))
    }

    fn file_chauthor(&self, req: &Request, new_author: u32) -> Result<(), Error> {
        self.set_attr(req.port, AttrChange::Author(new_author))
    }

    fn file_chmod(&self, req: &Request, new_mode: u32) -> Result<(), Error> {
        self.set_attr(req.port, AttrChange::Mode(new_mode))
    }

    fn file_chflags(&self, req: &Request, new_flags: i32) -> Result<(), Error> {
        self.set_attr(req.port, AttrChange::Flags(new_flags as u32))
    }

    fn file_set_size(&self, req: &Request, new_size: i64) -> Result<(), Error> {
        let (p, node) = self.protid(req.port)?;
        let mut st = self.state();
        let po = st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?;
        if !po.flags.contains(OpenFlags::WRITE) {
            return Err(errno(Errno::Inval));
        }
        if new_size < 0 {
            return Err(errno(Errno::Inval));
        }
        let s = self.stat_of(&st, node).map_err(errno)?;
        if is_dir(s.mode) {
            return Err(errno(Errno::IsDir));
        }
        st.tree.set_size(node, new_size as u64).map_err(errno)
    }

    fn file_check_access(&self, req: &Request) -> Result<i32, Error> {
        let (p, node) = self.protid(req.port)?;
        let st = self.state();
        let s = self.stat_of(&st, node).map_err(errno)?;
        let mut allowed = OpenFlags::empty();
        for (op, bit) in [
            (Op::Read, OpenFlags::READ),
            (Op::Write, OpenFlags::WRITE),
            (Op::Exec, OpenFlags::EXEC),
        ] {
            if access::check(&p.user, &s, op).is_ok() {
                allowed |= bit;
            }
        }
        Ok(allowed.bits() as i32)
    }

    fn file_getcontrol(&self, req: &Request) -> Result<PortItem, Error> {
        let (p, _) = self.protid(req.port)?;
        access::is_root(&p.user).map_err(errno)?;
        Ok(send_item(self.control, Disposition::MakeSend))
    }

    fn file_statfs(&self, req: &Request) -> Result<Statfs, Error> {
        self.protid(req.port)?;
        let mut s = self.state().tree.statfs().map_err(errno)?;
        s.fsid = self.opts.fsid;
        Ok(s)
    }

    fn file_sync(&self, req: &Request, wait: i32, _omit: i32) -> Result<(), Error> {
        let (_, node) = self.protid(req.port)?;
        if let Some(m) = self.mapper.as_ref() {
            m.sync(node);
        }
        self.state().tree.sync(Some(node), wait != 0).map_err(errno)
    }

    fn file_syncfs(&self, req: &Request, wait: i32, _children: i32) -> Result<(), Error> {
        self.protid(req.port)?;
        self.state().tree.sync(None, wait != 0).map_err(errno)
    }

    fn file_getlinknode(&self, req: &Request) -> Result<PortItem, Error> {
        io::Server::duplicate(self, req)
    }

    fn dir_lookup(
        &self,
        req: &Request,
        file_name: Name,
        flags: i32,
        mode: u32,
    ) -> Result<(u32, Name, PortItem), Error> {
        match self.lookup(req, file_name.as_bytes(), flags as u32, mode) {
            Ok(Outcome::Done(r, n, p)) => Ok((r, n, p)),
            Ok(Outcome::Deferred) => Err(Error::Mig(MigReturn::NoReply)),
            Err(e) => Err(errno(e)),
        }
    }

    fn dir_readdir(
        &self,
        req: &Request,
        entry: i32,
        nentries: i32,
        bufsiz: u64,
    ) -> Result<(Vec<u8>, i32), Error> {
        let (p, node) = self.protid(req.port)?;
        let mut st = self.state();
        let s = self.stat_of(&st, node).map_err(errno)?;
        if !is_dir(s.mode) {
            return Err(errno(Errno::NotDir));
        }
        let po = st.peropens.get(&p.po).ok_or(errno(Errno::BadF))?;
        if !po.flags.contains(OpenFlags::READ) {
            return Err(errno(Errno::BadF));
        }
        if entry < 0 {
            return Err(errno(Errno::Inval));
        }
        let entry = entry as usize;
        let all = match (entry > 0).then(|| st.listings.take(p.po, entry)) {
            Some(Some(kept)) => kept,
            _ => st.tree.readdir(node).map_err(errno)?,
        };
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for e in all.iter().skip(entry) {
            if nentries >= 0 && out.len() >= nentries as usize {
                break;
            }
            if bufsiz > 0 && !out.is_empty() && (bytes + e.packed_len()) as u64 > bufsiz {
                break;
            }
            bytes += e.packed_len();
            out.push(e.clone());
        }
        // Kept until a call finds the end, which is the reader's next.
        if !out.is_empty() {
            st.listings.keep(p.po, entry.saturating_add(out.len()), all);
        }
        let n = out.len() as i32;
        Ok((encode_entries(&out), n))
    }

    fn dir_mkdir(&self, req: &Request, name: Name, mode: u32) -> Result<(), Error> {
        Self::check_name(name.as_bytes()).map_err(|e| {
            errno(if name == "." || name == ".." {
                Errno::Exist
            } else {
                e
            })
        })?;
        let (p, dir) = self.writable_dir(req.port)?;
        let mut st = self.state();
        let ds = self.stat_of(&st, dir).map_err(errno)?;
        let uid = p.user.euids.iter().next().unwrap_or(ds.uid);
        st.tree
            .create(
                dir,
                Some(name.as_bytes()),
                S_IFDIR | (mode & ALLPERMS),
                uid,
                ds.gid,
            )
            .map(|_| ())
            .map_err(errno)
    }

    fn dir_rmdir(&self, req: &Request, name: Name) -> Result<(), Error> {
        if name == "." {
            return Err(errno(Errno::Inval));
        }
        if name == ".." {
            return Err(errno(Errno::NotEmpty));
        }
        Self::check_name(name.as_bytes()).map_err(errno)?;
        let (_, dir) = self.writable_dir(req.port)?;
        let mut st = self.state();
        let n = st.tree.lookup(dir, name.as_bytes()).map_err(errno)?;
        if !is_dir(self.stat_of(&st, n).map_err(errno)?.mode) {
            return Err(errno(Errno::NotDir));
        }
        if self.translated(&st, n) && st.boxes.get(&n).is_some_and(|b| b.active.is_valid()) {
            return Err(errno(Errno::Busy));
        }
        st.tree.unlink(dir, name.as_bytes()).map_err(errno)
    }

    fn dir_unlink(&self, req: &Request, name: Name) -> Result<(), Error> {
        Self::check_name(name.as_bytes()).map_err(|e| {
            errno(if name == "." || name == ".." {
                Errno::Perm
            } else {
                e
            })
        })?;
        let (_, dir) = self.writable_dir(req.port)?;
        let mut st = self.state();
        let n = st.tree.lookup(dir, name.as_bytes()).map_err(errno)?;
        if is_dir(self.stat_of(&st, n).map_err(errno)?.mode) {
            return Err(errno(Errno::Perm));
        }
        st.tree.unlink(dir, name.as_bytes()).map_err(errno)
    }

    fn dir_link(&self, req: &Request, file: PortItem, name: Name, excl: i32) -> Result<(), Error> {
        let r = (|| {
            Self::check_name(name.as_bytes()).map_err(errno)?;
            let (_, dir) = self.writable_dir(req.port)?;
            let (_, node) = self.protid(file.name).map_err(|_| errno(Errno::XDev))?;
            let mut st = self.state();
            if is_dir(self.stat_of(&st, node).map_err(errno)?.mode) {
                return Err(errno(Errno::Perm));
            }
            st.tree
                .link(dir, name.as_bytes(), node, excl != 0)
                .map_err(errno)
        })();
        self.release(&file);
        r
    }

    fn dir_rename(
        &self,
        req: &Request,
        oldname: Name,
        newdirectory: PortItem,
        newname: Name,
        excl: i32,
    ) -> Result<(), Error> {
        let r = (|| {
            Self::check_name(oldname.as_bytes()).map_err(errno)?;
            Self::check_name(newname.as_bytes()).map_err(errno)?;
            let (_, from) = self.writable_dir(req.port)?;
            if self.protid(newdirectory.name).is_err() {
                return Err(errno(Errno::XDev));
            }
            let (_, to) = self.writable_dir(newdirectory.name)?;
            let mut st = self.state();
            st.tree
                .rename(from, oldname.as_bytes(), to, newname.as_bytes(), excl != 0)
                .map_err(errno)
        })();
        self.release(&newdirectory);
        r
    }

    fn dir_mkfile(&self, req: &Request, flags: i32, mode: u32) -> Result<PortItem, Error> {
        let (p, dir) = self.writable_dir(req.port)?;
        let mut st = self.state();
        let ds = self.stat_of(&st, dir).map_err(errno)?;
        let uid = p.user.euids.iter().next().unwrap_or(ds.uid);
        let node = st
            .tree
            .create(dir, None, S_IFREG | (mode & ALLPERMS), uid, ds.gid)
            .map_err(errno)?;
        let oflags = OpenFlags::from_bits_truncate(flags as u32) & OpenFlags::OPENMODES;
        let po = self.new_peropen(&mut st, node, oflags, PortName::NULL);
        let port = self.new_protid(&mut st, po, p.user).map_err(errno)?;
        Ok(send_item(port, Disposition::MakeSend))
    }

    fn file_set_translator(
        &self,
        req: &Request,
        passive_flags: i32,
        active_flags: i32,
        oldtrans_flags: i32,
        passive: Vec<u8>,
        active: PortItem,
    ) -> Result<(), Error> {
        let (passive_flags, active_flags) = (passive_flags as u32, active_flags as u32);
        let (p, node) = match self.protid(req.port) {
            Ok(x) => x,
            Err(e) => {
                self.release(&active);
                return Err(e);
            }
        };
        let mut st = self.state();
        let s = match self.stat_of(&st, node) {
            Ok(s) => s,
            Err(e) => {
                drop(st);
                self.release(&active);
                return Err(errno(e));
            }
        };
        if let Err(e) = access::is_owner(&p.user, &s) {
            drop(st);
            self.release(&active);
            return Err(errno(e));
        }
        if active_flags & FS_TRANS_SET != 0 {
            let old = st.boxes.get(&node).map_or(PortName::NULL, |b| b.active);
            if old.is_valid() && active_flags & FS_TRANS_EXCL != 0 {
                drop(st);
                self.release(&active);
                return Err(errno(Errno::Busy));
            }
            if old.is_valid() {
                drop(st);
                if oldtrans_flags as u32 & FS_TRANS_ORPHAN == 0 {
                    // The old translator is asked to go away without the
                    // server waiting for it: the client's reply waits for
                    // its answer (see `goaway_reply`).
                    match self.send_goaway(old, oldtrans_flags) {
                        Ok(reply) => {
                            let pending = PendingSetTranslator {
                                req: *req,
                                node,
                                old,
                                passive_flags,
                                passive,
                                active,
                            };
                            self.state().goaways.insert(reply, pending);
                            return Err(Error::Mig(MigReturn::NoReply));
                        }
                        // Dead already: replaced at once.
                        Err(Error::Msg(MsgReturn::SendInvalidDest)) => {}
                        Err(e) => {
                            self.release(&active);
                            return Err(e);
                        }
                    }
                }
                let _ = self.ipc.port_deallocate(old);
                st = self.state();
            }
            st.boxes.entry(node).or_default().active = active.name;
        } else {
            self.release(&active);
        }
        self.set_passive_record(&mut st, node, passive_flags, passive)
    }

    fn file_get_translator(&self, req: &Request) -> Result<Vec<u8>, Error> {
        let (_, node) = self.protid(req.port)?;
        let mut st = self.state();
        let s = self.stat_of(&st, node).map_err(errno)?;
        if is_lnk(s.mode) {
            let target = st.tree.readlink(node).map_err(errno)?;
            return Ok(crate::transbox::argv_to_argz(&[
                HURD_SYMLINK.as_bytes(),
                &target,
            ]));
        }
        st.tree.passive(node).ok_or(errno(Errno::Inval))
    }

    fn file_get_translator_cntl(&self, req: &Request) -> Result<PortItem, Error> {
        let (p, node) = self.protid(req.port)?;
        let st = self.state();
        let s = self.stat_of(&st, node).map_err(errno)?;
        access::is_owner(&p.user, &s).map_err(errno)?;
        let active = st.boxes.get(&node).map_or(PortName::NULL, |b| b.active);
        if !active.is_valid() {
            return Err(errno(Errno::NxIo));
        }
        Ok(send_item(active, Disposition::CopySend))
    }

    fn file_get_fs_options(&self, req: &Request) -> Result<Vec<u8>, Error> {
        self.protid(req.port)?;
        Ok(self.options_argz())
    }

    fn file_utimens(
        &self,
        req: &Request,
        atime_sec: i64,
        atime_nsec: i64,
        mtime_sec: i64,
        mtime_nsec: i64,
    ) -> Result<(), Error> {
        let now = self.state().tree.clock();
        let given = |nsec| nsec != UTIME_NOW && nsec != UTIME_OMIT;
        if !given(atime_nsec) && !given(mtime_nsec) {
            // Setting times to now (or leaving them): the owner, or anyone
            // who may write, as in libdiskfs and Linux.
            let (p, node) = self.protid(req.port)?;
            let mut st = self.state();
            let s = self.stat_of(&st, node).map_err(errno)?;
            if access::is_owner(&p.user, &s).is_err() {
                access::check(&p.user, &s, Op::Write).map_err(errno)?;
            }
            let change = AttrChange::Times(
                utime(atime_sec, atime_nsec, now),
                utime(mtime_sec, mtime_nsec, now),
            );
            return st.tree.set_attr(node, change).map_err(errno);
        }
        self.set_attr(
            req.port,
            AttrChange::Times(
                utime(atime_sec, atime_nsec, now),
                utime(mtime_sec, mtime_nsec, now),
            ),
        )
    }
}
