//! Talking to a QEMU boot over its serial console: the output is echoed and
//! kept line by line, and a script of steps — wait until the output shows
//! some text (a prompt need not end its line), then type a line — is played
//! on QEMU's standard input. `kernel::boot` is a conversation with no steps.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::kernel::BootRun;

/// One step of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Text the console must show (after the previous step's) first.
    pub wait_for: String,
    /// What is typed then (a newline is added unless `raw`).
    pub send: String,
    /// Typed as it is, without a newline (a control character).
    pub raw: bool,
}

impl Step {
    /// Waits for `wait_for`, then types `send` and a newline.
    pub fn new(wait_for: &str, send: &str) -> Step {
        Step {
            wait_for: wait_for.to_owned(),
            send: send.to_owned(),
            raw: false,
        }
    }

    /// Waits for `wait_for`, then types `send` alone (`^C`, `^D`: no
    /// newline follows).
    pub fn raw(wait_for: &str, send: &str) -> Step {
        Step {
            raw: true,
            ..Step::new(wait_for, send)
        }
    }
}

/// Runs `command` (a QEMU boot with `-serial stdio`), echoing its output,
/// playing `script` on its input, and kills it after `timeout`. The run
/// reports how far the script got through the lines printed: a step whose
/// text never came leaves the rest untyped.
pub fn converse(
    mut command: Command,
    timeout: Duration,
    script: &[Step],
) -> Result<BootRun, String> {
    eprintln!("$ {command:?}");
    let mut child = command
        .stdin(if script.is_empty() {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("could not start qemu-system-x86_64: {err}"))?;
    let mut input = child.stdin.take();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let mut stdout = child
        .stdout
        .take()
        .ok_or("qemu's output was not captured")?;
    let reader = std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        loop {
            match stdout.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(chunk[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut stderr_pipe = child
        .stderr
        .take()
        .ok_or("qemu's errors were not captured")?;
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });

    let deadline = Instant::now() + timeout;
    let mut lines = Vec::new();
    let mut partial = String::new();
    // Output not yet matched by a step.
    let mut unmatched = String::new();
    let mut steps = script.iter();
    let mut next = steps.next();
    let mut timed_out = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.min(Duration::from_millis(200))) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).replace('\r', "");
                eprint!("{text}");
                unmatched.push_str(&text);
                partial.push_str(&text);
                while let Some(end) = partial.find('\n') {
                    lines.push(partial[..end].to_owned());
                    partial.drain(..=end);
                }
                while let Some(step) = next {
                    let Some(at) = unmatched.find(&step.wait_for) else {
                        break;
                    };
                    unmatched.drain(..at + step.wait_for.len());
                    if let Some(stdin) = input.as_mut() {
                        let line = if step.raw {
                            step.send.clone()
                        } else {
                            format!("{}\n", step.send)
                        };
                        if stdin
                            .write_all(line.as_bytes())
                            .and_then(|()| stdin.flush())
                            .is_err()
                        {
                            break;
                        }
                    }
                    next = steps.next();
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if Instant::now() >= deadline {
                    timed_out = true;
                    kill(&mut child);
                    break;
                }
            }
        }
    }
    if !partial.is_empty() {
        lines.push(partial);
    }
    drop(input);
    let status = child
        .wait()
        .map_err(|err| format!("waiting for qemu failed: {err}"))?;
    let _ = reader.join();
    let stderr = stderr_reader.join().unwrap_or_default();
    Ok(BootRun {
        lines,
        status: status.code(),
        stderr,
        timed_out,
    })
}

/// Kills a QEMU that overran its time.
fn kill(child: &mut Child) {
    let _ = child.kill();
}
