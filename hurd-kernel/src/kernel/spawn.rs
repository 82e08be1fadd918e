//! Starting programs: an executable image loaded into a new task (its
//! segments and stack), and the bootstrap task given the command line and
//! the other boot modules.

use alloc::vec::Vec;

use hurd_abi::elf;
use hurd_abi::{USER_BASE, USER_STACK_SIZE, USER_STACK_TOP};
use hurd_vm::{MapId, VmProt};

use crate::arch::uaccess;
use crate::task::{DEFAULT_PRIORITY, Kernel, TaskId};

/// Why a program could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnError {
    /// The image is not a loadable executable.
    Elf(elf::ElfError),
    /// The VM refused the address space, a segment or the stack (overlap,
    /// no memory).
    Vm(hurd_vm::VmError),
    /// Copying the image into the new address space failed.
    Copy,
}

impl Kernel {
    /// Loads the executable `image` into a new task and starts its first
    /// thread at the entry point with `arg` in `rdi`.
    pub fn spawn(
        &mut self,
        name: &str,
        image: &[u8],
        arg: u64,
        priority: u8,
    ) -> Result<TaskId, SpawnError> {
        let exe = elf::parse(image, USER_BASE, USER_STACK_TOP - USER_STACK_SIZE)
            .map_err(SpawnError::Elf)?;
        let map = self.vm.create_map().map_err(SpawnError::Vm)?;
        let result = self.load(map, image, &exe);
        if let Err(err) = result {
            let _ = self.vm.destroy_map(map);
            return Err(err);
        }
        let Ok(id) = self.create_task(name, map) else {
            let _ = self.vm.destroy_map(map);
            return Err(SpawnError::Vm(hurd_vm::VmError::ResourceShortage));
        };
        if self
            .spawn_thread(id, exe.entry, USER_STACK_TOP, arg, priority)
            .is_err()
        {
            self.terminate(id, hurd_abi::EXIT_TERMINATED);
            return Err(SpawnError::Vm(hurd_vm::VmError::ResourceShortage));
        }
        Ok(id)
    }

    /// Starts the bootstrap task: the program `image`, given the command line
    /// and the other boot modules (copied into its memory) through a
    /// [`BootstrapInfo`](hurd_abi::BootstrapInfo) at
    /// [`BOOTSTRAP_INFO_ADDR`](hurd_abi::BOOTSTRAP_INFO_ADDR).
    pub fn spawn_bootstrap(
        &mut self,
        name: &str,
        image: &[u8],
        cmdline: &str,
        modules: &[(&str, &[u8])],
    ) -> Result<TaskId, SpawnError> {
        use hurd_abi::{BOOTSTRAP_INFO_ADDR, BOOTSTRAP_MAGIC, BootstrapInfo, BootstrapModule};
        let task = self.spawn(name, image, BOOTSTRAP_INFO_ADDR, DEFAULT_PRIORITY)?;
        // The bootstrap task holds the device master port (and hands it to
        // the drivers it starts).
        if let Some(space) = self.tasks.get(&task).map(|t| t.space)
            && let Err(err) = self.give_device_master(
                space,
                hurd_ipc::PortName(hurd_abi::device::DEVICE_MASTER_PORT_NAME),
            )
        {
            log::warn!("the bootstrap task has no device master port: {err:?}");
        }
        let map = self
            .tasks
            .get(&task)
            .map(|t| t.map)
            .ok_or(SpawnError::Copy)?;
        // The table, then the strings, in one region.
        let head = core::mem::size_of::<BootstrapInfo>();
        let entry = core::mem::size_of::<BootstrapModule>();
        let mut strings = Vec::new();
        let strings_at = BOOTSTRAP_INFO_ADDR + (head + entry * modules.len()) as u64;
        let mut table = Vec::new();
        let info = BootstrapInfo {
            magic: BOOTSTRAP_MAGIC,
            cmdline_addr: strings_at,
            cmdline_len: cmdline.len() as u64,
            module_count: modules.len() as u64,
        };
        strings.extend_from_slice(cmdline.as_bytes());
        for (name, bytes) in modules {
            let size = (bytes.len() as u64).max(1);
            let addr = self
                .vm
                .allocate(map, BOOTSTRAP_INFO_ADDR + (1 << 30), size, true)
                .map_err(SpawnError::Vm)?;
            uaccess::copy_out(&mut self.vm, map, addr, bytes).map_err(|e| {
                e.abandon(&mut self.vm);
                SpawnError::Copy
            })?;
            table.push(BootstrapModule {
                addr,
                size: bytes.len() as u64,
                name_addr: strings_at + strings.len() as u64,
                name_len: name.len() as u64,
            });
            strings.extend_from_slice(name.as_bytes());
        }
        let mut bytes = Vec::new();
        for word in [
            info.magic,
            info.cmdline_addr,
            info.cmdline_len,
            info.module_count,
        ] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        for m in &table {
            for word in [m.addr, m.size, m.name_addr, m.name_len] {
                bytes.extend_from_slice(&word.to_le_bytes());
            }
        }
        bytes.extend_from_slice(&strings);
        self.vm
            .allocate(map, BOOTSTRAP_INFO_ADDR, bytes.len() as u64, false)
            .map_err(SpawnError::Vm)?;
        uaccess::copy_out(&mut self.vm, map, BOOTSTRAP_INFO_ADDR, &bytes).map_err(|e| {
            e.abandon(&mut self.vm);
            SpawnError::Copy
        })?;
        Ok(task)
    }

    /// Maps the segments and the stack of `exe` into `map`.
    fn load(&mut self, map: MapId, image: &[u8], exe: &elf::Executable) -> Result<(), SpawnError> {
        for seg in &exe.segments {
            let start = seg.vaddr & !0xfff;
            let end = (seg.vaddr + seg.mem_size + 0xfff) & !0xfff;
            self.vm
                .allocate(map, start, end - start, false)
                .map_err(SpawnError::Vm)?;
            let bytes = &image[seg.offset as usize..(seg.offset + seg.file_size) as usize];
            uaccess::copy_out(&mut self.vm, map, seg.vaddr, bytes).map_err(|e| {
                e.abandon(&mut self.vm);
                SpawnError::Copy
            })?;
            let mut prot = VmProt::NONE;
            if seg.read {
                prot |= VmProt::READ;
            }
            if seg.write {
                prot |= VmProt::WRITE;
            }
            if seg.execute {
                prot |= VmProt::EXECUTE | VmProt::READ;
            }
            self.vm
                .protect(map, start, end - start, false, prot)
                .map_err(SpawnError::Vm)?;
        }
        self.vm
            .allocate(
                map,
                USER_STACK_TOP - USER_STACK_SIZE,
                USER_STACK_SIZE,
                false,
            )
            .map_err(SpawnError::Vm)?;
        Ok(())
    }
}
