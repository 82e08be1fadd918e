//! The seed inputs of each target, built with the encoders.

use std::path::Path;

use hurd_ipc::wire;
use hurd_ipc::{Disposition, Item, Message, OolItem, PortId, PortItem, PortName};

/// The seeds of `target` (see [`crate::seeds`]).
pub fn of(target: &str) -> Vec<Vec<u8>> {
    match target {
        "ipc_wire" | "interface_demux" => messages(),
        "netmsg_frame" => frames(),
        "pager_replies" => pager_script(),
        "elf" => vec![elf(2, 0x40_0000), elf(3, 0x1000)],
        "multiboot" => vec![multiboot_v1()],
        "tar" => files(&root().join("hurd-trans/tests/corpus/tar")),
        "manifest" => files(&root().join("distro"))
            .into_iter()
            .chain(files(&root().join("distro/examples")))
            .filter(|f| f.starts_with(b"#") || f.starts_with(b"["))
            .collect(),
        "linux_layouts" => vec![vec![0; 304], vec![0xff; 304], (0..=255).collect()],
        _ => Vec::new(),
    }
}

/// The workspace's root.
fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The contents of the files of a directory (none when it does not exist),
/// by name; `.toml` files only in `distro/`.
fn files(path: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(path) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    paths
        .into_iter()
        .filter(|p| p.is_file())
        .filter(|p| !path.ends_with("distro") || p.extension().is_some_and(|e| e == "toml"))
        .filter_map(|p| std::fs::read(&p).ok())
        .collect()
}

fn message(id: i32, body: Vec<Item>) -> Message {
    let mut m = Message::new(id, PortName(0x101), Disposition::CopySend);
    m.body = body;
    m
}

/// Messages of the kernel's and the file system's interfaces.
fn messages() -> Vec<Vec<u8>> {
    [
        message(2000, vec![]),
        message(21000, vec![Item::U32(7), Item::Bytes(b"hello".to_vec())]),
        message(3200, vec![Item::U64(u64::MAX), Item::U32(u32::MAX)]),
        message(
            3204,
            vec![
                Item::U32(1),
                Item::Port(PortItem {
                    disposition: Disposition::MakeSend,
                    name: PortName(0x203),
                }),
            ],
        ),
    ]
    .iter()
    .filter_map(|m| wire::encode(m).ok())
    .collect()
}

/// Frames a peer sends.
fn frames() -> Vec<Vec<u8>> {
    use hurd_netmsg::frame::{self, Frame, RightKind, WireRight};
    let right = |kind| WireRight {
        kind,
        id: PortId::new(2, 7),
        secret: 0x1234_5678_9abc_def0,
        order: PortId(0),
    };
    [
        Frame::Hello {
            node: 2,
            registry: right(RightKind::Send),
        },
        Frame::Message {
            dest: right(RightKind::Send),
            rights: vec![right(RightKind::SendOnce)],
            // Names in the message are indices into `rights`, from 1.
            message: Message {
                body: vec![
                    Item::U32(7),
                    Item::Port(PortItem {
                        disposition: RightKind::SendOnce.received(),
                        name: PortName(1),
                    }),
                ],
                ..Message::default()
            },
        },
        Frame::Release {
            id: PortId::new(2, 7),
            count: 3,
        },
        Frame::PortDead {
            id: PortId::new(1, 1),
        },
    ]
    .iter()
    .filter_map(|f| frame::encode(f).ok())
    .map(|bytes| bytes[4..].to_vec())
    .collect()
}

/// A pager's session: faults, a `data_supply` for the first page, a
/// `data_error` for the second, faults again (see [`crate::pager_replies`]).
fn pager_script() -> Vec<Vec<u8>> {
    use hurd_vm::PAGE_SIZE;
    use hurd_vm::protocol::control;
    let control_msg = |call: control::Call| {
        wire::encode(&call.encode(PortName(200), Disposition::CopySend)).unwrap_or_default()
    };
    let supply = control_msg(control::Call::data_supply {
        offset: 0,
        data: OolItem {
            data: vec![0x5a; PAGE_SIZE as usize],
            deallocate: true,
        },
        lock_value: 0,
        precious: false,
        reply_to: PortItem {
            disposition: Disposition::MakeSendOnce,
            name: PortName::NULL,
        },
    });
    let error = control_msg(control::Call::data_error {
        offset: PAGE_SIZE,
        size: PAGE_SIZE,
        error_value: 5,
    });
    let mut script = Vec::new();
    for (op, chunk) in [
        (2u8, vec![0u8]),
        (0, supply),
        (2, vec![0]),
        (3, vec![1]),
        (0, error),
        (2, vec![1]),
    ] {
        script.push(op);
        script.extend_from_slice(&u16::try_from(chunk.len()).unwrap_or(0).to_le_bytes());
        script.extend_from_slice(&chunk);
    }
    vec![script]
}

/// A small x86-64 executable of ELF type `e_type` with one loadable
/// segment at `vaddr` and a note.
fn elf(e_type: u16, vaddr: u64) -> Vec<u8> {
    let mut b = vec![0u8; 64];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2;
    b[5] = 1;
    b[6] = 1;
    b[16..18].copy_from_slice(&e_type.to_le_bytes());
    b[18..20].copy_from_slice(&62u16.to_le_bytes());
    b[24..32].copy_from_slice(&vaddr.to_le_bytes());
    b[32..40].copy_from_slice(&64u64.to_le_bytes());
    b[54..56].copy_from_slice(&56u16.to_le_bytes());
    b[56..58].copy_from_slice(&2u16.to_le_bytes());
    // PT_LOAD, read and execute; then PT_NOTE with the hurd-rs note.
    for (kind, flags, offset, size) in [(1u32, 5u32, 0u64, 0x200u64), (4, 4, 0x100, 24)] {
        for v in [
            u64::from(kind) | (u64::from(flags) << 32),
            offset,
            vaddr + offset,
            vaddr + offset,
            size,
            size,
            0x1000,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    b.resize(0x100, 0);
    // namesz, descsz, type, name (padded to 4), the ABI version.
    for v in [8, 4, hurd_abi::elf::NT_HURD_RS_ABI] {
        b.extend_from_slice(&u32::to_le_bytes(v));
    }
    b.extend_from_slice(b"hurd-rs\0");
    b.extend_from_slice(&hurd_abi::elf::ABI_VERSION.to_le_bytes());
    b.resize(0x200, 0);
    b
}

/// Multiboot v1 information (first byte 0: v1) with a command line and a
/// memory map, at 0x9000.
fn multiboot_v1() -> Vec<u8> {
    const BASE: u32 = 0x9000;
    let mut info = vec![0u8; 128];
    let put = |info: &mut Vec<u8>, at: usize, v: u32| {
        info[at..at + 4].copy_from_slice(&v.to_le_bytes());
    };
    // Flags: MEMORY, CMDLINE, MMAP.
    put(&mut info, 0, 1 | 1 << 2 | 1 << 6);
    put(&mut info, 4, 640);
    put(&mut info, 8, 64 * 1024);
    let cmdline = BASE + 128;
    put(&mut info, 16, cmdline);
    info.extend_from_slice(b"test\0\0\0\0");
    let mmap = BASE + u32::try_from(info.len()).unwrap_or(0);
    let mut map = Vec::new();
    for (start, len, kind) in [(0u64, 0x9_f000u64, 1u32), (0x10_0000, 0x400_0000, 1)] {
        map.extend_from_slice(&20u32.to_le_bytes());
        map.extend_from_slice(&start.to_le_bytes());
        map.extend_from_slice(&len.to_le_bytes());
        map.extend_from_slice(&kind.to_le_bytes());
    }
    put(&mut info, 44, u32::try_from(map.len()).unwrap_or(0));
    put(&mut info, 48, mmap);
    info.extend_from_slice(&map);
    let mut input = vec![0];
    input.extend_from_slice(&info);
    input
}
