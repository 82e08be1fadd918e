//! Smoke test: an RPC between two hosted tasks.
#![allow(clippy::unwrap_used)]
use hurd_ipc::hosted::Runtime;
use hurd_ipc::*;

#[test]
fn rpc_between_threads() {
    let rt = Runtime::new();
    let server = rt.task();
    let client = rt.task();
    let port = server.port_allocate(RightType::Receive).unwrap();
    let send = server
        .give_right(port, Disposition::MakeSend, &client)
        .unwrap();
    let s2 = server.clone();
    let h = std::thread::spawn(move || {
        for _ in 0..1000 {
            let m = s2.receive(port).unwrap();
            let reply = Message::new(
                m.header.id + 100,
                m.header.remote,
                Disposition::MoveSendOnce,
            );
            s2.send(reply).unwrap();
        }
    });
    let reply = client.port_allocate(RightType::Receive).unwrap();
    for i in 0..1000 {
        let m = Message::new(i, send, Disposition::CopySend)
            .with_reply(reply, Disposition::MakeSendOnce);
        let r = client
            .mach_msg(Some(m), Some(reply), &MsgOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(r.header.id, i + 100);
    }
    h.join().unwrap();
    rt.with_kernel(|k| assert_eq!(k.port_count(), 2));
}
