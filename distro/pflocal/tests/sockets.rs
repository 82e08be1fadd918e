//! The socket table's semantics, case by case: a pair carries data both
//! ways, reads wait or find end of file, writes fail `EPIPE` with nobody
//! to read, shutdown, non-blocking mode, `io_select` readiness, bounds.

use pflocal::{
    BUFFER, Errno, MAX_SOCKETS, PIPE_BUF, PROTOCOL_FIFO, S_IFIFO, S_IFSOCK, SELECT_READ,
    SELECT_WRITE, SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_STREAM, SocketId, Sockets,
};

const BOTH: i32 = SELECT_READ | SELECT_WRITE;

fn pair(t: &mut Sockets) -> (SocketId, SocketId) {
    let a = t.create(SOCK_STREAM, 0).expect("create");
    let b = t.create(SOCK_STREAM, 0).expect("create");
    t.connect2(a, b).expect("connect2");
    (a, b)
}

#[test]
fn data_goes_both_ways_in_order() {
    let mut t = Sockets::new();
    let (a, b) = pair(&mut t);
    assert_eq!(t.write(a, b"hello, "), Ok(Some(7)));
    assert_eq!(t.write(a, b"pipe"), Ok(Some(4)));
    assert_eq!(t.write(b, b"back"), Ok(Some(4)));
    assert_eq!(t.readable(b), Ok(11));
    assert_eq!(t.read(b, 5), Ok(Some(b"hello".to_vec())));
    assert_eq!(t.read(b, 100), Ok(Some(b", pipe".to_vec())));
    assert_eq!(t.read(a, 100), Ok(Some(b"back".to_vec())));
    assert_eq!(
        t.read(a, 0),
        Ok(Some(Vec::new())),
        "a read of 0 bytes answers at once"
    );
}

#[test]
fn a_read_waits_until_data_or_end_of_file() {
    let mut t = Sockets::new();
    let (a, b) = pair(&mut t);
    assert_eq!(t.read(b, 10), Ok(None), "nothing yet: the reader waits");
    assert_eq!(t.ready(b, SELECT_READ), Ok(0));
    t.write(a, b"x").expect("write");
    assert_eq!(t.ready(b, SELECT_READ), Ok(SELECT_READ));
    assert_eq!(t.read(b, 10), Ok(Some(b"x".to_vec())));
    t.write(a, b"last").expect("write");
    t.close(a);
    assert_eq!(t.hung_up(b), Ok(true));
    assert_eq!(
        t.read(b, 10),
        Ok(Some(b"last".to_vec())),
        "what was written stays"
    );
    assert_eq!(t.read(b, 10), Ok(Some(Vec::new())), "then end of file");
    assert_eq!(t.ready(b, SELECT_READ), Ok(SELECT_READ));
}

#[test]
fn writing_with_nobody_to_read_is_epipe() {
    let mut t = Sockets::new();
    let (a, b) = pair(&mut t);
    t.write(b, b"unread").expect("write");
    t.close(a);
    assert_eq!(t.write(b, b"more"), Err(Errno::Pipe));
    assert_eq!(t.write(b, b""), Ok(Some(0)), "an empty write is no write");
    assert_eq!(
        t.ready(b, SELECT_WRITE),
        Ok(SELECT_WRITE),
        "the write would not wait: it fails"
    );
    assert_eq!(t.len(), 1);
}

#[test]
fn shutdown_directions() {
    let mut t = Sockets::new();
    let (a, b) = pair(&mut t);
    // A pipe: a writes only, b reads only.
    t.shutdown(a, SHUT_RD).expect("shutdown");
    t.shutdown(b, SHUT_WR).expect("shutdown");
    assert_eq!(t.directions(a), Ok((false, true)));
    assert_eq!(t.directions(b), Ok((true, false)));
    assert_eq!(t.write(b, b"x"), Err(Errno::Pipe), "b may not write");
    assert_eq!(t.read(a, 1), Ok(Some(Vec::new())), "a reads end of file");
    assert_eq!(t.write(a, b"data"), Ok(Some(4)));
    t.shutdown(a, SHUT_WR).expect("shutdown");
    assert_eq!(t.read(b, 10), Ok(Some(b"data".to_vec())));
    assert_eq!(
        t.read(b, 10),
        Ok(Some(Vec::new())),
        "end of file after a's SHUT_WR"
    );

    // SHUT_RD drops what waits and turns the peer's writes into EPIPE.
    let (c, d) = pair(&mut t);
    t.write(c, b"dropped").expect("write");
    t.shutdown(d, SHUT_RD).expect("shutdown");
    assert_eq!(t.readable(d), Ok(0));
    assert_eq!(t.read(d, 10), Ok(Some(Vec::new())));
    assert_eq!(t.write(c, b"x"), Err(Errno::Pipe));
    t.shutdown(d, SHUT_RDWR).expect("twice is fine");

    assert_eq!(t.shutdown(c, 3), Err(Errno::Inval));
    assert_eq!(t.shutdown(c, -1), Err(Errno::Inval));
    let lone = t.create(SOCK_STREAM, 0).expect("create");
    assert_eq!(t.shutdown(lone, SHUT_RD), Err(Errno::NotConn));
}

#[test]
fn nonblocking_mode_answers_ewouldblock() {
    let mut t = Sockets::new();
    let (a, b) = pair(&mut t);
    t.set_nonblocking(a, true).expect("set");
    t.set_nonblocking(b, true).expect("set");
    assert_eq!(t.nonblocking(b), Ok(true));
    assert_eq!(t.read(b, 1), Err(Errno::Again));
    let big = vec![7u8; BUFFER + 100];
    assert_eq!(
        t.write(a, &big),
        Ok(Some(BUFFER)),
        "a partial write of what fits"
    );
    assert_eq!(t.write(a, b"x"), Err(Errno::Again));
    t.set_nonblocking(a, false).expect("clear");
    assert_eq!(t.write(a, b"x"), Ok(None), "blocking again: it waits");
}

#[test]
fn small_writes_are_atomic() {
    let mut t = Sockets::new();
    let (a, b) = pair(&mut t);
    let fill = vec![1u8; BUFFER - 10];
    assert_eq!(t.write(a, &fill), Ok(Some(BUFFER - 10)));
    assert_eq!(
        t.ready(a, SELECT_WRITE),
        Ok(0),
        "less than PIPE_BUF of room"
    );
    assert_eq!(
        t.write(a, &[2u8; 11]),
        Ok(None),
        "11 bytes do not fit in 10: wait"
    );
    assert_eq!(t.write(a, &[2u8; 10]), Ok(Some(10)));
    assert_eq!(
        t.write(a, &[3u8; PIPE_BUF + 1]),
        Ok(None),
        "full: even a big write waits"
    );
    t.read(b, PIPE_BUF as u64).expect("read");
    assert_eq!(t.ready(a, BOTH), Ok(SELECT_WRITE));
    assert_eq!(t.readable(b), Ok(BUFFER - PIPE_BUF));
}

#[test]
fn unconnected_and_unknown_sockets() {
    let mut t = Sockets::new();
    let s = t.create(SOCK_STREAM, 0).expect("create");
    assert_eq!(t.read(s, 1), Err(Errno::NotConn));
    assert_eq!(t.write(s, b"x"), Err(Errno::NotConn));
    assert_eq!(
        t.ready(s, BOTH),
        Ok(BOTH),
        "the call that follows fails at once"
    );
    assert_eq!(t.hung_up(s), Ok(false));
    assert_eq!(t.connect2(s, s), Err(Errno::Inval));
    let gone = SocketId(9999);
    assert_eq!(t.read(gone, 1), Err(Errno::BadF));
    assert_eq!(t.write(gone, b"x"), Err(Errno::BadF));
    assert_eq!(t.ready(gone, BOTH), Err(Errno::BadF));
    assert_eq!(t.connect2(s, gone), Err(Errno::BadF));
    t.close(gone);
    let (a, b) = pair(&mut t);
    assert_eq!(t.connect2(a, s), Err(Errno::IsConn));
    t.close(b);
    assert_eq!(t.connect2(a, s), Err(Errno::IsConn), "a was connected");
}

#[test]
fn create_refuses_other_types_and_protocols() {
    let mut t = Sockets::new();
    assert_eq!(t.create(2, 0), Err(Errno::SockTNoSupport));
    assert_eq!(t.create(SOCK_STREAM, 6), Err(Errno::ProtoNoSupport));
    let fifo = t.create(SOCK_STREAM, PROTOCOL_FIFO).expect("create");
    let sock = t.create(SOCK_STREAM, 0).expect("create");
    assert_eq!(t.status(fifo).map(|s| s.mode), Ok(S_IFIFO | 0o600));
    assert_eq!(t.status(sock).map(|s| s.mode), Ok(S_IFSOCK | 0o777));
    t.connect2(fifo, sock).expect("connect2");
    t.write(fifo, b"abc").expect("write");
    assert_eq!(t.status(sock).map(|s| s.size), Ok(3));
}

#[test]
fn the_table_is_bounded() {
    let mut t = Sockets::new();
    let ids: Vec<SocketId> = (0..MAX_SOCKETS)
        .map(|_| t.create(SOCK_STREAM, 0).expect("create"))
        .collect();
    assert_eq!(t.create(SOCK_STREAM, 0), Err(Errno::NoBufs));
    t.close(ids[17]);
    let again = t.create(SOCK_STREAM, 0).expect("room again");
    assert!(t.contains(again) && !ids[..17].contains(&again) && !ids[18..].contains(&again));
    assert_eq!(t.len(), MAX_SOCKETS);
}
