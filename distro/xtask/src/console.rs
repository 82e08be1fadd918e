//! Talking to a QEMU boot over its serial console: the output is echoed and
//! kept line by line, and a script of steps — wait until the output shows
//! some text (a prompt need not end its line), then type a line — is played
//! on QEMU's standard input. `kernel::boot` is a conversation with no steps.
//! The book's transcripts are conversations too ([`converse_recorded`]):
//! they need to know where in the output each line was typed, and to end
//! the program, and whatever it started, when the transcript is done.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, mpsc};
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
    /// Nothing is typed: once `wait_for` shows, the program is ended (the
    /// conversation is over; this is not a timeout).
    pub stop: bool,
    /// Nothing is typed: once `wait_for` shows, this is called on the host
    /// (it must not block: a long action starts a thread of its own).
    pub call: Option<Call>,
}

/// Something the host does when a step's text shows: connecting to a
/// service the guest announced, say.
#[derive(Clone)]
pub struct Call(pub Arc<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Call(..)")
    }
}

impl PartialEq for Call {
    fn eq(&self, other: &Call) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Call {}

impl Step {
    /// Waits for `wait_for`, then types `send` and a newline.
    pub fn new(wait_for: &str, send: &str) -> Step {
        Step {
            wait_for: wait_for.to_owned(),
            send: send.to_owned(),
            raw: false,
            stop: false,
            call: None,
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

    /// Waits for `wait_for`, then ends the program.
    pub fn stop(wait_for: &str) -> Step {
        Step {
            stop: true,
            ..Step::new(wait_for, "")
        }
    }

    /// Waits for `wait_for`, then calls `action` on the host (nothing is
    /// typed; the conversation goes on at once).
    pub fn call(wait_for: &str, action: impl Fn() + Send + Sync + 'static) -> Step {
        Step {
            call: Some(Call(Arc::new(action))),
            ..Step::new(wait_for, "")
        }
    }
}

/// How long a boot may run: in all, and (for boots that report as they
/// go, as the kernel's tests do one line each) without printing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout {
    /// The whole run.
    pub total: Duration,
    /// The longest silence; `None` for no limit but `total`.
    pub quiet: Option<Duration>,
}

impl From<Duration> for Timeout {
    fn from(total: Duration) -> Timeout {
        Timeout { total, quiet: None }
    }
}

impl Timeout {
    /// Whether a run that started at `start` and last printed at
    /// `last_output` has run out of time at `now`.
    fn expired(&self, start: Instant, last_output: Instant, now: Instant) -> bool {
        now.duration_since(start) >= self.total
            || self
                .quiet
                .is_some_and(|q| now.duration_since(last_output) >= q)
    }
}

/// A conversation as [`converse_recorded`] reports it.
#[derive(Debug)]
pub struct Recorded {
    /// The output and how the program ended.
    pub run: BootRun,
    /// For each step whose text came, in order: the byte offset in
    /// `run.lines.join("\n")` just after that text, where the step's line was
    /// typed (or where the program was ended).
    pub matched: Vec<usize>,
}

/// Runs `command` (a QEMU boot with `-serial stdio`), echoing its output,
/// playing `script` on its input, and kills it after `timeout`. The run
/// reports how far the script got through the lines printed: a step whose
/// text never came leaves the rest untyped.
pub fn converse(
    command: Command,
    timeout: impl Into<Timeout>,
    script: &[Step],
) -> Result<BootRun, String> {
    converse_recorded(command, timeout, script, false).map(|recorded| recorded.run)
}

/// [`converse`], recording where each step's text came. With `own_group`
/// the program runs in a process group of its own, and ending it (at the
/// timeout or a [`Step::stop`]) ends the whole group: whatever it started
/// (`cargo xtask run` starting QEMU) goes too.
pub fn converse_recorded(
    mut command: Command,
    timeout: impl Into<Timeout>,
    script: &[Step],
    own_group: bool,
) -> Result<Recorded, String> {
    let timeout = timeout.into();
    eprintln!("$ {command:?}");
    if own_group {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
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

    let start = Instant::now();
    let mut last_output = start;
    let mut lines = Vec::new();
    let mut partial = String::new();
    // Output not yet matched by a step, and the offset of its first byte
    // in the whole output.
    let mut unmatched = String::new();
    let mut unmatched_at = 0;
    let mut matched = Vec::new();
    let mut steps = script.iter();
    let mut next = steps.next();
    let mut timed_out = false;
    let mut stopped = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(bytes) => {
                last_output = Instant::now();
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
                    unmatched_at += at + step.wait_for.len();
                    matched.push(unmatched_at);
                    if step.stop {
                        stopped = true;
                        break;
                    }
                    if let Some(Call(action)) = &step.call {
                        action();
                        next = steps.next();
                        continue;
                    }
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
                if stopped {
                    kill(&mut child, own_group);
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if timeout.expired(start, last_output, Instant::now()) {
                    timed_out = true;
                    kill(&mut child, own_group);
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
    Ok(Recorded {
        run: BootRun {
            lines,
            status: status.code(),
            stderr,
            timed_out,
        },
        matched,
    })
}

/// Kills a program that overran its time or whose conversation is over,
/// with its process group if it leads one.
fn kill(child: &mut Child, group: bool) {
    if group {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_run_times_out_in_all_or_when_quiet_too_long() {
        let start = Instant::now();
        let s = |n: u64| start + Duration::from_secs(n);
        let total: Timeout = Duration::from_secs(90).into();
        assert!(!total.expired(start, start, s(89)));
        assert!(total.expired(start, s(89), s(90)));
        let quiet = Timeout {
            total: Duration::from_secs(600),
            quiet: Some(Duration::from_secs(60)),
        };
        // Output every minute or so keeps it going past 90 s...
        assert!(!quiet.expired(start, s(250), s(300)));
        // ...but not a silence of a minute, nor past the total.
        assert!(quiet.expired(start, s(240), s(300)));
        assert!(quiet.expired(start, s(599), s(600)));
    }

    #[test]
    fn a_call_runs_once_when_its_text_shows_and_the_script_goes_on() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let mut sh = Command::new("sh");
        sh.args(["-c", "echo one; echo two; read x; echo \"read $x\""]);
        let script = [
            Step::call("one", move || {
                counted.fetch_add(1, Ordering::SeqCst);
            }),
            Step::new("two", "typed"),
        ];
        let run = converse(sh, Duration::from_secs(20), &script).expect("the conversation");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(run.lines, ["one", "two", "read typed"]);
        assert!(!run.timed_out);
    }
}
