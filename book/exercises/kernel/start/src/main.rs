//! `pingpong [N]`: N pings (1000 if not given) from the main thread of a
//! task to a second thread of the same task, each answered with a pong
//! through the kernel; prints how many the server answered and the time a
//! round trip took on average.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use hurd_ipc::{Disposition, Error, RightType, UserIpc};
use hurd_rt::time::Instant;
use hurd_rt::{KernelIpc, println};

// ANCHOR: program
hurd_rt::entry!(main);

fn main() -> Result<(), Error> {
    let args = hurd_rt::env::args();
    let rounds: u64 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000);

    // A port, and a send right to it under the same name: the threads of a
    // task share its names, so the server thread receives on it and this
    // one sends to it.
    let ipc = KernelIpc::new();
    let port = ipc.port_allocate(RightType::Receive).map_err(Error::Kern)?;
    ipc.port_insert_right(port, port, Disposition::MakeSend)
        .map_err(Error::Kern)?;
    let server = hurd_rt::thread::spawn(move || pingpong::serve(&KernelIpc::new(), port))
        .map_err(Error::Kern)?;

    let start = Instant::now();
    let mut last = 0;
    for _ in 0..rounds {
        last = pingpong::ping(&ipc, port, last)?;
    }
    let took = start.elapsed();

    // The server's receive fails once the port is gone, and its loop ends.
    ipc.port_destroy(port).map_err(Error::Kern)?;
    let answered = server.join();
    println!("pingpong: {answered} pings answered, the last with {last}");
    let each = took.as_nanos() / u128::from(rounds.max(1));
    println!("pingpong: {each} ns a round trip");
    Ok(())
}
// ANCHOR_END: program
