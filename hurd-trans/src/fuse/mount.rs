//! Mounting: the hosted set-up (auth server, the translator's server, the
//! bridge) and the FUSE session with its options.

use std::io as stdio;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use fuser::MountOption;
use hurd_auth::{AuthServer, IdSet, Limits, StdClock};
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, Error};

use super::bridge::Bridge;
use crate::flags::OpenFlags;
use crate::netfs::{self, Options, Tree};

/// A translator mounted by [`spawn_mount`] or [`spawn_mount_as`];
/// unmounted when dropped.
///
/// Dropping it unmounts the file system and waits (up to a minute) until
/// the bridge has told the translator to go away, so the translator's
/// storage is clean when the drop returns. [`Mounted::join`] waits instead
/// until someone else unmounts it.
pub struct Mounted {
    session: Option<fuser::BackgroundSession>,
    gone: mpsc::Receiver<()>,
    _runtime: Runtime,
}

impl Mounted {
    /// Waits until the file system is unmounted from outside (`umount`,
    /// `fusermount3 -u`) and the bridge has told the translator to go away,
    /// as a mount in the foreground ([`mount`]) returns then.
    pub fn join(self) {
        // The bridge sends, or drops its end, once the session has ended.
        let _ = self.gone.recv();
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        // Unmounting ends the session thread, which calls `destroy` and
        // then drops the bridge, closing the channel.
        drop(self.session.take());
        let _ = self.gone.recv_timeout(Duration::from_secs(60));
    }
}

/// Serves `tree` with a [`NetFs`](crate::netfs::NetFs) in a hosted runtime
/// of its own (with an auth server, root's identity for the server, `user`
/// for the bridge) and mounts it at `mountpoint` through FUSE, in background
/// threads.
///
/// The mount point's type must be the type of the tree's root, as Linux
/// requires: a directory for a directory, a file for a single-file
/// translator ([`trivfs`](crate::trivfs)), as `settrans` puts one on a file.
///
/// # Errors
///
/// `IsADirectory` or `NotADirectory` when the types differ; what setting up
/// the translator or mounting returns (`/dev/fuse` missing, not permitted).
pub fn spawn_mount<T: Tree + Send + 'static>(
    tree: T,
    user: IdSet,
    mountpoint: &Path,
    name: &'static str,
) -> stdio::Result<Mounted> {
    spawn_mount_as(Runtime::new().task(), tree, user, mountpoint, name)
}

/// Like [`spawn_mount`], with the file system served as `fs`, a task of the
/// caller's own runtime: give `fs` rights to the caller's services
/// ([`Task::give_right`]) before making the tree, and the tree can call
/// them. The auth server and the bridge are new tasks of the same runtime.
///
/// # Errors
///
/// As [`spawn_mount`].
pub fn spawn_mount_as<T: Tree + Send + 'static>(
    fs: Task,
    tree: T,
    user: IdSet,
    mountpoint: &Path,
    name: &'static str,
) -> stdio::Result<Mounted> {
    check_mountpoint(&tree, mountpoint)?;
    let rt = fs.runtime();
    let mut bridge = bridge_as(fs, tree, user, name).map_err(stdio::Error::other)?;
    let (tx, gone) = mpsc::channel();
    bridge.gone = Some(tx);
    let session = fuser::spawn_mount2(bridge, mountpoint, &mount_options(name))?;
    Ok(Mounted {
        session: Some(session),
        gone,
        _runtime: rt,
    })
}

/// Refuses a mount point whose type is not the tree's root's: Linux marks
/// such a mount's root bad, and every use of it fails with `EIO`.
fn check_mountpoint<T: Tree>(tree: &T, mountpoint: &Path) -> stdio::Result<()> {
    let root_is_dir = tree
        .stat(tree.root())
        .is_ok_and(|s| s.mode & crate::mode::S_IFMT == crate::mode::S_IFDIR);
    let at = std::fs::metadata(mountpoint)?;
    match (root_is_dir, at.is_dir()) {
        (false, true) => Err(stdio::Error::new(
            stdio::ErrorKind::IsADirectory,
            alloc::format!(
                "{} is a directory, and this translator serves a single file: mount it on a file",
                mountpoint.display()
            ),
        )),
        (true, false) => Err(stdio::Error::new(
            stdio::ErrorKind::NotADirectory,
            alloc::format!(
                "{} is not a directory, and this translator serves a directory",
                mountpoint.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// Like [`spawn_mount`] but in the calling thread, until unmounted.
///
/// # Errors
///
/// As [`spawn_mount`].
pub fn mount<T: Tree + Send + 'static>(
    tree: T,
    user: IdSet,
    mountpoint: &Path,
    name: &'static str,
) -> stdio::Result<()> {
    check_mountpoint(&tree, mountpoint)?;
    let (_rt, bridge) = bridge_for(tree, user, name).map_err(stdio::Error::other)?;
    fuser::mount2(bridge, mountpoint, &mount_options(name))
}

/// How the bridge mounts: the kernel checks permissions against the
/// attributes (`default_permissions`), as it does for a local file system,
/// and the translator checks them again with the caller's ids. Every user
/// may use the mount (`allow_other`) where the mounter may grant it: root,
/// or any user when `/etc/fuse.conf` says `user_allow_other`. Root's mounts
/// also honour set-id bits and device nodes, as a local file system does.
fn mount_options(name: &str) -> Vec<MountOption> {
    let mut o = vec![
        MountOption::FSName(name.into()),
        MountOption::DefaultPermissions,
    ];
    // The effective user id, the second of `Uid:` in /proc/self/status.
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|u| u.split_whitespace().nth(1))
            == Some("0")
    });
    let allowed = root
        || std::fs::read_to_string("/etc/fuse.conf").is_ok_and(|c| {
            c.lines()
                .any(|l| l.split('#').next().unwrap_or("").trim() == "user_allow_other")
        });
    if allowed {
        o.push(MountOption::AllowOther);
    }
    if root {
        o.extend([MountOption::Dev, MountOption::Suid]);
    }
    o
}

/// The hosted set-up in a runtime of its own: an auth server, the server
/// for `tree`, and a bridge holding a root port for `user`.
///
/// # Errors
///
/// What starting the auth server or the file system server returns.
pub fn bridge_for<T: Tree + Send + 'static>(
    tree: T,
    user: IdSet,
    name: &'static str,
) -> Result<(Runtime, Bridge), String> {
    let rt = Runtime::new();
    let bridge = bridge_as(rt.task(), tree, user, name)?;
    Ok((rt, bridge))
}

/// The hosted set-up with `tree` served as `fs_task`; the auth server and
/// the bridge are new tasks of its runtime.
fn bridge_as<T: Tree + Send + 'static>(
    fs_task: Task,
    tree: T,
    user: IdSet,
    name: &'static str,
) -> Result<Bridge, String> {
    let rt = fs_task.runtime();
    let client = rt.task();
    let (tx, rx) = mpsc::channel();
    let to = [
        (fs_task.clone(), IdSet::root()),
        (client.clone(), user.clone()),
    ];
    rt.spawn("auth", move |task| {
        let server = AuthServer::new(task.clone(), StdClock::new(), Limits::default())?;
        let mut handles = Vec::new();
        for (who, ids) in &to {
            let h = server.create_handle(ids.clone())?;
            handles.push(task.give_right(h, Disposition::MoveSend, who)?);
        }
        let _ = tx.send(handles);
        server.run();
        Ok::<(), Error>(())
    })
    .map_err(|e| e.to_string())?;
    let handles = rx
        .recv_timeout(Duration::from_secs(60))
        .map_err(|e| e.to_string())?;
    let opts = Options {
        name,
        ..Options::default()
    };
    let (_, control) = netfs::spawn(fs_task, tree, handles[0], None, opts, &client)
        .map_err(|e| alloc::format!("{e}"))?;
    let root = netfs::getroot(&client, control, &user, OpenFlags::READ)
        .map_err(|e| alloc::format!("{e}"))?;
    let mounter = user.euids.iter().next().unwrap_or(u32::MAX);
    Ok(Bridge::new(client, root, handles[1])
        .with_control(control)
        .with_mounter(mounter)
        .sole_client())
}
