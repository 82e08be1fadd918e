//! The shell's commands.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use hurd_auth::{AuthClient, IdSet, reauthenticate};
use hurd_ipc::Errno;
use hurd_ipc::{Disposition, Error, PortItem, PortName, UserIpc};
use hurd_trans::flags::{FS_TRANS_SET, FSYS_GOAWAY_FORCE, OpenFlags};
use hurd_trans::mode::{S_IFDIR, S_IFMT};
use hurd_trans::netfs::decode_entries;
use hurd_trans::protocol::{fs, fsys, io};
use hurd_trans::transbox::{argv_to_argz, argz_to_argv};

use crate::proc::process;

use super::{Awaiting, Exec, ExitStatus, Flow, Session, Shell, passwd_name, passwd_uid, release};

const HELP: &str = "\
commands:
  ls [DIR...]              list directories
  cat FILE...              print files
  echo [WORD...]           print words (redirect with > FILE or >> FILE)
  mkdir DIR...  rmdir DIR...  rm FILE...  cp FROM TO
  chmod MODE FILE...       set permission bits (octal MODE)
  cd [DIR]  pwd
  export [NAME=VALUE...]   set variables the programs get (EXEC_SERVERS:
                           your own exec servers); alone, list them
  id                       the ids this shell holds
  su [USER]                add USER's ids (default root) to this shell's
  login USER               become USER
  settrans [-a] NODE PROGRAM [ARG...]
                           set a passive translator on NODE (yours);
                           -a starts it now, active only
  settrans -g NODE         make NODE's running translator go away
  showtrans NODE           print NODE's passive translator
  ps                       the processes (PID PPID PGRP SID UID CMD)
  kill [-SIGNAL] PID...    post a signal (default TERM) to processes
  pkill [-SIGNAL] PATTERN  post it to the processes whose command has PATTERN
  df [FILE...]             size and free space of FILE's file system (/)
  sync [FILE...]           write FILE's file system (/) back to its storage
  fsysopts FILE [OPTION...]
                           FILE's file system's options; root sets them
  help  exit
Other commands run /bin/NAME (or a path) as a program in its own task.
";

/// Writes `prog: what: error` into `out`.
pub fn complain(out: &mut Vec<u8>, prog: &str, what: &str, e: Error) {
    let msg = match Errno::of(e) {
        Some(errno) => errno.to_string(),
        None => format!("{e}"),
    };
    out.extend_from_slice(format!("{prog}: {what}: {msg}\n").as_bytes());
}

fn usage(out: &mut Vec<u8>, prog: &str, text: &str) {
    out.extend_from_slice(format!("usage: {prog} {text}\n").as_bytes());
}

/// The most variables `export` keeps.
pub const MAX_ENV: usize = 64;

/// The commands the shell runs itself (others are programs).
pub const BUILTINS: &[&str] = &[
    "exit",
    "logout",
    "help",
    "echo",
    "pwd",
    "cat",
    "ls",
    "mkdir",
    "rmdir",
    "rm",
    "cp",
    "chmod",
    "cd",
    "export",
    "id",
    "su",
    "login",
    "settrans",
    "showtrans",
    "ps",
    "kill",
    "pkill",
    "df",
    "sync",
    "fsysopts",
];

/// Whether `name` is run by the shell itself.
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

/// Runs the command `name` with `args`: normal output into `printed` (which
/// may be redirected), errors into `err`.
pub fn run<I: UserIpc + ?Sized>(
    shell: &mut Shell<'_, I>,
    name: &str,
    args: &[String],
    printed: &mut Vec<u8>,
    err: &mut Vec<u8>,
) -> Flow {
    let s = &mut shell.session;
    match name {
        "exit" | "logout" => return Flow::Exit,
        "help" => printed.extend_from_slice(HELP.as_bytes()),
        "echo" => {
            printed.extend_from_slice(args.join(" ").as_bytes());
            printed.push(b'\n');
        }
        "pwd" => {
            printed.extend_from_slice(s.cwd.as_bytes());
            printed.push(b'\n');
        }
        "cat" => {
            for a in args {
                match s.read_file(a) {
                    Ok(data) => printed.extend_from_slice(&data),
                    Err(e) => complain(err, "cat", a, e),
                }
            }
        }
        "ls" => ls(s, args, printed, err),
        "mkdir" | "rmdir" | "rm" => {
            if args.is_empty() {
                usage(err, name, "PATH...");
            }
            for a in args {
                if let Err(e) = dir_op(s, name, a) {
                    complain(err, name, a, e);
                }
            }
        }
        "cp" => match args {
            [from, to] => {
                if let Err(e) = s.read_file(from).and_then(|d| s.write_file(to, &d, false)) {
                    complain(err, "cp", from, e);
                }
            }
            _ => usage(err, "cp", "FROM TO"),
        },
        "chmod" => match args {
            [mode, files @ ..] if !files.is_empty() => match u32::from_str_radix(mode, 8) {
                Ok(m) if m <= 0o7777 => {
                    for f in files {
                        let r = s.open(f, OpenFlags::NOTRANS).and_then(|n| {
                            let r = fs::Client::new(s.ipc, n).file_chmod(m);
                            s.release(n);
                            r
                        });
                        if let Err(e) = r {
                            complain(err, "chmod", f, e);
                        }
                    }
                }
                _ => err.extend_from_slice(format!("chmod: invalid mode {mode}\n").as_bytes()),
            },
            _ => usage(err, "chmod", "MODE FILE..."),
        },
        "export" if args.is_empty() => {
            for v in &s.env {
                printed.extend_from_slice(format!("{v}\n").as_bytes());
            }
        }
        "export" => {
            for a in args {
                match a.split_once('=') {
                    Some((n, _)) if !n.is_empty() && !n.contains('\0') && !a.contains('\0') => {
                        s.env
                            .retain(|v| v.split_once('=').map(|(m, _)| m) != Some(n));
                        if s.env.len() < MAX_ENV {
                            s.env.push(a.clone());
                        } else {
                            err.extend_from_slice(b"export: too many variables\n");
                        }
                    }
                    _ => usage(err, "export", "NAME=VALUE..."),
                }
            }
        }
        "cd" => {
            let target = args.first().map_or("/", String::as_str);
            if let Err(e) = cd(s, target) {
                complain(err, "cd", target, e);
            }
        }
        "id" => match s.ids() {
            Ok(ids) => {
                let passwd = s.read_file("/etc/passwd").unwrap_or_default();
                let passwd = String::from_utf8_lossy(&passwd).into_owned();
                printed.extend_from_slice(describe_ids(&ids, &passwd).as_bytes());
            }
            Err(e) => complain(err, "id", "auth", e),
        },
        "su" | "login" => {
            let user = args.first().map_or("root", String::as_str);
            if name == "login" && args.len() != 1 {
                usage(err, "login", "USER");
                return Flow::Continue;
            }
            let passwd = s.read_file("/etc/passwd").unwrap_or_default();
            let passwd = String::from_utf8_lossy(&passwd).into_owned();
            let Some(uid) = passwd_uid(&passwd, user) else {
                err.extend_from_slice(format!("{name}: unknown user {user}\n").as_bytes());
                return Flow::Continue;
            };
            let user = user.to_string();
            shell.set_awaiting(if name == "su" {
                Awaiting::Su { name: user, uid }
            } else {
                Awaiting::Login { name: user, uid }
            });
        }
        "settrans" => settrans(s, args, err),
        "showtrans" => {
            if args.is_empty() {
                usage(err, "showtrans", "NODE...");
            }
            for a in args {
                match showtrans(s, a) {
                    Ok(words) => {
                        printed.extend_from_slice(words.join(" ").as_bytes());
                        printed.push(b'\n');
                    }
                    // No passive translator: nothing to show.
                    Err(e) if Errno::of(e) == Some(Errno::Inval) => {}
                    Err(e) => complain(err, "showtrans", a, e),
                }
            }
        }
        "ps" | "kill" | "pkill" if !s.proc.is_valid() => {
            err.extend_from_slice(format!("{name}: no proc server\n").as_bytes());
        }
        "ps" => ps(s, printed, err),
        "kill" => kill(s, args, err),
        "pkill" => pkill(s, args, err),
        "df" => super::filesystems::df(s, args, printed, err),
        "sync" => super::filesystems::sync(s, args, err),
        "fsysopts" => super::filesystems::fsysopts(s, args, printed, err),
        other => match shell.exec {
            Some(exec) => run_program(
                &shell.session,
                exec,
                other,
                args,
                shell.redirect,
                printed,
                err,
            ),
            None => err.extend_from_slice(format!("sh: {other}: command not found\n").as_bytes()),
        },
    }
    Flow::Continue
}

/// `ps`: every process the proc server knows, one line each, asked
/// through the session's proc port (`proc_getallpids`, `proc_getprocinfo`,
/// `proc_getprocargs`).
fn ps<I: UserIpc + ?Sized>(s: &Session<'_, I>, printed: &mut Vec<u8>, err: &mut Vec<u8>) {
    let c = process::Client::new(s.ipc, s.proc);
    let pids = match c.getallpids() {
        Ok(p) => p,
        Err(e) => return complain(err, "ps", "proc", e),
    };
    printed.extend_from_slice(b"  PID  PPID  PGRP   SID   UID CMD\n");
    for pid in pids {
        let pid = pid as i32;
        // A process may end between the two calls: skip it.
        let Ok((ppid, pgrp, sid, owner, state)) = c.getprocinfo(pid) else {
            continue;
        };
        let args = command_line(&c, pid);
        let uid = if owner == crate::proc::NO_OWNER {
            "-".to_string()
        } else {
            owner.to_string()
        };
        let cmd = if state == crate::proc::PI_ZOMBIE {
            format!("<defunct> {args}")
        } else {
            args
        };
        printed.extend_from_slice(
            format!("{pid:>5} {ppid:>5} {pgrp:>5} {sid:>5} {uid:>5} {cmd}\n").as_bytes(),
        );
    }
}

/// A process's command line (`proc_getprocargs`), words joined by spaces;
/// empty when the server has none.
fn command_line<I: UserIpc + ?Sized>(c: &process::Client<'_, I>, pid: i32) -> String {
    c.getprocargs(pid)
        .ok()
        .and_then(|a| crate::exec::parse_argz(&a).ok())
        .unwrap_or_default()
        .join(" ")
}

/// A leading `-SIGNAL` (a name or number) and the words after it; `TERM`
/// when there is none. `None` (complained about) for an unknown signal.
fn signal_and_rest<'a>(
    prog: &str,
    args: &'a [String],
    err: &mut Vec<u8>,
) -> Option<(i32, &'a [String])> {
    match args {
        [first, rest @ ..] if first.starts_with('-') && first.len() > 1 => {
            match crate::proc::parse_signal(&first[1..]) {
                Some(sig) => Some((sig, rest)),
                None => {
                    err.extend_from_slice(
                        format!("{prog}: {}: invalid signal\n", &first[1..]).as_bytes(),
                    );
                    None
                }
            }
        }
        _ => Some((crate::proc::SIGTERM, args)),
    }
}

/// Posts `signal` to `pid`, complaining as `prog` when that fails.
fn signal_one<I: UserIpc + ?Sized>(
    s: &Session<'_, I>,
    prog: &str,
    pid: i32,
    signal: i32,
    err: &mut Vec<u8>,
) {
    match crate::proc::post_signal(s.ipc, s.proc, pid, signal) {
        Ok(()) => {}
        Err(e) if Error::Code(crate::proc::ESRCH) == e => {
            err.extend_from_slice(format!("{prog}: {pid}: no such process\n").as_bytes());
        }
        Err(e) => complain(err, prog, &pid.to_string(), e),
    }
}

/// `kill [-SIGNAL] PID...`: posts SIGNAL (a name or number; `TERM` by
/// default) to each process's message port (`proc_getmsgport`, then
/// `msg_sig_post`). Only the owner of a process or root may (`EPERM`).
fn kill<I: UserIpc + ?Sized>(s: &Session<'_, I>, args: &[String], err: &mut Vec<u8>) {
    let Some((signal, pids)) = signal_and_rest("kill", args, err) else {
        return;
    };
    if pids.is_empty() {
        return usage(err, "kill", "[-SIGNAL] PID...");
    }
    for p in pids {
        match p.parse::<i32>() {
            Ok(pid) => signal_one(s, "kill", pid, signal, err),
            Err(_) => err.extend_from_slice(format!("kill: {p}: not a pid\n").as_bytes()),
        }
    }
}

/// `pkill [-SIGNAL] PATTERN`: posts SIGNAL, as `kill` does, to every
/// running process but the shell's own whose command line contains
/// PATTERN. Says so when none does.
fn pkill<I: UserIpc + ?Sized>(s: &Session<'_, I>, args: &[String], err: &mut Vec<u8>) {
    let Some((signal, rest)) = signal_and_rest("pkill", args, err) else {
        return;
    };
    let [pattern] = rest else {
        return usage(err, "pkill", "[-SIGNAL] PATTERN");
    };
    let c = process::Client::new(s.ipc, s.proc);
    let me = c.getpids().ok().map(|p| p.0);
    let pids = match c.getallpids() {
        Ok(p) => p,
        Err(e) => return complain(err, "pkill", "proc", e),
    };
    let mut matched = false;
    for pid in pids {
        let pid = pid as i32;
        let running = c
            .getprocinfo(pid)
            .is_ok_and(|info| info.4 != crate::proc::PI_ZOMBIE);
        if Some(pid) == me || !running || !command_line(&c, pid).contains(pattern.as_str()) {
            continue;
        }
        matched = true;
        signal_one(s, "pkill", pid, signal, err);
    }
    if !matched {
        err.extend_from_slice(format!("pkill: no process matches `{pattern}`\n").as_bytes());
    }
}

/// Runs a program: `/bin/NAME`, or the path `name` when it holds a `/`. The
/// session must be allowed to execute the file (opening it for execution
/// checks the `x` permission bits).
fn run_program<I: UserIpc + ?Sized>(
    s: &Session<'_, I>,
    exec: &dyn Exec<I>,
    name: &str,
    args: &[String],
    stdout: Option<PortName>,
    printed: &mut Vec<u8>,
    err: &mut Vec<u8>,
) {
    let path = if name.contains('/') {
        name.to_string()
    } else {
        format!("/bin/{name}")
    };
    match s.open(&path, OpenFlags::EXEC) {
        Ok(f) => s.release(f),
        Err(e) if Errno::of(e) == Some(Errno::NoEnt) && !name.contains('/') => {
            err.extend_from_slice(format!("sh: {name}: command not found\n").as_bytes());
            return;
        }
        Err(e) => {
            complain(err, "sh", &path, e);
            return;
        }
    }
    let mut argv = alloc::vec![name.to_string()];
    argv.extend(args.iter().cloned());
    match exec.exec(s, &path, &argv, stdout) {
        Ok(exit) => {
            printed.extend_from_slice(&exit.output);
            err.extend_from_slice(&exit.errors);
            match exit.status {
                ExitStatus::Code(0) => {}
                ExitStatus::Code(c) => {
                    err.extend_from_slice(format!("sh: {name}: exit status {c}\n").as_bytes());
                }
                ExitStatus::Crashed => {
                    err.extend_from_slice(
                        format!("sh: {name}: crashed; its task was terminated\n").as_bytes(),
                    );
                }
                ExitStatus::Killed(sig) => {
                    err.extend_from_slice(
                        format!("sh: {name}: killed by signal {sig}\n").as_bytes(),
                    );
                }
            }
        }
        Err(e) => complain(err, "sh", &path, e),
    }
}

/// `uids=1000(alice),0(root) gids=100,0 ...`: the effective ids, then the
/// available ones.
fn describe_ids(ids: &IdSet, passwd: &str) -> String {
    let users = |v: &[u32]| {
        v.iter()
            .map(|&u| match passwd_name(passwd, u) {
                Some(n) => format!("{u}({n})"),
                None => u.to_string(),
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let groups = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    if ids.is_empty() {
        return "the unknown user (no ids)\n".to_string();
    }
    format!(
        "euids={} egids={} auids={} agids={}\n",
        users(ids.euids.as_slice()),
        groups(ids.egids.as_slice()),
        users(ids.auids.as_slice()),
        groups(ids.agids.as_slice())
    )
}

fn ls<I: UserIpc + ?Sized>(
    s: &Session<'_, I>,
    args: &[String],
    out: &mut Vec<u8>,
    err: &mut Vec<u8>,
) {
    let dot = [".".to_string()];
    let dirs = if args.is_empty() { &dot[..] } else { args };
    for (i, d) in dirs.iter().enumerate() {
        if dirs.len() > 1 {
            if i > 0 {
                out.push(b'\n');
            }
            out.extend_from_slice(format!("{d}:\n").as_bytes());
        }
        match list(s, d) {
            Ok(names) => {
                for n in names {
                    out.extend_from_slice(n.as_bytes());
                    out.push(b'\n');
                }
            }
            Err(e) => complain(err, "ls", d, e),
        }
    }
}

/// The names in a directory (without `.` and `..`), sorted; directories
/// marked with a trailing `/`. A file lists as its own name.
fn list<I: UserIpc + ?Sized>(s: &Session<'_, I>, path: &str) -> Result<Vec<String>, Error> {
    let d = s.open(path, OpenFlags::READ)?;
    let st = io::Client::new(s.ipc, d).stat();
    let r = match st {
        Ok(st) if st.mode & S_IFMT != S_IFDIR => Ok(alloc::vec![path.to_string()]),
        Ok(_) => fs::Client::new(s.ipc, d)
            .dir_readdir(0, -1, 0)
            .and_then(|(data, _)| decode_entries(&data).map_err(Error::from))
            .map(|entries| {
                let mut names: Vec<String> = entries
                    .into_iter()
                    .filter(|e| e.name != "." && e.name != "..")
                    .map(|e| {
                        if e.kind & S_IFMT == S_IFDIR {
                            format!("{}/", e.name)
                        } else {
                            e.name.to_string()
                        }
                    })
                    .collect();
                names.sort();
                names
            }),
        Err(e) => Err(e),
    };
    s.release(d);
    r
}

fn dir_op<I: UserIpc + ?Sized>(s: &Session<'_, I>, op: &str, path: &str) -> Result<(), Error> {
    let (dir, name) = s.parent(path)?;
    let c = fs::Client::new(s.ipc, dir);
    let r = match op {
        "mkdir" => c.dir_mkdir(name.into(), 0o755),
        "rmdir" => c.dir_rmdir(name.into()),
        _ => c.dir_unlink(name.into()),
    };
    s.release(dir);
    r
}

/// Changes the session's working directory to `path`.
///
/// # Errors
///
/// The file system's error opening `path` (`ENOENT`, `EACCES`), or
/// `ENOTDIR` when it is not a directory.
pub fn cd<I: UserIpc + ?Sized>(s: &mut Session<'_, I>, path: &str) -> Result<(), Error> {
    let d = s.open(path, OpenFlags::empty())?;
    match io::Client::new(s.ipc, d).stat() {
        Ok(st) if st.mode & S_IFMT == S_IFDIR => {}
        Ok(_) => {
            s.release(d);
            return Err(Errno::NotDir.into());
        }
        Err(e) => {
            s.release(d);
            return Err(e);
        }
    }
    let old = core::mem::replace(&mut s.cwdir, d);
    s.release(old);
    s.cwd = s.absolute(path);
    Ok(())
}

const NO_PORT: PortItem = PortItem {
    disposition: Disposition::CopySend,
    name: PortName::NULL,
};

fn settrans<I: UserIpc + ?Sized>(s: &Session<'_, I>, args: &[String], err: &mut Vec<u8>) {
    match args {
        [flag, node] if flag == "-g" => {
            let r = s.open(node, OpenFlags::NOTRANS).and_then(|n| {
                let cntl = fs::Client::new(s.ipc, n).file_get_translator_cntl();
                s.release(n);
                let cntl = cntl?;
                let r = fsys::Client::new(s.ipc, cntl.name).goaway(FSYS_GOAWAY_FORCE as i32);
                s.release(cntl.name);
                r
            });
            if let Err(e) = r {
                complain(err, "settrans", node, e);
            }
        }
        [flag, node, program, rest @ ..] if flag == "-a" => {
            let mut argv = alloc::vec![program.clone()];
            argv.extend(rest.iter().cloned());
            if let Err(e) = set_active(s, node, &argv) {
                complain(err, "settrans", node, e);
            }
        }
        [node, program, rest @ ..] if !node.starts_with('-') => {
            let mut argv = alloc::vec![program.clone()];
            argv.extend(rest.iter().cloned());
            if let Err(e) = set_passive(s, node, &argv) {
                complain(err, "settrans", node, e);
            }
        }
        _ => usage(err, "settrans", "[-a] NODE PROGRAM [ARG...] | -g NODE"),
    }
}

/// Records `argv` as `node`'s passive translator (an empty record removes
/// it).
fn set_passive<I: UserIpc + ?Sized>(
    s: &Session<'_, I>,
    node: &str,
    argv: &[String],
) -> Result<(), Error> {
    let n = node_for_translator(s, node)?;
    let r = fs::Client::new(s.ipc, n).file_set_translator(
        FS_TRANS_SET as i32,
        0,
        0,
        argv_to_argz(argv),
        NO_PORT,
    );
    s.release(n);
    r
}

/// `settrans -a`: starts `argv` on `node` now, as an active translator with
/// no passive record. The node's file system starts it (with the node
/// owner's identity) through a passive record that is removed once the
/// translator runs, so it does not outlive this start.
fn set_active<I: UserIpc + ?Sized>(
    s: &Session<'_, I>,
    node: &str,
    argv: &[String],
) -> Result<(), Error> {
    set_passive(s, node, argv)?;
    let started = s.open(node, OpenFlags::empty());
    let cleared = set_passive(s, node, &[]);
    s.release(started?);
    cleared
}

/// The node itself (not its translator), made as an empty file if missing.
fn node_for_translator<I: UserIpc + ?Sized>(
    s: &Session<'_, I>,
    node: &str,
) -> Result<PortName, Error> {
    match s.open(node, OpenFlags::NOTRANS) {
        Err(e) if Errno::of(e) == Some(Errno::NoEnt) => {
            let f = s.open(node, OpenFlags::WRITE | OpenFlags::CREAT)?;
            s.release(f);
            s.open(node, OpenFlags::NOTRANS)
        }
        other => other,
    }
}

fn showtrans<I: UserIpc + ?Sized>(s: &Session<'_, I>, node: &str) -> Result<Vec<String>, Error> {
    let n = s.open(node, OpenFlags::NOTRANS)?;
    let r = fs::Client::new(s.ipc, n).file_get_translator();
    s.release(n);
    let argz = r?;
    Ok(argz_to_argv(&argz).unwrap_or_default())
}

/// The second half of `su` / `login`: the password server turns the password
/// into an auth handle for the user; `su` adds its ids to the session's
/// (`makeauth` presenting both handles), `login` takes them instead. The root
/// and working directories are then reauthenticated with the new handle.
pub(super) fn finish_login<I: UserIpc + ?Sized>(
    s: &mut Session<'_, I>,
    awaiting: Awaiting,
    password: &str,
    out: &mut Vec<u8>,
) {
    let (prog, name, uid, add) = match awaiting {
        Awaiting::Su { name, uid } => ("su", name, uid, true),
        Awaiting::Login { name, uid } => ("login", name, uid, false),
    };
    if !s.password.is_valid() {
        out.extend_from_slice(format!("{prog}: no password server\n").as_bytes());
        return;
    }
    let checked = hurd_auth::protocol::password::Client::new(s.ipc, s.password)
        .check_user(uid, password.into())
        .map(|p| p.name);
    let user_handle = match checked {
        Ok(h) => h,
        Err(e) => {
            complain(out, prog, &name, e);
            return;
        }
    };
    let new_auth = if add {
        let combined = AuthClient::new(s.ipc, user_handle)
            .getids()
            .and_then(|theirs| {
                let ours = s.ids()?;
                let both = IdSet::union([&ours, &theirs]);
                AuthClient::new(s.ipc, s.auth).makeauth(&[user_handle], &both)
            });
        release(s.ipc, user_handle);
        match combined {
            Ok(h) => h,
            Err(e) => {
                complain(out, prog, &name, e);
                return;
            }
        }
    } else {
        user_handle
    };
    // Reauthenticate the directories with the new identity.
    let reauth = |port: PortName| {
        reauthenticate(s.ipc, new_auth, |rendezvous| {
            io::Client::new(s.ipc, port).reauthenticate(rendezvous)
        })
    };
    let (crdir, cwdir) = match (reauth(s.crdir), reauth(s.cwdir)) {
        (Ok(r), Ok(c)) => (r, c),
        (r, c) => {
            for p in [r.as_ref().ok(), c.as_ref().ok()].into_iter().flatten() {
                release(s.ipc, *p);
            }
            release(s.ipc, new_auth);
            let e = r.err().or(c.err()).unwrap_or(Errno::Io.into());
            complain(out, prog, &name, e);
            return;
        }
    };
    for old in [
        core::mem::replace(&mut s.auth, new_auth),
        core::mem::replace(&mut s.crdir, crdir),
        core::mem::replace(&mut s.cwdir, cwdir),
    ] {
        release(s.ipc, old);
    }
}
