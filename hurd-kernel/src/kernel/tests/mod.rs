//! The in-kernel test run: each test prints `test NAME ... ok` or
//! `... FAILED: why`, and the run ends with the closing line
//! `N passed, M failed` (see [`hurd_kernel::testing`]).

use hurd_kernel::multiboot::{BootInfo, MemoryKind};
use hurd_kernel::testing::Summary;
use hurd_vm::{FrameAllocator, Mmu};

use crate::arch::context;

mod rpc;
mod user;

/// Why a test failed.
type Failure = &'static str;

/// One test.
struct Test {
    name: &'static str,
    run: fn(&BootInfo) -> Result<(), Failure>,
}

/// Every in-kernel test, in order.
const TESTS: &[Test] = &[
    Test {
        name: "boot::memory_map",
        run: memory_map,
    },
    Test {
        name: "boot::image_is_in_available_memory",
        run: image_in_available_memory,
    },
    Test {
        name: "boot::kernel_in_the_upper_half",
        run: kernel_in_the_upper_half,
    },
    Test {
        name: "heap::allocate_and_free",
        run: heap_allocate_and_free,
    },
    Test {
        name: "trap::invalid_opcode_recovered",
        run: invalid_opcode_recovered,
    },
    Test {
        name: "trap::kernel_page_fault_recovered",
        run: kernel_page_fault_recovered,
    },
    Test {
        name: "timer::ticks_advance",
        run: ticks_advance,
    },
    Test {
        name: "timer::uptime_follows_the_ticks",
        run: uptime_follows_the_ticks,
    },
    Test {
        name: "mem::frames_distinct_and_returned",
        run: frames_distinct_and_returned,
    },
    Test {
        name: "vm::fault_maps_zeroed_page_in_own_space",
        run: vm_fault_maps_zeroed_page,
    },
    Test {
        name: "vm::protect_and_copy_on_write",
        run: vm_protect_and_copy_on_write,
    },
    Test {
        name: "vm::page_tables_without_frames_are_errors",
        run: vm_page_tables_without_frames,
    },
    Test {
        name: "ipc::send_and_receive_between_spaces",
        run: ipc_send_and_receive,
    },
    Test {
        name: "ipc::port_death_makes_dead_names",
        run: ipc_port_death,
    },
    Test {
        name: "rpc::refused_requests_release_their_rights",
        run: rpc::refused_requests_release_their_rights,
    },
    Test {
        name: "user::exit_status_arrives",
        run: user::exit_status_arrives,
    },
    Test {
        name: "user::echo_round_trips_and_right_transfer",
        run: user::echo_round_trips_and_right_transfer,
    },
    Test {
        name: "user::interface_server_and_client",
        run: user::interface_server_and_client,
    },
    Test {
        name: "user::port_death_seen_by_sender",
        run: user::port_death_seen_by_sender,
    },
    Test {
        name: "user::bad_access_killed_others_continue",
        run: user::bad_access_killed_others_continue,
    },
    Test {
        name: "user::bad_arguments_are_errors",
        run: user::bad_arguments_are_errors,
    },
    Test {
        name: "user::receive_times_out",
        run: user::receive_times_out,
    },
    Test {
        name: "user::pager_serves_faults",
        run: user::pager_serves_faults,
    },
    Test {
        name: "user::pager_error_kills_faulting_task",
        run: user::pager_error_kills_faulting_task,
    },
    Test {
        name: "user::system_calls_wait_for_pagers",
        run: user::system_calls_wait_for_pagers,
    },
    Test {
        name: "user::dead_pager_fails_waiting_faults",
        run: user::dead_pager_fails_waiting_faults,
    },
    Test {
        name: "user::threads_of_one_task",
        run: user::threads_of_one_task,
    },
    Test {
        name: "user::threads_of_one_task_in_rpc",
        run: user::threads_of_one_task_in_rpc,
    },
    Test {
        name: "user::rpc_between_threads_beside_a_spinner",
        run: user::rpc_between_threads_beside_a_spinner,
    },
    Test {
        name: "user::higher_priority_runs_first",
        run: user::higher_priority_runs_first,
    },
    Test {
        name: "user::timer_preempts_a_spinning_task",
        run: user::timer_preempts_a_spinning_task,
    },
    Test {
        name: "user::task_port_suspend_resume_terminate",
        run: user::task_port_suspend_resume_terminate,
    },
    Test {
        name: "user::thread_ports_create_state_suspend_terminate",
        run: user::thread_ports_create_state_suspend_terminate,
    },
    Test {
        name: "user::task_create_empty_and_inherited",
        run: user::task_create_empty_and_inherited,
    },
    Test {
        name: "user::full_queue_blocks_sender",
        run: user::full_queue_blocks_sender,
    },
    Test {
        name: "user::full_queue_send_times_out",
        run: user::full_queue_send_times_out,
    },
    Test {
        name: "user::bad_executable_refused",
        run: user::bad_executable_refused,
    },
    Test {
        name: "user::bootstrap_gets_modules",
        run: user::bootstrap_gets_modules,
    },
    Test {
        name: "user::servers_run_on_the_kernel",
        run: user::servers_run_on_the_kernel,
    },
    Test {
        name: "user::port_calls",
        run: user::port_calls,
    },
    Test {
        name: "user::emulation_segment_bases_and_abort",
        run: user::emulation_segment_bases_and_abort,
    },
    Test {
        name: "user::a_linux_program_runs_through_the_emulation_vector",
        run: user::a_linux_program_runs_through_the_emulation_vector,
    },
    Test {
        name: "user::a_linux_program_runs_with_the_emulator_in_its_task",
        run: user::a_linux_program_runs_with_the_emulator_in_its_task,
    },
    Test {
        name: "user::console_input_reaches_a_reader",
        run: user::console_input_reaches_a_reader,
    },
    Test {
        name: "user::bootstrap_starts_programs",
        run: user::bootstrap_starts_programs,
    },
    Test {
        name: "user::a_driver_reaches_its_device_and_nothing_else",
        run: user::a_driver_reaches_its_device_and_nothing_else,
    },
    Test {
        name: "user::a_disk_served_by_its_driver",
        run: user::a_disk_served_by_its_driver,
    },
    Test {
        name: "user::the_disk_as_a_file_through_storeio",
        run: user::the_disk_as_a_file_through_storeio,
    },
    Test {
        name: "user::ext2_on_a_disk_through_its_driver",
        run: user::ext2_on_a_disk_through_its_driver,
    },
    Test {
        name: "user::no_frames_leak",
        run: user::no_frames_leak,
    },
    Test {
        name: "user::task_limits_are_resource_shortage",
        run: user::task_limits_are_resource_shortage,
    },
    Test {
        name: "user::refused_rights_do_not_grow_the_kernel",
        run: user::refused_rights_do_not_grow_the_kernel,
    },
    Test {
        name: "user::a_hostile_task_gets_only_error_codes",
        run: user::a_hostile_task_gets_only_error_codes,
    },
    Test {
        name: "user::memory_exhaustion_ends_the_task_not_the_kernel",
        run: user::memory_exhaustion_ends_the_task_not_the_kernel,
    },
    // After the heap tests: the tasks it adds would change the sizes of
    // the kernel's tables indexed by task number that those tests see.
    Test {
        name: "user::a_network_device_served_by_its_driver",
        run: user::a_network_device_served_by_its_driver,
    },
    Test {
        name: "user::tcp_through_pfinet",
        run: user::tcp_through_pfinet,
    },
];

/// Whether a user task can start, make system calls and exit (the
/// `accel-probe` boot).
pub fn user_mode_works(boot: &BootInfo) -> bool {
    user::exit_status_arrives(boot).is_ok()
}

/// The benchmark boot: the bench server and client as the first user tasks;
/// prints `bench NAME VALUE` lines. Returns whether both finished cleanly.
pub fn bench(boot: &BootInfo) -> bool {
    user::bench(boot).is_ok()
}

/// Runs the bootstrap task `first` with the modules `rest` until it ends;
/// returns its status.
pub fn run_bootstrap(
    boot: &BootInfo,
    first: &hurd_kernel::multiboot::Module,
    rest: &[hurd_kernel::multiboot::Module],
) -> u64 {
    user::run_bootstrap(boot, first, rest)
}

// ANCHOR: run
/// Runs every test (or, when `only` names parts of names, those whose
/// names contain one), printing one line each; returns the counts.
pub fn run(boot: &BootInfo, only: &[&str]) -> Summary {
    let mut summary = Summary::default();
    let chosen = |test: &&Test| only.is_empty() || only.iter().any(|part| test.name.contains(part));
    for test in TESTS.iter().filter(chosen) {
        kprint!("test {} ... ", test.name);
        let result = (test.run)(boot);
        match result {
            Ok(()) => kprintln!("ok"),
            Err(why) => kprintln!("FAILED: {why}"),
        }
        summary.record(result.is_ok());
    }
    summary
}
// ANCHOR_END: run

fn memory_map(boot: &BootInfo) -> Result<(), Failure> {
    let available: u64 = boot
        .memory
        .iter()
        .filter(|r| r.kind == MemoryKind::Available)
        .map(|r| r.len)
        .sum();
    if available < 16 << 20 {
        return Err("less than 16 MiB of available memory reported");
    }
    Ok(())
}

fn image_in_available_memory(boot: &BootInfo) -> Result<(), Failure> {
    let (start, end) = crate::arch::boot::image_range();
    let inside = boot
        .memory
        .iter()
        .any(|r| r.kind == MemoryKind::Available && r.start <= start && end <= r.end());
    if inside {
        Ok(())
    } else {
        Err("the kernel image is not inside an available region")
    }
}

/// The kernel runs at its link address in the top 2 GiB, reaches physical
/// memory through the direct map, and left nothing of the boot identity
/// map: the lower half (user space) is empty in the kernel's own tables.
fn kernel_in_the_upper_half(_: &BootInfo) -> Result<(), Failure> {
    use crate::arch::{boot, physmem};
    let code = kernel_in_the_upper_half as *const () as u64;
    let stack = core::ptr::addr_of!(code) as u64;
    if code < boot::KERNEL_OFFSET {
        return Err("the kernel's code is not in the top 2 GiB");
    }
    if stack < physmem::DIRECT_MAP {
        return Err("the kernel's stack is in the lower half");
    }
    // The image seen through the direct map is the image itself.
    let phys = boot::image_phys(code);
    let through_direct_map = crate::arch::trap::probe_read(physmem::virt(phys));
    let through_image = crate::arch::trap::probe_read(code);
    if through_direct_map.is_err() || through_direct_map != through_image {
        return Err("the direct map does not show the image's bytes");
    }
    // Where the image was identity mapped, nothing is mapped now.
    context::load_address_space(None);
    match crate::arch::trap::probe_read(phys) {
        Err((14, addr)) if addr == phys => {}
        _ => return Err("the boot identity map is still there"),
    }
    match crate::arch::trap::probe_read(hurd_abi::USER_BASE) {
        Err((14, _)) => Ok(()),
        _ => Err("the kernel's tables map the bottom of user space"),
    }
}

fn heap_allocate_and_free(_: &BootInfo) -> Result<(), Failure> {
    let (used_before, _) = crate::arch::heap::usage();
    let mut v: alloc::vec::Vec<u64> = alloc::vec::Vec::with_capacity(1 << 16);
    v.extend(0..1 << 16);
    let (used_during, _) = crate::arch::heap::usage();
    if used_during < used_before + (8 << 16) {
        return Err("a 512 KiB vector did not show in the heap's usage");
    }
    if v.iter().copied().sum::<u64>() != (1u64 << 16) * ((1 << 16) - 1) / 2 {
        return Err("the vector's contents are wrong");
    }
    drop(v);
    if crate::arch::heap::usage().0 != used_before {
        return Err("freeing the vector did not return its memory");
    }
    Ok(())
}

fn invalid_opcode_recovered(_: &BootInfo) -> Result<(), Failure> {
    match crate::arch::trap::probe_invalid_opcode() {
        Some(6) => Ok(()),
        Some(_) => Err("ud2 raised something other than #UD"),
        None => Err("ud2 raised no exception"),
    }
}

fn kernel_page_fault_recovered(_: &BootInfo) -> Result<(), Failure> {
    // Above the 4 GiB the direct map covers.
    let unmapped = crate::arch::physmem::DIRECT_MAP + crate::arch::physmem::DIRECT_MAP_SIZE;
    match crate::arch::trap::probe_read(unmapped) {
        Err((14, addr)) if addr == unmapped => {}
        Err(_) => return Err("the fault was not a page fault at the probed address"),
        Ok(_) => return Err("reading above the direct map did not fault"),
    }
    let word = 0x1234_5678_9abc_def0u64;
    match crate::arch::trap::probe_read(core::ptr::addr_of!(word) as u64) {
        Ok(value) if value == word => Ok(()),
        _ => Err("a probe of mapped memory failed"),
    }
}

fn ticks_advance(_: &BootInfo) -> Result<(), Failure> {
    let start = crate::arch::timer::ticks();
    // Generous: three ticks are 30 ms; allow many wake-ups for other reasons.
    for _ in 0..10_000 {
        context::wait_for_interrupt();
        if crate::arch::timer::ticks() >= start + 3 {
            return Ok(());
        }
    }
    Err("the timer did not tick three times")
}

fn uptime_follows_the_ticks(_: &BootInfo) -> Result<(), Failure> {
    let ns_per_tick = 1_000_000_000 / crate::arch::timer::HZ;
    let mut last = crate::arch::timer::uptime_ns();
    let start_ticks = crate::arch::timer::ticks();
    for _ in 0..10_000 {
        context::wait_for_interrupt();
        let now = crate::arch::timer::uptime_ns();
        if now < last {
            return Err("the uptime went back");
        }
        last = now;
        let ticks = crate::arch::timer::ticks();
        // Within the current tick: never less than the ticks say, never a
        // whole tick more.
        if now < ticks * ns_per_tick || now > (ticks + 1) * ns_per_tick {
            return Err("the uptime does not agree with the ticks");
        }
        if ticks >= start_ticks + 3 {
            return Ok(());
        }
    }
    Err("the timer did not tick three times")
}

fn frames_distinct_and_returned(_: &BootInfo) -> Result<(), Failure> {
    let before = crate::arch::mem::free_frames();
    let mut got = alloc::vec::Vec::new();
    for _ in 0..64 {
        got.push(crate::arch::mem::alloc_frame().ok_or("out of frames")?);
    }
    let mut sorted = got.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != got.len() {
        return Err("a frame was handed out twice");
    }
    if crate::arch::mem::free_frames() != before - 64 {
        return Err("the free count did not drop by 64");
    }
    for frame in got {
        crate::arch::mem::free_frame(frame);
    }
    if crate::arch::mem::free_frames() != before {
        return Err("freed frames did not come back");
    }
    Ok(())
}

type KernelVm = hurd_vm::Vm<crate::arch::paging::X86Mmu, crate::arch::mem::KernelPhys>;

fn new_vm() -> KernelVm {
    hurd_vm::Vm::new(
        crate::arch::paging::X86Mmu::default(),
        crate::arch::mem::KernelPhys,
    )
}

/// Runs `f` with the address space of `map` loaded, then restores CR3.
fn in_space<R>(vm: &KernelVm, map: hurd_vm::MapId, f: impl FnOnce() -> R) -> Result<R, Failure> {
    let root = vm
        .mmu()
        .root(map.pmap())
        .ok_or("the map has no page tables")?;
    let old = context::loaded_root();
    context::load_address_space(Some(root));
    let result = f();
    context::load_address_space(Some(old));
    Ok(result)
}

fn vm_fault_maps_zeroed_page(_: &BootInfo) -> Result<(), Failure> {
    use hurd_vm::{FaultAction, VmProt};
    let frames_before = crate::arch::mem::free_frames();
    let mut vm = new_vm();
    let map = vm.create_map().map_err(|_| "no address space")?;
    let addr = vm
        .allocate(map, crate::arch::paging::USER_BASE, 4 * 4096, true)
        .map_err(|_| "vm_allocate failed")?;
    if addr < crate::arch::paging::USER_BASE {
        return Err("vm_allocate placed memory in the kernel's range");
    }
    if vm.fault(map, addr + 4096, VmProt::WRITE) != FaultAction::ZeroFill {
        return Err("a write fault on fresh memory was not a zero fill");
    }
    let pte = vm
        .mmu()
        .query(map.pmap(), addr + 4096)
        .ok_or("no translation after the fault")?;
    if !pte.prot.contains(VmProt::WRITE) {
        return Err("the translation is not writable");
    }
    let ptr = (addr + 4096) as *mut u64;
    let (zero, read_back) = in_space(&vm, map, || {
        // SAFETY: the page at `ptr` is mapped writable in the loaded space
        // (checked above), and the kernel may access user pages (no SMAP).
        unsafe {
            let zero = ptr.read_volatile();
            ptr.add(1).write_volatile(0xfeed_f00d);
            (zero, ptr.add(1).read_volatile())
        }
    })?;
    if zero != 0 || read_back != 0xfeed_f00d {
        return Err("the page was not zero-filled or did not hold a write");
    }
    let mut word = [0u8; 8];
    FrameAllocator::read_frame(vm.phys(), pte.frame, 8, &mut word);
    if u64::from_le_bytes(word) != 0xfeed_f00d {
        return Err("the frame does not hold what the space wrote");
    }
    vm.destroy_map(map).map_err(|_| "vm_map destroy failed")?;
    drop(vm);
    if crate::arch::mem::free_frames() != frames_before {
        return Err("destroying the map leaked frames");
    }
    Ok(())
}

fn vm_protect_and_copy_on_write(_: &BootInfo) -> Result<(), Failure> {
    use hurd_vm::{FaultAction, VmProt};
    let mut vm = new_vm();
    let parent = vm.create_map().map_err(|_| "no address space")?;
    let addr = vm
        .allocate(parent, crate::arch::paging::USER_BASE, 4096, true)
        .map_err(|_| "vm_allocate failed")?;
    if !vm.fault(parent, addr, VmProt::WRITE).is_resolved() {
        return Err("the first fault was not resolved");
    }
    let frame = vm
        .mmu()
        .query(parent.pmap(), addr)
        .ok_or("no translation")?
        .frame;
    FrameAllocator::write_frame(&mut crate::arch::mem::KernelPhys, frame, 0, b"parent");
    let child = vm.fork(parent).map_err(|_| "fork failed")?;
    // The child reads the parent's page, then writing copies it.
    if !vm.fault(child, addr, VmProt::READ).is_resolved() {
        return Err("the child's read fault was not resolved");
    }
    if vm.fault(child, addr, VmProt::WRITE) != FaultAction::CopyUp
        && !vm.fault(child, addr, VmProt::WRITE).is_resolved()
    {
        return Err("the child's write fault was not resolved");
    }
    let child_frame = vm
        .mmu()
        .query(child.pmap(), addr)
        .ok_or("no child translation")?
        .frame;
    if child_frame == frame {
        return Err("the child writes to the parent's frame");
    }
    let mut bytes = [0u8; 6];
    FrameAllocator::read_frame(vm.phys(), child_frame, 0, &mut bytes);
    if &bytes != b"parent" {
        return Err("the child's copy lost the parent's data");
    }
    vm.protect(parent, addr, 4096, false, VmProt::READ)
        .map_err(|_| "vm_protect failed")?;
    let pte = vm.mmu().query(parent.pmap(), addr);
    if pte.is_some_and(|p| p.prot.contains(VmProt::WRITE)) {
        return Err("the page is still writable after vm_protect");
    }
    if !matches!(vm.fault(parent, addr, VmProt::WRITE), FaultAction::Error(_)) {
        return Err("a write to a read-only region did not fail");
    }
    vm.destroy_map(child)
        .map_err(|_| "destroying the child failed")?;
    vm.destroy_map(parent)
        .map_err(|_| "destroying the parent failed")?;
    Ok(())
}

/// Frames taken from the allocator until `free` are left (as many as it
/// gives: data frames stop at the table reserve, table frames at nothing),
/// given back when dropped.
struct HeldFrames(alloc::vec::Vec<u64>);

impl HeldFrames {
    /// Takes frames until `free` are left, stopping where `take` refuses.
    fn until(free: u64, take: fn() -> Option<u64>) -> HeldFrames {
        let mut held = alloc::vec::Vec::new();
        while crate::arch::mem::free_frames() > free {
            match take() {
                Some(frame) => held.push(frame),
                None => break,
            }
        }
        HeldFrames(held)
    }
}

impl Drop for HeldFrames {
    fn drop(&mut self) {
        for frame in self.0.drain(..) {
            crate::arch::mem::free_frame(frame);
        }
    }
}

/// With memory short, a page a task touches is refused before the page
/// tables are (a reserve of frames is kept for them), and with no frame at
/// all, a translation that needs a table, a new address space and a
/// device mapping are each refused with `KERN_RESOURCE_SHORTAGE`: the
/// kernel goes on, and once frames are back the same faults are served.
fn vm_page_tables_without_frames(_: &BootInfo) -> Result<(), Failure> {
    use crate::arch::mem::{self, TABLE_RESERVE};
    use hurd_vm::{FaultAction, VmError, VmProt};
    const GIB: u64 = 1 << 30;
    let frames_before = mem::free_frames();
    let mut vm = new_vm();
    let parent = vm.create_map().map_err(|_| "no address space")?;
    let base = crate::arch::paging::USER_BASE;
    // Two pages 1 GiB apart, so that each needs tables of its own.
    for at in [base, base + GIB] {
        vm.allocate(parent, at, 4096, false)
            .map_err(|_| "vm_allocate failed")?;
        if !vm.fault(parent, at, VmProt::WRITE).is_resolved() {
            return Err("a write fault in the parent was not resolved");
        }
    }
    let child = vm.fork(parent).map_err(|_| "fork failed")?;
    let fresh = vm
        .allocate(child, base + 2 * GIB, 4096, false)
        .map_err(|_| "vm_allocate failed")?;

    let data = HeldFrames::until(0, mem::alloc_frame);
    if mem::free_frames() != TABLE_RESERVE {
        log::error!(
            "{} frames free when data frames ran out",
            mem::free_frames()
        );
        return Err("data frames are not refused at the table reserve");
    }
    // A new page is refused; the tables to map the parent's page are made.
    if vm.fault(child, fresh, VmProt::WRITE) != FaultAction::Error(VmError::ResourceShortage) {
        return Err("a new page was not refused with the frames at the reserve");
    }
    if !vm.fault(child, base, VmProt::READ).is_resolved() {
        return Err("the reserve did not serve the child's page tables");
    }

    let tables = HeldFrames::until(0, mem::alloc_table_frame);
    if mem::free_frames() != 0 {
        return Err("table frames were refused before memory ran out");
    }
    if vm.fault(child, base + GIB, VmProt::READ) != FaultAction::Error(VmError::ResourceShortage) {
        return Err("a translation without a frame for its table was not refused");
    }
    if vm.create_map() != Err(VmError::ResourceShortage) {
        return Err("an address space without a frame was not refused");
    }
    let device = vm
        .mmu()
        .map_physical(child.pmap(), base + 3 * GIB, 0xfee0_0000, false);
    if device != Err(VmError::ResourceShortage) {
        return Err("a device mapping without a frame for its table was not refused");
    }

    drop(tables);
    drop(data);
    if !vm.fault(child, base + GIB, VmProt::READ).is_resolved() {
        return Err("the refused fault was not served once frames were back");
    }
    if vm.fault(child, fresh, VmProt::WRITE) != FaultAction::ZeroFill {
        return Err("the refused page was not served once frames were back");
    }
    vm.destroy_map(child)
        .map_err(|_| "destroying the child failed")?;
    vm.destroy_map(parent)
        .map_err(|_| "destroying the parent failed")?;
    drop(vm);
    if mem::free_frames() != frames_before {
        return Err("frames were lost");
    }
    Ok(())
}

fn ipc_send_and_receive(_: &BootInfo) -> Result<(), Failure> {
    use hurd_ipc::{Disposition, IpcKernel, Item, Message, PortName, RecvOptions, RightType};
    let mut ipc = IpcKernel::new(0);
    let server = ipc.create_space();
    let client = ipc.create_space();
    let port = ipc
        .port_allocate(server, RightType::Receive)
        .map_err(|_| "port_allocate failed")?;
    let send = PortName(0x100);
    ipc.port_insert_right(client, send, server, port, Disposition::MakeSend)
        .map_err(|_| "port_insert_right failed")?;
    let reply = ipc
        .port_allocate(client, RightType::Receive)
        .map_err(|_| "port_allocate failed")?;
    let msg = Message::new(1000, send, Disposition::CopySend)
        .with_reply(reply, Disposition::MakeSendOnce)
        .with_item(Item::U32(42));
    ipc.send(client, msg, None).map_err(|_| "send failed")?;
    let got = ipc
        .receive(server, port, RecvOptions::default(), None)
        .map_err(|_| "receive failed")?;
    if got.header.id != 1000 || got.body != [Item::U32(42)] {
        return Err("the received message differs from the sent one");
    }
    let answer = Message::new(1100, got.header.remote, Disposition::MoveSendOnce);
    ipc.send(server, answer, None).map_err(|_| "reply failed")?;
    let got = ipc
        .receive(client, reply, RecvOptions::default(), None)
        .map_err(|_| "receiving the reply failed")?;
    if got.header.id != 1100 {
        return Err("the reply has the wrong id");
    }
    Ok(())
}

fn ipc_port_death(_: &BootInfo) -> Result<(), Failure> {
    use hurd_ipc::{Disposition, IpcKernel, Message, MsgReturn, PortName, PortType, RightType};
    let mut ipc = IpcKernel::new(0);
    let server = ipc.create_space();
    let client = ipc.create_space();
    let port = ipc
        .port_allocate(server, RightType::Receive)
        .map_err(|_| "port_allocate failed")?;
    let send = PortName(0x100);
    ipc.port_insert_right(client, send, server, port, Disposition::MakeSend)
        .map_err(|_| "port_insert_right failed")?;
    ipc.destroy_space(server);
    let kind = ipc
        .port_type(client, send)
        .map_err(|_| "port_type failed")?;
    if !kind.contains(PortType::DEAD_NAME) {
        return Err("the send right did not become a dead name");
    }
    match ipc.send(client, Message::new(1, send, Disposition::CopySend), None) {
        Err(e) if e.code == MsgReturn::SendInvalidDest => Ok(()),
        Err(_) => Err("sending to a dead name failed with the wrong code"),
        Ok(()) => Err("sending to a dead name succeeded"),
    }
}
