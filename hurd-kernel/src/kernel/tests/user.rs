//! User-mode tests: programs from the boot modules (the `kernel-test-programs`
//! crate) run as tasks in ring 3 and talk through `mach_msg`.

use alloc::vec::Vec;

use hurd_abi::{EXIT_EXCEPTION_BASE, SERVICE_PORT_NAME};
use hurd_ipc::{Disposition, PortName, RightType};
use hurd_kernel::multiboot::BootInfo;

use crate::sched;
use crate::task::{DEFAULT_PRIORITY, TaskId, with_kernel};

/// Why a test failed.
pub type Failure = &'static str;

/// The bytes of the boot module whose file name is `name`.
fn module(boot: &BootInfo, name: &str) -> Result<&'static [u8], Failure> {
    let found = boot.modules.iter().find(|m| {
        m.name
            .split_whitespace()
            .next()
            .and_then(|path| path.rsplit('/').next())
            == Some(name)
    });
    let Some(m) = found else {
        log::error!(
            "boot module {name} is missing (the xtask passes the user programs with -initrd)"
        );
        return Err("a user program is missing from the boot modules");
    };
    Ok(module_bytes(m))
}

/// Starts the program `name` with `arg`.
fn spawn(boot: &BootInfo, name: &str, arg: u64) -> Result<TaskId, Failure> {
    let image = module(boot, name)?;
    with_kernel(|k| k.spawn(name, image, arg, DEFAULT_PRIORITY)).map_err(|err| {
        log::error!("starting {name}: {err:?}");
        "a user program could not be started"
    })
}

/// Gives `server` a receive right and each client a send right to it, all
/// under [`SERVICE_PORT_NAME`].
fn connect(server: TaskId, clients: &[TaskId]) -> Result<(), Failure> {
    with_kernel(|k| {
        let space = |t: TaskId| k.tasks.get(&t).map(|t| t.space).ok_or("no such task");
        let server_space = space(server)?;
        let name = PortName(SERVICE_PORT_NAME);
        k.ipc
            .port_allocate_name(server_space, RightType::Receive, name)
            .map_err(|_| "port_allocate_name failed")?;
        for &client in clients {
            let client_space = space(client)?;
            k.ipc
                .port_insert_right(
                    client_space,
                    name,
                    server_space,
                    name,
                    Disposition::MakeSend,
                )
                .map_err(|_| "port_insert_right failed")?;
        }
        Ok(())
    })
}

/// Runs until every task in `tasks` has ended (at most ten seconds of
/// ticks), returns their statuses and forgets them.
fn finish(tasks: &[TaskId]) -> Result<Vec<u64>, Failure> {
    finish_within(tasks, 10 * crate::arch::timer::HZ)
}

/// [`finish`] with a limit of `max_ticks`.
fn finish_within(tasks: &[TaskId], max_ticks: u64) -> Result<Vec<u64>, Failure> {
    let done = sched::run_until(
        |k| {
            tasks
                .iter()
                .all(|t| k.tasks.get(t).is_none_or(|t| t.exit_status.is_some()))
        },
        max_ticks,
    );
    with_kernel(|k| {
        if !done {
            for &t in tasks {
                log_threads(k, t);
            }
            for &t in tasks {
                k.terminate(t, u64::MAX);
            }
        }
        let statuses = tasks
            .iter()
            .map(|t| {
                k.tasks
                    .remove(t)
                    .and_then(|t| t.exit_status)
                    .unwrap_or(u64::MAX)
            })
            .collect();
        if done {
            Ok(statuses)
        } else {
            Err("the tasks did not finish in time")
        }
    })
}

/// Logs what each thread of `task` is doing (for a test that timed out).
fn log_threads(k: &crate::task::Kernel, task: TaskId) {
    let Some(t) = k.tasks.get(&task) else { return };
    for id in &t.threads {
        let Some(thread) = k.threads.get(id) else {
            continue;
        };
        let pending = match &thread.pending {
            None => "nothing",
            Some(crate::task::Pending::Receive { .. }) => "a receive",
            Some(crate::task::Pending::Send { .. }) => "a send",
            Some(crate::task::Pending::Fault { .. }) => "a page",
            Some(crate::task::Pending::CopyOut { .. }) => "a copy-out",
            Some(crate::task::Pending::ConsoleRead { .. }) => "the console",
        };
        log::error!(
            "task {task} ({}) thread {id}: {:?}, waiting for {pending}, priority {}",
            t.name,
            thread.state,
            thread.priority
        );
    }
}

fn expect(statuses: &[u64], want: &[u64]) -> Result<(), Failure> {
    if statuses == want {
        Ok(())
    } else {
        log::error!("exit statuses {statuses:x?}, expected {want:x?}");
        Err("a task ended with the wrong status")
    }
}

/// A task's exit status (given as its argument, returned from main, passed
/// to the EXIT system call) reaches the kernel.
pub fn exit_status_arrives(boot: &BootInfo) -> Result<(), Failure> {
    let task = spawn(boot, "exiter", 42)?;
    expect(&finish(&[task])?, &[42])
}

/// A task given the device master port (as the bootstrap task gives it to
/// its drivers) reaches the virtio block device's configuration space,
/// registers, DMA memory and interrupt line, and is refused every region
/// and register that is not the device's; a task without the port is
/// refused everything. The DMA memory returns when the driver ends (the
/// frame count test after this one sees it).
pub fn a_driver_reaches_its_device_and_nothing_else(boot: &BootInfo) -> Result<(), Failure> {
    let driver = spawn(boot, "device-driver", 0)?;
    let outsider = spawn(boot, "device-driver", 1)?;
    with_kernel(|k| {
        let space = k
            .tasks
            .get(&driver)
            .map(|t| t.space)
            .ok_or("no such task")?;
        k.give_device_master(space, PortName(hurd_abi::device::DEVICE_MASTER_PORT_NAME))
            .map_err(|_| "the device master port could not be given")
    })?;
    expect(&finish(&[driver, outsider])?, &[0, 0])
}

/// The `virtio-blk` driver (a distro program), given the device master
/// port, serves the test disk through Mach's device interface to a client
/// (`disk-client`: sizes, reads, writes, refusals); when the client ends
/// the driver as a crash would (`task_terminate` on its task port), the
/// client's next request fails at once.
pub fn a_disk_served_by_its_driver(boot: &BootInfo) -> Result<(), Failure> {
    let driver = spawn(boot, "virtio-blk", 0)?;
    let client = spawn(boot, "disk-client", 0)?;
    connect(driver, &[client])?;
    with_kernel(|k| {
        let space = |t: TaskId| k.tasks.get(&t).map(|t| t.space).ok_or("no such task");
        let (driver_space, client_space) = (space(driver)?, space(client)?);
        k.give_device_master(
            driver_space,
            PortName(hurd_abi::device::DEVICE_MASTER_PORT_NAME),
        )
        .map_err(|_| "the device master port could not be given")?;
        let kp = k.kport.ok_or("no kernel port")?;
        let port = k.tasks.get(&driver).map(|t| t.port).ok_or("no such task")?;
        k.ipc
            .port_insert_right(
                client_space,
                PortName(0x12),
                kp.space,
                port,
                Disposition::MakeSend,
            )
            .map_err(|_| "the driver's task port could not be given")
    })?;
    expect(
        &finish_within(&[client, driver], 60 * crate::arch::timer::HZ)?,
        &[0, hurd_abi::EXIT_TERMINATED],
    )
}

/// The `virtio-net` driver (a distro program), given the device master
/// port, serves the network device through Mach's device interface to a
/// client (`net-client`) that asks QEMU's user-network gateway for its
/// address by ARP and gets the reply through a packet filter, with the
/// filters' priorities, replacement and the refusals. The driver is ended
/// when the client is done, and every frame the two held (the driver's DMA
/// memory included) is free again.
pub fn a_network_device_served_by_its_driver(boot: &BootInfo) -> Result<(), Failure> {
    let before = crate::arch::mem::free_frames();
    let driver = spawn(boot, "virtio-net", 0)?;
    let client = spawn(boot, "net-client", 0)?;
    connect(driver, &[client])?;
    with_kernel(|k| {
        let space = k
            .tasks
            .get(&driver)
            .map(|t| t.space)
            .ok_or("no such task")?;
        k.give_device_master(space, PortName(hurd_abi::device::DEVICE_MASTER_PORT_NAME))
            .map_err(|_| "the device master port could not be given")
    })?;
    let done = finish_within(&[client], 30 * crate::arch::timer::HZ);
    with_kernel(|k| {
        k.terminate(driver, u64::MAX);
        k.tasks.remove(&driver);
    });
    expect(&done?, &[0])?;
    let after = crate::arch::mem::free_frames();
    if after != before {
        log::error!("{before} free frames before, {after} after");
        return Err("the driver and its client leaked frames");
    }
    // The device it drove no longer reaches memory.
    let command = with_kernel(|k| {
        let f =
            k.devices.functions.iter().find(|f| {
                f.record.vendor == 0x1af4 && matches!(f.record.device, 0x1000 | 0x1041)
            })?;
        let bytes = hurd_kernel::pci::read_bytes(
            &mut *crate::arch::pci::CONFIG.lock(),
            f.record.address,
            4,
            2,
        );
        Some(u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]))
    });
    match command {
        Some(c) if c & crate::device::BUS_MASTER == 0 => Ok(()),
        other => {
            log::error!("the network function's command register after its driver: {other:x?}");
            Err("a device whose driver ended still reaches memory")
        }
    }
}

/// `pfinet` (a distro program) on the `virtio-net` driver serves
/// `tcp-client` through the Hurd's socket interface on QEMU's user
/// network, with the address QEMU's DHCP server leases it (10.0.2.15, the
/// gateway 10.0.2.2; the xtask checks pfinet's line naming the lease): a
/// TCP connection to an echo process on the host, bytes there
/// and back; then a connection from the host to the client's listening
/// socket, echoed (the xtask plays the host's side once the client says
/// it listens); then a file read by TFTP over UDP from QEMU's TFTP server.
/// The servers are ended when the client is done, and every frame the
/// three held is free again.
pub fn tcp_through_pfinet(boot: &BootInfo) -> Result<(), Failure> {
    let before = crate::arch::mem::free_frames();
    let driver = spawn(boot, "virtio-net", 0)?;
    // 0: the address by DHCP.
    let pfinet = spawn(boot, "pfinet", 0)?;
    let client = spawn(boot, "tcp-client", 0)?;
    connect(driver, &[])?;
    connect(pfinet, &[client])?;
    with_kernel(|k| {
        let space = |t: TaskId| k.tasks.get(&t).map(|t| t.space).ok_or("no such task");
        let (driver_space, pfinet_space) = (space(driver)?, space(pfinet)?);
        k.give_device_master(
            driver_space,
            PortName(hurd_abi::device::DEVICE_MASTER_PORT_NAME),
        )
        .map_err(|_| "the device master port could not be given")?;
        k.ipc
            .port_insert_right(
                pfinet_space,
                PortName(hurd_abi::device::DEVICE_MASTER_PORT_NAME),
                driver_space,
                PortName(SERVICE_PORT_NAME),
                Disposition::MakeSend,
            )
            .map_err(|_| "port_insert_right failed")
    })?;
    let done = finish_within(&[client], 30 * crate::arch::timer::HZ);
    with_kernel(|k| {
        for t in [pfinet, driver] {
            k.terminate(t, u64::MAX);
            k.tasks.remove(&t);
        }
    });
    expect(&done?, &[0])?;
    let after = crate::arch::mem::free_frames();
    if after != before {
        log::error!("{before} free frames before, {after} after");
        return Err("the servers and their client leaked frames");
    }
    Ok(())
}

/// The disk as a file: `storeio-client`, a bootstrap task given the
/// `virtio-blk` and `storeio` programs as modules (and so the device master
/// port), starts the driver, then `storeio vd0` on the driver's master port
/// as its parent file system, and reads, seeks and writes the disk through
/// the io interface; storeio on a device the driver lacks is refused; after
/// the driver's end a read is an error, not a hang.
pub fn the_disk_as_a_file_through_storeio(boot: &BootInfo) -> Result<(), Failure> {
    let image = module(boot, "storeio-client")?;
    let modules: [(&str, &[u8]); 2] = [
        ("virtio-blk", module(boot, "virtio-blk")?),
        ("storeio", module(boot, "storeio")?),
    ];
    let task = with_kernel(|k| k.spawn_bootstrap("storeio-client", image, "", &modules)).map_err(
        |err| {
            log::error!("starting storeio-client: {err:?}");
            "the storeio client could not be started"
        },
    )?;
    expect(&finish_within(&[task], 60 * crate::arch::timer::HZ)?, &[0])
}

/// ext2 on a disk: `ext2-client`, a bootstrap task given the `virtio-blk`
/// and `ext2fs` programs as modules, starts the driver on the second disk
/// (an ext2 file system `mke2fs -d` made), then `ext2fs vd0` on the
/// driver's master port as its parent file system; it reads the files put
/// there, makes a directory and writes a file in it, syncs and unmounts.
/// The xtask then checks the image with `e2fsck -fn` and `debugfs`.
pub fn ext2_on_a_disk_through_its_driver(boot: &BootInfo) -> Result<(), Failure> {
    let image = module(boot, "ext2-client")?;
    let modules: [(&str, &[u8]); 2] = [
        ("virtio-blk", module(boot, "virtio-blk")?),
        ("ext2fs", module(boot, "ext2fs")?),
    ];
    let task =
        with_kernel(|k| k.spawn_bootstrap("ext2-client", image, "", &modules)).map_err(|err| {
            log::error!("starting ext2-client: {err:?}");
            "the ext2 client could not be started"
        })?;
    expect(&finish_within(&[task], 60 * crate::arch::timer::HZ)?, &[0])
}

/// The bytes of a boot module.
fn module_bytes(m: &hurd_kernel::multiboot::Module) -> &'static [u8] {
    // SAFETY: the module lies in the direct map, in frames the allocator
    // reserved at boot, and nothing writes to it.
    unsafe {
        core::slice::from_raw_parts(
            crate::arch::physmem::virt(m.start) as *const u8,
            (m.end - m.start) as usize,
        )
    }
}

/// A normal boot: runs `first` as the bootstrap task with the modules
/// `rest` until it ends; returns its status.
pub fn run_bootstrap(
    boot: &BootInfo,
    first: &hurd_kernel::multiboot::Module,
    rest: &[hurd_kernel::multiboot::Module],
) -> u64 {
    let others: Vec<(&str, &[u8])> = rest
        .iter()
        .map(|m| (m.name.as_str(), module_bytes(m)))
        .collect();
    let spawned = with_kernel(|k| {
        k.spawn_bootstrap(
            first.name.as_str(),
            module_bytes(first),
            boot.cmdline.as_str(),
            &others,
        )
    });
    match spawned {
        // No time limit: the bootstrap task is the system (an interactive
        // console can wait for its user as long as it likes).
        Ok(task) => finish_within(&[task], u64::MAX)
            .ok()
            .and_then(|s| s.first().copied())
            .unwrap_or(u64::MAX),
        Err(err) => {
            log::error!("the bootstrap module cannot run: {err:?}");
            u64::MAX
        }
    }
}

/// The bootstrap task gets the command line and the other boot modules.
pub fn bootstrap_gets_modules(boot: &BootInfo) -> Result<(), Failure> {
    let image = module(boot, "bootstrap")?;
    let others: Vec<(&str, &[u8])> = boot
        .modules
        .iter()
        .filter(|m| !m.name.contains("bootstrap"))
        .map(|m| (m.name.as_str(), module_bytes(m)))
        .collect();
    let count = others.len() as u64;
    let task =
        with_kernel(|k| k.spawn_bootstrap("bootstrap", image, boot.cmdline.as_str(), &others))
            .map_err(|err| {
                log::error!("starting bootstrap: {err:?}");
                "the bootstrap task could not be started"
            })?;
    // The program exits with the number of modules it found intact.
    expect(&finish(&[task])?, &[count])
}

/// The bootstrap task starts programs from its modules itself, loading
/// each into a new task through the VM calls on task ports (`exec` on its
/// command line): a program runs and exits with its argument, one that
/// faults is killed while the next still runs, and a module that is not a
/// program is refused without harm.
pub fn bootstrap_starts_programs(boot: &BootInfo) -> Result<(), Failure> {
    let image = module(boot, "bootstrap")?;
    let exiter = module(boot, "exiter")?;
    let bad = module(boot, "bad-access")?;
    let not_elf: &[u8] = b"#!/bin/sh\necho not a program\n";
    let modules: [(&str, &[u8]); 4] = [
        ("exiter", exiter),
        ("bad-access", bad),
        ("script", not_elf),
        ("exiter", exiter),
    ];
    let before: Vec<TaskId> = with_kernel(|k| k.tasks.iter().map(|(id, _)| id).collect());
    let task = with_kernel(|k| k.spawn_bootstrap("bootstrap", image, "exec", &modules)).map_err(
        |err| {
            log::error!("starting bootstrap: {err:?}");
            "the bootstrap task could not be started"
        },
    )?;
    // Three programs started; the script was refused.
    expect(&finish(&[task])?, &[3])?;
    let children: Vec<TaskId> = with_kernel(|k| {
        k.tasks
            .iter()
            .filter(|(id, t)| {
                !before.contains(id) && *id != task && t.name.starts_with("bootstrap")
            })
            .map(|(id, _)| id)
            .collect()
    });
    // exiter gets 40 + its module number; bad-access faults (#PF).
    let fault = hurd_abi::EXIT_EXCEPTION_BASE + 14;
    expect(&finish(&children)?, &[40, fault, 43])
}

/// A line typed on the serial console reaches a task blocked reading it
/// (the test run is fed that line once the task says it is ready).
pub fn console_input_reaches_a_reader(boot: &BootInfo) -> Result<(), Failure> {
    let reader = spawn(boot, "console-reader", 0)?;
    expect(
        &finish_within(&[reader], 60 * crate::arch::timer::HZ)?,
        &[0],
    )
}

/// The `mach_port_*` calls through `KernelIpc` (trap and RPCs): right
/// accounting, port sets, queue limits, notifications, names, refusals.
pub fn port_calls(boot: &BootInfo) -> Result<(), Failure> {
    let task = spawn(boot, "port-calls", 0)?;
    expect(&finish(&[task])?, &[0])
}

/// The emulation vector (calls with no hurd-rs trap go to a handler in the
/// task, inherited by task_create, bounded, checked), the FS and GS bases
/// (a thread's own, kept across switches, checked), `thread_abort` of a
/// receive and of a blocked send, and the SSE registers (a thread's own,
/// clear at first).
pub fn emulation_segment_bases_and_abort(boot: &BootInfo) -> Result<(), Failure> {
    let task = spawn(boot, "emulation", 0)?;
    expect(&finish(&[task])?, &[0])
}

/// A static Linux program (`linux-exit42`: `musl-gcc -static`, exit status
/// 42) runs with no Linux in the kernel: `linux-forward` (the distro's
/// Linux emulator crate) loads it into a new task from user space with
/// Linux's initial stack, sends its system calls to a handler page through
/// the emulation vector and answers them over RPC (`arch_prctl` sets the FS
/// base), and checks the calls and the status.
pub fn a_linux_program_runs_through_the_emulation_vector(boot: &BootInfo) -> Result<(), Failure> {
    let loader = module(boot, "linux-forward")?;
    let program = module(boot, "linux-exit42")?;
    let modules: [(&str, &[u8]); 1] = [("linux-exit42", program)];
    let task = with_kernel(|k| k.spawn_bootstrap("linux-forward", loader, "", &modules)).map_err(
        |err| {
            log::error!("starting linux-forward: {err:?}");
            "the Linux program's loader could not be started"
        },
    )?;
    expect(&finish(&[task])?, &[0])
}

/// Static Linux programs (`musl-gcc -static`: `linux-hello`, memory from
/// `mmap` and `brk`, `uname`, `writev`; `linux-files`, files and
/// directories; `linux-time`, clocks and sleeping) and a Rust `std` one
/// (`linux-hello-rs`, built for `x86_64-unknown-linux-musl`) run with the
/// emulator in their own task: `linux-run` loads
/// each with it, the emulator sets the emulation vector and carries the
/// calls out itself, the file calls as RPCs to a tmpfs `linux-run` serves;
/// the output reaches `linux-run` as `io_write` and is what the program
/// prints on Linux. `linux-fork` forks (`task_create` inheriting the
/// memory, `proc_child` at a proc server `linux-run` serves), waits
/// (`proc_wait`) and execs itself again.
pub fn a_linux_program_runs_with_the_emulator_in_its_task(boot: &BootInfo) -> Result<(), Failure> {
    let runner = module(boot, "linux-run")?;
    let modules: [(&str, &[u8]); 6] = [
        ("linux-emulation", module(boot, "linux-emulation")?),
        ("linux-hello", module(boot, "linux-hello")?),
        ("linux-files", module(boot, "linux-files")?),
        ("linux-time", module(boot, "linux-time")?),
        ("linux-hello-rs", module(boot, "linux-hello-rs")?),
        ("linux-fork", module(boot, "linux-fork")?),
    ];
    let task =
        with_kernel(|k| k.spawn_bootstrap("linux-run", runner, "", &modules)).map_err(|err| {
            log::error!("starting linux-run: {err:?}");
            "the Linux program's starter could not be started"
        })?;
    expect(&finish(&[task])?, &[0])
}

/// hurd-auth's auth server and a hurd-trans tmpfs serve a client on the
/// kernel, unchanged from the hosted world: lookups, I/O, makeauth,
/// reauthentication, and a permission refused by the ids the auth server
/// vouched for.
pub fn servers_run_on_the_kernel(boot: &BootInfo) -> Result<(), Failure> {
    let task = spawn(boot, "kernel-servers", 0)?;
    expect(&finish_within(&[task], 60 * crate::arch::timer::HZ)?, &[0])
}

/// Round trips between two tasks, and a send right carried in a message.
pub fn echo_round_trips_and_right_transfer(boot: &BootInfo) -> Result<(), Failure> {
    let server = spawn(boot, "echo-server", 0)?;
    let client = spawn(boot, "echo-client", 200)?;
    connect(server, &[client])?;
    expect(&finish(&[server, client])?, &[0, 0])
}

/// An `interface!` server and client written against hurd-ipc's `UserIpc`
/// run as two tasks through the system calls (`hurd_rt::KernelIpc`):
/// the generated stubs and `serve` loop, `MIG_BAD_ID` for an unknown id.
pub fn interface_server_and_client(boot: &BootInfo) -> Result<(), Failure> {
    let server = spawn(boot, "rt-echo-server", 0)?;
    let client = spawn(boot, "rt-echo-client", 0)?;
    connect(server, &[client])?;
    expect(&finish(&[server, client])?, &[0, 0])
}

/// A sender sees its destination die with the receiver's task.
pub fn port_death_seen_by_sender(boot: &BootInfo) -> Result<(), Failure> {
    let server = spawn(boot, "exiter", 0)?;
    let client = spawn(boot, "dead-port-client", 0)?;
    connect(server, &[client])?;
    expect(&finish(&[server, client])?, &[0, 0])
}

/// Page faults served by a user-space pager: a client maps the pager's
/// memory object and reads it; each fault becomes a `data_request` to the
/// pager task, whose `data_supply` the kernel maps.
pub fn pager_serves_faults(boot: &BootInfo) -> Result<(), Failure> {
    let pager = spawn(boot, "pager", 0)?;
    let client = spawn(boot, "pager-client", 0)?;
    connect(pager, &[client])?;
    expect(&finish(&[pager, client])?, &[0, 0])
}

/// System calls whose buffers lie on pages a pager has not supplied yet
/// wait for it (copy-in and copy-out) and complete.
pub fn system_calls_wait_for_pagers(boot: &BootInfo) -> Result<(), Failure> {
    let pager = spawn(boot, "pager", 0)?;
    let client = spawn(boot, "pager-syscalls", 0)?;
    connect(pager, &[client])?;
    expect(&finish(&[pager, client])?, &[0, 0])
}

/// A pager that dies with requests outstanding: the system call waiting for
/// it fails with an error, later accesses to its memory fail, the task
/// touching it is killed; nothing hangs.
pub fn dead_pager_fails_waiting_faults(boot: &BootInfo) -> Result<(), Failure> {
    let pager = spawn(boot, "pager-dies", 0)?;
    let client = spawn(boot, "pager-dead-client", 0)?;
    connect(pager, &[client])?;
    expect(&finish(&[pager, client])?, &[0, EXIT_EXCEPTION_BASE + 14])
}

/// Two threads of one task, one message between them.
pub fn threads_of_one_task(boot: &BootInfo) -> Result<(), Failure> {
    let task = spawn(boot, "threads", 0)?;
    expect(&finish(&[task])?, &[0])
}

/// Two threads of one task in RPC, a thousand round trips: a thread made
/// ready by its peer's message runs at once, so they end well within a
/// second of timer ticks (a wake-up left for the timer would cost ticks a
/// round trip).
pub fn threads_of_one_task_in_rpc(boot: &BootInfo) -> Result<(), Failure> {
    let task = spawn(boot, "thread-pingpong", 1000)?;
    let start = crate::arch::timer::ticks();
    let statuses = finish_within(&[task], crate::arch::timer::HZ);
    log::info!(
        "thread-pingpong: {} ticks",
        crate::arch::timer::ticks() - start
    );
    expect(&statuses?, &[0])
}

/// The same thousand round trips beside a task of their priority that
/// computes without end: the thread a message wakes runs before it, which
/// gets the processor when a time slice ends, so the round trips still
/// finish within a second of ticks (a woken thread queued behind the
/// spinner would wait a time slice each time: 1,000 of them).
pub fn rpc_between_threads_beside_a_spinner(boot: &BootInfo) -> Result<(), Failure> {
    let spinner = spawn(boot, "spin", 0)?;
    let task = spawn(boot, "thread-pingpong", 1000)?;
    let start = crate::arch::timer::ticks();
    let statuses = finish_within(&[task], 2 * crate::arch::timer::HZ);
    log::info!(
        "thread-pingpong beside a spinner: {} ticks",
        crate::arch::timer::ticks() - start
    );
    with_kernel(|k| k.terminate(spinner, 0));
    finish(&[spinner])?;
    expect(&statuses?, &[0])
}

/// The higher priority runs first: started second, it ends first.
pub fn higher_priority_runs_first(boot: &BootInfo) -> Result<(), Failure> {
    let image = module(boot, "exiter")?;
    let (low, high) = with_kernel(|k| {
        let low = k.spawn("exiter", image, 1, DEFAULT_PRIORITY + 4);
        let high = k.spawn("exiter", image, 2, DEFAULT_PRIORITY - 4);
        (low, high)
    });
    let (low, high) = (
        low.map_err(|_| "spawn failed")?,
        high.map_err(|_| "spawn failed")?,
    );
    let order = with_kernel(|k| k.tasks.get(&low).is_none());
    if order {
        return Err("task vanished");
    }
    sched::run_until(
        |k| {
            [low, high]
                .iter()
                .all(|t| k.tasks.get(t).is_some_and(|t| t.exit_status.is_some()))
        },
        10 * crate::arch::timer::HZ,
    );
    let (lo, hi) = with_kernel(|k| {
        let order = |t: TaskId| k.tasks.get(&t).map_or(0, |t| t.exit_order);
        (order(low), order(high))
    });
    expect(&finish(&[low, high])?, &[1, 2])?;
    if hi != 0 && lo != 0 && hi < lo {
        Ok(())
    } else {
        log::error!("exit order: low priority {lo}, high priority {hi}");
        Err("the lower priority task ran first")
    }
}

/// A task that never enters the kernel does not keep a peer of its priority
/// from running: the timer preempts it.
pub fn timer_preempts_a_spinning_task(boot: &BootInfo) -> Result<(), Failure> {
    let spinner = spawn(boot, "spin", 0)?;
    let peer = spawn(boot, "exiter", 5)?;
    let ran = sched::run_until(
        |k| k.tasks.get(&peer).is_some_and(|t| t.exit_status.is_some()),
        10 * crate::arch::timer::HZ,
    );
    with_kernel(|k| k.terminate(spinner, 0));
    let statuses = finish(&[peer, spinner])?;
    if !ran {
        return Err("the peer never ran beside a spinning task");
    }
    expect(&statuses, &[5, 0])
}

/// A pager that answers garbage and then `data_error`: the garbage is
/// refused, the faulting task is killed, the kernel goes on.
pub fn pager_error_kills_faulting_task(boot: &BootInfo) -> Result<(), Failure> {
    let pager = spawn(boot, "bad-pager", 0)?;
    let client = spawn(boot, "pager-client", 0)?;
    connect(pager, &[client])?;
    // The client dies at its first fault; then stop the pager.
    let died = sched::run_until(
        |k| {
            k.tasks
                .get(&client)
                .is_some_and(|t| t.exit_status.is_some())
        },
        10 * crate::arch::timer::HZ,
    );
    with_kernel(|k| k.terminate(pager, 0));
    let statuses = finish(&[client, pager])?;
    if !died {
        return Err("the client's fault never ended");
    }
    expect(&statuses, &[EXIT_EXCEPTION_BASE + 14, 0])
}

/// Task ports: one task suspends, resumes and terminates another through
/// its task port.
pub fn task_port_suspend_resume_terminate(boot: &BootInfo) -> Result<(), Failure> {
    let server = spawn(boot, "echo-server", 0)?;
    let controller = spawn(boot, "task-control", 0)?;
    connect(server, &[controller])?;
    with_kernel(|k| {
        let kp = k.kport.ok_or("no kernel port")?;
        let port = k.tasks.get(&server).map(|t| t.port).ok_or("no task")?;
        let space = k.tasks.get(&controller).map(|t| t.space).ok_or("no task")?;
        k.ipc
            .port_insert_right(space, PortName(0x20), kp.space, port, Disposition::MakeSend)
            .map_err(|_| "port_insert_right failed")
    })?;
    expect(
        &finish(&[server, controller])?,
        &[hurd_abi::EXIT_TERMINATED, 0],
    )
}

/// Thread ports: `mach_thread_self`, `thread_create`, `thread_get_state` /
/// `thread_set_state` (bad states refused), suspend / resume, terminate,
/// requests to a dead thread (the program checks each step).
pub fn thread_ports_create_state_suspend_terminate(boot: &BootInfo) -> Result<(), Failure> {
    let task = spawn(boot, "thread-control", 0)?;
    expect(&finish(&[task])?, &[0])
}

/// `task_create` from user space: an empty task (its thread faults and it
/// is killed), a task with a copy of its creator's memory (its thread runs
/// and exits with status 7), a task terminated with no threads.
pub fn task_create_empty_and_inherited(boot: &BootInfo) -> Result<(), Failure> {
    let before = crate::arch::mem::free_frames();
    let task = spawn(boot, "task-create", 0)?;
    let statuses = finish(&[task])?;
    let children = with_kernel(|k| {
        let ids: Vec<TaskId> = k
            .tasks
            .iter()
            .filter(|(_, t)| t.name == "task-create (child)")
            .map(|(id, _)| id)
            .collect();
        let mut statuses = Vec::new();
        for id in ids {
            if let Some(t) = k.tasks.remove(&id) {
                statuses.push(t.exit_status.unwrap_or(u64::MAX));
            }
        }
        // In the order of their numbers, which reuse the numbers of tasks
        // that ended before: the three statuses differ, so sorted they
        // still say that each child ended its own way.
        statuses.sort_unstable();
        statuses
    });
    expect(&statuses, &[0])?;
    expect(
        &children,
        &[7, EXIT_EXCEPTION_BASE + 14, hurd_abi::EXIT_TERMINATED],
    )?;
    if crate::arch::mem::free_frames() != before {
        log::error!(
            "{before} free frames before, {} after",
            crate::arch::mem::free_frames()
        );
        return Err("creating tasks leaked frames");
    }
    Ok(())
}

/// Sends beyond the queue limit block until the receiver makes room, and
/// arrive in order.
pub fn full_queue_blocks_sender(boot: &BootInfo) -> Result<(), Failure> {
    let sink = spawn(boot, "sink", 20)?;
    let client = spawn(boot, "flood-client", 0)?;
    connect(sink, &[client])?;
    expect(&finish(&[sink, client])?, &[0, 0])
}

/// A send to a full queue nobody empties times out (`MACH_SEND_TIMEOUT`).
pub fn full_queue_send_times_out(boot: &BootInfo) -> Result<(), Failure> {
    // The receiver of the service port is a task that never receives.
    let idle = spawn(boot, "spin", 0)?;
    let client = spawn(boot, "flood-client", 1)?;
    connect(idle, &[client])?;
    sched::run_until(
        |k| {
            k.tasks
                .get(&client)
                .is_some_and(|t| t.exit_status.is_some())
        },
        10 * crate::arch::timer::HZ,
    );
    with_kernel(|k| k.terminate(idle, 0));
    expect(&finish(&[client, idle])?, &[0, 0])
}

/// An image that is not an executable is refused, and nothing leaks.
pub fn bad_executable_refused(_: &BootInfo) -> Result<(), Failure> {
    let before = crate::arch::mem::free_frames();
    let mut garbage = [0u8; 256];
    garbage[..4].copy_from_slice(b"\x7fELF");
    let result = with_kernel(|k| k.spawn("garbage", &garbage, 0, DEFAULT_PRIORITY));
    if result.is_ok() {
        return Err("a garbage image was started");
    }
    if crate::arch::mem::free_frames() != before {
        return Err("refusing an image leaked frames");
    }
    Ok(())
}

/// A task that writes to kernel memory is killed; the others finish.
pub fn bad_access_killed_others_continue(boot: &BootInfo) -> Result<(), Failure> {
    let server = spawn(boot, "echo-server", 0)?;
    let bad = spawn(boot, "bad-access", 0)?;
    let client = spawn(boot, "echo-client", 50)?;
    connect(server, &[client])?;
    expect(
        &finish(&[server, bad, client])?,
        &[0, EXIT_EXCEPTION_BASE + 14, 0],
    )
}

/// Bad pointers and arguments to system calls are error returns.
pub fn bad_arguments_are_errors(boot: &BootInfo) -> Result<(), Failure> {
    let task = spawn(boot, "bad-arguments", 0)?;
    expect(&finish(&[task])?, &[0])
}

/// A receive with a timeout on an empty port times out.
pub fn receive_times_out(boot: &BootInfo) -> Result<(), Failure> {
    let task = spawn(boot, "rcv-timeout", 0)?;
    expect(&finish(&[task])?, &[0])
}

/// Every task's memory and ports are gone after the tests: no frames leak.
pub fn no_frames_leak(boot: &BootInfo) -> Result<(), Failure> {
    let before = crate::arch::mem::free_frames();
    echo_round_trips_and_right_transfer(boot)?;
    let after = crate::arch::mem::free_frames();
    if after == before {
        Ok(())
    } else {
        log::error!("{before} free frames before, {after} after");
        Err("running two tasks leaked frames")
    }
}

/// The benchmark run: null RPCs between two tasks and null system calls
/// (measured by the client), and the time to the first user instruction.
pub fn bench(boot: &BootInfo) -> Result<(), Failure> {
    let server = spawn(boot, "bench-server", 0)?;
    let client = spawn(boot, "bench-client", 1000)?;
    connect(server, &[client])?;
    let statuses = finish(&[server, client])?;
    // A Linux system call that needs no RPC: `linux-run` starts
    // `linux-getpid` with the emulator, which prints `bench linux_getpid`.
    let modules: [(&str, &[u8]); 2] = [
        ("linux-emulation", module(boot, "linux-emulation")?),
        ("linux-getpid", module(boot, "linux-getpid")?),
    ];
    let runner = module(boot, "linux-run")?;
    let linux = with_kernel(|k| k.spawn_bootstrap("linux-run", runner, "bench", &modules))
        .map_err(|err| {
            log::error!("starting linux-run: {err:?}");
            "the Linux program's starter could not be started"
        })?;
    expect(&finish(&[linux])?, &[0])?;

    crate::kprintln!(
        "bench boot_to_first_user {}",
        sched::FIRST_USER_TSC.load(core::sync::atomic::Ordering::Relaxed)
    );
    expect(&statuses, &[0, 0])
}

/// The kernel heap in use, in bytes.
fn heap_used() -> usize {
    crate::arch::heap::usage().0
}

/// Runs the `exhaust` program once (its children forgotten with it).
fn exhaust_once(boot: &BootInfo) -> Result<(), Failure> {
    let task = spawn(boot, "exhaust", 0)?;
    let statuses = finish_within(&[task], 120 * crate::arch::timer::HZ)?;
    with_kernel(|k| {
        let children: Vec<TaskId> = k
            .tasks
            .iter()
            .filter(|(_, t)| t.name == "exhaust (child)")
            .map(|(id, _)| id)
            .collect();
        for id in children {
            k.tasks.remove(&id);
        }
    });
    expect(&statuses, &[0])
}

/// A task that asks for ports, threads, tasks and address map regions
/// without end is refused each with `KERN_RESOURCE_SHORTAGE` (never a
/// kernel panic); what it made is released when it ends (a second run
/// leaves the heap where the first did: task and thread numbers are used
/// again, so no table grows with the number ever made), and other tasks go
/// on.
pub fn task_limits_are_resource_shortage(boot: &BootInfo) -> Result<(), Failure> {
    exhaust_once(boot)?;
    let first = heap_used();
    exhaust_once(boot)?;
    let second = heap_used();
    log::info!("kernel heap: {first} bytes in use after one run, {second} after two");
    // Another task runs as before.
    exit_status_arrives(boot)?;
    // The run makes some 260 tasks and threads: a few hundred bytes kept
    // for each number ever used would be 60 KiB or more; 8,192 ports, 128
    // threads and 128 tasks leaking would be megabytes.
    if second > first + 8 * 1024 {
        log::error!("kernel heap: {first} bytes in use after one run, {second} after two");
        return Err("the kernel kept what a task made beyond its limits");
    }
    Ok(())
}

/// The seed of the hostile task's calls (any will do; a failure names it).
const HOSTILE_SEED: u64 = 24;

/// A task issuing thousands of seeded random system calls and messages
/// for six seconds (bad names, bad pointers, wrong rights, damaged
/// messages, huge sizes, unknown traps, another task's port, a child's
/// task and thread ports): it gets only return codes and comes back from
/// every call, an echo server and client beside it go on as usual, and
/// once it has ended the kernel's space and heap are about as they were.
pub fn a_hostile_task_gets_only_error_codes(boot: &BootInfo) -> Result<(), Failure> {
    let names = || {
        with_kernel(|k| {
            let space = k.kport.map(|kp| kp.space).ok_or("no kernel space")?;
            k.ipc.space_name_count(space).map_err(|_| "no kernel space")
        })
    };
    let (names_before, heap_before) = (names()?, heap_used());
    let hostile = spawn(boot, "hostile", HOSTILE_SEED)?;
    // Another task's port: its receiver never receives, so the queue fills.
    let idle = spawn(boot, "spin", 0)?;
    connect(idle, &[hostile])?;
    let server = spawn(boot, "echo-server", 0)?;
    let client = spawn(boot, "echo-client", 500)?;
    connect(server, &[client])?;
    let statuses = finish_within(&[hostile, server, client], 60 * crate::arch::timer::HZ);
    with_kernel(|k| {
        k.terminate(idle, 0);
        k.tasks.remove(&idle);
        // Its children, and theirs (a child may be sent task_create too).
        let children: Vec<TaskId> = k
            .tasks
            .iter()
            .filter(|(_, t)| t.name.starts_with("hostile (child)"))
            .map(|(id, _)| id)
            .collect();
        for id in children {
            k.terminate(id, 0);
            k.tasks.remove(&id);
        }
    });
    expect(&statuses?, &[0, 0, 0])?;
    // Other tasks start and end as before.
    exit_status_arrives(boot)?;
    let (names_after, heap_after) = (names()?, heap_used());
    log::info!(
        "hostile task: the kernel's space {names_before} names before, {names_after} after; \
         heap {heap_before} bytes before, {heap_after} after"
    );
    if names_after != names_before {
        return Err("rights the hostile task sent stayed in the kernel's space");
    }
    if heap_after > heap_before + 64 * 1024 {
        return Err("the hostile task's calls grew the kernel heap");
    }
    Ok(())
}

/// Requests the kernel refuses, each carrying rights (and some answered
/// through a send right), sent by a task to its own task port hundreds of
/// times: every right is released, so the kernel's space and heap are as
/// they were once the task has ended.
pub fn refused_rights_do_not_grow_the_kernel(boot: &BootInfo) -> Result<(), Failure> {
    let names = || {
        with_kernel(|k| {
            let space = k.kport.map(|kp| kp.space).ok_or("no kernel space")?;
            k.ipc.space_name_count(space).map_err(|_| "no kernel space")
        })
    };
    let (names_before, heap_before) = (names()?, heap_used());
    let task = spawn(boot, "rights-to-kernel", 0)?;
    expect(&finish_within(&[task], 120 * crate::arch::timer::HZ)?, &[0])?;
    let (names_after, heap_after) = (names()?, heap_used());
    if names_after != names_before {
        log::error!("the kernel's space: {names_before} names before, {names_after} after");
        return Err("rights of refused requests stayed in the kernel's space");
    }
    if heap_after > heap_before + 64 * 1024 {
        log::error!("kernel heap: {heap_before} bytes in use before, {heap_after} after");
        return Err("refused requests grew the kernel heap");
    }
    Ok(())
}

/// A task that takes memory until none is left (one page per page table,
/// so that each of its pages needs a table too) is ended by the fault the
/// kernel cannot serve, whatever number of frames is left when it starts:
/// its page is refused while the page tables still have their reserve, so
/// the kernel never runs out of frames for tables. Its memory comes back
/// and the next task runs.
pub fn memory_exhaustion_ends_the_task_not_the_kernel(boot: &BootInfo) -> Result<(), Failure> {
    use crate::arch::mem::{self, TABLE_RESERVE};
    let before = mem::free_frames();
    // One frame more or less left: where the frames end falls on the
    // task's page once and on its table once.
    for extra in 0..2 {
        let task = spawn(boot, "memory-hog", 0)?;
        let held = super::HeldFrames::until(TABLE_RESERVE + 200 + extra, mem::alloc_frame);
        let statuses = finish(&[task]);
        drop(held);
        expect(&statuses?, &[EXIT_EXCEPTION_BASE + 14])?;
    }
    if mem::free_frames() != before {
        log::error!("{before} frames free before, {} after", mem::free_frames());
        return Err("the ended task's frames did not come back");
    }
    exit_status_arrives(boot)
}
