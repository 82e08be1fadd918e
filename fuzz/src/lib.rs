//! Fuzz targets for the decoders of bytes that come from outside: a
//! message's wire form, a generated interface's demux, netmsg frames, the
//! memory_object calls a pager sends the kernel, ELF executables, multiboot
//! information, tar archives, the image manifest, and the Linux structures
//! a program hands the emulator.
//!
//! Each target is a function taking any bytes. It must not panic, and it
//! checks what its decoder promises (a decoded message encodes back to the
//! same bytes, limits hold). The same functions run in two ways:
//!
//! - `cargo xtask fuzz [TARGET] [--time S]` runs them under libFuzzer with
//!   `cargo fuzz` (nightly: the xtask installs the toolchain and
//!   `cargo-fuzz` when they are missing), starting from their [`seeds`]
//!   and `fuzz/corpus/TARGET`; inputs that fail land in
//!   `fuzz/artifacts/TARGET/`.
//! - The tests (`cargo test -p fuzz-targets`, part of `cargo xtask test`) run
//!   every target, on stable, over its corpus and its regressions
//!   (`fuzz/regressions/TARGET/`: each input that once failed, kept after
//!   the fix) and over a fixed number of seeded mutations of them.

use hurd_ipc::wire::{self, Limits};
use hurd_ipc::{Disposition, PortName};

/// A fuzz target: takes any bytes, panics only on a bug.
pub type Target = fn(&[u8]);

/// Every target, by name (the names of `fuzz_targets/*.rs`).
pub const TARGETS: &[(&str, Target)] = &[
    ("ipc_wire", ipc_wire),
    ("interface_demux", interface_demux),
    ("netmsg_frame", netmsg_frame),
    ("pager_replies", pager_replies),
    ("elf", elf),
    ("multiboot", multiboot),
    ("tar", tar),
    ("manifest", manifest),
    ("linux_layouts", linux_layouts),
];

/// Valid inputs for `target`, made with the encoders (and, for `tar` and
/// `manifest`, read from the tree), so that fuzzing and the mutations of
/// the tests start from inputs each decoder accepts. Empty for an unknown
/// name.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    seeds::of(target)
}

mod seeds;

/// A message's wire form (`hurd_ipc::wire::decode`): whatever decodes
/// encodes back to the same bytes.
pub fn ipc_wire(data: &[u8]) {
    for limits in [Limits::DEFAULT, small_wire_limits()] {
        if let Ok(msg) = wire::decode(data, &limits) {
            let again = wire::encode(&msg).expect("a decoded message encodes");
            assert_eq!(again, data, "decode then encode changed the bytes");
        }
    }
}

/// Limits small enough for fuzzed inputs to reach.
fn small_wire_limits() -> Limits {
    Limits {
        max_size: 4096,
        max_items: 16,
    }
}

/// A generated interface's demux: the request decoded from the wire by
/// each of the kernel's and the file system's interfaces; a routine it
/// recognises encodes back to a request that decodes to the same call.
pub fn interface_demux(data: &[u8]) {
    let Ok(msg) = wire::decode(data, &Limits::DEFAULT) else {
        return;
    };
    macro_rules! demux {
        ($($iface:path),*) => {$({
            use $iface as iface;
            if let Ok((call, _)) = iface::Call::decode(msg.clone()) {
                let again = call.clone().encode(PortName(1), Disposition::CopySend);
                let (back, _) = iface::Call::decode(again).expect("an encoded call decodes");
                assert_eq!(back, call, "encode then decode changed the call");
            }
        })*};
    }
    demux!(
        hurd_abi::interfaces::mach,
        hurd_abi::interfaces::mach_port,
        hurd_abi::interfaces::hurd_task,
        hurd_abi::device::device,
        hurd_trans::protocol::io,
        hurd_trans::protocol::fs,
        hurd_trans::protocol::fsys
    );
}

/// A netmsg frame from a peer (`hurd_netmsg::frame::decode`, the bytes
/// after the length): what decodes encodes back to the same bytes.
pub fn netmsg_frame(data: &[u8]) {
    if let Ok(frame) = hurd_netmsg::frame::decode(data, &Limits::DEFAULT) {
        let again = hurd_netmsg::frame::encode(&frame).expect("a decoded frame encodes");
        assert_eq!(&again[4..], data, "decode then encode changed the frame");
    }
}

/// The memory_object calls a pager sends the kernel, on a kernel with one
/// external object mapped: each chunk of the input is a message for the
/// object's control port (or a fault, by its first byte); nothing may
/// panic, and the kernel's frames all come back once the map and object
/// are gone.
pub fn pager_replies(data: &[u8]) {
    pager::run(data);
}

mod pager {
    use hurd_ipc::PortName;
    use hurd_ipc::wire::{self, Limits};
    use hurd_vm::soft_mmu::{SoftMmu, SoftPhys};
    use hurd_vm::{ControlCall, PAGE_SIZE, Vm, VmInherit, VmProt};

    const PAGER: PortName = PortName(100);
    const CONTROL: PortName = PortName(200);
    const FRAMES: usize = 16;

    pub fn run(data: &[u8]) {
        let mut vm = Vm::new(SoftMmu::new(), SoftPhys::new(FRAMES));
        let Ok(map) = vm.create_map() else { return };
        let Ok((obj, _)) = vm.create_external_object(PAGER, CONTROL) else {
            return;
        };
        let Ok(addr) = vm.map_object(
            map,
            0,
            4 * PAGE_SIZE,
            true,
            obj,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        ) else {
            return;
        };
        let mut rest = data;
        while let Some((&op, tail)) = rest.split_first() {
            // A length, then that many bytes of a message.
            let Some((len, tail)) = tail.split_first_chunk::<2>() else {
                break;
            };
            let len = usize::from(u16::from_le_bytes(*len)).min(tail.len());
            let (chunk, tail) = tail.split_at(len);
            rest = tail;
            match op % 4 {
                0 | 1 => {
                    if let Ok(msg) = wire::decode(chunk, &Limits::DEFAULT)
                        && let Ok((call, _)) = ControlCall::decode(msg)
                    {
                        let control = if op % 4 == 0 { CONTROL } else { PortName(7) };
                        let _ = vm.handle_pager_message(control, call);
                    }
                }
                2 => {
                    let page = u64::from(chunk.first().copied().unwrap_or(0) % 5);
                    let mut b = [0u8; 1];
                    let _ = vm.load(map, addr + page * PAGE_SIZE, &mut b);
                }
                _ => {
                    let page = u64::from(chunk.first().copied().unwrap_or(0) % 5);
                    let _ = vm.store(map, addr + page * PAGE_SIZE, &[op]);
                }
            }
            vm.take_outgoing();
        }
        let _ = vm.destroy_map(map);
    }
}

/// An executable the kernel or the exec server loads
/// (`hurd_abi::elf::parse`), and a static Linux program the emulator
/// checks (`linux_abi::elf`).
pub fn elf(data: &[u8]) {
    if let Ok(exe) = hurd_abi::elf::parse(data, 0x1000, 0x8000_0000_0000) {
        for segment in &exe.segments {
            assert!(segment.vaddr >= 0x1000, "a segment below the range");
        }
    }
    let _ = linux_abi::elf::LinuxElf::parse(data, data.len() as u64);
}

/// The multiboot (v1 and v2) information a loader leaves
/// (`hurd_kernel::multiboot::parse`): the input is memory from address
/// 0x9000, the first byte picks the loader's magic.
pub fn multiboot(data: &[u8]) {
    use hurd_kernel::multiboot::{self, LOADER_MAGIC, LOADER_MAGIC2, OutOfReach, PhysMemory};

    struct Image<'a>(&'a [u8]);
    impl PhysMemory for Image<'_> {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), OutOfReach> {
            let offset = addr.checked_sub(BASE).ok_or(OutOfReach)?;
            let offset = usize::try_from(offset).map_err(|_| OutOfReach)?;
            let end = offset.checked_add(buf.len()).ok_or(OutOfReach)?;
            buf.copy_from_slice(self.0.get(offset..end).ok_or(OutOfReach)?);
            Ok(())
        }
    }
    const BASE: u64 = 0x9000;

    let Some((&which, image)) = data.split_first() else {
        return;
    };
    let magic = if which & 1 == 0 {
        LOADER_MAGIC
    } else {
        LOADER_MAGIC2
    };
    let _ = multiboot::parse(&Image(image), magic, BASE as u32);
}

/// A tar archive (`hurd_trans::tar::Reader`, which tarfs and the root file
/// system's loader use): entries within the limits, every read of their
/// data answered.
pub fn tar(data: &[u8]) {
    use hurd_trans::tar::{Limits, Reader};
    const SMALL: Limits = Limits {
        max_entries: 64,
        max_name: 512,
        max_extended: 8192,
        max_global: 1024,
        max_sparse: 64,
        max_index: 1 << 16,
    };
    let mut r = Reader::with_limits(data, SMALL);
    let mut count = 0;
    let mut buf = [0u8; 512];
    while let Ok(Some(e)) = r.next_entry() {
        count += 1;
        assert!(count <= SMALL.max_entries, "entries beyond the limit");
        assert!(e.header.path.len() <= SMALL.max_name);
        let size = e.data.size;
        for at in [0, size / 2, size.saturating_sub(1), size, u64::MAX] {
            let _ = e.data.read(r.source_mut(), at, &mut buf);
        }
    }
}

/// The image's manifest (`distro_image::Manifest::parse_bytes`).
pub fn manifest(data: &[u8]) {
    let _ = distro_image::Manifest::parse_bytes(data);
}

/// The structures a Linux program hands the emulator by address
/// (`linux_abi::layout`): whatever decodes encodes back to the same bytes
/// where the layout has no padding.
pub fn linux_layouts(data: &[u8]) {
    use linux_abi::layout::{
        Iovec, KSigaction, PollFd, Rlimit, StackT, Termios, Timespec, Timeval, UContext, Winsize,
    };
    macro_rules! round_trip {
        ($($ty:ty),*) => {$(
            if let Some(v) = <$ty>::from_bytes(data) {
                let again = v.to_bytes();
                assert_eq!(
                    <$ty>::from_bytes(&again),
                    Some(v),
                    concat!(stringify!($ty), ": to_bytes then from_bytes changed it")
                );
            }
        )*};
    }
    round_trip!(
        Timespec, Timeval, Iovec, PollFd, Rlimit, KSigaction, StackT, Termios, Winsize
    );
    let _ = UContext::from_bytes(data);
}
