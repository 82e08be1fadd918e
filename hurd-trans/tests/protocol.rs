//! The io and fs protocol rules, through the public API on a hosted tmpfs.

mod common;

use common::{ALICE, BOB, World};
use hurd_auth::IdSet;
use hurd_ipc::Errno;
use hurd_ipc::{Disposition, Error, MigReturn, PortItem, PortName, UserIpc};
use hurd_trans::flags::OpenFlags;
use hurd_trans::mode::{S_IFDIR, S_IFMT, S_IFREG, S_IROOT};
use hurd_trans::netfs::decode_entries;
use hurd_trans::protocol::{fs, fsys, io};

fn e(err: Errno) -> Error {
    err.into()
}

const RW: OpenFlags = OpenFlags::RDWR;
const CREAT: OpenFlags = OpenFlags::CREAT;

#[test]
fn write_read_file_pointer_and_seek() {
    let w = World::new();
    let a = w.alice();
    let f = a.open("f", RW | CREAT).expect("create");
    let io = io::Client::new(&a.task, f);
    assert_eq!(io.write(b"hello ".to_vec(), -1), Ok(6));
    assert_eq!(io.write(b"world".to_vec(), -1), Ok(5));
    // Explicit offsets do not move the file pointer.
    assert_eq!(io.write(b"W".to_vec(), 6), Ok(1));
    assert_eq!(io.read(-1, 10), Ok(vec![]));
    assert_eq!(io.seek(0, 0), Ok(0));
    assert_eq!(io.read(-1, 5), Ok(b"hello".to_vec()));
    assert_eq!(io.seek(1, 1), Ok(6));
    assert_eq!(io.read(-1, 100), Ok(b"World".to_vec()));
    assert_eq!(io.seek(-2, 2), Ok(9));
    assert_eq!(io.readable(), Ok(2));
    assert_eq!(io.read(0, 3), Ok(b"hel".to_vec()));
    assert_eq!(io.seek(-100, 1), Err(e(Errno::Inval)));
    assert_eq!(io.seek(0, 7), Err(e(Errno::Inval)));
    assert_eq!(io.read(-5, 1), Err(e(Errno::Inval)));
    assert_eq!(io.write(vec![1], -7), Err(e(Errno::Inval)));
    // Writing past the end fills the hole with zeros.
    assert_eq!(io.write(b"!".to_vec(), 20), Ok(1));
    let all = io.read(0, 100).expect("read");
    assert_eq!(all.len(), 21);
    assert_eq!(&all[11..20], &[0; 9]);
    assert_eq!(io.stat().expect("stat").size, 21);
}

#[test]
fn open_modes_govern_io() {
    let w = World::new();
    let a = w.alice();
    let f = a.open("f", OpenFlags::WRITE | CREAT).expect("create");
    let wio = io::Client::new(&a.task, f);
    assert_eq!(wio.read(0, 1), Err(e(Errno::BadF)));
    assert_eq!(wio.write(b"abc".to_vec(), -1), Ok(3));
    assert_eq!(wio.readable(), Err(e(Errno::BadF)));
    let r = a.open("f", OpenFlags::READ).expect("open");
    let rio = io::Client::new(&a.task, r);
    assert_eq!(rio.write(b"x".to_vec(), 0), Err(e(Errno::BadF)));
    assert_eq!(
        fs::Client::new(&a.task, r).file_set_size(0),
        Err(e(Errno::Inval))
    );
    // The access bits cannot be changed after opening.
    assert_eq!(
        rio.set_some_openmodes(OpenFlags::WRITE.bits() as i32),
        Ok(())
    );
    assert_eq!(rio.get_openmodes(), Ok(OpenFlags::READ.bits() as i32));
    assert_eq!(rio.write(b"x".to_vec(), 0), Err(e(Errno::BadF)));
    // O_APPEND is honoured, and can be set and cleared.
    let ap = a
        .open("f", OpenFlags::WRITE | OpenFlags::APPEND)
        .expect("append");
    let aio = io::Client::new(&a.task, ap);
    assert_eq!(aio.write(b"def".to_vec(), -1), Ok(3));
    assert_eq!(rio.read(0, 10), Ok(b"abcdef".to_vec()));
    assert_eq!(
        aio.clear_some_openmodes(OpenFlags::APPEND.bits() as i32),
        Ok(())
    );
    assert_eq!(aio.get_openmodes(), Ok(OpenFlags::WRITE.bits() as i32));
    assert_eq!(
        aio.set_all_openmodes(OpenFlags::APPEND.bits() as i32),
        Ok(())
    );
    assert_eq!(
        aio.get_openmodes(),
        Ok((OpenFlags::WRITE | OpenFlags::APPEND).bits() as i32)
    );
    // O_TRUNC (done by the client) empties the file.
    let t = a
        .open("f", OpenFlags::WRITE | OpenFlags::TRUNC)
        .expect("trunc");
    assert_eq!(io::Client::new(&a.task, t).stat().expect("stat").size, 0);
}

#[test]
fn stat_has_type_root_bit_and_author() {
    let w = World::new();
    let a = w.alice();
    let root = io::Client::new(&a.task, a.root).stat().expect("stat");
    assert_eq!(root.mode & S_IFMT, S_IFDIR);
    assert_ne!(root.mode & S_IROOT, 0);
    let f = a.open("f", RW | CREAT).expect("create");
    let st = io::Client::new(&a.task, f).stat().expect("stat");
    assert_eq!(st.mode & S_IFMT, S_IFREG);
    assert_eq!(st.mode & 0o777, 0o644);
    assert_eq!((st.uid, st.author), (ALICE, ALICE));
    assert_eq!(st.mode & S_IROOT, 0);
    // Anyone may be named author by the owner; the author gains nothing.
    let fsc = fs::Client::new(&a.task, f);
    assert_eq!(fsc.file_chauthor(BOB), Ok(()));
    assert_eq!(
        io::Client::new(&a.task, f).stat().expect("stat").author,
        BOB
    );
    assert_eq!(fsc.file_chmod(0o600), Ok(()));
    let b = w.bob();
    assert_eq!(b.open("f", OpenFlags::READ), Err(e(Errno::Access)));
    let bf = b.open("f", OpenFlags::empty()).expect("open for stat");
    assert_eq!(
        fs::Client::new(&b.task, bf).file_chauthor(BOB),
        Err(e(Errno::Perm))
    );
    let v = io::Client::new(&a.task, f)
        .server_version()
        .expect("version");
    assert_eq!(v.0, "hurd-trans");
}

#[test]
fn directories_rules() {
    let w = World::new();
    let a = w.alice();
    let root = fs::Client::new(&a.task, a.root);
    assert_eq!(root.dir_mkdir("d".into(), 0o755), Ok(()));
    assert_eq!(root.dir_mkdir("d".into(), 0o755), Err(e(Errno::Exist)));
    assert_eq!(root.dir_mkdir(".".into(), 0o755), Err(e(Errno::Exist)));
    assert_eq!(root.dir_mkdir("a/b".into(), 0o755), Err(e(Errno::Inval)));
    assert_eq!(root.dir_mkdir("".into(), 0o755), Err(e(Errno::Inval)));
    a.open("d/x", RW | CREAT).expect("create");
    assert_eq!(
        a.open("d/x", RW | CREAT | OpenFlags::EXCL),
        Err(e(Errno::Exist))
    );
    assert_eq!(root.dir_rmdir("d".into()), Err(e(Errno::NotEmpty)));
    assert_eq!(root.dir_unlink("d".into()), Err(e(Errno::Perm)));
    assert_eq!(root.dir_rmdir(".".into()), Err(e(Errno::Inval)));
    assert_eq!(root.dir_rmdir("..".into()), Err(e(Errno::NotEmpty)));
    assert_eq!(a.open("d/x/y", OpenFlags::READ), Err(e(Errno::NotDir)));
    assert_eq!(a.open("d/x/", OpenFlags::READ), Err(e(Errno::NotDir)));
    assert_eq!(
        a.open("d/x", OpenFlags::READ | OpenFlags::DIRECTORY),
        Err(e(Errno::NotDir))
    );
    assert_eq!(a.open("d/nope", OpenFlags::READ), Err(e(Errno::NoEnt)));
    assert_eq!(a.open("d", OpenFlags::WRITE), Err(e(Errno::IsDir)));
    let d = a.open("d/", OpenFlags::READ).expect("dir");
    assert_eq!(io::Client::new(&a.task, d).read(0, 1), Err(e(Errno::IsDir)));
    let (data, n) = fs::Client::new(&a.task, d)
        .dir_readdir(0, -1, 0)
        .expect("readdir");
    let names: Vec<String> = decode_entries(&data)
        .expect("entries")
        .into_iter()
        .map(|e| e.name.to_string())
        .collect();
    assert_eq!(n, 3);
    assert_eq!(names, [".", "..", "x"]);
    let (data, n) = fs::Client::new(&a.task, d)
        .dir_readdir(2, 1, 0)
        .expect("readdir");
    assert_eq!(
        (
            n,
            decode_entries(&data).expect("e")[0]
                .name
                .to_string()
                .as_str()
        ),
        (1, "x")
    );
    assert_eq!(
        fs::Client::new(&a.task, d).dir_readdir(-1, 1, 0),
        Err(e(Errno::Inval))
    );
    // rename and the ".." and "." components
    let dc = fs::Client::new(&a.task, d);
    let item = PortItem {
        disposition: Disposition::CopySend,
        name: a.root,
    };
    assert_eq!(dc.dir_rename("x".into(), item, "y".into(), 0), Ok(()));
    assert!(a.open("./d/../y", OpenFlags::READ).is_ok());
    assert_eq!(root.dir_unlink("y".into()), Ok(()));
    assert_eq!(a.open("y", OpenFlags::READ), Err(e(Errno::NoEnt)));
    assert_eq!(root.dir_rmdir("d".into()), Ok(()));
    // ".." at the file system's root (with no parent) stays there.
    let up = a.open("../../", OpenFlags::READ).expect("root");
    let st = io::Client::new(&a.task, up).stat().expect("stat");
    assert_ne!(st.mode & S_IROOT, 0);
}

#[test]
fn links_and_anonymous_files() {
    let w = World::new();
    let a = w.alice();
    let root = fs::Client::new(&a.task, a.root);
    let f = root
        .dir_mkfile(OpenFlags::RDWR.bits() as i32, 0o600)
        .expect("mkfile");
    assert_eq!(
        io::Client::new(&a.task, f.name).write(b"anon".to_vec(), 0),
        Ok(4)
    );
    let item = |name| PortItem {
        disposition: Disposition::CopySend,
        name,
    };
    assert_eq!(root.dir_link(item(f.name), "named".into(), 1), Ok(()));
    assert_eq!(
        root.dir_link(item(f.name), "named".into(), 1),
        Err(e(Errno::Exist))
    );
    assert_eq!(root.dir_link(item(f.name), "again".into(), 0), Ok(()));
    let p = a.open("again", OpenFlags::READ).expect("open");
    assert_eq!(
        io::Client::new(&a.task, p).read(0, 10),
        Ok(b"anon".to_vec())
    );
    assert_eq!(io::Client::new(&a.task, p).stat().expect("stat").nlink, 2);
    // A port of another server cannot be linked.
    assert_eq!(
        root.dir_link(item(a.auth), "x".into(), 0),
        Err(e(Errno::XDev))
    );
    // A directory cannot be linked.
    assert_eq!(
        root.dir_link(item(a.root), "x".into(), 0),
        Err(e(Errno::Perm))
    );
}

#[test]
fn permissions_owner_group_other_root() {
    let w = World::new();
    let a = w.alice();
    let f = a.open("f", RW | CREAT).expect("create");
    let fa = fs::Client::new(&a.task, f);
    // Alice may give the file to a group she is in, not to bob's.
    assert_eq!(fa.file_chown(u32::MAX, 101), Err(e(Errno::Perm)));
    assert_eq!(fa.file_chown(BOB, u32::MAX), Err(e(Errno::Perm)));
    assert_eq!(fa.file_chown(u32::MAX, 100), Ok(()));
    assert_eq!(fa.file_chmod(0o640), Ok(()));
    let b = w.bob();
    let member = w.user(IdSet::user(1002, &[100]));
    let r = w.root();
    assert_eq!(b.open("f", OpenFlags::READ), Err(e(Errno::Access)));
    assert!(member.open("f", OpenFlags::READ).is_ok());
    assert_eq!(member.open("f", OpenFlags::WRITE), Err(e(Errno::Access)));
    assert!(r.open("f", RW).is_ok());
    // file_check_access tells what each may do.
    let acc = |u: &common::User| {
        let p = u.open("f", OpenFlags::empty()).expect("open");
        fs::Client::new(&u.task, p)
            .file_check_access()
            .expect("access")
    };
    let rw = OpenFlags::RDWR.bits() as i32;
    assert_eq!(acc(&a), rw);
    assert_eq!(acc(&member), OpenFlags::READ.bits() as i32);
    assert_eq!(acc(&b), 0);
    assert_eq!(acc(&r), rw | OpenFlags::EXEC.bits() as i32);
    // Non-owners change nothing.
    let bf = b.open("f", OpenFlags::empty()).expect("open");
    let fb = fs::Client::new(&b.task, bf);
    assert_eq!(fb.file_chmod(0o777), Err(e(Errno::Perm)));
    assert_eq!(fb.file_chown(BOB, 101), Err(e(Errno::Perm)));
    // Root may give it away.
    let rf = r.open("f", OpenFlags::empty()).expect("open");
    assert_eq!(fs::Client::new(&r.task, rf).file_chown(BOB, 101), Ok(()));
    assert!(b.open("f", OpenFlags::READ).is_ok());
    // Searching a directory needs x; creating needs w.
    let root = fs::Client::new(&a.task, a.root);
    assert_eq!(root.dir_mkdir("private".into(), 0o700), Ok(()));
    assert_eq!(b.open("private/x", OpenFlags::READ), Err(e(Errno::Access)));
    assert_eq!(b.open("private/x", RW | CREAT), Err(e(Errno::Access)));
    // Only root gets the control port.
    assert_eq!(
        fs::Client::new(&a.task, a.root).file_getcontrol(),
        Err(e(Errno::Perm))
    );
    assert!(fs::Client::new(&r.task, r.root).file_getcontrol().is_ok());
}

#[test]
fn unknown_user_and_restrict_auth() {
    let w = World::new();
    let a = w.alice();
    let f = a.open("f", RW | CREAT).expect("create");
    io::Client::new(&a.task, f)
        .write(b"data".to_vec(), 0)
        .expect("write");
    fs::Client::new(&a.task, f)
        .file_chmod(0o604)
        .expect("chmod");
    // A port restricted to no ids is the unknown user: "other" by default...
    let nobody = io::Client::new(&a.task, a.root)
        .restrict_auth(vec![], vec![])
        .expect("restrict");
    let look = |dir: PortName, flags: OpenFlags| {
        fs::Client::new(&a.task, dir).dir_lookup("f".into(), flags.bits() as i32, 0)
    };
    assert!(look(nobody.name, OpenFlags::READ).is_ok());
    // ...but only the unknown bits count once S_IUSEUNK is set.
    fs::Client::new(&a.task, f)
        .file_chmod(0o604 | hurd_trans::mode::S_IUSEUNK)
        .expect("chmod");
    assert_eq!(look(nobody.name, OpenFlags::READ), Err(e(Errno::Access)));
    let unk_r = hurd_trans::mode::S_IREAD << hurd_trans::mode::S_IUNKSHIFT;
    fs::Client::new(&a.task, f)
        .file_chmod(0o600 | hurd_trans::mode::S_IUSEUNK | unk_r)
        .expect("chmod");
    assert!(look(nobody.name, OpenFlags::READ).is_ok());
    assert_eq!(look(nobody.name, OpenFlags::WRITE), Err(e(Errno::Access)));
    // Bob is "other" and does not get the unknown user's bits.
    let b = w.bob();
    assert_eq!(b.open("f", OpenFlags::READ), Err(e(Errno::Access)));
    // A non-root user cannot restrict to ids she lacks: asking for uid 0
    // gives the unknown user.
    let fake_root = io::Client::new(&a.task, a.root)
        .restrict_auth(vec![0], vec![0])
        .expect("restrict");
    let p = fs::Client::new(&a.task, fake_root.name).file_getcontrol();
    assert_eq!(p, Err(e(Errno::Perm)));
    // Reauthenticating the unknown port as alice gives alice back.
    let again = a.lookup().reauthenticate(nobody.name).expect("reauth");
    let (_, _, p) = fs::Client::new(&a.task, again)
        .dir_lookup("f".into(), OpenFlags::WRITE.bits() as i32, 0)
        .expect("alice writes");
    assert!(p.name.is_valid());
}

#[test]
fn duplicate_shares_the_file_pointer() {
    let w = World::new();
    let a = w.alice();
    let f = a.open("f", RW | CREAT).expect("create");
    let io1 = io::Client::new(&a.task, f);
    io1.write(b"0123456789".to_vec(), 0).expect("write");
    let dup = io1.duplicate().expect("dup");
    let io2 = io::Client::new(&a.task, dup.name);
    assert_eq!(io1.read(-1, 4), Ok(b"0123".to_vec()));
    assert_eq!(io2.read(-1, 4), Ok(b"4567".to_vec()));
    // A second open has its own.
    let g = a.open("f", OpenFlags::READ).expect("open");
    assert_eq!(io::Client::new(&a.task, g).read(-1, 2), Ok(b"01".to_vec()));
}

#[test]
fn symlinks_relative_absolute_and_loops() {
    let w = World::new();
    let a = w.alice();
    let root = fs::Client::new(&a.task, a.root);
    root.dir_mkdir("d".into(), 0o755).expect("mkdir");
    let f = a.open("d/target", RW | CREAT).expect("create");
    io::Client::new(&a.task, f)
        .write(b"T".to_vec(), 0)
        .expect("write");
    let d = a.open("d", OpenFlags::READ).expect("d");
    hurd_trans::lookup::symlink(&a.task, d, "rel", "target").expect("rel");
    hurd_trans::lookup::symlink(&a.task, a.root, "abs", "/d/target").expect("abs");
    hurd_trans::lookup::symlink(&a.task, a.root, "dirlink", "d").expect("dirlink");
    let read = |p: &str| {
        let port = a.open(p, OpenFlags::READ)?;
        io::Client::new(&a.task, port).read(0, 10)
    };
    assert_eq!(read("d/rel"), Ok(b"T".to_vec()));
    assert_eq!(read("abs"), Ok(b"T".to_vec()));
    assert_eq!(read("dirlink/rel"), Ok(b"T".to_vec()));
    // The absolute symlink comes back as a magical retry "/d/target".
    let (kind, name, port) = root
        .dir_lookup("abs".into(), OpenFlags::READ.bits() as i32, 0)
        .expect("lookup");
    assert_eq!(
        (kind, name.as_bytes(), port.name),
        (3, &b"/d/target"[..], PortName::NULL)
    );
    // O_NOLINK gets the link itself; its record reads back as a translator.
    let l = a.open("abs", OpenFlags::NOLINK).expect("the link");
    let st = io::Client::new(&a.task, l).stat().expect("stat");
    assert_eq!(st.mode & S_IFMT, hurd_trans::mode::S_IFLNK);
    assert_eq!(
        fs::Client::new(&a.task, l).file_get_translator(),
        Ok(b"/hurd/symlink\0/d/target\0".to_vec())
    );
    assert_eq!(
        a.open("abs", OpenFlags::READ | OpenFlags::NOFOLLOW),
        Err(e(Errno::Loop))
    );
    // Loops: within one server, and across magical retries.
    hurd_trans::lookup::symlink(&a.task, a.root, "l1", "l2").expect("l1");
    hurd_trans::lookup::symlink(&a.task, a.root, "l2", "l1").expect("l2");
    assert_eq!(read("l1"), Err(e(Errno::Loop)));
    hurd_trans::lookup::symlink(&a.task, a.root, "m1", "/m2").expect("m1");
    hurd_trans::lookup::symlink(&a.task, a.root, "m2", "/m1").expect("m2");
    assert_eq!(read("m1"), Err(e(Errno::Loop)));
    // A symlink does not let O_CREAT make its target.
    hurd_trans::lookup::symlink(&a.task, a.root, "dangling", "nothere").expect("dangling");
    assert_eq!(a.open("dangling", RW | CREAT), Err(e(Errno::NoEnt)));
}

#[test]
fn magical_retries_fd_tty_and_bad_magic() {
    let w = World::new();
    let a = w.alice();
    let f = a.open("f", RW | CREAT).expect("create");
    io::Client::new(&a.task, f)
        .write(b"fd".to_vec(), 0)
        .expect("write");
    let fds = [f, PortName::NULL, a.root];
    let lk = hurd_trans::lookup::Lookup {
        fds: &fds,
        ctty: f,
        ..a.lookup()
    };
    let magic = |name: &str| hurd_trans::Retry {
        kind: hurd_trans::RetryType::Magical,
        name: name.into(),
        port: PortName::NULL,
    };
    let p = lk.retry(magic("fd/0"), OpenFlags::READ, 0).expect("fd/0");
    assert_eq!(p, f);
    let p = lk
        .retry(magic("fd/2/f"), OpenFlags::READ, 0)
        .expect("fd/2/f");
    assert_eq!(io::Client::new(&a.task, p).read(0, 5), Ok(b"fd".to_vec()));
    assert_eq!(
        lk.retry(magic("fd/1"), OpenFlags::READ, 0),
        Err(e(Errno::BadF))
    );
    assert_eq!(
        lk.retry(magic("fd/9"), OpenFlags::READ, 0),
        Err(e(Errno::BadF))
    );
    assert_eq!(
        lk.retry(magic("fd/x"), OpenFlags::READ, 0),
        Err(e(Errno::NoEnt))
    );
    assert_eq!(
        lk.retry(magic("fd/1x"), OpenFlags::READ, 0),
        Err(e(Errno::NoEnt))
    );
    assert_eq!(
        lk.retry(magic("fd/"), OpenFlags::READ, 0),
        Err(e(Errno::NoEnt))
    );
    let t = lk.retry(magic("tty"), OpenFlags::READ, 0).expect("tty");
    assert_eq!(io::Client::new(&a.task, t).read(0, 5), Ok(b"fd".to_vec()));
    let no_tty = hurd_trans::lookup::Lookup {
        ctty: PortName::NULL,
        ..a.lookup()
    };
    assert_eq!(
        no_tty.retry(magic("tty"), OpenFlags::READ, 0),
        Err(e(Errno::NxIo))
    );
    for bad in ["bogus", "", "machtype", "ttyx", "pid"] {
        assert_eq!(
            lk.retry(magic(bad), OpenFlags::READ, 0),
            Err(e(Errno::Gratuitous)),
            "{bad}"
        );
    }
    let p = lk.retry(magic("/f"), OpenFlags::READ, 0).expect("/f");
    assert_eq!(io::Client::new(&a.task, p).read(0, 5), Ok(b"fd".to_vec()));
}

#[test]
fn malformed_requests() {
    let w = World::new();
    let a = w.alice();
    let f = a.open("f", RW | CREAT).expect("create");
    // Wrong argument types: MIG_BAD_ARGUMENTS, from the generated demux.
    let msg = hurd_ipc::Message::new(io::id::read, f, Disposition::CopySend)
        .with_item(hurd_ipc::Item::Bytes(vec![1, 2, 3]));
    let reply_port = a
        .task
        .port_allocate(hurd_ipc::RightType::Receive)
        .expect("port");
    let call = |id: i32, items: Vec<hurd_ipc::Item>| {
        let mut m = hurd_ipc::Message::new(id, f, Disposition::CopySend)
            .with_reply(reply_port, Disposition::MakeSendOnce);
        m.body = items;
        let r = a
            .task
            .mach_msg(Some(m), Some(reply_port), &hurd_ipc::MsgOptions::default())
            .expect("rpc")
            .expect("reply");
        match r.body.first() {
            Some(hurd_ipc::Item::U32(c)) => *c as i32,
            _ => 0,
        }
    };
    drop(msg);
    let bad_args = Error::Mig(MigReturn::BadArguments).code();
    let bad_id = Error::Mig(MigReturn::BadId).code();
    assert_eq!(
        call(io::id::read, vec![hurd_ipc::Item::Bytes(vec![1])]),
        bad_args
    );
    assert_eq!(call(io::id::read, vec![]), bad_args);
    assert_eq!(
        call(fs::id::dir_lookup, vec![hurd_ipc::Item::U32(1)]),
        bad_args
    );
    // A stat of the wrong size is refused by the client stub.
    // Ids the Hurd skips, and ids nobody knows: MIG_BAD_ID.
    assert_eq!(call(21008, vec![]), bad_id); // io_async
    assert_eq!(call(20000, vec![]), bad_id); // file_exec
    assert_eq!(call(99999, vec![]), bad_id);
    assert_eq!(call(io::END, vec![]), bad_id);
    // A request for another kind of port: EOPNOTSUPP.
    let dotdot = PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    };
    assert_eq!(
        fsys::Client::new(&a.task, f).getroot(dotdot, vec![], vec![], 0),
        Err(e(Errno::OpNotSupp))
    );
    assert_eq!(
        fsys::Client::new(&a.task, f).goaway(0),
        Err(e(Errno::OpNotSupp))
    );
    // fsys_startup anywhere but a bootstrap port: refused, and the offered
    // right released.
    let ctl = a
        .task
        .port_allocate(hurd_ipc::RightType::Receive)
        .expect("port");
    let offered = PortItem {
        disposition: Disposition::MakeSend,
        name: ctl,
    };
    assert_eq!(
        fsys::Client::new(&a.task, f)
            .startup(0, offered)
            .map(|_| ()),
        Err(e(Errno::OpNotSupp))
    );
    assert_eq!(
        fsys::Client::new(&w.boot, w.control)
            .startup(0, dotdot)
            .map(|_| ()),
        Err(e(Errno::OpNotSupp))
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while a.task.port_get_receive_status(ctl).map(|s| s.srights) == Ok(true) {
        assert!(
            std::time::Instant::now() < deadline,
            "the offered right was kept"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        io::Client::new(&w.boot, w.control).read(0, 1),
        Err(e(Errno::OpNotSupp))
    );
    // Names too long, negative sizes, readdir on a file, io_map of a directory.
    let root = fs::Client::new(&a.task, a.root);
    let long = "x".repeat(256);
    assert_eq!(
        root.dir_lookup(long.as_str().into(), 0, 0).map(|_| ()),
        Err(e(Errno::NameTooLong))
    );
    assert_eq!(
        root.dir_mkdir(long.into(), 0o755),
        Err(e(Errno::NameTooLong))
    );
    let huge = "a/".repeat(3000);
    assert_eq!(
        root.dir_lookup(huge.into(), 0, 0).map(|_| ()),
        Err(e(Errno::NameTooLong))
    );
    assert_eq!(
        fs::Client::new(&a.task, f).file_set_size(-1),
        Err(e(Errno::Inval))
    );
    assert_eq!(
        fs::Client::new(&a.task, f)
            .dir_readdir(0, -1, 0)
            .map(|_| ()),
        Err(e(Errno::NotDir))
    );
    assert_eq!(
        io::Client::new(&a.task, a.root).map().map(|_| ()),
        Err(e(Errno::OpNotSupp))
    );
    assert_eq!(
        io::Client::new(&a.task, f).pathconf(99),
        Err(e(Errno::Inval))
    );
    // A bogus passive record: words that are not UTF-8.
    assert_eq!(
        fs::Client::new(&a.task, f).file_set_translator(
            hurd_trans::flags::FS_TRANS_SET as i32,
            0,
            0,
            vec![0xff, 0],
            dotdot
        ),
        Err(e(Errno::Inval))
    );
    // After all that, the server still serves.
    assert_eq!(io::Client::new(&a.task, f).write(b"ok".to_vec(), 0), Ok(2));
}

#[test]
fn closed_ports_are_freed() {
    let w = World::new();
    let a = w.alice();
    let f = a.open("f", RW | CREAT).expect("create");
    let _ = a.task.port_deallocate(f);
    for _ in 0..50 {
        let p = a.open("f", OpenFlags::READ).expect("open");
        let d = io::Client::new(&a.task, p).duplicate().expect("dup");
        let _ = a.task.port_deallocate(p);
        let _ = a.task.port_deallocate(d.name);
    }
    // The root ports of the users and the fs's own remain; give the server
    // time to see the no-senders notifications.
    let root = w.root();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let n = w.rt.with_kernel(|k| {
            k.port_names(w.fs_task.space())
                .map(|v| v.len())
                .unwrap_or(0)
        });
        if n < 40 || std::time::Instant::now() > deadline {
            assert!(n < 40, "the server still holds {n} names");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(root);
}

#[test]
fn unprivileged_writes_clear_set_id_bits() {
    let w = World::new();
    let a = w.alice();
    let r = w.root();
    let f = a.open("f", RW | CREAT).expect("create");
    let fa = fs::Client::new(&a.task, f);
    let mode = |p| io::Client::new(&a.task, p).stat().expect("stat").mode & 0o7777;
    // Root's writes keep them.
    assert_eq!(fa.file_chmod(0o6777), Ok(()));
    let rf = r.open("f", RW).expect("open");
    assert_eq!(io::Client::new(&r.task, rf).write(b"x".to_vec(), 0), Ok(1));
    assert_eq!(mode(f), 0o6777);
    // An empty write changes nothing; another writes clears both (the
    // group may execute).
    assert_eq!(io::Client::new(&a.task, f).write(vec![], 0), Ok(0));
    assert_eq!(mode(f), 0o6777);
    assert_eq!(io::Client::new(&a.task, f).write(b"y".to_vec(), 0), Ok(1));
    assert_eq!(mode(f), 0o777);
    // Set-group-id without group execute is mandatory locking: it stays.
    assert_eq!(fa.file_chmod(0o6767), Ok(()));
    assert_eq!(io::Client::new(&a.task, f).write(b"z".to_vec(), 0), Ok(1));
    assert_eq!(mode(f), 0o2767);
}

#[test]
fn times_set_to_now_need_only_write_access() {
    const NOW: i64 = -2;
    const OMIT: i64 = -1;
    let w = World::new();
    let a = w.alice();
    let f = a.open("f", RW | CREAT).expect("create");
    let fa = fs::Client::new(&a.task, f);
    assert_eq!(fa.file_utimens(1, 0, 2, 0), Ok(()));
    let st = io::Client::new(&a.task, f).stat().expect("stat");
    assert_eq!((st.atime.sec, st.mtime.sec), (1, 2));
    let b = w.bob();
    // Bob may not set them while he may not write, nor give times at all.
    assert_eq!(fa.file_chmod(0o644), Ok(()));
    let bf = b.open("f", OpenFlags::empty()).expect("open");
    let fb = fs::Client::new(&b.task, bf);
    assert_eq!(fb.file_utimens(0, NOW, 0, NOW), Err(e(Errno::Access)));
    assert_eq!(fa.file_chmod(0o666), Ok(()));
    assert_eq!(fb.file_utimens(5, 0, 5, 0), Err(e(Errno::Perm)));
    assert_eq!(fb.file_utimens(0, NOW, 0, OMIT), Ok(()));
    let st = io::Client::new(&a.task, f).stat().expect("stat");
    assert!(
        st.atime.sec > 1_000_000_000,
        "now by the clock: {:?}",
        st.atime
    );
    assert_eq!(st.mtime.sec, 2);
}

/// A directory of `n` files whose listings are counted.
struct Counted {
    n: u64,
    listings: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl hurd_trans::netfs::Tree for Counted {
    fn root(&self) -> hurd_trans::netfs::NodeId {
        1
    }
    fn stat(&self, node: u64) -> Result<hurd_trans::stat::Stat, Errno> {
        let mode = match node {
            1 => S_IFDIR | 0o755,
            n if n <= self.n + 1 => S_IFREG | 0o644,
            _ => return Err(Errno::NoEnt),
        };
        Ok(hurd_trans::stat::Stat {
            ino: node,
            mode,
            nlink: 1,
            ..Default::default()
        })
    }
    fn lookup(&mut self, _dir: u64, _name: &[u8]) -> Result<u64, Errno> {
        Err(Errno::NoEnt)
    }
    fn read(&mut self, _node: u64, _offset: u64, _len: usize) -> Result<Vec<u8>, Errno> {
        Err(Errno::IsDir)
    }
    fn readdir(&mut self, _dir: u64) -> Result<Vec<hurd_trans::netfs::DirEntry>, Errno> {
        self.listings
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok((0..self.n)
            .map(|i| hurd_trans::netfs::DirEntry {
                ino: i + 2,
                kind: S_IFREG,
                name: format!("file-{i:05}").as_str().into(),
            })
            .collect())
    }
}

/// Reading a directory 4 KiB at a time lists it once, not once a chunk
/// (linear time, not quadratic); rewinding lists it again, and another
/// reader's chunks do not disturb the first's.
#[test]
fn a_directory_read_in_chunks_is_listed_once() {
    let listings = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let w = World::with_tree(Counted {
        n: 10_000,
        listings: listings.clone(),
    });
    let a = w.alice();
    let read_all = |dir: PortName| {
        let mut names = Vec::new();
        loop {
            let (data, n) = fs::Client::new(&a.task, dir)
                .dir_readdir(names.len() as i32, -1, 4096)
                .expect("readdir");
            if n == 0 {
                break names;
            }
            names.extend(
                decode_entries(&data)
                    .expect("entries")
                    .into_iter()
                    .map(|e| e.name),
            );
        }
    };
    let d1 = a.open("/", OpenFlags::READ).expect("open");
    let d2 = a.open("/", OpenFlags::READ).expect("open");
    let first = read_all(d1);
    assert_eq!(first.len(), 10_000);
    assert_eq!(first[9_999], "file-09999");
    let chunks_of_one_pass = listings.load(std::sync::atomic::Ordering::Relaxed);
    // Interleaved readers each get their own listing.
    let (data, n) = fs::Client::new(&a.task, d1)
        .dir_readdir(0, -1, 4096)
        .expect("rewind");
    let (data2, n2) = fs::Client::new(&a.task, d2)
        .dir_readdir(0, -1, 4096)
        .expect("other");
    assert_eq!((n, data.len()), (n2, data2.len()));
    let (_, more) = fs::Client::new(&a.task, d1)
        .dir_readdir(n, -1, 4096)
        .expect("on");
    assert!(more > 0);
    assert_eq!(
        listings.load(std::sync::atomic::Ordering::Relaxed),
        chunks_of_one_pass + 2,
        "a rewind and the other reader list again; going on does not"
    );
    assert_eq!(chunks_of_one_pass, 1, "listings for one pass");
}

/// A directory server that answers `dir_lookup` with the magical retry
/// `fd/0/x` (go on at the client's descriptor 0: this server again) up to
/// `loops` times, then with a port to itself. Returns the server's thread,
/// which counts the lookups and ends at the first message that is none.
fn fd_looping_server(
    rt: &hurd_ipc::hosted::Runtime,
    client: &hurd_ipc::hosted::Task,
    loops: u32,
) -> (PortName, std::thread::JoinHandle<u32>) {
    let server = rt.task();
    let port = server
        .port_allocate(hurd_ipc::RightType::Receive)
        .expect("port");
    let send = server
        .give_right(port, Disposition::MakeSend, client)
        .expect("send");
    let thread = std::thread::spawn(move || {
        let mut lookups = 0;
        while let Ok(msg) = server.receive(port) {
            let Ok((fs::Call::dir_lookup { .. }, req)) = fs::Call::decode(msg) else {
                break;
            };
            lookups += 1;
            let answer = if lookups <= loops {
                let null = PortItem {
                    disposition: Disposition::CopySend,
                    name: PortName::NULL,
                };
                (hurd_trans::RetryType::Magical.into(), "fd/0/x".into(), null)
            } else {
                let me = PortItem {
                    disposition: Disposition::MakeSend,
                    name: port,
                };
                (hurd_trans::RetryType::Normal.into(), "".into(), me)
            };
            let _ = server.send(fs::Reply::dir_lookup(Ok(answer)).encode(&req));
        }
        lookups
    });
    (send, thread)
}

/// A view of the name space with descriptors and nothing else.
fn descriptors_only<'a>(
    client: &'a hurd_ipc::hosted::Task,
    fds: &'a [PortName],
) -> hurd_trans::lookup::Lookup<'a, hurd_ipc::hosted::Task> {
    hurd_trans::lookup::Lookup {
        ipc: client,
        crdir: PortName::NULL,
        cwdir: PortName::NULL,
        auth: PortName::NULL,
        fds,
        ctty: PortName::NULL,
    }
}

#[test]
fn magical_retries_count_towards_eloop() {
    let rt = hurd_ipc::hosted::Runtime::new();
    let client = rt.task();
    let magic = hurd_trans::Retry {
        kind: hurd_trans::RetryType::Magical,
        name: "fd/0/x".into(),
        port: PortName::NULL,
    };
    let stop = |port| {
        client
            .send(hurd_ipc::Message::new(1, port, Disposition::CopySend))
            .expect("stop");
    };
    // A few rounds through descriptor 0 end at the file.
    let (fd, server) = fd_looping_server(&rt, &client, 3);
    let fds = [fd];
    let p = descriptors_only(&client, &fds).retry(magic.clone(), OpenFlags::READ, 0);
    assert_eq!(p, Ok(fd));
    stop(fd);
    assert_eq!(server.join().expect("server"), 4);
    // Endless rounds (here 1,000 before the file) are a loop: ELOOP after
    // ELOOP_THRESHOLD lookups, not a lookup that goes on for as long as
    // the server likes.
    let (fd, server) = fd_looping_server(&rt, &client, 1000);
    let fds = [fd];
    let p = descriptors_only(&client, &fds).retry(magic, OpenFlags::READ, 0);
    assert_eq!(p, Err(e(Errno::Loop)));
    stop(fd);
    assert_eq!(
        server.join().expect("server"),
        hurd_trans::lookup::ELOOP_THRESHOLD
    );
}
