//! The reader and writer together: round trips, every header format, the
//! extended headers, sparse files, and refusals.

use alloc::vec;
use alloc::vec::Vec;

use super::header::{Fields, encode};
use super::*;
use crate::stat::TimeSpec;
use hurd_ipc::Errno;

fn read_all(archive: &[u8]) -> Result<Vec<Entry>, TarError> {
    Reader::new(archive).collect()
}

fn contents(archive: &[u8], e: &Entry) -> Vec<u8> {
    let mut src = archive;
    let mut out = vec![0u8; usize::try_from(e.data.size).expect("small")];
    let n = e.data.read(&mut src, 0, &mut out).expect("read");
    assert_eq!(n, out.len());
    out
}

/// A raw header block: `edit` changes fields before the checksum is set.
fn block(name: &[u8], typeflag: u8, size: u64, edit: impl FnOnce(&mut [u8; BLOCK])) -> Vec<u8> {
    let mut h = encode(&Fields {
        name,
        prefix: b"",
        typeflag,
        link: b"",
        mode: 0o644,
        uid: 0,
        gid: 0,
        size,
        mtime: 0,
        uname: b"",
        gname: b"",
        devmajor: 0,
        devminor: 0,
    });
    edit(&mut h);
    fix_checksum(&mut h);
    h.to_vec()
}

fn fix_checksum(h: &mut [u8; BLOCK]) {
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(alloc::format!("{sum:06o}\0").as_bytes());
}

fn with_data(mut v: Vec<u8>, data: &[u8]) -> Vec<u8> {
    v.extend_from_slice(data);
    v.resize(v.len() + padding(data.len() as u64), 0);
    v
}

fn pax_header(records: &[(&[u8], &[u8])], typeflag: u8) -> Vec<u8> {
    let mut data = Vec::new();
    for (k, v) in records {
        super::pax::push_record(&mut data, k, v);
    }
    with_data(
        block(b"PaxHeader", typeflag, data.len() as u64, |_| {}),
        &data,
    )
}

fn end(mut v: Vec<u8>) -> Vec<u8> {
    v.resize(v.len() + 2 * BLOCK, 0);
    v
}

#[test]
fn round_trip_every_kind() {
    let mut w = Writer::new();
    let mut file = Header::file("dir/file", 0o4755);
    file.uid = 1000;
    file.gid = 100;
    file.uname = b"alice".to_vec();
    file.gname = b"users".to_vec();
    file.mtime = TimeSpec {
        sec: 1_700_000_000,
        nsec: 0,
    };
    let mut dev = Header::new("dev/tty0", EntryKind::CharDevice, 0o620);
    dev.devmajor = 4;
    dev.devminor = 1;
    let headers = vec![
        Header::dir("dir", 0o750),
        file,
        Header::symlink("dir/sym", "../elsewhere"),
        Header::hard_link("dir/hard", "dir/file"),
        dev,
        Header::new("dev/sda", EntryKind::BlockDevice, 0o660),
        Header::new("fifo", EntryKind::Fifo, 0o600),
    ];
    for h in &headers {
        let data: &[u8] = if h.kind == EntryKind::File {
            b"contents"
        } else {
            b""
        };
        w.append(h, data).expect("append");
    }
    let archive = w.finish();
    let read = read_all(&archive).expect("read");
    assert_eq!(read.len(), headers.len());
    for (e, h) in read.iter().zip(&headers) {
        let mut want = h.clone();
        if h.kind == EntryKind::Dir {
            want.path.push(b'/');
        }
        if h.kind == EntryKind::File {
            want.size = 8;
        }
        assert_eq!(e.header, want);
        assert_eq!(e.format, Format::Ustar);
    }
    assert_eq!(contents(&archive, &read[1]), b"contents");
    assert_eq!(read[1].offset, 512);
}

/// An archive of one entry whose data is `size` zeros, never in memory.
struct Virtual {
    head: Vec<u8>,
    size: u64,
}

impl Source for Virtual {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let head = self.head.len() as u64;
        // Header, data, padding, two end blocks.
        let total = head + self.size + padding(self.size) as u64 + 1024;
        let n = (total.saturating_sub(offset)).min(buf.len() as u64) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let at = offset + i as u64;
            *b = if at < head { self.head[at as usize] } else { 0 };
        }
        Ok(n)
    }
}

#[test]
fn sizes_and_owners_beyond_ustar_round_trip() {
    for size in [
        (8u64 << 30) - 1,
        8 << 30,
        (8 << 30) + 1,
        1 << 40,
        i64::MAX as u64 - 4096,
    ] {
        let mut h = Header::file("big", 0o644);
        h.size = size;
        h.uid = 2_097_152;
        h.gid = u32::MAX;
        h.mtime = TimeSpec {
            sec: -86_400 * 365 * 100,
            nsec: 123_456_789,
        };
        let head = Writer::encode_header(&h).expect("encode");
        let mut r = Reader::new(Virtual { head, size });
        let e = r.next_entry().expect("entry").expect("some");
        assert_eq!(e.header, h, "size {size}");
        assert_eq!(e.data.size, size);
        assert!(r.next_entry().expect("end").is_none());
        // A reader that ignored the pax records would still find the next
        // header: the ustar fields hold base-256 numbers.
        let own = Writer::encode_header(&h).expect("encode");
        let ustar = &own[own.len() - BLOCK..];
        let b = super::header::Block::parse(ustar.try_into().expect("block")).expect("parse");
        assert_eq!((b.size, b.uid, b.gid), (size, h.uid, h.gid));
    }
}

#[test]
fn names_beyond_ustar_round_trip() {
    let long = [b"d".repeat(120), b"f".repeat(90)].join(&b'/');
    let very_long = b"x/".repeat(500);
    let odd = b"caf\xe9/\xff\xfename".to_vec();
    let utf8 = "répertoire/fichier".as_bytes().to_vec();
    let mut w = Writer::new();
    for name in [&long, &very_long, &odd, &utf8] {
        let mut h = Header::file(name, 0o644);
        h.uname = b"a-user-name-longer-than-thirty-two-bytes".to_vec();
        w.append(&h, b"x").expect("append");
    }
    w.append(&Header::symlink("l", b"t/".repeat(100)), b"")
        .expect("long link");
    w.append(&Header::symlink("l2", b"\xff"), b"")
        .expect("odd link");
    let a = w.finish();
    let e = read_all(&a).expect("read");
    assert_eq!(e[0].header.path, long);
    assert_eq!(e[1].header.path, very_long);
    assert_eq!(e[2].header.path, odd);
    assert_eq!(e[3].header.path, utf8);
    assert_eq!(
        e[3].header.uname,
        b"a-user-name-longer-than-thirty-two-bytes"
    );
    assert_eq!(e[4].header.link, b"t/".repeat(100));
    assert_eq!(e[5].header.link, b"\xff");
}

#[test]
fn xattrs_and_extra_records_round_trip() {
    let mut h = Header::file("f", 0o644);
    h.xattrs = vec![
        (b"user.bin".to_vec(), vec![0, 1, 2, 0, 255, b'\n']),
        (b"security.selinux".to_vec(), b"label\0".to_vec()),
    ];
    h.extra = vec![(TRANSLATOR_KEYWORD.into(), b"/hurd/hello\0a word\0".to_vec())];
    let mut w = Writer::new();
    w.append(&h, b"").expect("append");
    let e = read_all(&w.finish()).expect("read");
    assert_eq!(e[0].header.xattrs, h.xattrs);
    assert_eq!(
        e[0].header.extra(TRANSLATOR_KEYWORD),
        Some(&b"/hurd/hello\0a word\0"[..])
    );
    let mut bad = Header::file("f", 0o644);
    bad.xattrs = vec![(b"a=b".to_vec(), vec![])];
    assert_eq!(Writer::new().append(&bad, b""), Err(WriteError::BadKeyword));
    assert_eq!(
        Writer::new().append(&Header::file("a\0b", 0o644), b""),
        Err(WriteError::Nul)
    );
    assert_eq!(
        Writer::new().append(&Header::file("", 0o644), b""),
        Err(WriteError::EmptyName)
    );
    assert_eq!(
        Writer::new().append(&Header::symlink("s", ""), b""),
        Err(WriteError::EmptyLink)
    );
}

#[test]
fn pax_records_override_the_header() {
    let archive = end([
        pax_header(
            &[
                (b"path", b"real/name"),
                (b"size", b"3"),
                (b"uid", b"3000000"),
                (b"gid", b"4000000"),
                (b"mtime", b"-10.5"),
                (b"uname", b"someone"),
                (b"gname", b"group"),
                (b"linkpath", b"ignored-for-a-file"),
            ],
            b'x',
        ),
        // The header's own size (9) would swallow the next header.
        with_data(block(b"short", b'0', 9, |_| {}), b"abc"),
        with_data(block(b"next", b'0', 1, |_| {}), b"n"),
    ]
    .concat());
    let e = read_all(&archive).expect("read");
    assert_eq!(e.len(), 2);
    let h = &e[0].header;
    assert_eq!(h.path, b"real/name");
    assert_eq!((h.size, h.uid, h.gid), (3, 3_000_000, 4_000_000));
    assert_eq!(
        h.mtime,
        TimeSpec {
            sec: -11,
            nsec: 500_000_000
        }
    );
    assert_eq!(
        (&h.uname[..], &h.gname[..]),
        (&b"someone"[..], &b"group"[..])
    );
    assert_eq!(contents(&archive, &e[0]), b"abc");
    assert_eq!(e[1].header.path, b"next");
}

#[test]
fn global_headers_and_empty_values() {
    let archive = end([
        pax_header(&[(b"uid", b"77"), (b"comment", b"hi")], b'g'),
        block(b"a", b'0', 0, |_| {}),
        // An empty value: the header's own uid (0) again.
        pax_header(&[(b"uid", b"")], b'x'),
        block(b"b", b'0', 0, |_| {}),
        block(b"c", b'0', 0, |_| {}),
    ]
    .concat());
    let uids: Vec<u32> = read_all(&archive)
        .expect("read")
        .iter()
        .map(|e| e.header.uid)
        .collect();
    assert_eq!(uids, [77, 0, 77]);
}

#[test]
fn a_nul_in_a_pax_name_is_refused_but_not_in_an_xattr() {
    let archive = end([
        pax_header(&[(b"path", b"evil\0name")], b'x'),
        block(b"f", b'0', 0, |_| {}),
    ]
    .concat());
    let err = read_all(&archive).expect_err("refused");
    assert_eq!(err.reason, Reason::PaxNul("path"));
    assert_eq!(err.offset, 0);
    let archive = end([
        pax_header(&[(b"SCHILY.xattr.user.x", b"a\0b")], b'x'),
        block(b"f", b'0', 0, |_| {}),
    ]
    .concat());
    assert_eq!(
        read_all(&archive).expect("read")[0].header.xattrs,
        [(b"user.x".to_vec(), b"a\0b".to_vec())]
    );
}

#[test]
fn gnu_long_names_and_links() {
    let long = b"n/".repeat(150);
    let link = b"l/".repeat(120);
    let mut name_data = long.clone();
    name_data.push(0);
    let mut link_data = link.clone();
    link_data.push(0);
    let gnu = |h: &mut [u8; BLOCK]| h[257..265].copy_from_slice(b"ustar  \0");
    let archive = end([
        with_data(
            block(b"././@LongLink", b'L', name_data.len() as u64, gnu),
            &name_data,
        ),
        with_data(
            block(b"././@LongLink", b'K', link_data.len() as u64, gnu),
            &link_data,
        ),
        block(b"n/n/n/trunc", b'2', 0, gnu),
    ]
    .concat());
    let e = read_all(&archive).expect("read");
    assert_eq!(e[0].header.path, long);
    assert_eq!(e[0].header.link, link);
    assert_eq!(e[0].header.kind, EntryKind::Symlink);
    assert_eq!(e[0].format, Format::Gnu);
    assert_eq!(e[0].offset, 0);
}

#[test]
fn gnu_headers_hold_times_not_a_prefix() {
    // An incremental dump's GNU header: atime and ctime where ustar has
    // its prefix. And a 'D' directory with its dump list as data.
    let archive = end([
        block(b"file", b'0', 0, |h| {
            h[257..265].copy_from_slice(b"ustar  \0");
            h[345..357].copy_from_slice(b"14540000000\0");
            h[357..369].copy_from_slice(b"14540000001\0");
        }),
        with_data(
            block(b"dir/", b'D', 10, |h| {
                h[257..265].copy_from_slice(b"ustar  \0");
            }),
            b"Yfile\0\0\0\0\0",
        ),
    ]
    .concat());
    let e = read_all(&archive).expect("read");
    assert_eq!(e[0].header.path, b"file");
    assert_eq!(e[0].header.atime.map(|t| t.sec), Some(0o14540000000));
    assert_eq!(e[1].header.kind, EntryKind::Dir);
    assert_eq!(e[1].header.path, b"dir/");
    // And a real ustar prefix.
    let archive = end(block(b"name", b'0', 0, |h| {
        h[345..351].copy_from_slice(b"prefix");
    }));
    assert_eq!(
        read_all(&archive).expect("read")[0].header.path,
        b"prefix/name"
    );
}

#[test]
fn v7_and_numbers_as_other_tools_write_them() {
    let archive = end([
        // v7: no magic; a trailing slash makes a directory.
        block(b"olddir/", 0, 0, |h| h[257..265].fill(0)),
        // libarchive: "000644 \0"; old tars: leading spaces.
        block(b"spaces", b'0', 0, |h| {
            h[100..108].copy_from_slice(b"000644 \0");
            h[108..116].copy_from_slice(b"   1750 ");
        }),
        // Base-256: a negative mtime (before 1970), a uid.
        block(b"b256", b'0', 0, |h| {
            h[136..148].fill(0xff);
            h[147] = 0x9c; // -100
            h[108..116].copy_from_slice(&[0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]);
        }),
    ]
    .concat());
    let e = read_all(&archive).expect("read");
    assert_eq!(
        (e[0].header.kind, e[0].format),
        (EntryKind::Dir, Format::V7)
    );
    assert_eq!(e[1].header.mode, 0o644);
    assert_eq!(e[1].header.uid, 0o1750);
    assert_eq!(e[2].header.mtime.sec, -100);
    assert_eq!(e[2].header.uid, 0x7fff_ffff);
}

#[test]
fn signed_checksums_are_accepted() {
    let mut h: [u8; BLOCK] = block(b"\xe9t\xe9", b'0', 0, |_| {})
        .try_into()
        .expect("block");
    h[148..156].fill(b' ');
    let sum: i64 = h.iter().map(|&b| i64::from(b as i8)).sum();
    h[148..155].copy_from_slice(alloc::format!("{sum:06o}\0").as_bytes());
    assert_eq!(
        read_all(&end(h.to_vec())).expect("read")[0].header.path,
        b"\xe9t\xe9"
    );
}

fn gnu_sparse_archive() -> Vec<u8> {
    // A 1 MiB file: 5 pieces of 512 bytes, 4 in the header, 1 in an
    // extension block.
    let pieces: Vec<(u64, u64)> = (0..5).map(|i| (i * 200_000, 512)).collect();
    let mut h: [u8; BLOCK] = block(b"sparse", b'S', 5 * 512, |h| {
        h[257..265].copy_from_slice(b"ustar  \0");
    })
    .try_into()
    .expect("block");
    for (i, (o, n)) in pieces.iter().take(4).enumerate() {
        let at = 386 + 24 * i;
        super::number::write(&mut h[at..at + 12], *o as i64);
        super::number::write(&mut h[at + 12..at + 24], *n as i64);
    }
    h[482] = 1;
    super::number::write(&mut h[483..495], 1 << 20);
    fix_checksum(&mut h);
    let mut ext = [0u8; BLOCK];
    super::number::write(&mut ext[0..12], pieces[4].0 as i64);
    super::number::write(&mut ext[12..24], pieces[4].1 as i64);
    let mut data = Vec::new();
    for i in 0..5u8 {
        data.extend_from_slice(&[i + 1; 512]);
    }
    end([h.to_vec(), ext.to_vec(), data].concat())
}

fn check_sparse(archive: &[u8], name: &[u8]) {
    let e = read_all(archive).expect("read");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].header.path, name);
    assert_eq!(e[0].header.size, 1 << 20);
    let all = contents(archive, &e[0]);
    for i in 0..5u64 {
        let at = (i * 200_000) as usize;
        assert!(
            all[at..at + 512].iter().all(|&b| b == i as u8 + 1),
            "piece {i}"
        );
        assert!(all[at + 512..at + 600].iter().all(|&b| b == 0), "hole {i}");
    }
    // A read across a hole and a piece.
    let mut src = archive;
    let mut buf = [9u8; 100];
    let n = e[0].data.read(&mut src, 199_950, &mut buf).expect("read");
    assert_eq!(n, 100);
    assert!(buf[..50].iter().all(|&b| b == 0) && buf[50..].iter().all(|&b| b == 2));
    assert_eq!(e[0].data.read(&mut src, 1 << 20, &mut buf), Ok(0));
}

#[test]
fn old_gnu_sparse_files() {
    check_sparse(&gnu_sparse_archive(), b"sparse");
}

fn sparse_data() -> Vec<u8> {
    let mut data = Vec::new();
    for i in 0..5u8 {
        data.extend_from_slice(&[i + 1; 512]);
    }
    data
}

#[test]
fn pax_sparse_0_0_and_0_1() {
    let mut recs: Vec<(&[u8], Vec<u8>)> = vec![
        (b"GNU.sparse.size", b"1048576".to_vec()),
        (b"GNU.sparse.numblocks", b"5".to_vec()),
    ];
    for i in 0..5u64 {
        recs.push((
            b"GNU.sparse.offset",
            alloc::format!("{}", i * 200_000).into_bytes(),
        ));
        recs.push((b"GNU.sparse.numbytes", b"512".to_vec()));
    }
    let r: Vec<(&[u8], &[u8])> = recs.iter().map(|(k, v)| (*k, v.as_slice())).collect();
    let v00 = end([
        pax_header(&r, b'x'),
        with_data(block(b"sp00", b'0', 2560, |_| {}), &sparse_data()),
    ]
    .concat());
    check_sparse(&v00, b"sp00");

    let map: Vec<String> = (0..5u64)
        .map(|i| alloc::format!("{},512", i * 200_000))
        .collect();
    let map = map.join(",");
    let v01 = end([
        pax_header(
            &[
                (b"GNU.sparse.size", b"1048576"),
                (b"GNU.sparse.numblocks", b"5"),
                (b"GNU.sparse.name", b"dir/sp01"),
                (b"GNU.sparse.map", map.as_bytes()),
            ],
            b'x',
        ),
        with_data(
            block(b"dir/GNUSparseFile.1/sp01", b'0', 2560, |_| {}),
            &sparse_data(),
        ),
    ]
    .concat());
    check_sparse(&v01, b"dir/sp01");
}

fn archive_1_0(map: &[u8]) -> Vec<u8> {
    let mut data = map.to_vec();
    data.resize(data.len() + padding(data.len() as u64), 0);
    data.extend_from_slice(&sparse_data());
    end([
        pax_header(
            &[
                (b"GNU.sparse.major", b"1"),
                (b"GNU.sparse.minor", b"0"),
                (b"GNU.sparse.name", b"sp10"),
                (b"GNU.sparse.realsize", b"1048576"),
            ],
            b'x',
        ),
        with_data(
            block(b"./GNUSparseFile.7/sp10", b'0', data.len() as u64, |_| {}),
            &data,
        ),
    ]
    .concat())
}

#[test]
fn pax_sparse_1_0() {
    let mut map = b"5\n".to_vec();
    for i in 0..5u64 {
        map.extend_from_slice(alloc::format!("{}\n512\n", i * 200_000).as_bytes());
    }
    check_sparse(&archive_1_0(&map), b"sp10");
    // A map that does not add up, or overlaps, is refused.
    for bad in [
        &b"1\n0\n512\n"[..],
        b"2\n0\n1280\n100\n1280\n",
        b"x\n",
        b"5\n0\n512\n",
    ] {
        let err = read_all(&archive_1_0(bad)).expect_err("bad map");
        assert_eq!(err.entry, b"sp10", "{:?}", err);
    }
}

#[test]
fn refusals_name_the_entry_offset_and_reason() {
    let good = with_data(block(b"first", b'0', 3, |_| {}), b"abc");
    let mut bad = block(b"second", b'0', 0, |_| {});
    bad[0] ^= 1;
    let err = read_all(&end([good.clone(), bad].concat())).expect_err("bad checksum");
    assert_eq!((err.offset, err.reason.clone()), (1024, Reason::Checksum));
    let msg = alloc::format!("{err}");
    assert!(
        msg.contains("offset 1024") && msg.contains("checksum"),
        "{msg}"
    );

    let not_octal = block(b"third", b'0', 0, |h| h[124..127].copy_from_slice(b"9zz"));
    let err = read_all(&end([good.clone(), not_octal].concat())).expect_err("size");
    assert_eq!(err.entry, b"");
    assert_eq!(err.reason, Reason::Number("size"));

    let truncated = [
        good.clone(),
        block(b"cut", b'0', 2000, |_| {}),
        vec![1; 100],
    ]
    .concat();
    let err = read_all(&truncated).expect_err("truncated");
    assert_eq!((err.offset, &err.entry[..]), (1024, &b"cut"[..]));
    assert_eq!(err.reason, Reason::Truncated);

    let odd = [
        pax_header(&[(b"path", b"\xff\xfe")], b'x'),
        block(b"x", b'0', 1 << 30, |_| {}),
    ]
    .concat();
    let err = read_all(&odd).expect_err("truncated");
    assert_eq!(err.entry, b"\xff\xfe");
    assert!(alloc::format!("{err}").contains("`\\xff\\xfe`"));

    let err = read_all(&end(block(b"m", b'M', 0, |_| {}))).expect_err("multi-volume");
    assert_eq!(err.reason, Reason::MultiVolume);
    let err = read_all(&end(pax_header(&[(b"path", b"x")], b'x'))).expect_err("dangling");
    assert_eq!(err.reason, Reason::Truncated);
    let err = read_all(&end(block(b"", b'0', 0, |_| {}))).expect_err("empty");
    assert_eq!(err.reason, Reason::EmptyName);
}

#[test]
fn compressed_archives_are_recognised() {
    for (magic, c) in [
        (&[0x1f, 0x8b, 8, 0][..], Compression::Gzip),
        (b"BZh91AY", Compression::Bzip2),
        (&[0xfd, b'7', b'z', b'X', b'Z', 0], Compression::Xz),
        (&[0x28, 0xb5, 0x2f, 0xfd], Compression::Zstd),
    ] {
        let mut a = magic.to_vec();
        a.resize(2000, 0x55);
        let err = read_all(&a).expect_err("compressed");
        assert_eq!(err.reason, Reason::Compressed(c));
        assert!(alloc::format!("{err}").contains("decompress"));
        // A short one too.
        assert_eq!(
            read_all(magic).expect_err("short").reason,
            Reason::Compressed(c)
        );
    }
}

#[test]
fn limits_bound_what_is_held() {
    let limits = Limits {
        max_entries: 2,
        max_name: 10,
        max_extended: 200,
        max_global: 64,
        max_sparse: 2,
        max_index: 1 << 20,
    };
    let read =
        |a: &[u8]| -> Result<Vec<Entry>, TarError> { Reader::with_limits(a, limits).collect() };
    let three = end([
        block(b"a", b'0', 0, |_| {}),
        block(b"b", b'0', 0, |_| {}),
        block(b"c", b'0', 0, |_| {}),
    ]
    .concat());
    assert_eq!(read(&three).expect_err("3").reason, Reason::TooManyEntries);
    let long = end(block(b"abcdefghijk", b'0', 0, |_| {}));
    assert_eq!(read(&long).expect_err("name").reason, Reason::NameTooLong);
    let big_pax = end(pax_header(&[(b"comment", &[b'x'; 300])], b'x'));
    assert_eq!(
        read(&big_pax).expect_err("pax").reason,
        Reason::ExtendedTooLarge
    );
    let mut map = b"3\n".to_vec();
    map.extend_from_slice(b"0\n1\n2\n1\n4\n1\n");
    assert_eq!(
        read(&archive_1_0(&map)).expect_err("sparse").reason,
        Reason::SparseTooLarge
    );
    // The index budget counts names across entries.
    let tight = Limits {
        max_index: 2,
        ..Limits::default()
    };
    let err = Reader::with_limits(&three[..], tight)
        .collect::<Result<Vec<_>, _>>()
        .expect_err("index");
    assert_eq!(err.reason, Reason::IndexTooLarge);
}

#[test]
fn ends_and_lone_blocks() {
    assert!(read_all(&[]).expect("empty").is_empty());
    assert!(read_all(&[0; 1024]).expect("end").is_empty());
    // No end blocks at all.
    let a = with_data(block(b"f", b'0', 1, |_| {}), b"x");
    assert_eq!(read_all(&a).expect("no end").len(), 1);
    // Half a header.
    assert_eq!(
        read_all(&a[..300]).expect_err("half").reason,
        Reason::Truncated
    );
    // A source whose reads fail.
    struct Failing;
    impl Source for Failing {
        fn read_at(&mut self, _: u64, _: &mut [u8]) -> Result<usize, Errno> {
            Err(Errno::Io)
        }
    }
    let err = Reader::new(Failing).next_entry().expect_err("fails");
    assert_eq!(err.reason, Reason::Source(Errno::Io));
    assert_eq!(err.errno(), Errno::Io);
}
