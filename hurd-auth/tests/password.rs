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

/// A password server with `ports` request ports (its own and ones made with
/// `add_port`), each given to the client; `max_delayed` and
/// `max_delayed_per_port` as given.
fn setup_ports(ports: usize, max_delayed: usize, per_port: usize) -> (Setup, Vec<PortName>) {
    let rt = Runtime::new();
    let (auth_task, pw_task, client) = (rt.task(), rt.task(), rt.task());
    let server = auth_server(&auth_task, Limits::default());
    let root = give_handle(&server, IdSet::root(), &pw_task);
    let port = pw_task.port_allocate(RightType::Receive).expect("port");
    let (tx, rx) = std::sync::mpsc::channel();
    let task = pw_task.clone();
    thread::spawn(move || {
        let mut config = PasswordConfig::new(DELAY, Cost::TEST);
        config.max_delayed = max_delayed;
        config.max_delayed_per_port = per_port;
        let pw = PasswordServer::new(task, StdClock::new(), port, root, db(), config);
        let mut names = vec![port];
        for _ in 1..ports {
            names.push(pw.add_port().expect("add_port"));
        }
        tx.send(names).expect("ports");
        pw.run()
    });
    let names: Vec<PortName> = rx
        .recv()
        .expect("ports")
        .into_iter()
        .map(|p| {
            pw_task
                .give_right(p, Disposition::MakeSend, &client)
                .expect("give")
        })
        .collect();
    let s = Setup {
        rt,
        server,
        client,
        pw: names[0],
    };
    (s, names)
}

#[test]
fn an_attackers_failures_hold_back_the_attacker_not_the_account() {
    let (s, ports) = setup_ports(2, 1024, 16);
    let (attacker, victim) = (ports[0], ports[1]);
    let c = s.client.clone();
    let first = thread::spawn(move || {
        password::Client::new(&c, attacker)
            .check_user(1000, "guess1".into())
            .map(|_| ())
    });
    thread::sleep(Duration::from_millis(DELAY / 4));
    let (again, owner) = pump(&s, move |c, _| {
        (
            password::Client::new(&c, attacker)
                .check_user(1000, "guess2".into())
                .map(|_| ()),
            password::Client::new(&c, victim)
                .check_user(1000, "wonderland".into())
                .map(|_| ()),
        )
    });
    assert_eq!(
        again,
        Err(Errno::Again.into()),
        "the attacker's next guess is held back"
    );
    assert_eq!(owner, Ok(()), "the account's owner logs in meanwhile");
    assert_eq!(first.join().expect("first"), Err(Errno::Perm.into()));
}

#[test]
fn one_requester_cannot_take_every_delayed_place() {
    let (s, ports) = setup_ports(2, 3, 2);
    let (attacker, victim) = (ports[0], ports[1]);
    // The attacker fills its share of delayed failures...
    let guesses: Vec<_> = [1000, 1001]
        .into_iter()
        .map(|uid| {
            let c = s.client.clone();
            thread::spawn(move || {
                password::Client::new(&c, attacker)
                    .check_user(uid, "guess".into())
                    .map(|_| ())
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(DELAY / 4));
    // ...and is refused beyond it, while another requester's failure still
    // waits its turn and gets its honest answer.
    let (third, other) = pump(&s, move |c, _| {
        let started = Instant::now();
        let third = password::Client::new(&c, attacker)
            .check_user(0, "guess".into())
            .map(|_| ());
        let other = password::Client::new(&c, victim)
            .check_user(1000, "typo".into())
            .map(|_| ());
        (third, (other, started.elapsed()))
    });
    assert_eq!(third, Err(Errno::Again.into()));
    assert_eq!(other.0, Err(Errno::Perm.into()));
    assert!(other.1 >= Duration::from_millis(DELAY / 2));
    for g in guesses {
        assert_eq!(g.join().expect("guess"), Err(Errno::Perm.into()));
    }
}
