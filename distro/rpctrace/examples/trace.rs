//! `rpctrace show /tmp/hello` on the hosted server set: boots it, installs
//! rpctrace and a small program, runs the program traced as alice, and
//! prints what the program printed and the trace.

use std::sync::Arc;

use hurd_ipc::{Disposition, PortItem, PortName, UserIpc};
use hurd_servers::exec::{
    self, EXEC_NEWTASK, INIT_PORT_AUTH, INIT_PORT_CRDIR, INIT_PORT_CWDIR, INIT_PORT_MAX,
    WaitStatus, argz, copy_send,
};
use hurd_servers::hosted::{DEMO_ACCOUNTS, Program, ProgramContext, System};
use hurd_trans::flags::OpenFlags;
use hurd_trans::protocol::io;

// ANCHOR: show
/// `show FILE`: opens FILE by name, reads it and writes it to standard
/// output.
fn show() -> Program {
    Arc::new(|ctx: &ProgramContext| {
        let name = ctx.argv.get(1).cloned().unwrap_or_default();
        let Ok(file) = ctx.lookup().open(&name, OpenFlags::READ, 0) else {
            return 1;
        };
        let data = io::Client::new(&ctx.task, file).read(-1, 100);
        let _ = ctx.task.port_deallocate(file);
        match data {
            Ok(data) => i32::from(ctx.write(1, &data).is_err()),
            Err(_) => 1,
        }
    })
}
// ANCHOR_END: show

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: install
    let sys = System::boot(DEMO_ACCOUNTS)?;
    sys.install_program("/bin/rpctrace", rpctrace::hosted::program())?;
    sys.install_program("/bin/show", show())?;
    // ANCHOR_END: install
    let task = sys.task();
    let s = sys.login(&task, "alice", "wonderland")?;
    s.write_file("/tmp/hello", b"hello, world\n", false)?;

    let out = s.open_for_output("/tmp/out", false)?;
    let mut ports = [PortName::NULL; INIT_PORT_MAX];
    ports[INIT_PORT_CWDIR] = s.cwdir;
    ports[INIT_PORT_CRDIR] = s.crdir;
    ports[INIT_PORT_AUTH] = s.auth;
    let exec_port = sys.exec_server(&task)?;
    let null = PortItem {
        disposition: Disposition::CopySend,
        name: PortName::NULL,
    };
    // ANCHOR: run
    let argv = ["rpctrace", "-o", "/tmp/trace", "show", "/tmp/hello"];
    let status = exec::exec::Client::new(&task, exec_port).exec_file_name(
        null,
        null,
        EXEC_NEWTASK,
        "/bin/rpctrace".into(),
        argz(&argv),
        argz::<&str>(&[]),
        copy_send(&[PortName::NULL, out, out]),
        copy_send(&ports),
    )?;
    // ANCHOR_END: run
    s.release(out);
    let _ = task.port_deallocate(exec_port);
    print!("{}", String::from_utf8_lossy(&s.read_file("/tmp/out")?));
    print!("{}", String::from_utf8_lossy(&s.read_file("/tmp/trace")?));
    println!("exit status: {:?}", WaitStatus::from_raw(status));
    Ok(())
}
