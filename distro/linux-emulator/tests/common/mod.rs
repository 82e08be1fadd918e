//! The world the emulator's file tests share: a tmpfs served on hurd-ipc's
//! hosted runtime, by a task of its own, whose root is both the process's
//! root and its working directory.
#![allow(dead_code, clippy::unwrap_used)]

use hurd_auth::IdSet;
use hurd_ipc::PortName;
use hurd_ipc::hosted::{Runtime, Task};
use hurd_trans::flags::OpenFlags;
use hurd_trans::netfs::{self, Options};
use hurd_trans::translators::tmpfs::Tmpfs;
use linux_abi::flags::{AT_FDCWD, O_CREAT, O_WRONLY};
use linux_emulator::files::Files;

/// The process's side: its task and files (the runtime kept alive).
pub struct World {
    pub rt: Runtime,
    pub task: Task,
    pub files: Files,
}

/// Writes to the console go nowhere.
pub fn no_console(_: &[u8]) {}

/// An empty tmpfs (1 MiB, root's, mode 0755).
pub fn world() -> World {
    let rt = Runtime::new();
    let task = rt.task();
    let (_, control) = netfs::spawn(
        rt.task(),
        Tmpfs::new(0, 0, 0o755, 1 << 20),
        PortName::NULL,
        None,
        Options::default(),
        &task,
    )
    .unwrap();
    let root = netfs::getroot(&task, control, &IdSet::root(), OpenFlags::READ).unwrap();
    let files = Files::new(root, root, PortName::NULL, no_console);
    World { rt, task, files }
}

impl World {
    /// Makes the file `name` holding `data` (mode 0644).
    pub fn put(&mut self, name: &[u8], data: &[u8]) {
        let fd = self
            .files
            .openat(&self.task, AT_FDCWD, name, O_WRONLY | O_CREAT, 0o644)
            .unwrap();
        assert_eq!(
            self.files.write(&self.task, fd, data, None),
            Ok(data.len() as u64)
        );
        self.files.close(&self.task, fd).unwrap();
    }

    /// Makes the directory `name` (mode 0755) under the root.
    pub fn mkdir(&self, name: &str) {
        hurd_trans::protocol::fs::Client::new(&self.task, self.files.crdir)
            .dir_mkdir(name.into(), 0o755)
            .unwrap();
    }
}
