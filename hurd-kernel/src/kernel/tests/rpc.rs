//! In-kernel tests of the RPC server ([`crate::rpc`]): requests the kernel
//! refuses are answered, and the rights they carried are released.

use hurd_abi::{hurd_task, mach, mach_port};
use hurd_ipc::mig::REPLY_ID_OFFSET;
use hurd_ipc::{
    Disposition, Item, KernReturn, Message, MigReturn, PortItem, PortName, RecvOptions, RightType,
};

use crate::task::{Kernel, TaskId, with_kernel};

type Failure = &'static str;

/// A task with no threads, and in its space: a send right to its task port,
/// a port whose rights the requests carry, and a reply port.
struct Fixture {
    task: TaskId,
    space: hurd_ipc::SpaceId,
    task_port: PortName,
    port: PortName,
    reply: PortName,
}

fn fixture(k: &mut Kernel) -> Result<Fixture, Failure> {
    let map = k.vm.create_map().map_err(|_| "no address space")?;
    let task = k.create_task("rpc-test", map).map_err(|_| "no task")?;
    let space = k.tasks.get(&task).ok_or("no task")?.space;
    let task_port = k
        .task_port_send_right(task, space)
        .map_err(|_| "no task port")?;
    let port = k
        .ipc
        .port_allocate(space, RightType::Receive)
        .map_err(|_| "port_allocate")?;
    let reply = k
        .ipc
        .port_allocate(space, RightType::Receive)
        .map_err(|_| "port_allocate")?;
    Ok(Fixture {
        task,
        space,
        task_port,
        port,
        reply,
    })
}

/// Sends `msg` (to the task port, with the reply port) and returns the
/// reply's id and return code.
fn call(k: &mut Kernel, f: &Fixture, msg: Message) -> Result<(i32, i32), Failure> {
    let msg = msg.with_reply(f.reply, Disposition::MakeSendOnce);
    k.ipc.send(f.space, msg, None).map_err(|_| "send failed")?;
    k.process_ipc_events();
    let reply = k
        .ipc
        .receive(f.space, f.reply, RecvOptions::default(), None)
        .map_err(|_| "no reply")?;
    match reply.body.first() {
        Some(Item::U32(code)) => Ok((reply.header.id, *code as i32)),
        _ => Err("a reply without a return code"),
    }
}

/// Whether send rights to the test port exist, and how many send-once.
fn rights_out(k: &mut Kernel, f: &Fixture) -> Result<(bool, u32), Failure> {
    let s = k
        .ipc
        .port_get_receive_status(f.space, f.port)
        .map_err(|_| "status")?;
    Ok((s.srights, s.sorights))
}

fn request(id: i32, f: &Fixture) -> Message {
    Message::new(id, f.task_port, Disposition::CopySend)
}

pub fn refused_requests_release_their_rights(
    _: &hurd_kernel::multiboot::BootInfo,
) -> Result<(), Failure> {
    with_kernel(|k| {
        let f = fixture(k)?;
        let send = |f: &Fixture| Item::port(f.port, Disposition::MakeSend);
        let send_once = |f: &Fixture| Item::port(f.port, Disposition::MakeSendOnce);
        let bad_id = MigReturn::BadId as i32;
        let bad_arguments = MigReturn::BadArguments as i32;

        // An id no interface has, carrying a send right.
        let got = call(k, &f, request(2999, &f).with_item(send(&f)))?;
        if got != (2999 + REPLY_ID_OFFSET, bad_id) {
            return Err("an unknown id is not answered MIG_BAD_ID");
        }
        if rights_out(k, &f)? != (false, 0) {
            return Err("the right an unknown request carried was kept");
        }
        // A skipped id of mach.defs (vm_inherit, 2025), with a send-once right.
        let got = call(k, &f, request(2025, &f).with_item(send_once(&f)))?;
        if got.1 != bad_id {
            return Err("a skipped routine is not refused");
        }
        // Released unused, the send-once right sends its notification.
        let notified = k
            .ipc
            .receive(f.space, f.port, RecvOptions::default(), None)
            .is_ok_and(|m| m.header.id == hurd_ipc::notify::NOTIFY_SEND_ONCE);
        if !notified || rights_out(k, &f)? != (false, 0) {
            return Err("a skipped routine's send-once right is kept");
        }
        // task_create with a port instead of a boolean.
        let got = call(
            k,
            &f,
            request(mach::id::task_create, &f).with_item(send(&f)),
        )?;
        if got.1 != bad_arguments || rights_out(k, &f)? != (false, 0) {
            return Err("a malformed task_create is not refused, or its right kept");
        }
        // task_notify_exit with a send right (it takes a send-once right).
        let msg = hurd_task::Call::task_notify_exit {
            notify: PortItem {
                name: f.port,
                disposition: Disposition::MakeSend,
            },
        }
        .encode(f.task_port, Disposition::CopySend);
        let got = call(k, &f, msg)?;
        if got.1 != bad_arguments || rights_out(k, &f)? != (false, 0) {
            return Err("task_notify_exit with a send right is not refused, or the right kept");
        }
        // mach_port_insert_right under a name the space uses for another port.
        let msg = mach_port::Call::mach_port_insert_right {
            name: f.reply.0,
            poly: PortItem {
                name: f.port,
                disposition: Disposition::MakeSend,
            },
        }
        .encode(f.task_port, Disposition::CopySend);
        let got = call(k, &f, msg)?;
        if got.1 == 0 || rights_out(k, &f)? != (false, 0) {
            return Err("an insert under a taken name is not refused, or the right kept");
        }
        // A thread routine on a task port: the port is not of its kind.
        let got = call(k, &f, request(mach::id::thread_suspend, &f))?;
        if got.1 != KernReturn::InvalidArgument as i32 {
            return Err("a thread routine on a task port is not KERN_INVALID_ARGUMENT");
        }
        // And a good request still works: the send right joins the receive
        // right under its name (a space names a port once).
        let msg = mach_port::Call::mach_port_insert_right {
            name: f.port.0,
            poly: PortItem {
                name: f.port,
                disposition: Disposition::MakeSend,
            },
        }
        .encode(f.task_port, Disposition::CopySend);
        if call(k, &f, msg)?.1 != 0 || rights_out(k, &f)? != (true, 0) {
            return Err("mach_port_insert_right did not insert");
        }
        k.terminate(f.task, 0);
        Ok(())
    })
}
