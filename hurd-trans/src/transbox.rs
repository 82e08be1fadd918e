//! Translator records. A node may carry a *passive* translator — a command
//! line (argz: NUL-separated words) stored with the node, which only the
//! owner may set — and an *active* one: the control port of a running
//! translator. The first lookup through a passive record starts the program
//! once (concurrent lookups wait for it), with the node owner's identity;
//! a translator found dead is started again on the next lookup.
//!
//! Starting a program is behind [`Starter`]: hosted, [`ThreadStarter`] runs
//! it as a thread (a task of hurd-ipc's runtime); on the hurd-rs kernel, the
//! exec server.

use alloc::string::String;
use alloc::vec::Vec;
use hurd_auth::IdSet;
use hurd_ipc::Errno;
use hurd_ipc::PortName;
use hurd_ipc::mig::Request;

/// Starts translator programs.
pub trait Starter {
    /// Starts `argv` as a translator. `bootstrap` is a send right (in the
    /// calling server's space) the program calls `fsys_startup` on; the
    /// starter copies it and leaves the caller's right alone. `auth` is an
    /// auth handle for the node owner's identity: the starter moves it to
    /// the program (it is the program's own auth port). An unknown program
    /// is `ENOENT`; on error the starter has released `auth`.
    ///
    /// # Errors
    ///
    /// As above: `ENOENT` for an unknown program, or why it could not
    /// start.
    fn start(&self, argv: &[String], bootstrap: PortName, auth: PortName) -> Result<(), Errno>;

    /// Starts `argv` as [`Starter::start`] does, also giving the program the
    /// directories it resolves file names in: `dirs` are send rights (in the
    /// calling server's space, authenticated as the node owner) that the
    /// starter copies, leaving the caller's rights alone — what libfshelp
    /// hands a translator as its `INIT_PORT_CRDIR` and `INIT_PORT_CWDIR`.
    /// The default ignores `dirs` (the program gets none).
    ///
    /// # Errors
    ///
    /// As [`Starter::start`].
    fn start_with_dirs(
        &self,
        argv: &[String],
        bootstrap: PortName,
        auth: PortName,
        dirs: InitDirs,
    ) -> Result<(), Errno> {
        let _ = dirs;
        self.start(argv, bootstrap, auth)
    }
}

/// The directories a started program resolves file names in (the Hurd's
/// `INIT_PORT_CRDIR` and `INIT_PORT_CWDIR`): absolute names under `crdir`,
/// relative ones under `cwdir`. NULL when there is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitDirs {
    /// The root directory.
    pub crdir: PortName,
    /// The working directory.
    pub cwdir: PortName,
}

impl InitDirs {
    /// No directories.
    pub const NONE: InitDirs = InitDirs {
        crdir: PortName::NULL,
        cwdir: PortName::NULL,
    };
}

impl Default for InitDirs {
    fn default() -> Self {
        InitDirs::NONE
    }
}

/// Splits an argz (NUL-separated, NUL-terminated words) into words; `None` if
/// it is empty or not UTF-8.
pub fn argz_to_argv(argz: &[u8]) -> Option<Vec<String>> {
    let text = core::str::from_utf8(argz).ok()?;
    let words: Vec<String> = text
        .split('\0')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    if words.is_empty() { None } else { Some(words) }
}

/// The words of an argz vector as bytes, empty words dropped; `None` when
/// there are none. Unlike [`argz_to_argv`], words need not be UTF-8.
pub fn argz_words(argz: &[u8]) -> Option<Vec<&[u8]>> {
    let words: Vec<&[u8]> = argz.split(|&b| b == 0).filter(|w| !w.is_empty()).collect();
    if words.is_empty() { None } else { Some(words) }
}

/// The target of a symlink record (`/hurd/symlink TARGET`, the short-circuited
/// translator the Hurd keeps symlinks as), as bytes: a target is any bytes
/// but NUL, as on Linux.
pub fn symlink_target(argz: &[u8]) -> Option<&[u8]> {
    match argz_words(argz).as_deref() {
        Some([prog, target]) if *prog == crate::flags::HURD_SYMLINK.as_bytes() => Some(*target),
        _ => None,
    }
}

/// The node type a passive record stands for, with its device number, when
/// it is one of the records the Hurd's file systems keep device nodes, FIFOs
/// and sockets as (`/hurd/chrdev MAJOR MINOR`, `/hurd/blkdev MAJOR MINOR`,
/// `/hurd/fifo`, `/hurd/ifsock`); the device number is Linux's encoding.
///
/// # Errors
/// [`Errno::Inval`] for a device record whose numbers are not numbers or
/// are out of Linux's range (major over 12 bits, minor over 20).
pub fn special_node(argz: &[u8]) -> Result<Option<(u32, u32)>, Errno> {
    use crate::flags::{HURD_BLKDEV, HURD_CHRDEV, HURD_FIFO, HURD_IFSOCK};
    use crate::mode::{S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK};
    let Some(argv) = argz_to_argv(argz) else {
        return Ok(None);
    };
    let kind = match argv.first().map(String::as_str) {
        Some(HURD_CHRDEV) => S_IFCHR,
        Some(HURD_BLKDEV) => S_IFBLK,
        Some(HURD_FIFO) => S_IFIFO,
        Some(HURD_IFSOCK) => S_IFSOCK,
        _ => return Ok(None),
    };
    let dev = match (kind, argv.as_slice()) {
        (S_IFCHR | S_IFBLK, [_, major, minor]) => {
            let (Ok(major), Ok(minor)) = (major.parse::<u32>(), minor.parse::<u32>()) else {
                return Err(Errno::Inval);
            };
            if major > 0xfff || minor > 0xfffff {
                return Err(Errno::Inval);
            }
            (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
        }
        (S_IFIFO | S_IFSOCK, [_]) => 0,
        _ => return Ok(None),
    };
    Ok(Some((kind, dev)))
}

/// Joins words into an argz.
pub fn argv_to_argz<S: AsRef<[u8]>>(argv: &[S]) -> Vec<u8> {
    let mut out = Vec::new();
    for w in argv {
        out.extend_from_slice(w.as_ref());
        out.push(0);
    }
    out
}

/// A lookup waiting for a translator to start.
#[derive(Debug)]
pub(crate) struct Waiter {
    /// The `dir_lookup` request, whose reply right is kept for a late reply.
    pub req: Request,
    /// The user's ids.
    pub user: IdSet,
    /// The unauthenticated port for the directory above (our receive right).
    pub dotdot: PortName,
    /// Open flags for the translator's root.
    pub flags: u32,
    /// What to append to the translator's retry name.
    pub suffix: Vec<u8>,
    /// Whether a '/' must separate them.
    pub mustbedir: bool,
    /// How often this lookup has started the translator again after it
    /// died answering it (bounded by [`MAX_RESTARTS`]).
    pub restarts: u8,
}

/// How often one lookup starts a translator again after it died answering
/// that lookup's `fsys_getroot`. libfshelp starts over without a bound; a
/// translator whose root always fails (a bug, or a hostile program) would
/// then keep the file system starting it forever. Once is enough to get
/// past a translator that had died since it was last used.
pub(crate) const MAX_RESTARTS: u8 = 1;

/// The translator state of one node (libfshelp's `transbox`).
#[derive(Debug, Default)]
pub(crate) struct TransBox {
    /// The active translator's control port (a send right), or NULL.
    pub active: PortName,
    /// Set while the passive translator is starting.
    pub starting: Option<Starting>,
}

/// A start under way.
#[derive(Debug)]
pub(crate) struct Starting {
    /// The node owner's ids, for the node port `fsys_startup` returns.
    pub owner: IdSet,
    /// Lookups waiting for it.
    pub waiters: Vec<Waiter>,
}

#[cfg(feature = "std")]
pub use hosted::{Program, ThreadStarter, init_dirs};

#[cfg(feature = "std")]
mod hosted {
    use alloc::collections::BTreeMap;
    use alloc::string::String;
    use alloc::sync::Arc;
    use std::sync::Mutex;

    use core::cell::Cell;
    use hurd_ipc::Errno;
    use hurd_ipc::hosted::{Runtime, Task};
    use hurd_ipc::{Disposition, PortName, UserIpc};

    use super::{InitDirs, Starter};

    std::thread_local! {
        static INIT_DIRS: Cell<InitDirs> = const { Cell::new(InitDirs::NONE) };
    }

    /// The directories the starter gave the program running on this thread
    /// (names in its task's space), like glibc's `getcrdir()` and
    /// `getcwdir()` on the Hurd: per-program state set up before the program
    /// runs, not arguments. [`InitDirs::NONE`] outside a started program, or
    /// when the program was started without them. A program that hands work
    /// to other threads reads them first.
    pub fn init_dirs() -> InitDirs {
        INIT_DIRS.with(Cell::get)
    }

    /// A translator program: runs in its own task with its arguments, a
    /// send right to its bootstrap port and its auth handle (both named in
    /// the task's space). The task ends when the function returns. The
    /// directories it resolves file names in are [`init_dirs`].
    pub type Program = Arc<dyn Fn(Task, Vec<String>, PortName, PortName) + Send + Sync>;

    /// Terminates its task when dropped, also while a panic unwinds.
    struct EndsTask(Task);

    impl Drop for EndsTask {
        fn drop(&mut self) {
            self.0.terminate();
        }
    }

    /// Starts translators as threads of a hosted [`Runtime`], each in a task
    /// of its own; programs are found by `argv[0]` in a table.
    #[derive(Clone)]
    pub struct ThreadStarter {
        rt: Runtime,
        server: Task,
        programs: Arc<Mutex<BTreeMap<String, Program>>>,
    }

    impl ThreadStarter {
        /// A starter for the server task `server` (whose names `start` gets).
        pub fn new(rt: &Runtime, server: &Task) -> ThreadStarter {
            ThreadStarter {
                rt: rt.clone(),
                server: server.clone(),
                programs: Arc::default(),
            }
        }

        /// Makes `program` startable as `name` (e.g. `/hurd/hello`).
        pub fn register(&self, name: &str, program: Program) {
            if let Ok(mut p) = self.programs.lock() {
                p.insert(name.into(), program);
            }
        }
    }

    impl Starter for ThreadStarter {
        fn start(&self, argv: &[String], bootstrap: PortName, auth: PortName) -> Result<(), Errno> {
            self.start_with_dirs(argv, bootstrap, auth, InitDirs::NONE)
        }

        fn start_with_dirs(
            &self,
            argv: &[String],
            bootstrap: PortName,
            auth: PortName,
            dirs: InitDirs,
        ) -> Result<(), Errno> {
            let program = argv
                .first()
                .and_then(|name| self.programs.lock().ok()?.get(name).cloned());
            let Some(program) = program else {
                let _ = self.server.port_deallocate(auth);
                return Err(Errno::NoEnt);
            };
            let task = self.rt.task();
            let boot = self
                .server
                .give_right(bootstrap, Disposition::CopySend, &task)
                .map_err(|_| Errno::Inval);
            let auth = self.server.give_right(auth, Disposition::MoveSend, &task);
            let (Ok(boot), Ok(auth)) = (boot, auth) else {
                task.terminate();
                return Err(Errno::Inval);
            };
            // A directory that cannot be copied is one the program lacks.
            let copy = |dir: PortName| {
                if dir.is_valid() {
                    self.server
                        .give_right(dir, Disposition::CopySend, &task)
                        .unwrap_or(PortName::NULL)
                } else {
                    PortName::NULL
                }
            };
            let dirs = InitDirs {
                crdir: copy(dirs.crdir),
                cwdir: copy(dirs.cwdir),
            };
            let argv = argv.to_vec();
            let name = argv[0].clone();
            let child = task.clone();
            let spawned = std::thread::Builder::new().name(name).spawn(move || {
                // The task ends when the program returns or panics: a
                // translator that crashes loses its ports, so the client
                // waiting on its first request gets an error, not a hang.
                let ends = EndsTask(child.clone());
                INIT_DIRS.with(|d| d.set(dirs));
                program(child, argv, boot, auth);
                drop(ends);
            });
            match spawned {
                Ok(_) => Ok(()),
                Err(_) => {
                    task.terminate();
                    Err(Errno::Again)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argz_round_trip_and_junk() {
        let z = argv_to_argz(&["/hurd/hello", "--contents=hi"]);
        assert_eq!(z, b"/hurd/hello\0--contents=hi\0");
        assert_eq!(
            argz_to_argv(&z),
            Some(alloc::vec!["/hurd/hello".into(), "--contents=hi".into()])
        );
        assert_eq!(argz_to_argv(b""), None);
        assert_eq!(argz_to_argv(b"\0\0"), None);
        assert_eq!(argz_to_argv(&[0xff, 0]), None);
    }
}
