//! Directory blocks: the linked records of an ext2 directory block —
//! inode, record length, name length, file type (with the `filetype`
//! feature, else 0), name — each record 4-byte aligned, the last reaching
//! the block's end. Functions on one block, checked against corruption;
//! the directory as a file is in `namei`.

use super::bytes::{get16, get32, put16, put32};

/// The longest name.
pub const NAME_MAX: usize = 255;

/// A directory record as found in a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    /// Its offset in the block.
    pub off: usize,
    /// The inode (0: an unused record).
    pub inode: u32,
    /// The record's length.
    pub rec_len: usize,
    /// The name.
    pub name: &'a [u8],
    /// The type byte (0 without the `filetype` feature).
    pub ftype: u8,
}

/// A record that runs off its block or is otherwise impossible, at this
/// offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Corrupt(pub usize);

/// The space a record with a name of `len` bytes needs.
pub(crate) const fn rec_len_for(len: usize) -> usize {
    (8 + len + 3) & !3
}

/// The type byte for a mode's file type.
pub(crate) fn ftype_of(mode: u32) -> u8 {
    match mode & 0o170000 {
        0o100000 => 1,
        0o040000 => 2,
        0o020000 => 3,
        0o060000 => 4,
        0o010000 => 5,
        0o140000 => 6,
        0o120000 => 7,
        _ => 0,
    }
}

/// The mode's file type bits for a type byte (0 if unknown).
pub(crate) fn mode_of_ftype(t: u8) -> u32 {
    match t {
        1 => 0o100000,
        2 => 0o040000,
        3 => 0o020000,
        4 => 0o060000,
        5 => 0o010000,
        6 => 0o140000,
        7 => 0o120000,
        _ => 0,
    }
}

fn rec_len_at(block: &[u8], off: usize) -> usize {
    let raw = get16(block, off + 4) as usize;
    // 64 KiB blocks store a whole-block record as 65535 (or 0).
    if block.len() == 65536 && (raw == 65535 || raw == 0) {
        65536
    } else {
        raw
    }
}

fn put_rec_len(block: &mut [u8], off: usize, len: usize) {
    let v = if len == 65536 { 65535 } else { len as u16 };
    put16(block, off + 4, v);
}

/// The record at `off`, checked.
pub(crate) fn entry_at(block: &[u8], off: usize) -> Result<Entry<'_>, Corrupt> {
    let bs = block.len();
    if !off.is_multiple_of(4) || off + 8 > bs {
        return Err(Corrupt(off));
    }
    let rec_len = rec_len_at(block, off);
    if rec_len < 8 || !rec_len.is_multiple_of(4) || off + rec_len > bs {
        return Err(Corrupt(off));
    }
    let inode = get32(block, off);
    let name_len = block[off + 6] as usize;
    let ftype = block[off + 7];
    if inode != 0 && (name_len == 0 || 8 + name_len > rec_len) {
        return Err(Corrupt(off));
    }
    let name_len = name_len.min(rec_len - 8);
    Ok(Entry {
        off,
        inode,
        rec_len,
        name: &block[off + 8..off + 8 + name_len],
        ftype,
    })
}

/// The records of a block in order, ending at the first corrupt one.
pub(crate) fn entries(block: &[u8]) -> impl Iterator<Item = Result<Entry<'_>, Corrupt>> {
    let mut off = 0;
    let mut done = false;
    core::iter::from_fn(move || {
        if done || off >= block.len() {
            return None;
        }
        match entry_at(block, off) {
            Ok(e) => {
                off += e.rec_len;
                Some(Ok(e))
            }
            Err(c) => {
                done = true;
                Some(Err(c))
            }
        }
    })
}

/// Where `name` is in a block: its record's offset, the previous record's
/// (if any) and its inode.
pub(crate) fn find(
    block: &[u8],
    name: &[u8],
) -> Result<Option<(usize, Option<usize>, u32)>, Corrupt> {
    let mut prev = None;
    for e in entries(block) {
        let e = e?;
        if e.inode != 0 && e.name == name {
            return Ok(Some((e.off, prev, e.inode)));
        }
        prev = Some(e.off);
    }
    Ok(None)
}

/// Puts a record for `name` → `inode` in the block if there is room: in an
/// unused record, or in the slack after a used one. False if no room.
pub(crate) fn insert(
    block: &mut [u8],
    name: &[u8],
    inode: u32,
    ftype: u8,
) -> Result<bool, Corrupt> {
    let need = rec_len_for(name.len());
    let mut spot = None;
    for e in entries(block) {
        let e = e?;
        if e.inode == 0 && e.rec_len >= need {
            spot = Some((e.off, e.rec_len, None));
            break;
        }
        if e.inode != 0 {
            let used = rec_len_for(e.name.len());
            if e.rec_len >= used + need {
                spot = Some((e.off, e.rec_len, Some(used)));
                break;
            }
        }
    }
    let Some((off, rec_len, split)) = spot else {
        return Ok(false);
    };
    let (at, len) = match split {
        None => (off, rec_len),
        Some(used) => {
            put_rec_len(block, off, used);
            (off + used, rec_len - used)
        }
    };
    write_record(block, at, len, name, inode, ftype);
    Ok(true)
}

fn write_record(block: &mut [u8], at: usize, len: usize, name: &[u8], inode: u32, ftype: u8) {
    put32(block, at, inode);
    put_rec_len(block, at, len);
    block[at + 6] = name.len() as u8;
    block[at + 7] = ftype;
    block[at + 8..at + 8 + name.len()].copy_from_slice(name);
    // Zero the rest of the record, so no stale name bytes remain.
    block[at + 8 + name.len()..at + len].fill(0);
}

/// Removes the record at `off` (`prev`: the record before it in the block,
/// which absorbs its space; a first record is marked unused instead).
pub(crate) fn remove(block: &mut [u8], off: usize, prev: Option<usize>) {
    match prev {
        Some(p) => {
            let len = rec_len_at(block, p) + rec_len_at(block, off);
            put_rec_len(block, p, len);
        }
        None => put32(block, off, 0),
    }
}

/// Points the record at `off` to `inode` of type `ftype`.
pub(crate) fn set_inode(block: &mut [u8], off: usize, inode: u32, ftype: u8) {
    put32(block, off, inode);
    block[off + 7] = ftype;
}

/// An empty directory block: one unused record over the whole block.
pub(crate) fn init_empty(block: &mut [u8]) {
    block.fill(0);
    let len = block.len();
    put_rec_len(block, 0, len);
}

/// A new directory's first block: "." and "..".
pub(crate) fn init_dir(block: &mut [u8], ino: u32, parent: u32, dir_type: u8) {
    block.fill(0);
    let len = block.len();
    write_record(block, 0, 12, b".", ino, dir_type);
    write_record(block, 12, len - 12, b"..", parent, dir_type);
}

/// Whether the block holds no names but "." and "..".
pub(crate) fn only_dots(block: &[u8]) -> Result<bool, Corrupt> {
    for e in entries(block) {
        let e = e?;
        if e.inode != 0 && e.name != b"." && e.name != b".." {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn names(block: &[u8]) -> BTreeMap<Vec<u8>, u32> {
        let mut m = BTreeMap::new();
        let mut covered = 0;
        for e in entries(block) {
            let e = e.expect("well-formed");
            covered += e.rec_len;
            if e.inode != 0 {
                m.insert(e.name.to_vec(), e.inode);
            }
        }
        assert_eq!(covered, block.len(), "records cover the block");
        m
    }

    #[test]
    fn new_directory_block_has_dots() {
        let mut b = vec![0u8; 1024];
        init_dir(&mut b, 12, 2, 2);
        let m = names(&b);
        assert_eq!(m.get(&b"."[..]), Some(&12));
        assert_eq!(m.get(&b".."[..]), Some(&2));
        assert!(only_dots(&b).expect("ok"));
        assert!(insert(&mut b, b"x", 13, 1).expect("ok"));
        assert!(!only_dots(&b).expect("ok"));
    }

    #[test]
    fn corrupt_records_are_found_not_followed() {
        let mut b = vec![0u8; 1024];
        init_empty(&mut b);
        put16(&mut b, 4, 2000);
        assert_eq!(entries(&b).next(), Some(Err(Corrupt(0))));
        put16(&mut b, 4, 6);
        assert_eq!(find(&b, b"x"), Err(Corrupt(0)));
        put16(&mut b, 4, 16);
        put32(&mut b, 0, 5);
        b[6] = 200;
        assert_eq!(entry_at(&b, 0), Err(Corrupt(0)));
        assert_eq!(entry_at(&b, 1022), Err(Corrupt(1022)));
        let mut b = vec![0u8; 1024];
        init_empty(&mut b);
        put16(&mut b, 4, 0);
        assert!(insert(&mut b, b"a", 1, 1).is_err());
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u8, u8),
        Remove(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..40, 1u8..60).prop_map(|(n, l)| Op::Insert(n, l)),
            (0u8..40).prop_map(Op::Remove),
        ]
    }

    fn name(n: u8, len: u8) -> Vec<u8> {
        let mut v = alloc::format!("n{n}-").into_bytes();
        v.resize(len as usize, b'x');
        v.truncate(len.max(4) as usize);
        v
    }

    proptest! {
        /// Inserting and removing names in one block agrees with a map:
        /// an insert fails only when no record has room, and the records
        /// always tile the block.
        #[test]
        fn block_matches_a_model(ops in proptest::collection::vec(op(), 1..200)) {
            let mut b = vec![0u8; 1024];
            init_dir(&mut b, 11, 2, 2);
            let mut model: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
            model.insert(b".".to_vec(), 11);
            model.insert(b"..".to_vec(), 2);
            let mut lens: BTreeMap<u8, u8> = BTreeMap::new();
            for (i, o) in ops.into_iter().enumerate() {
                match o {
                    Op::Insert(n, l) => {
                        let l = *lens.entry(n).or_insert(l);
                        let nm = name(n, l);
                        if model.contains_key(&nm) {
                            continue;
                        }
                        let free: usize = entries(&b)
                            .map(|e| e.expect("ok"))
                            .map(|e| if e.inode == 0 { e.rec_len } else { e.rec_len - rec_len_for(e.name.len()) })
                            .max()
                            .unwrap_or(0);
                        let ok = insert(&mut b, &nm, 100 + i as u32, 1).expect("ok");
                        prop_assert_eq!(ok, free >= rec_len_for(nm.len()));
                        if ok {
                            model.insert(nm, 100 + i as u32);
                        }
                    }
                    Op::Remove(n) => {
                        let Some(&l) = lens.get(&n) else { continue };
                        let nm = name(n, l);
                        match find(&b, &nm).expect("ok") {
                            Some((off, prev, ino)) => {
                                prop_assert_eq!(model.remove(&nm), Some(ino));
                                remove(&mut b, off, prev);
                            }
                            None => prop_assert!(!model.contains_key(&nm)),
                        }
                    }
                }
                prop_assert_eq!(&names(&b), &model);
            }
        }
    }
}
