//! The password server: exchanges a user's (or group's) password for an auth
//! handle holding its ids.
//!
//! - [`Database`] parses `passwd`, `shadow` and `group` files; passwords are
//!   stored as salted Argon2id hashes in PHC string form
//!   (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), made with [`hash_password`].
//! - [`verify_password`] recomputes the hash and compares in constant time.
//! - [`PasswordServer`] serves the password protocol. It holds a root handle to
//!   the auth server and calls `makeauth` for a successful login. A failed
//!   attempt is answered only after [`PasswordConfig::failure_delay_ms`] (a
//!   deferred reply: other users are served meanwhile), and until then further
//!   attempts on the same user *from the same requester* are refused with
//!   `EAGAIN` without being checked. An unknown user is hashed against a dummy
//!   entry and answered exactly like a wrong password: `EPERM` after the delay.
//!
//! The throttle holds back the one who fails, not the account: a requester
//! is the port its requests arrive on (a Mach message names no sender, so
//! the port is what tells clients apart, as the Hurd's password translator
//! tells them apart by the port each open of `/servers/password` gives).
//! [`PasswordServer::add_port`] makes a port for one more client. Attempts
//! on another port are not held back by an attacker's failures, and each
//! port may have at most [`PasswordConfig::max_delayed_per_port`] failures
//! waiting, so one requester cannot take every place under the global
//! [`PasswordConfig::max_delayed`]. Clients that share a port share its
//! throttle.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hurd_ipc::mig::{self, Dispatch, Request};
use hurd_ipc::{
    Disposition, Error, Message, MigReturn, MsgOptions, MsgReturn, PortItem, PortName, UserIpc,
};
use subtle::ConstantTimeEq;

use crate::client::AuthClient;
use crate::clock::Clock;
use crate::idset::IdSet;
use crate::idvec::{Id, IdVec};
use crate::protocol::password;
use hurd_ipc::Errno;

/// A user, from `passwd` and `shadow`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct User {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: Id,
    /// Primary group id.
    pub gid: Id,
    /// The password hash (PHC string), or `None` if logins with a password are
    /// disabled (`!`, `*`, empty).
    pub hash: Option<String>,
}

/// A group, from `group`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// Group id.
    pub gid: Id,
    /// The group password hash, if it has one.
    pub hash: Option<String>,
    /// Login names of its supplementary members.
    pub members: Vec<String>,
}

/// What is wrong with a database line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ParseErrorKind {
    /// Too few `:`-separated fields.
    MissingField,
    /// A uid or gid is not a 32-bit number.
    BadId,
    /// A `shadow` line names a user `passwd` does not have.
    UnknownUser,
    /// The same name or id appears twice.
    Duplicate,
}

/// A database parse error: which file, which line (from 1), what.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParseError {
    /// `"passwd"`, `"shadow"` or `"group"`.
    pub file: &'static str,
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} line {}: {:?}", self.file, self.line, self.kind)
    }
}

impl core::error::Error for ParseError {}

/// The user and group database.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Database {
    users: Vec<User>,
    groups: Vec<Group>,
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
}

fn hash_field(s: &str) -> Option<String> {
    match s {
        "" | "x" | "*" | "!" | "!!" => None,
        s if s.starts_with('!') || s.starts_with('*') => None,
        s => Some(s.to_string()),
    }
}

impl Database {
    /// Parses `passwd` (`name:password:uid:gid:gecos:home:shell`), `shadow`
    /// (`name:hash:…`) and `group` (`name:password:gid:member,member`) text.
    /// Blank lines and lines starting with `#` are skipped. A password field
    /// of `x` in `passwd` means "see `shadow`"; `!`, `*` or empty disables
    /// password logins.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] naming the file and line of the first malformed line.
    pub fn parse(passwd: &str, shadow: &str, group: &str) -> Result<Database, ParseError> {
        let mut db = Database::default();
        for (line, l) in lines(passwd) {
            let err = |kind| ParseError {
                file: "passwd",
                line,
                kind,
            };
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return Err(err(ParseErrorKind::MissingField));
            }
            let uid = f[2].parse().map_err(|_| err(ParseErrorKind::BadId))?;
            let gid = f[3].parse().map_err(|_| err(ParseErrorKind::BadId))?;
            if db.users.iter().any(|u| u.name == f[0] || u.uid == uid) {
                return Err(err(ParseErrorKind::Duplicate));
            }
            db.users.push(User {
                name: f[0].to_string(),
                uid,
                gid,
                hash: hash_field(f[1]),
            });
        }
        for (line, l) in lines(shadow) {
            let err = |kind| ParseError {
                file: "shadow",
                line,
                kind,
            };
            let mut f = l.split(':');
            let (Some(name), Some(hash)) = (f.next(), f.next()) else {
                return Err(err(ParseErrorKind::MissingField));
            };
            let user = db
                .users
                .iter_mut()
                .find(|u| u.name == name)
                .ok_or(err(ParseErrorKind::UnknownUser))?;
            user.hash = hash_field(hash);
        }
        for (line, l) in lines(group) {
            let err = |kind| ParseError {
                file: "group",
                line,
                kind,
            };
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 3 {
                return Err(err(ParseErrorKind::MissingField));
            }
            let gid = f[2].parse().map_err(|_| err(ParseErrorKind::BadId))?;
            if db.groups.iter().any(|g| g.name == f[0] || g.gid == gid) {
                return Err(err(ParseErrorKind::Duplicate));
            }
            let members = f
                .get(3)
                .map(|m| {
                    m.split(',')
                        .filter(|s| !s.is_empty())
                        .map(ToString::to_string)
                        .collect()
                })
                .unwrap_or_default();
            db.groups.push(Group {
                name: f[0].to_string(),
                gid,
                hash: hash_field(f[1]),
                members,
            });
        }
        Ok(db)
    }

    /// The users.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// The groups.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The user with this uid.
    pub fn user_by_uid(&self, uid: Id) -> Option<&User> {
        self.users.iter().find(|u| u.uid == uid)
    }

    /// The user with this login name.
    pub fn user_by_name(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The group with this gid.
    pub fn group_by_gid(&self, gid: Id) -> Option<&Group> {
        self.groups.iter().find(|g| g.gid == gid)
    }

    /// The ids a login as `user` gets: effective uid and gids (primary group,
    /// then the groups listing the user as a member), real and saved uid and
    /// gid equal to the primary ones.
    pub fn login_ids(&self, user: &User) -> IdSet {
        let mut egids = IdVec::from([user.gid]);
        for g in &self.groups {
            if g.members.contains(&user.name) {
                egids.add_new(g.gid);
            }
        }
        IdSet {
            euids: IdVec::from([user.uid]),
            auids: IdVec::from([user.uid, user.uid]),
            egids,
            agids: IdVec::from([user.gid, user.gid]),
        }
    }
}

/// Why a password could not be hashed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HashError {
    /// The cost parameters are out of Argon2's range.
    BadParams,
    /// The salt is shorter than 8 or longer than 48 bytes.
    BadSalt,
}

/// Argon2 cost parameters: memory in KiB, iterations, lanes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Cost {
    /// Memory, in KiB (at least 8 per lane).
    pub m_kib: u32,
    /// Iterations (at least 1).
    pub t: u32,
    /// Lanes (at least 1).
    pub p: u32,
}

impl Cost {
    /// OWASP's recommended minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
    pub const RECOMMENDED: Cost = Cost {
        m_kib: 19 * 1024,
        t: 2,
        p: 1,
    };
    /// The smallest legal cost: for tests only.
    pub const TEST: Cost = Cost {
        m_kib: 8,
        t: 1,
        p: 1,
    };
}

/// Hashes `password` with Argon2id, the given `salt` (8 to 48 random bytes; the
/// caller supplies them, as `no_std` has no randomness) and `cost`, as a PHC
/// string for a `shadow` line.
///
/// # Errors
///
/// A [`HashError`] for a salt outside 8 to 48 bytes or a cost Argon2id
/// refuses.
pub fn hash_password(password: &[u8], salt: &[u8], cost: Cost) -> Result<String, HashError> {
    if !(8..=48).contains(&salt.len()) {
        return Err(HashError::BadSalt);
    }
    let params = Params::new(cost.m_kib, cost.t, cost.p, None).map_err(|_| HashError::BadParams)?;
    let salt = SaltString::encode_b64(salt).map_err(|_| HashError::BadSalt)?;
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password, &salt)
        .map_err(|_| HashError::BadParams)?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `phc` (Argon2id, Argon2i or
/// Argon2d). The hash is recomputed with the stored salt and cost and compared
/// in constant time; a malformed `phc` never matches.
pub fn verify_password(password: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(alg), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    if Argon2::new(alg, version, params)
        .hash_password_into(password, salt, &mut out)
        .is_err()
    {
        return false;
    }
    out.ct_eq(expected).into()
}

/// How the password server behaves.
#[derive(Clone, Debug)]
pub struct PasswordConfig {
    /// How long a failed attempt waits for its answer, in milliseconds; the
    /// user it named is locked (attempts answered `EAGAIN`) meanwhile.
    pub failure_delay_ms: u64,
    /// Most failed attempts waiting for their answer at once; beyond it new
    /// attempts get `EAGAIN` without being checked.
    pub max_delayed: usize,
    /// Most failed attempts of one requester (the port they arrive on)
    /// waiting for their answer at once; beyond it that requester's new
    /// attempts get `EAGAIN` without being checked.
    pub max_delayed_per_port: usize,
    /// A hash checked for unknown users, so they cost what a known user costs.
    /// Make it with the same [`Cost`] as the database's.
    pub dummy_hash: String,
}

impl PasswordConfig {
    /// A configuration with a `failure_delay_ms` delay and a dummy hash made
    /// with `cost` (use the database's).
    pub fn new(failure_delay_ms: u64, cost: Cost) -> PasswordConfig {
        PasswordConfig {
            failure_delay_ms,
            max_delayed: 1024,
            max_delayed_per_port: 16,
            dummy_hash: hash_password(b"\0no such user\0", b"hurd-rs dummy salt", cost)
                .unwrap_or_default(),
        }
    }
}

/// Which user or group an attempt named: the key of the failure lock.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Subject {
    Uid(Id),
    Gid(Id),
    Name(String),
}

/// Longest login name considered; longer names are truncated for the lock.
const MAX_NAME: usize = 256;

struct Delayed {
    deadline: u64,
    request: Request,
    subject: Subject,
}

#[derive(Default)]
struct PwState {
    delayed: Vec<Delayed>,
    /// Until when each requester (the port its attempts arrive on) is held
    /// back for each subject it failed on.
    locked: BTreeMap<(PortName, Subject), u64>,
    /// The port set served once [`PasswordServer::add_port`] made one.
    set: Option<PortName>,
}

/// The password server.
pub struct PasswordServer<I: UserIpc, C: Clock> {
    ipc: I,
    clock: C,
    port: PortName,
    auth: PortName,
    db: Database,
    config: PasswordConfig,
    state: RefCell<PwState>,
}

impl<I: UserIpc, C: Clock> PasswordServer<I, C> {
    /// A server receiving on `port` (a receive right of `ipc`'s space) that
    /// makes handles through `auth`, a send right to a root auth handle.
    pub fn new(
        ipc: I,
        clock: C,
        port: PortName,
        auth: PortName,
        db: Database,
        config: PasswordConfig,
    ) -> Self {
        PasswordServer {
            ipc,
            clock,
            port,
            auth,
            db,
            config,
            state: RefCell::new(PwState::default()),
        }
    }

    /// A new port for one more client (a receive right of the server's;
    /// give the client a send right to it): attempts arriving on it are
    /// throttled apart from those on any other port. The first call puts
    /// the server's port and the new one in a port set the server then
    /// serves.
    ///
    /// # Errors
    ///
    /// What allocating the port (or the set) returns; nothing is left
    /// allocated.
    pub fn add_port(&self) -> Result<PortName, hurd_ipc::KernReturn> {
        use hurd_ipc::RightType;
        let mut st = self
            .state
            .try_borrow_mut()
            .map_err(|_| hurd_ipc::KernReturn::Failure)?;
        let set = match st.set {
            Some(set) => set,
            None => {
                let set = self.ipc.port_allocate(RightType::PortSet)?;
                if let Err(e) = self.ipc.port_move_member(self.port, set) {
                    let _ = self.ipc.port_destroy(set);
                    return Err(e);
                }
                st.set = Some(set);
                set
            }
        };
        let port = self.ipc.port_allocate(RightType::Receive)?;
        if let Err(e) = self.ipc.port_move_member(port, set) {
            let _ = self.ipc.port_destroy(port);
            return Err(e);
        }
        Ok(port)
    }

    /// Failed attempts waiting for their answer.
    pub fn delayed(&self) -> usize {
        self.state
            .try_borrow()
            .map(|s| s.delayed.len())
            .unwrap_or(0)
    }

    /// Serves one received message.
    pub fn handle_message(&self, msg: Message) {
        let dispatch = match password::demux(self, &self.ipc, msg) {
            Dispatch::NotMine(m) => mig::bad_id(&self.ipc, m),
            d => d,
        };
        if let Dispatch::Reply(r) = dispatch {
            let _ = mig::send_reply(&self.ipc, r);
        }
    }

    /// Answers `EPERM` to the failed attempts whose delay has passed.
    pub fn flush(&self) {
        let now = self.clock.now_ms();
        let due: Vec<Delayed> = match self.state.try_borrow_mut() {
            Ok(mut st) => {
                let (due, keep) = core::mem::take(&mut st.delayed)
                    .into_iter()
                    .partition(|d| d.deadline <= now);
                st.delayed = keep;
                for d in due.iter() {
                    st.locked.remove(&(d.request.port, d.subject.clone()));
                }
                due
            }
            Err(_) => Vec::new(),
        };
        for d in due {
            let reply = mig::reply_message(&d.request, Err(Errno::Perm.into()));
            let _ = mig::send_reply(&self.ipc, reply);
        }
    }

    /// Serves until receiving fails, answering delayed failures on time.
    pub fn run(&self) -> MsgReturn {
        loop {
            let next = self
                .state
                .try_borrow()
                .ok()
                .and_then(|s| s.delayed.iter().map(|d| d.deadline).min());
            let opts = MsgOptions {
                rcv_timeout: next
                    .map(|d| Duration::from_millis(d.saturating_sub(self.clock.now_ms()))),
                ..MsgOptions::default()
            };
            let on = self
                .state
                .try_borrow()
                .ok()
                .and_then(|s| s.set)
                .unwrap_or(self.port);
            match self.ipc.receive_with(on, &opts) {
                Ok(msg) => self.handle_message(msg),
                Err(e) if e.code == MsgReturn::RcvTimedOut => {}
                Err(e) => return e.code,
            }
            self.flush();
        }
    }

    /// The common path of the three routines.
    fn check(
        &self,
        req: &Request,
        subject: Subject,
        hash: Option<&str>,
        password: &str,
        ids: impl FnOnce() -> IdSet,
    ) -> Result<PortItem, Error> {
        let now = self.clock.now_ms();
        let key = (req.port, subject);
        {
            let st = self
                .state
                .try_borrow()
                .map_err(|_| Error::from(Errno::Again))?;
            let mine = st.delayed.iter().filter(|d| d.request.port == req.port);
            if st.locked.get(&key).is_some_and(|&until| until > now)
                || st.delayed.len() >= self.config.max_delayed
                || mine.count() >= self.config.max_delayed_per_port
            {
                return Err(Errno::Again.into());
            }
        }
        // Always hash: an unknown user or a disabled password costs what a
        // wrong password costs.
        let matched = verify_password(password.as_bytes(), hash.unwrap_or(&self.config.dummy_hash))
            && hash.is_some();
        if matched {
            let handle = AuthClient::new(&self.ipc, self.auth).makeauth(&[], &ids())?;
            return Ok(PortItem {
                disposition: Disposition::MoveSend,
                name: handle,
            });
        }
        if !req.reply.is_valid() {
            return Err(Errno::Perm.into());
        }
        // The clock counts whole milliseconds (truncated), so one more keeps the
        // delay at least `failure_delay_ms` of real time.
        let deadline = now
            .saturating_add(self.config.failure_delay_ms)
            .saturating_add(1);
        let mut st = self
            .state
            .try_borrow_mut()
            .map_err(|_| Error::from(Errno::Again))?;
        let (_, subject) = key;
        st.locked.insert((req.port, subject.clone()), deadline);
        st.delayed.push(Delayed {
            deadline,
            request: *req,
            subject,
        });
        Err(Error::Mig(MigReturn::NoReply))
    }
}

impl<I: UserIpc, C: Clock> password::Server for PasswordServer<I, C> {
    fn check_user(&self, req: &Request, uid: u32, password: String) -> Result<PortItem, Error> {
        let user = self.db.user_by_uid(uid);
        self.check(
            req,
            Subject::Uid(uid),
            user.and_then(|u| u.hash.as_deref()),
            &password,
            || user.map(|u| self.db.login_ids(u)).unwrap_or_default(),
        )
    }

    fn check_group(&self, req: &Request, gid: u32, password: String) -> Result<PortItem, Error> {
        let group = self.db.group_by_gid(gid);
        self.check(
            req,
            Subject::Gid(gid),
            group.and_then(|g| g.hash.as_deref()),
            &password,
            || IdSet {
                egids: IdVec::from([gid]),
                agids: IdVec::from([gid, gid]),
                ..IdSet::empty()
            },
        )
    }

    fn check_user_name(
        &self,
        req: &Request,
        name: String,
        password: String,
    ) -> Result<PortItem, Error> {
        let user = self.db.user_by_name(&name);
        let subject = match user {
            Some(u) => Subject::Uid(u.uid),
            None => Subject::Name(name.chars().take(MAX_NAME).collect()),
        };
        self.check(
            req,
            subject,
            user.and_then(|u| u.hash.as_deref()),
            &password,
            || user.map(|u| self.db.login_ids(u)).unwrap_or_default(),
        )
    }
}
