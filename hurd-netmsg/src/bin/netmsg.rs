//! `netmsg`: run a node, check peers, make keys.
//!
//! ```text
//! netmsg keygen KEYFILE           make a key pair, print its fingerprint
//! netmsg fingerprint KEYFILE      print a key's fingerprint
//! netmsg serve -c CONFIG          run a node (with the echo service)
//! netmsg connect -c CONFIG NODE   authenticate to one peer and report
//! netmsg peers -c CONFIG          list the configured peers and whether each answers
//! ```
//!
//! While serving, a line `peers` on standard input lists the peers and whether
//! each is connected; `quit` stops the node.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use hurd_netmsg::transport::RawConnection;
use hurd_netmsg::{Identity, Node, NodeConfig};

const USAGE: &str = "usage:
  netmsg keygen KEYFILE
  netmsg fingerprint KEYFILE
  netmsg serve -c CONFIG
  netmsg connect -c CONFIG NODE
  netmsg peers -c CONFIG";

/// Logs to standard error, when `NETMSG_LOG` is set (`debug`, `info`, `warn`).
struct Stderr;

impl log::Log for Stderr {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        if r.target().starts_with("hurd_netmsg") {
            eprintln!("[{} {}] {}", r.level(), std::process::id(), r.args());
        }
    }
    fn flush(&self) {}
}

static LOGGER: Stderr = Stderr;

fn main() -> ExitCode {
    if let Some(level) = std::env::var_os("NETMSG_LOG") {
        let level = match level.to_str() {
            Some("debug") => log::LevelFilter::Debug,
            Some("warn") => log::LevelFilter::Warn,
            _ => log::LevelFilter::Info,
        };
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(level);
        }
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netmsg: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let strs: Vec<&str> = args.iter().map(String::as_str).collect();
    match strs.as_slice() {
        ["keygen", file] => keygen(Path::new(file)),
        ["fingerprint", file] => {
            let id = Identity::load(Path::new(file)).map_err(|e| e.to_string())?;
            println!("{}", id.fingerprint());
            Ok(())
        }
        ["serve", "-c", config] => serve(&load(config)?),
        ["connect", "-c", config, node] => {
            let cfg = load(config)?;
            let node: u16 = node
                .parse()
                .map_err(|_| format!("`{node}` is not a node number"))?;
            connect(&cfg, node)
        }
        ["peers", "-c", config] => {
            let cfg = load(config)?;
            let id = Identity::load(&cfg.key).map_err(|e| e.to_string())?;
            for p in &cfg.peers {
                let status = match p.address {
                    None => "no address (it dials us)".to_owned(),
                    Some(_) => match RawConnection::connect(&id, p, true, Duration::from_secs(3)) {
                        Ok(_) => "authenticated".to_owned(),
                        Err(e) => format!("unreachable: {e}"),
                    },
                };
                let addr = p.address.map_or("-".to_owned(), |a| a.to_string());
                println!("peer {} {} {} {}", p.node, addr, p.fingerprint, status);
            }
            Ok(())
        }
        ["help" | "-h" | "--help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command\n{USAGE}")),
    }
}

fn load(path: &str) -> Result<NodeConfig, String> {
    NodeConfig::load(&PathBuf::from(path)).map_err(|e| e.to_string())
}

fn keygen(path: &Path) -> Result<(), String> {
    if path.exists() {
        return Err(format!("{} exists; not overwriting a key", path.display()));
    }
    let id = Identity::generate().map_err(|e| e.to_string())?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(id.key_pem().as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("{}", id.fingerprint());
    Ok(())
}

fn connect(cfg: &NodeConfig, node: u16) -> Result<(), String> {
    let id = Identity::load(&cfg.key).map_err(|e| e.to_string())?;
    let peer = cfg
        .peer(node)
        .ok_or_else(|| format!("node {node} is not a configured peer"))?;
    RawConnection::connect(&id, peer, true, Duration::from_secs(5))?;
    println!(
        "node {node} at {} authenticated as {}",
        peer.address.map_or("-".to_owned(), |a| a.to_string()),
        peer.fingerprint
    );
    Ok(())
}

fn serve(cfg: &NodeConfig) -> Result<(), String> {
    let id = Identity::load(&cfg.key).map_err(|e| e.to_string())?;
    let node = Node::start(cfg.clone(), id).map_err(|e| e.to_string())?;
    node.start_echo()
        .map_err(|e| format!("echo service: {e:?}"))?;
    println!("node {} listening on {}", node.node(), node.local_addr());
    let _ = std::io::stdout().flush();
    // Report peers coming and going; answer commands on standard input.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let _ = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
    let mut up: Vec<u16> = Vec::new();
    loop {
        let now: Vec<u16> = node
            .peers()
            .iter()
            .filter(|p| p.connected)
            .map(|p| p.node)
            .collect();
        for n in now.iter().filter(|n| !up.contains(n)) {
            println!("peer {n} up");
        }
        for n in up.iter().filter(|n| !now.contains(n)) {
            println!("peer {n} down");
        }
        up = now;
        let _ = std::io::stdout().flush();
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(cmd) => match cmd.trim() {
                "peers" => {
                    for p in node.peers() {
                        println!(
                            "peer {} {} {}",
                            p.node,
                            p.address.map_or("-".to_owned(), |a| a.to_string()),
                            if p.connected {
                                "connected"
                            } else {
                                "not connected"
                            }
                        );
                    }
                }
                "quit" => break,
                "" => {}
                other => println!("unknown command `{other}` (peers, quit)"),
            },
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            // Standard input closed: keep serving.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    node.shutdown();
    Ok(())
}
