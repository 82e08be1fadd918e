//! The password server: database parsing, hashing, and logins through a real
//! auth server, including the failure delay and the same answer for unknown
//! users and wrong passwords.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::*;
use hurd_auth::password::{
    Cost, Database, ParseErrorKind, PasswordConfig, PasswordServer, hash_password, verify_password,
};
use hurd_auth::protocol::password;
use hurd_auth::{AuthClient, IdSet, Limits, StdClock};
use hurd_ipc::Errno;
use hurd_ipc::hosted::{Runtime, Task};
use hurd_ipc::{Disposition, Error, PortName, RightType, UserIpc};

/// Long enough that a loaded machine still answers the lock test inside it.
const DELAY: u64 = 250;

fn db() -> Database {
    let alice = hash_password(b"wonderland", b"alice-salt-1234", Cost::TEST).expect("hash");
    let staff = hash_password(b"coffee", b"staff-salt-1234", Cost::TEST).expect("hash");
    let passwd = "# users\nroot:x:0:0:root:/root:/bin/sh\nalice:x:1000:100:Alice:/home/alice:/bin/sh\nbob:x:1001:100::/home/bob:/bin/sh\n";
    let shadow = format!("root:!:19000::::::\nalice:{alice}:19000::::::\nbob:*:19000::::::\n");
    let group = format!("root:x:0:\nusers:x:100:\nstaff:{staff}:50:alice,bob\n");
    Database::parse(passwd, &shadow, &group).expect("db")
}

#[test]
fn database_parses_and_rejects_bad_lines() {
    let db = db();
    let alice = db.user_by_name("alice").expect("alice");
    assert_eq!((alice.uid, alice.gid), (1000, 100));
    assert!(alice.hash.is_some());
    assert!(
        db.user_by_uid(0).expect("root").hash.is_none(),
        "! disables"
    );
    let ids = db.login_ids(alice);
    assert_eq!(ids.euids.as_slice(), &[1000]);
    assert_eq!(ids.auids.as_slice(), &[1000, 1000]);
    assert_eq!(ids.egids.as_slice(), &[100, 50]);
    let err = |p: &str, s: &str, g: &str| {
        Database::parse(p, s, g)
            .err()
            .map(|e| (e.file, e.line, e.kind))
    };
    assert_eq!(
        err("a:x:1\n", "", ""),
        Some(("passwd", 1, ParseErrorKind::MissingField))
    );
    assert_eq!(
        err("a:x:one:1\n", "", ""),
        Some(("passwd", 1, ParseErrorKind::BadId))
    );
    assert_eq!(
        err("a:x:1:1\n\nb:x:1:1\n", "", ""),
        Some(("passwd", 3, ParseErrorKind::Duplicate))
    );
    assert_eq!(
        err("a:x:1:1\n", "zed:h\n", ""),
        Some(("shadow", 1, ParseErrorKind::UnknownUser))
    );
    assert_eq!(
        err("", "", "g:x:99999999999\n"),
        Some(("group", 1, ParseErrorKind::BadId))
    );
}

#[test]
fn hashes_verify_and_malformed_ones_never_match() {
    let h = hash_password(b"pw", b"12345678", Cost::TEST).expect("hash");
    assert!(h.starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
    assert!(verify_password(b"pw", &h));
    assert!(!verify_password(b"pW", &h));
    assert!(!verify_password(b"", &h));
    for bad in [
        "",
        "x",
        "$argon2id$",
        "$argon2id$v=19$m=8,t=1,p=1$",
        "$md5$abc$def",
        &h[..h.len() - 4],
    ] {
        assert!(!verify_password(b"pw", bad), "{bad}");
    }
    assert!(hash_password(b"pw", b"short", Cost::TEST).is_err());
}

struct Setup {
    rt: Runtime,
    server: Server,
    client: Task,
    pw: PortName,
}

fn setup() -> Setup {
    let rt = Runtime::new();
    let (auth_task, pw_task, client) = (rt.task(), rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let root = give_handle(&server, IdSet::root(), &pw_task);
    let port = pw_task.port_allocate(RightType::Receive).expect("port");
    let pw = pw_task
        .give_right(port, Disposition::MakeSend, &client)
        .expect("give");
    thread::spawn(move || {
        let config = PasswordConfig::new(DELAY, Cost::TEST);
        PasswordServer::new(pw_task.clone(), StdClock::new(), port, root, db(), config).run()
    });
    Setup {
        rt,
        server,
        client,
        pw,
    }
}

fn pump<R: Send + 'static>(s: &Setup, f: impl FnOnce(Task, PortName) -> R + Send + 'static) -> R {
    let (c, pw) = (s.client.clone(), s.pw);
    let h = thread::spawn(move || f(c, pw));
    while !h.is_finished() {
        s.server
            .run_until_idle(Duration::from_millis(2))
            .expect("serve");
    }
    h.join().expect("client")
}

#[test]
fn a_right_password_gets_a_handle_with_the_users_ids() {
    let s = setup();
    let ids = pump(&s, |c, pw| {
        let h = password::Client::new(&c, pw).check_user(1000, "wonderland".into())?;
        AuthClient::new(&c, h.name).getids()
    });
    assert_eq!(ids.expect("login").egids.as_slice(), &[100, 50]);
    let by_name = pump(&s, |c, pw| {
        let h =
            password::Client::new(&c, pw).check_user_name("alice".into(), "wonderland".into())?;
        AuthClient::new(&c, h.name).getids()
    });
    assert_eq!(by_name.expect("login").euids.as_slice(), &[1000]);
    let group = pump(&s, |c, pw| {
        let h = password::Client::new(&c, pw).check_group(50, "coffee".into())?;
        AuthClient::new(&c, h.name).getids()
    });
    assert_eq!(
        group,
        Ok(IdSet::from_vecs(vec![], vec![], vec![50], vec![50, 50]))
    );
    let _ = &s.rt;
}

#[test]
fn failures_are_delayed_and_indistinguishable() {
    let s = setup();
    let perm = Err(Error::from(Errno::Perm));
    for (uid, pw) in [
        (1000, "wrong"),
        (4242, "wonderland"),
        (1001, ""),
        (0, "root"),
    ] {
        let start = Instant::now();
        let r = pump(&s, move |c, port| {
            password::Client::new(&c, port)
                .check_user(uid, pw.into())
                .map(|_| ())
        });
        assert_eq!(r, perm, "uid {uid}");
        assert!(
            start.elapsed() >= Duration::from_millis(DELAY),
            "uid {uid} answered early"
        );
    }
    let r = pump(&s, |c, port| {
        password::Client::new(&c, port)
            .check_user_name("nobody-at-all".into(), "x".into())
            .map(|_| ())
    });
    assert_eq!(r, perm);
}

#[test]
fn a_user_is_locked_while_its_failure_is_delayed() {
    let s = setup();
    let (c, port) = (s.client.clone(), s.pw);
    let first = thread::spawn(move || {
        password::Client::new(&c, port)
            .check_user(1000, "guess1".into())
            .map(|_| ())
    });
    thread::sleep(Duration::from_millis(DELAY / 4));
    let (second, other) = pump(&s, |c, port| {
        let p = password::Client::new(&c, port);
        (
            p.check_user(1000, "wonderland".into()).map(|_| ()),
            p.check_user(1001, "guess".into()).map(|_| ()),
        )
    });
    assert_eq!(second, Err(Errno::Again.into()), "locked: not even checked");
    assert_eq!(other, Err(Errno::Perm.into()), "other users are not locked");
    assert_eq!(first.join().expect("first"), Err(Errno::Perm.into()));
    // After the delay the right password works again.
    let ok = pump(&s, |c, port| {
        password::Client::new(&c, port)
            .check_user(1000, "wonderland".into())
            .map(|_| ())
    });
    assert_eq!(ok, Ok(()));
}
