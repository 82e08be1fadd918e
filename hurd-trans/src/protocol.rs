//! The file system protocols, defined with [`hurd_ipc::interface!`] in the
//! Hurd's order, so every routine has the Hurd's message id:
//!
//! - [`io`]: `io.defs`, subsystem 21000 — reading, writing, seeking, open
//!   modes, stat, reauthentication, restriction and duplication of ports.
//! - [`fs`]: `fs.defs`, subsystem 20000 — attributes (`file_*`), directories
//!   (`dir_*`) and translator records (`file_set_translator` and friends).
//! - [`fsys`]: `fsys.defs`, subsystem 22000 — a translator's control port:
//!   `fsys_startup`, `fsys_getroot`, `fsys_goaway`.
//! - [`socket`]: `socket.defs`, subsystem 26000 — sockets, served by a
//!   protocol family's server (`/servers/socket/2` for the Internet); their
//!   data moves with `io_read` and `io_write`.
//!
//! Routines the Hurd has but hurd-trans does not serve are `skip` lines: the
//! ids stay where the Hurd has them and requests get `MIG_BAD_ID`. Arrays of
//! ids (`idarray_t`) travel as `Vec<u32>`, names and paths (`string_t`) as
//! [`Name`] (bytes), the server's name in `io_server_version` as `String`,
//! `data_t` as `Vec<u8>`, `loff_t` as `i64` (offset -1 is "the file
//! pointer"), rights as [`PortItem`]s, `io_statbuf_t` as [`Stat`] and
//! `fsys_statfsbuf_t` as [`Statfs`].

use alloc::string::String;
use hurd_ipc::interface;
use hurd_ipc::{PortArray, PortItem};

use crate::name::Name;
use crate::stat::Stat;
use crate::statfs::Statfs;

/// The interfaces of this crate, for tools that name messages (see
/// [`hurd_ipc::msgids`]).
pub static INTERFACES: &[&hurd_ipc::msgids::Subsystem] = &[
    &io::DESCRIPTION,
    &fs::DESCRIPTION,
    &fsys::DESCRIPTION,
    &socket::DESCRIPTION,
];

/// `SELECT_READ` (the Hurd's `hurd_types.h`), for `io_select`: reading
/// would not wait.
pub const SELECT_READ: i32 = 1;
/// `SELECT_WRITE`: writing would not wait.
pub const SELECT_WRITE: i32 = 2;
/// `SELECT_URG`: urgent data waits to be read.
pub const SELECT_URG: i32 = 4;

interface! {
    /// `io.defs`: the I/O protocol every open file speaks (subsystem 21000).
    pub mod io: subsystem 21000 prefix "io_" {
        /// `io_write`: writes `data` at `offset` (-1: at the file pointer,
        /// which advances). Returns how much was written.
        routine write(data: Vec<u8>, offset: i64) -> (amount: u64);
        /// `io_read`: reads up to `amount` bytes at `offset` (-1: at the file
        /// pointer, which advances). An empty answer is end of file.
        routine read(offset: i64, amount: u64) -> (data: Vec<u8>);
        /// `io_seek`: moves the file pointer (`whence` 0 set, 1 current, 2 end).
        routine seek(offset: i64, whence: i32) -> (newp: i64);
        /// `io_readable`: bytes readable without blocking.
        routine readable() -> (amount: u64);
        /// `io_set_all_openmodes`: sets the changeable open modes.
        routine set_all_openmodes(newbits: i32);
        /// `io_get_openmodes`: the port's open modes.
        routine get_openmodes() -> (bits: i32);
        /// `io_set_some_openmodes`: sets some changeable open modes.
        routine set_some_openmodes(bits_to_set: i32);
        /// `io_clear_some_openmodes`: clears some changeable open modes.
        routine clear_some_openmodes(bits_to_clear: i32);
        skip async_();
        skip mod_owner();
        skip get_owner();
        skip get_icky_async_id();
        /// `io_select(select_type) → select_type`: which of `SELECT_READ`
        /// (1), `SELECT_WRITE` (2) and `SELECT_URG` (4) asked for could be
        /// done without waiting; if none, the answer comes once one can.
        routine select(select_type: i32) -> (select_result: i32);
        /// `io_stat`: the object's status.
        routine stat() -> (stat_info: Stat);
        /// `io_reauthenticate`: the server's half of a rendezvous; the new port
        /// (same open file, new ids) reaches the user through the auth server.
        simpleroutine reauthenticate(rendezvous2: PortItem);
        /// `io_restrict_auth`: a new port for the same open file with only the
        /// given ids (those of the port's user, or any for root).
        routine restrict_auth(uids: Vec<u32>, gids: Vec<u32>) -> (new_object: PortItem);
        /// `io_duplicate`: another port for the same open file and user.
        routine duplicate() -> (newport: PortItem);
        /// `io_server_version`: which server answers.
        routine server_version() -> (server_name: String, major: i32, minor: i32, edit: i32);
        /// `io_map`: memory objects for reading and writing the file.
        routine map() -> (memobjrd: PortItem, memobjwt: PortItem);
        skip map_cntl();
        skip get_conch();
        skip release_conch();
        skip eofnotify();
        skip prenotify();
        skip postnotify();
        skip readnotify();
        skip readsleep();
        skip sigio();
        /// `io_pathconf`: a `pathconf` value (`_PC_NAME_MAX` is 4, `_PC_LINK_MAX` 0).
        routine pathconf(name: i32) -> (value: i32);
        skip identity();
        skip revoke();
        skip select_timeout();
    }
}

interface! {
    /// `fs.defs`: files and directories (subsystem 20000).
    pub mod fs: subsystem 20000 {
        skip file_exec();
        /// `file_chown`: new owner and group (`-1`, i.e. `u32::MAX`: unchanged).
        routine file_chown(new_owner: u32, new_group: u32);
        /// `file_chauthor`: a new author.
        routine file_chauthor(new_author: u32);
        /// `file_chmod`: new permission bits.
        routine file_chmod(new_mode: u32);
        /// `file_chflags`: new user flags.
        routine file_chflags(new_flags: i32);
        skip file_utimes();
        /// `file_set_size`: truncates or extends.
        routine file_set_size(new_size: i64);
        skip file_lock();
        skip file_lock_stat();
        /// `file_check_access`: which of `O_READ`, `O_WRITE`, `O_EXEC` the
        /// port's user may have.
        routine file_check_access() -> (allowed: i32);
        skip file_notice_changes();
        /// `file_getcontrol`: the file system's control port (root only).
        routine file_getcontrol() -> (control: PortItem);
        /// `file_statfs`: the file system's status (what `df` shows).
        routine file_statfs() -> (info: Statfs);
        /// `file_sync`: writes the file back.
        routine file_sync(wait: i32, omit_metadata: i32);
        /// `file_syncfs`: writes the whole file system back.
        routine file_syncfs(wait: i32, do_children: i32);
        skip file_get_storage_info();
        /// `file_getlinknode`: the port to give `dir_link` for this file.
        routine file_getlinknode() -> (linknode: PortItem);
        skip file_getfh();
        /// `dir_lookup`: looks `file_name` up from this directory, opening the
        /// result with `flags` (creating it with `mode` under `O_CREAT`).
        /// Answers with a retry triple ([`crate::retry`]).
        routine dir_lookup(file_name: Name, flags: i32, mode: u32)
            -> (do_retry: u32, retry_name: Name, result: PortItem);
        /// `dir_readdir`: entries from index `entry`, at most `nentries` (-1:
        /// all) and about `bufsiz` bytes (0: no limit). Returns the packed
        /// entries ([`crate::netfs::DirEntry`]) and their number.
        routine dir_readdir(entry: i32, nentries: i32, bufsiz: u64) -> (data: Vec<u8>, amount: i32);
        /// `dir_mkdir`: a new directory.
        routine dir_mkdir(name: Name, mode: u32);
        /// `dir_rmdir`: removes an empty directory.
        routine dir_rmdir(name: Name);
        /// `dir_unlink`: removes a name (not a directory's).
        routine dir_unlink(name: Name);
        /// `dir_link`: a new name for `file` (a port of the same server).
        routine dir_link(file: PortItem, name: Name, excl: i32);
        /// `dir_rename`: moves `oldname` to `newname` in `newdirectory`.
        routine dir_rename(oldname: Name, newdirectory: PortItem, newname: Name, excl: i32);
        /// `dir_mkfile`: a new file with no name (give it one with `dir_link`).
        routine dir_mkfile(flags: i32, mode: u32) -> (newnode: PortItem);
        skip dir_notice_changes();
        /// `file_set_translator`: sets or clears the passive record (an argz
        /// command line) and/or the active translator (a control port) —
        /// owner only.
        routine file_set_translator(passive_flags: i32, active_flags: i32, oldtrans_flags: i32,
            passive: Vec<u8>, active: PortItem);
        /// `file_get_translator`: the passive record (argz).
        routine file_get_translator() -> (translator: Vec<u8>);
        /// `file_get_translator_cntl`: the active translator's control port.
        routine file_get_translator_cntl() -> (translator_cntl: PortItem);
        /// `file_get_fs_options`: the file system's options (argz).
        routine file_get_fs_options() -> (options: Vec<u8>);
        skip file_reparent();
        skip file_get_children();
        skip file_get_source();
        skip file_exec_paths();
        /// `file_utimens`: access and modification times (nsec `UTIME_NOW`
        /// = -2 sets now, `UTIME_OMIT` = -1 leaves it).
        routine file_utimens(atime_sec: i64, atime_nsec: i64, mtime_sec: i64, mtime_nsec: i64);
        skip file_record_lock();
    }
}

interface! {
    /// `fsys.defs`: a file system's control port (subsystem 22000).
    pub mod fsys: subsystem 22000 prefix "fsys_" {
        /// `fsys_startup`: sent by a starting translator on its bootstrap port:
        /// here is my control port; give me the node I sit on.
        routine startup(openflags: i32, control_port: PortItem) -> (realnode: PortItem);
        /// `fsys_goaway`: shut down ([`crate::flags`] `FSYS_GOAWAY_*`).
        routine goaway(flags: i32);
        /// `fsys_getroot`: the root directory, for a user with `gen_uids` and
        /// `gen_gids`; `dotdot_node` is what ".." at the root leads to.
        routine getroot(dotdot_node: PortItem, gen_uids: Vec<u32>, gen_gids: Vec<u32>, flags: i32)
            -> (do_retry: u32, retry_name: Name, file: PortItem);
        skip getfile();
        /// `fsys_syncfs`: writes everything back.
        routine syncfs(wait: i32, do_children: i32);
        /// `fsys_set_options`: run-time options (an argz vector, as
        /// `fsysopts` sends them: `--sync`, `--readonly`...).
        routine set_options(options: Vec<u8>, do_children: i32);
        /// `fsys_getpriv`: the privileged ports a bootstrap file system's
        /// parent hands out — the host's privileged port, the device master
        /// port and the file system's task (any may be null). A translator
        /// asks its bootstrap port, as the C library's
        /// `get_privileged_ports` does; one whose disk's driver was started
        /// again learns the driver's new master port this way.
        routine getpriv() -> (host_priv: PortItem, device_master: PortItem, fstask: PortItem);
        skip init();
        skip forward();
        /// `fsys_get_options`: the options (argz).
        routine get_options() -> (options: Vec<u8>);
        skip get_children();
        skip get_source();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_hurds() {
        assert_eq!(io::id::write, 21000);
        assert_eq!(io::id::read, 21001);
        assert_eq!(io::id::seek, 21002);
        assert_eq!(io::id::select, 21012);
        assert_eq!(io::id::stat, 21013);
        assert_eq!(io::id::reauthenticate, 21014);
        assert_eq!(io::id::restrict_auth, 21015);
        assert_eq!(io::id::duplicate, 21016);
        assert_eq!(io::id::map, 21018);
        assert_eq!(io::id::pathconf, 21028);
        assert_eq!(io::END, 21032);
        assert_eq!(socket::id::socket_create, 26000);
        assert_eq!(socket::id::socket_shutdown, 26011);
        assert_eq!(socket::id::socket_send, 26014);
        assert_eq!(socket::id::socket_recv, 26015);
        assert_eq!(socket::END, 26016);
        assert_eq!(fs::id::file_chown, 20001);
        assert_eq!(fs::id::file_chauthor, 20002);
        assert_eq!(fs::id::file_set_size, 20006);
        assert_eq!(fs::id::file_statfs, 20012);
        assert_eq!(fs::id::dir_lookup, 20018);
        assert_eq!(fs::id::dir_readdir, 20019);
        assert_eq!(fs::id::dir_mkfile, 20025);
        assert_eq!(fs::id::file_set_translator, 20027);
        assert_eq!(fs::id::file_get_translator_cntl, 20029);
        assert_eq!(fs::id::file_utimens, 20035);
        assert_eq!(fs::END, 20037);
        assert_eq!(fsys::id::startup, 22000);
        assert_eq!(fsys::id::goaway, 22001);
        assert_eq!(fsys::id::getroot, 22002);
        assert_eq!(fsys::id::syncfs, 22004);
        assert_eq!(fsys::id::set_options, 22005);
        assert_eq!(fsys::id::getpriv, 22006);
        assert_eq!(fsys::id::get_options, 22009);
        assert_eq!(fsys::END, 22012);
    }

    #[test]
    fn ids_name_the_hurds_routines() {
        use hurd_ipc::msgids::{ArgKind, MsgIds, RoutineKind};

        let ids = MsgIds::with(&[INTERFACES, hurd_auth::protocol::INTERFACES]);
        let name = |id| ids.lookup(id).map(|found| found.to_string());
        assert_eq!(name(21000).as_deref(), Some("io_write"));
        assert_eq!(name(21001).as_deref(), Some("io_read"));
        assert_eq!(name(21013).as_deref(), Some("io_stat"));
        assert_eq!(name(21113).as_deref(), Some("io_stat-reply"));
        assert_eq!(name(20018).as_deref(), Some("dir_lookup"));
        assert_eq!(name(20118).as_deref(), Some("dir_lookup-reply"));
        assert_eq!(name(20027).as_deref(), Some("file_set_translator"));
        assert_eq!(name(22002).as_deref(), Some("fsys_getroot"));
        assert_eq!(name(26000).as_deref(), Some("socket_create"));
        assert_eq!(name(25002).as_deref(), Some("auth_user_authenticate"));
        assert_eq!(name(38000).as_deref(), Some("password_check_user"));
        // Ids the Hurd has and hurd-trans does not serve, and no id at all.
        assert_eq!(name(21012).as_deref(), Some("io_select"));
        assert_eq!(name(26014).as_deref(), Some("socket_send"));
        assert_eq!(name(26115).as_deref(), Some("socket_recv-reply"));
        assert_eq!(name(20000), None, "file_exec is skipped");
        assert_eq!(name(21114), None, "io_reauthenticate has no reply");
        assert_eq!(name(21999), None);

        let lookup = ids.lookup(20018).expect("named");
        assert_eq!(lookup.subsystem.name, "fs");
        assert_eq!(lookup.routine.kind, RoutineKind::Routine);
        let args: Vec<_> = lookup
            .routine
            .args
            .iter()
            .map(|a| (a.name, a.kind))
            .collect();
        assert_eq!(
            args,
            [
                ("file_name", ArgKind::Text),
                ("flags", ArgKind::I32),
                ("mode", ArgKind::U32)
            ]
        );
        let results: Vec<_> = lookup.routine.results.iter().map(|a| a.kind).collect();
        assert_eq!(results, [ArgKind::U32, ArgKind::Text, ArgKind::Port]);
        let write = ids.lookup(21000).expect("named").routine;
        assert_eq!(write.args[0].ty, "Vec<u8>");
        assert_eq!(write.args[0].kind, ArgKind::Bytes);
        assert_eq!(write.results[0].name, "amount");
        let reauth = ids.lookup(21014).expect("named").routine;
        assert_eq!(reauth.kind, RoutineKind::SimpleRoutine);
        assert_eq!(
            ids.lookup(21013).expect("named").routine.results[0].kind,
            ArgKind::Struct
        );
    }
}

interface! {
    /// `socket.defs`: sockets (subsystem 26000). `socket_create` and
    /// `socket_create_address` go to the protocol family's server port (the
    /// latter to a socket too); the rest to a socket's port, or an
    /// address's. An address is a port standing for a `sockaddr`; a socket's
    /// data moves with [`io`]'s `io_read` and `io_write`.
    pub mod socket: subsystem 26000 {
        /// `socket_create(server, sock_type, protocol) → sock`: a new
        /// socket (`SOCK_STREAM` 1, `SOCK_DGRAM` 2; protocol 0 for the
        /// type's own).
        routine socket_create(sock_type: i32, protocol: i32) -> (sock: PortItem);
        /// `socket_listen(sock, queue_limit)`: the socket takes connections,
        /// up to `queue_limit` waiting for `socket_accept`.
        routine socket_listen(queue_limit: i32);
        /// `socket_accept(sock) → conn_sock, peer_addr`: the next connection
        /// (waits for one).
        routine socket_accept() -> (conn_sock: PortItem, peer_addr: PortItem);
        /// `socket_connect(sock, addr)`: connects to the address `addr`
        /// (waits until connected or refused).
        routine socket_connect(addr: PortItem);
        /// `socket_bind(sock, addr)`: gives the socket its local address.
        routine socket_bind(addr: PortItem);
        /// `socket_name(sock) → addr`: the socket's local address.
        routine socket_name() -> (addr: PortItem);
        /// `socket_peername(sock) → addr`: the address of its peer.
        routine socket_peername() -> (addr: PortItem);
        /// `socket_connect2(sock1, sock2)`: joins two unconnected sockets
        /// of one server into a pair (how `socketpair` and `pipe` are made
        /// on the `PF_LOCAL` server).
        routine socket_connect2(sock2: PortItem);
        /// `socket_create_address(server, sockaddr_type, sockaddr) → addr`:
        /// an address port for a `struct sockaddr` of family
        /// `sockaddr_type`.
        routine socket_create_address(sockaddr_type: i32, sockaddr: Vec<u8>) -> (addr: PortItem);
        skip socket_fabricate_address();
        /// `socket_whatis_address(addr) → sockaddr_type, sockaddr`: the
        /// `struct sockaddr` an address port stands for.
        routine socket_whatis_address() -> (sockaddr_type: i32, sockaddr: Vec<u8>);
        /// `socket_shutdown(sock, direction)`: no more receiving (0),
        /// sending (1) or either (2).
        routine socket_shutdown(direction: i32);
        skip socket_getopt();
        skip socket_setopt();
        /// `socket_send(sock, addr, flags, data, ports, control) → amount`:
        /// sends `data` (to `addr`, or a null port for the connected peer)
        /// with `MSG_*` flags; `ports` and `control` are what `sendmsg`
        /// passes besides (rights, ancillary data).
        routine socket_send(
            addr: PortItem,
            flags: i32,
            data: Vec<u8>,
            ports: PortArray,
            control: Vec<u8>,
        ) -> (amount: u64);
        /// `socket_recv(sock, flags, amount) → addr, data, ports, control,
        /// outflags`: receives up to `amount` bytes, with where they came
        /// from (a null port if nowhere to tell) and the out flags
        /// (`MSG_TRUNC`…).
        routine socket_recv(flags: i32, amount: u64) -> (
            addr: PortItem,
            data: Vec<u8>,
            ports: PortArray,
            control: Vec<u8>,
            outflags: i32,
        );
    }
}
