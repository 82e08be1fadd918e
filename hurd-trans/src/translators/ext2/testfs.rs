//! A small formatter for the unit tests: an empty ext2 file system in
//! memory (1 KiB blocks, 8192 blocks a group, every group with a backup),
//! so the core is tested without e2fsprogs. The integration tests use
//! images `mke2fs` made.

use alloc::vec;

use super::bytes::{put16, put32};
use super::device::MemDevice;
use super::dir;
use super::fs::{Ext2, Options};
use super::group::DESC_SIZE;
use super::superblock::{EXT2_MAGIC, STATE_VALID, incompat, os};

/// How the test file system looks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    pub blocks: u32,
    pub inode_size: u16,
    pub inodes_per_group: u32,
    pub hurd: bool,
    pub filetype: bool,
    pub ext_attr: bool,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            blocks: 20000,
            inode_size: 256,
            inodes_per_group: 256,
            hurd: false,
            filetype: true,
            ext_attr: true,
        }
    }
}

fn set(map: &mut [u8], i: usize) {
    map[i / 8] |= 1 << (i % 8);
}

/// Formats an empty file system of `shape` in memory.
pub(crate) fn format(shape: Shape) -> MemDevice {
    let bs = 1024usize;
    let bpg = 8192u32;
    let blocks = shape.blocks;
    let groups = (blocks - 1).div_ceil(bpg);
    let ipg = shape.inodes_per_group;
    let isz = shape.inode_size as usize;
    let itb = (ipg as usize * isz).div_ceil(bs) as u32;
    let gdt_blocks = (groups as usize * DESC_SIZE).div_ceil(bs) as u32;
    let mut img = vec![0u8; blocks as usize * bs];
    let mut gdt = vec![0u8; gdt_blocks as usize * bs];
    let mut free_blocks_total = 0u32;
    let mut root_block = 0;
    for g in 0..groups {
        let start = 1 + g * bpg;
        let len = (blocks - start).min(bpg);
        let bb = start + 1 + gdt_blocks;
        let ib = bb + 1;
        let it = ib + 1;
        let mut used = 1 + gdt_blocks + 2 + itb;
        if g == 0 {
            root_block = start + used;
            used += 1;
        }
        let mut bmap = vec![0u8; bs];
        for i in 0..used as usize {
            set(&mut bmap, i);
        }
        for i in len as usize..bs * 8 {
            set(&mut bmap, i);
        }
        img[bb as usize * bs..][..bs].copy_from_slice(&bmap);
        let mut imap = vec![0u8; bs];
        if g == 0 {
            for i in 0..10 {
                set(&mut imap, i);
            }
        }
        for i in ipg as usize..bs * 8 {
            set(&mut imap, i);
        }
        img[ib as usize * bs..][..bs].copy_from_slice(&imap);
        let d = &mut gdt[g as usize * DESC_SIZE..][..DESC_SIZE];
        put32(d, 0, bb);
        put32(d, 4, ib);
        put32(d, 8, it);
        put16(d, 12, (len - used) as u16);
        put16(d, 14, (if g == 0 { ipg - 10 } else { ipg }) as u16);
        put16(d, 16, if g == 0 { 1 } else { 0 });
        free_blocks_total += len - used;
    }
    // The root directory, inode 2.
    let it0 = 1 + 1 + gdt_blocks + 2;
    let root = &mut img[it0 as usize * bs + isz..][..isz];
    put16(root, 0, 0o040755);
    put32(root, 4, bs as u32);
    put16(root, 26, 2);
    put32(root, 28, 2);
    put32(root, 40, root_block);
    if isz > 128 {
        put16(root, 128, 32);
    }
    dir::init_dir(
        &mut img[root_block as usize * bs..][..bs],
        2,
        2,
        if shape.filetype { 2 } else { 0 },
    );
    let sb = &mut img[1024..2048];
    put32(sb, 0, groups * ipg);
    put32(sb, 4, blocks);
    put32(sb, 8, blocks / 20);
    put32(sb, 12, free_blocks_total);
    put32(sb, 16, groups * ipg - 10);
    put32(sb, 20, 1);
    put32(sb, 32, bpg);
    put32(sb, 36, bpg);
    put32(sb, 40, ipg);
    put16(sb, 56, EXT2_MAGIC);
    put16(sb, 58, STATE_VALID);
    put32(sb, 72, if shape.hurd { os::HURD } else { os::LINUX });
    put32(sb, 76, 1);
    put32(sb, 84, 11);
    put16(sb, 88, shape.inode_size);
    put32(sb, 92, if shape.ext_attr { 0x8 } else { 0 });
    put32(
        sb,
        96,
        if shape.filetype {
            incompat::FILETYPE
        } else {
            0
        },
    );
    // large_file; no sparse_super: every group has a backup.
    put32(sb, 100, 0x2);
    sb[104..120].copy_from_slice(b"hurd-rs-testfs!!");
    put16(sb, 350, 32);
    let sb_copy: alloc::vec::Vec<u8> = sb.to_vec();
    img[2 * bs..][..gdt.len()].copy_from_slice(&gdt);
    for g in 1..groups {
        let start = (1 + g * bpg) as usize;
        img[start * bs..][..bs].copy_from_slice(&sb_copy);
        img[(start + 1) * bs..][..gdt.len()].copy_from_slice(&gdt);
    }
    MemDevice::new(img)
}

/// A fixed clock for tests: 2024-01-01.
pub(crate) fn options() -> Options {
    Options {
        clock: alloc::boxed::Box::new(|| crate::stat::TimeSpec {
            sec: 1_704_067_200,
            nsec: 0,
        }),
        ..Options::default()
    }
}

/// A mounted empty file system of `shape`.
pub(crate) fn mounted(shape: Shape) -> Ext2<MemDevice> {
    match Ext2::mount(format(shape), options()) {
        Ok(fs) => fs,
        Err(e) => panic!("test file system does not mount: {e}"),
    }
}
