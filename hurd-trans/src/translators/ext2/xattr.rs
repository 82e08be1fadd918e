//! Extended attributes: the attribute block named by `i_file_acl` (read
//! and written, shared blocks copied before they change) and the space
//! after a large inode's fixed fields (read). The Hurd keeps a passive
//! translator record in `gnu.translator` (name index 10).

use alloc::vec;
use alloc::vec::Vec;

use super::bytes::{get16, get32, put16, put32};
use super::device::BlockDevice;
use super::fs::Ext2;
use super::inode::{GOOD_OLD_INODE_SIZE, Inode};
use hurd_ipc::Errno;

/// The magic number of an attribute block and of in-inode attributes.
pub const XATTR_MAGIC: u32 = 0xEA02_0000;
/// The name index of `gnu.` attributes.
pub const INDEX_GNU: u8 = 10;
/// The Hurd's passive translator record: `gnu.translator`.
pub const TRANSLATOR: &[u8] = b"translator";

const HEADER: usize = 32;
const ENTRY: usize = 16;

/// One attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attr {
    pub index: u8,
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

/// A malformed attribute area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadXattr;

fn entry_size(name_len: usize) -> usize {
    (ENTRY + name_len + 3) & !3
}

fn value_size(len: usize) -> usize {
    (len + 3) & !3
}

/// The entries starting at `entries` in `area`, values at offsets from
/// `base` (the block start, or the first in-inode entry).
fn parse_entries(area: &[u8], entries: usize, base: usize) -> Result<Vec<Attr>, BadXattr> {
    let mut out = Vec::new();
    let mut off = entries;
    loop {
        if off + 4 > area.len() {
            return Err(BadXattr);
        }
        if get32(area, off) == 0 {
            return Ok(out);
        }
        if off + ENTRY > area.len() {
            return Err(BadXattr);
        }
        let name_len = area[off] as usize;
        let index = area[off + 1];
        let value_offs = get16(area, off + 2) as usize;
        let value_inum = get32(area, off + 4);
        let size = get32(area, off + 8) as usize;
        let esz = entry_size(name_len);
        if name_len == 0 || off + esz > area.len() || value_inum != 0 {
            return Err(BadXattr);
        }
        let vstart = base.checked_add(value_offs).ok_or(BadXattr)?;
        let vend = vstart.checked_add(size).ok_or(BadXattr)?;
        if vend > area.len() || (size > 0 && vstart < off + esz) {
            return Err(BadXattr);
        }
        out.push(Attr {
            index,
            name: area[off + ENTRY..off + ENTRY + name_len].to_vec(),
            value: area[vstart..vend].to_vec(),
        });
        off += esz;
    }
}

/// An attribute block's entries, checked.
pub(crate) fn parse_block(block: &[u8]) -> Result<Vec<Attr>, BadXattr> {
    if block.len() < HEADER + 4 || get32(block, 0) != XATTR_MAGIC || get32(block, 8) != 1 {
        return Err(BadXattr);
    }
    parse_entries(block, HEADER, 0)
}

/// The attributes in the space after a large inode's fixed fields (none if
/// there is no magic number there).
pub(crate) fn parse_in_inode(raw: &[u8], extra_isize: u16) -> Result<Vec<Attr>, BadXattr> {
    let start = GOOD_OLD_INODE_SIZE + extra_isize as usize;
    if raw.len() < start + 8 || get32(raw, start) != XATTR_MAGIC {
        return Ok(Vec::new());
    }
    let area = &raw[start + 4..];
    parse_entries(area, 0, 0)
}

/// The hash of one entry (e2fsprogs' `ext2fs_ext_attr_hash_entry`).
fn entry_hash(name: &[u8], value: &[u8]) -> u32 {
    let mut hash: u32 = 0;
    for &c in name {
        hash = (hash << 5) ^ (hash >> 27) ^ c as u32;
    }
    if !value.is_empty() {
        let mut padded = value.to_vec();
        padded.resize(value_size(value.len()), 0);
        for w in padded.chunks_exact(4) {
            let word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            hash = (hash << 16) ^ (hash >> 16) ^ word;
        }
    }
    hash
}

/// Lays `attrs` out as an attribute block of `size` bytes with reference
/// count `refcount`: entries sorted by (index, name length, name) from the
/// header on, values from the end. `None` if they do not fit.
pub(crate) fn build_block(attrs: &[Attr], size: usize, refcount: u32) -> Option<Vec<u8>> {
    let mut sorted: Vec<&Attr> = attrs.iter().collect();
    sorted.sort_by(|a, b| (a.index, a.name.len(), &a.name).cmp(&(b.index, b.name.len(), &b.name)));
    let entries: usize = sorted.iter().map(|a| entry_size(a.name.len())).sum();
    let values: usize = sorted.iter().map(|a| value_size(a.value.len())).sum();
    if HEADER + entries + 4 + values > size {
        return None;
    }
    let mut b = vec![0u8; size];
    put32(&mut b, 0, XATTR_MAGIC);
    put32(&mut b, 4, refcount);
    put32(&mut b, 8, 1);
    let mut off = HEADER;
    let mut vend = size;
    let mut block_hash: u32 = 0;
    for a in sorted {
        let vs = value_size(a.value.len());
        vend -= vs;
        b[vend..vend + a.value.len()].copy_from_slice(&a.value);
        let h = entry_hash(&a.name, &a.value);
        b[off] = a.name.len() as u8;
        b[off + 1] = a.index;
        put16(
            &mut b,
            off + 2,
            if a.value.is_empty() { 0 } else { vend as u16 },
        );
        put32(&mut b, off + 4, 0);
        put32(&mut b, off + 8, a.value.len() as u32);
        put32(&mut b, off + 12, h);
        b[off + ENTRY..off + ENTRY + a.name.len()].copy_from_slice(&a.name);
        off += entry_size(a.name.len());
        block_hash = (block_hash << 16) ^ (block_hash >> 16) ^ h;
    }
    put32(&mut b, 12, block_hash);
    Some(b)
}

impl<D: BlockDevice> Ext2<D> {
    /// The attribute `index`/`name` of inode `ino` (`i`), from its block or
    /// from the inode itself.
    pub(crate) fn get_xattr(
        &mut self,
        ino: u32,
        i: &Inode,
        index: u8,
        name: &[u8],
    ) -> Result<Option<Vec<u8>>, Errno> {
        if self.inode_size > GOOD_OLD_INODE_SIZE {
            let (block, offset) = self.inode_location(ino)?;
            let isz = self.inode_size;
            let raw = self.cache.get(&mut self.dev, block)?;
            let attrs = parse_in_inode(&raw[offset..offset + isz], i.extra_isize);
            match attrs {
                Ok(attrs) => {
                    if let Some(a) = attrs
                        .into_iter()
                        .find(|a| a.index == index && a.name == name)
                    {
                        return Ok(Some(a.value));
                    }
                }
                Err(BadXattr) => {
                    return Err(self.corrupt(&alloc::format!("inode {ino}'s attributes")));
                }
            }
        }
        if i.file_acl == 0 {
            return Ok(None);
        }
        let b = self.check_block(i.file_acl)?;
        let parsed = parse_block(self.cache.get(&mut self.dev, b)?);
        match parsed {
            Ok(attrs) => Ok(attrs
                .into_iter()
                .find(|a| a.index == index && a.name == name)
                .map(|a| a.value)),
            Err(BadXattr) => Err(self.corrupt(&alloc::format!("attribute block {b}"))),
        }
    }

    /// Sets (`Some`) or removes (`None`) attribute `index`/`name` in inode
    /// `ino`'s attribute block, making, copying (if shared) or freeing the
    /// block as needed; `i` (its `i_file_acl` and `i_blocks`) is changed in
    /// memory for the caller to write.
    ///
    /// # Errors
    ///
    /// `ERANGE`-like `ENOSPC` if the value does not fit a block, `ENOSPC`,
    /// `EIO` for a malformed block.
    pub(crate) fn set_xattr(
        &mut self,
        ino: u32,
        i: &mut Inode,
        index: u8,
        name: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), Errno> {
        let (mut attrs, refcount) = if i.file_acl == 0 {
            (Vec::new(), 0)
        } else {
            let b = self.check_block(i.file_acl)?;
            let data = self.cache.get(&mut self.dev, b)?;
            let rc = get32(data, 4);
            match parse_block(data) {
                Ok(a) => (a, rc),
                Err(BadXattr) => return Err(self.corrupt(&alloc::format!("attribute block {b}"))),
            }
        };
        let had = attrs
            .iter()
            .position(|a| a.index == index && a.name == name);
        match (had, value) {
            (None, None) => return Ok(()),
            (Some(k), None) => {
                attrs.remove(k);
            }
            (Some(k), Some(v)) => attrs[k].value = v.to_vec(),
            (None, Some(v)) => attrs.push(Attr {
                index,
                name: name.to_vec(),
                value: v.to_vec(),
            }),
        }
        if attrs.is_empty() {
            return self.release_xattr_block(i);
        }
        let block = build_block(&attrs, self.bs, 1).ok_or(Errno::NoSpc)?;
        if i.file_acl != 0 && refcount <= 1 {
            let b = i.file_acl;
            self.cache
                .get_mut(&mut self.dev, b)?
                .copy_from_slice(&block);
            return Ok(());
        }
        // A new block (the first, or a copy of a shared one).
        let goal = self.inode_goal(ino);
        let privileged = self.privileged(i.uid, i.gid);
        let nb = self.alloc_block(goal, privileged)?;
        self.cache
            .zeroed(&mut self.dev, nb)?
            .copy_from_slice(&block);
        if i.file_acl != 0 {
            let old = i.file_acl;
            let data = self.cache.get_mut(&mut self.dev, old)?;
            put32(data, 4, refcount - 1);
        } else {
            i.blocks = i.blocks.saturating_add(self.sectors_per_block());
        }
        i.file_acl = nb;
        Ok(())
    }

    /// Drops inode `i`'s reference to its attribute block, freeing the block
    /// with its last reference.
    pub(crate) fn release_xattr_block(&mut self, i: &mut Inode) -> Result<(), Errno> {
        if i.file_acl == 0 {
            return Ok(());
        }
        let b = i.file_acl;
        i.file_acl = 0;
        i.blocks = i.blocks.saturating_sub(self.sectors_per_block());
        self.check_block(b)?;
        let refcount = {
            let data = self.cache.get(&mut self.dev, b)?;
            if get32(data, 0) != XATTR_MAGIC {
                return Err(self.corrupt(&alloc::format!("attribute block {b}")));
            }
            get32(data, 4)
        };
        if refcount > 1 {
            let data = self.cache.get_mut(&mut self.dev, b)?;
            put32(data, 4, refcount - 1);
            Ok(())
        } else {
            self.free_blocks(b, 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_sorted_with_hashes() {
        let attrs = vec![
            Attr {
                index: 1,
                name: b"zeta".to_vec(),
                value: b"1".to_vec(),
            },
            Attr {
                index: INDEX_GNU,
                name: TRANSLATOR.to_vec(),
                value: b"/hurd/hello\0".to_vec(),
            },
            Attr {
                index: 1,
                name: b"a".to_vec(),
                value: Vec::new(),
            },
        ];
        let b = build_block(&attrs, 1024, 1).expect("fits");
        let back = parse_block(&b).expect("parse");
        assert_eq!(back.len(), 3);
        assert_eq!(back[0].name, b"a");
        assert_eq!(back[1].name, b"zeta");
        assert_eq!(back[2].value, b"/hurd/hello\0");
        // The entry hash e2fsprogs computes for a one-byte name "a" and no
        // value is the byte itself.
        assert_eq!(get32(&b, HEADER + 12), b'a' as u32);
        assert!(build_block(&attrs, 64, 1).is_none());
    }

    #[test]
    fn malformed_blocks_are_refused() {
        let mut b = build_block(
            &[Attr {
                index: 1,
                name: b"n".to_vec(),
                value: b"value".to_vec(),
            }],
            1024,
            1,
        )
        .expect("fits");
        assert!(parse_block(&b).is_ok());
        put16(&mut b, HEADER + 2, 1022);
        assert_eq!(parse_block(&b), Err(BadXattr));
        put16(&mut b, HEADER + 2, 8);
        assert_eq!(parse_block(&b), Err(BadXattr), "value over the entries");
        let mut c = vec![0u8; 1024];
        assert_eq!(parse_block(&c), Err(BadXattr));
        put32(&mut c, 0, XATTR_MAGIC);
        put32(&mut c, 8, 1);
        c[HEADER] = 4;
        c[HEADER + 1] = 1;
        put32(&mut c, HEADER + 8, 5000);
        assert_eq!(parse_block(&c), Err(BadXattr), "value beyond the block");
    }
}
