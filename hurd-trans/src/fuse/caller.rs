//! Requests served with their sender's ids: the caller as Linux checked
//! it, and ports restricted to its ids.

use fuser::{FileAttr, Request};
use hurd_ipc::PortName;
use hurd_ipc::hosted::Task;
use hurd_ipc::user::SendRight;

use super::attr::err;
use super::bridge::Bridge;
use crate::protocol::{fs, io};

/// Who sent a FUSE request, as Linux checked it: the file-system user and
/// group ids and the supplementary groups.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Caller {
    uid: u32,
    gid: u32,
    groups: Vec<u32>,
}

impl Caller {
    /// The sender of `req`; its supplementary groups are read from
    /// `/proc/PID/status` (none if the process is already gone).
    fn of(req: &Request<'_>) -> Caller {
        let groups = std::fs::read_to_string(format!("/proc/{}/status", req.pid()))
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| l.strip_prefix("Groups:")).map(|g| {
                    g.split_whitespace()
                        .filter_map(|n| n.parse().ok())
                        .collect()
                })
            })
            .unwrap_or_default();
        Caller {
            uid: req.uid(),
            gid: req.gid(),
            groups,
        }
    }

    /// The group ids as the translator is given them: the effective group
    /// first, then the others.
    fn gids(&self) -> Vec<u32> {
        let mut g = vec![self.gid];
        g.extend(self.groups.iter().copied().filter(|x| *x != self.gid));
        g
    }
}

/// A port used for one request: one of the bridge's own, or one made for
/// the request's caller (released when dropped).
pub(super) struct Held<'a> {
    pub(super) name: PortName,
    pub(super) _own: Option<SendRight<&'a Task>>,
}

impl Bridge {
    /// `port` as the caller of `req` would hold it: the bridge's own when
    /// the caller is the mounter, else a new port to the same open file
    /// with the caller's user and group ids (`io_restrict_auth`), so that
    /// the translator checks access, owns new nodes and clears set-id bits
    /// as for that user.
    pub(super) fn as_caller(&self, req: &Request<'_>, port: PortName) -> Result<Held<'_>, i32> {
        if req.uid() == self.mounter && (self.mounter != 0 || req.gid() == 0) {
            return Ok(Held {
                name: port,
                _own: None,
            });
        }
        let c = Caller::of(req);
        let item = io::Client::new(&self.task, port)
            .restrict_auth(vec![c.uid], c.gids())
            .map_err(err)?;
        Ok(Held {
            name: item.name,
            _own: Some(SendRight::from_raw(&self.task, item.name)),
        })
    }

    /// Gives the new node `ino` (just made in `parent` for `req`) the group
    /// Linux gives it: the caller's, unless the directory is set-group-id
    /// (then the directory's, which the translator gave it).
    pub(super) fn settle_group(&self, req: &Request<'_>, parent: u64, ino: u64, a: &mut FileAttr) {
        if a.gid == req.gid() {
            return;
        }
        let (Ok(dir), Ok(node)) = (self.port(parent), self.port(ino)) else {
            return;
        };
        let sgid = io::Client::new(&self.task, dir)
            .stat()
            .is_ok_and(|s| s.mode & crate::mode::S_ISGID != 0);
        if !sgid
            && fs::Client::new(&self.task, node)
                .file_chown(u32::MAX, req.gid())
                .is_ok()
            && let Ok(n) = self.stat_node(ino)
        {
            *a = n;
        }
    }
}
