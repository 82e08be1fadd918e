//! Benchmarks of hurd-pager: pages moving between simulated kernels
//! (hurd-vm `SimKernel`s on hurd-ipc's hosted runtime), against one kernel
//! paging through hurd-vm's default pager, measured in the same run.
//!
//! | name | ours | baseline |
//! |------|------|----------|
//! | `write_ping_pong_2` | kernels A and B store to the same page in turn: every store takes the page from the other kernel (request, revocation, data_return, lock_completed, supply); default minimum hold | one kernel, one page: store, page out (data_return), store again (data_request, supply) through the default pager |
//! | `write_ping_pong_2_nohold` | the same with `min_hold` 0 | the same |
//! | `read_sharing_N` (N = 1, 2, 4, 8) | N kernels each read every page of a 32-page object: read faults, the first served from the backend, the others from the pager's copy; then the pages are taken back (untimed) | one kernel read-faulting pages through the default pager (pages paged out untimed) |
//!
//! Times are per page fault (the harness's median of calibrated samples).
//! Each result also carries `messages_per_fault` (memory_object messages,
//! both directions, per fault, counted by the pager) and `pages_per_s`. The
//! results go to `<target dir>/bench/pager.json`.

use std::time::{Duration, Instant};

use hurd_bench::{Config, Row, measure_pair};
use hurd_ipc::hosted::Runtime;
use hurd_ipc::{Disposition, PortName, RightType, UserIpc};
use hurd_pager::hosted::{Pager, PagerServer};
use hurd_pager::{Config as PagerConfig, MemBackend, PAGE_SIZE};
use hurd_vm::default_pager::{DefaultPager, MemStore};
use hurd_vm::hosted::SimKernel;
use hurd_vm::{MapId, VmInherit, VmProt};

const PAGES: u64 = 32;

struct Node {
    kernel: SimKernel,
    map: MapId,
    addr: u64,
}

fn map_node(rt: &Runtime, name_in: impl FnOnce(&SimKernel) -> PortName, pages: u64) -> Node {
    let kernel = SimKernel::new(rt, 2 * pages as usize + 8).expect("kernel");
    let name = name_in(&kernel);
    let map = kernel.create_map().expect("map");
    let addr = kernel
        .vm_map(
            map,
            pages * PAGE_SIZE,
            name,
            0,
            false,
            VmProt::DEFAULT,
            VmProt::ALL,
            VmInherit::Share,
        )
        .expect("vm_map");
    Node { kernel, map, addr }
}

/// The baseline: one kernel and hurd-vm's default pager.
struct Baseline {
    node: Node,
    _rt: Runtime,
    pager_task: hurd_ipc::hosted::Task,
}

impl Baseline {
    fn new(pages: u64) -> Baseline {
        let rt = Runtime::new();
        let pager_task = rt.task();
        let port = pager_task.port_allocate(RightType::Receive).expect("port");
        let t = pager_task.clone();
        std::thread::spawn(move || {
            DefaultPager::new(&t, MemStore::new()).serve(port);
        });
        let node = map_node(
            &rt,
            |k| {
                pager_task
                    .give_right(port, Disposition::MakeSend, k.task())
                    .expect("give")
            },
            pages,
        );
        // Every page written once and paged out, so faults get data_supply.
        for p in 0..pages {
            node.kernel
                .store(node.map, node.addr + p * PAGE_SIZE, &[1])
                .expect("store");
        }
        let b = Baseline {
            node,
            _rt: rt,
            pager_task,
        };
        b.pageout_all(pages);
        b
    }

    fn pageout_all(&self, pages: u64) {
        let n = &self.node;
        n.kernel
            .pageout(n.map, n.addr, pages * PAGE_SIZE)
            .expect("pageout");
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        self.pager_task.terminate();
    }
}

/// One kernel, one page: store, page out, store.
fn baseline_ping_pong(b: &Baseline) -> impl FnMut(u64) -> Duration + '_ {
    move |n| {
        let node = &b.node;
        let start = Instant::now();
        for i in 0..n {
            node.kernel
                .store(node.map, node.addr, &i.to_le_bytes())
                .expect("store");
            node.kernel
                .pageout(node.map, node.addr, PAGE_SIZE)
                .expect("pageout");
        }
        start.elapsed()
    }
}

/// One kernel read-faulting pages, paged out between rounds (untimed).
fn baseline_reads(b: &Baseline) -> impl FnMut(u64) -> Duration + '_ {
    move |n| {
        let node = &b.node;
        let mut spent = Duration::ZERO;
        let mut done = 0;
        while done < n {
            let start = Instant::now();
            for p in 0..PAGES.min(n - done) {
                node.kernel
                    .load(node.map, node.addr + p * PAGE_SIZE, 1)
                    .expect("load");
                done += 1;
            }
            spent += start.elapsed();
            b.pageout_all(PAGES);
        }
        spent
    }
}

struct Shared {
    _rt: Runtime,
    _server: PagerServer,
    pager: Pager,
    nodes: Vec<Node>,
}

fn shared(kernels: usize, pages: u64, config: PagerConfig) -> Shared {
    let rt = Runtime::new();
    let task = rt.task();
    let server = PagerServer::new(&task).expect("server");
    let pager = server
        .create(MemBackend::new(pages * PAGE_SIZE), config)
        .expect("pager");
    let nodes = (0..kernels)
        .map(|_| {
            map_node(
                &rt,
                |k| pager.send_right_for(k.task()).expect("send right"),
                pages,
            )
        })
        .collect();
    Shared {
        _rt: rt,
        _server: server,
        pager,
        nodes,
    }
}

fn messages(p: &Pager) -> u64 {
    let s = p.stats();
    s.messages_in + s.messages_out
}

struct Result {
    row: Row,
    messages_per_fault: f64,
}

fn ping_pong(cfg: &Config, name: &'static str, hold: u64) -> Result {
    let s = shared(
        2,
        1,
        PagerConfig {
            min_hold: hold,
            ..PagerConfig::default()
        },
    );
    let base = Baseline::new(1);
    let mut faults = 0u64;
    let m0 = messages(&s.pager);
    let mut ours = |n: u64| {
        let start = Instant::now();
        for i in 0..n {
            let node = &s.nodes[(i % 2) as usize];
            node.kernel
                .store(node.map, node.addr, &i.to_le_bytes())
                .expect("store");
        }
        faults += n;
        start.elapsed()
    };
    let mut b = baseline_ping_pong(&base);
    let (ours_ns, baseline_ns) = measure_pair(cfg, &mut ours, &mut b);
    let mpf = (messages(&s.pager) - m0) as f64 / faults.max(1) as f64;
    Result {
        row: Row {
            name,
            ours_ns,
            baseline: "1 kernel, default pager: page out + fault in",
            baseline_ns,
        },
        messages_per_fault: mpf,
    }
}

fn read_sharing(cfg: &Config, name: &'static str, kernels: usize) -> Result {
    let s = shared(kernels, PAGES, PagerConfig::default());
    let base = Baseline::new(PAGES);
    let mut faults = 0u64;
    let mut counted = 0u64;
    let mut ours = |n: u64| {
        let mut spent = Duration::ZERO;
        let mut done = 0;
        while done < n {
            let m0 = messages(&s.pager);
            let start = Instant::now();
            let mut round = 0;
            'round: for node in &s.nodes {
                for p in 0..PAGES {
                    if done >= n {
                        break 'round;
                    }
                    node.kernel
                        .load(node.map, node.addr + p * PAGE_SIZE, 1)
                        .expect("load");
                    done += 1;
                    round += 1;
                }
            }
            spent += start.elapsed();
            faults += round;
            counted += messages(&s.pager) - m0;
            // Take every page back (untimed) so the next round faults again.
            s.pager.return_all(true).expect("return");
        }
        spent
    };
    let mut b = baseline_reads(&base);
    let (ours_ns, baseline_ns) = measure_pair(cfg, &mut ours, &mut b);
    Result {
        row: Row {
            name,
            ours_ns,
            baseline: "1 kernel, default pager: read fault",
            baseline_ns,
        },
        messages_per_fault: counted as f64 / faults.max(1) as f64,
    }
}

fn main() {
    let cfg = Config::from_args();
    type B = fn(&Config) -> Result;
    let benches: [(&str, B); 6] = [
        ("write_ping_pong_2", |c| {
            ping_pong(c, "write_ping_pong_2", PagerConfig::default().min_hold)
        }),
        ("write_ping_pong_2_nohold", |c| {
            ping_pong(c, "write_ping_pong_2_nohold", 0)
        }),
        ("read_sharing_1", |c| read_sharing(c, "read_sharing_1", 1)),
        ("read_sharing_2", |c| read_sharing(c, "read_sharing_2", 2)),
        ("read_sharing_4", |c| read_sharing(c, "read_sharing_4", 4)),
        ("read_sharing_8", |c| read_sharing(c, "read_sharing_8", 8)),
    ];
    let mut results = Vec::new();
    for (name, bench) in benches {
        if !cfg.selects(name) {
            continue;
        }
        let r = bench(&cfg);
        eprintln!(
            "{}: {:.1} ns vs {:.1} ns ({:.2}), {:.0} pages/s, {:.2} messages per fault",
            r.row.name,
            r.row.ours_ns,
            r.row.baseline_ns,
            r.row.ratio(),
            1e9 / r.row.ours_ns,
            r.messages_per_fault
        );
        results.push(r);
    }
    let rows: Vec<Row> = results.iter().map(|r| r.row.clone()).collect();
    hurd_bench::print_table(&rows);
    // The harness's JSON, each object extended with pages/s and messages
    // per fault.
    let json = hurd_bench::to_json(&rows);
    let mut out = String::new();
    let mut i = 0;
    for line in json.lines() {
        match line.rfind('}') {
            Some(at) if line.trim_start().starts_with('{') => {
                let r = &results[i];
                i += 1;
                out.push_str(&line[..at]);
                out.push_str(&format!(
                    ", \"pages_per_s\": {:.1}, \"messages_per_fault\": {:.3}",
                    1e9 / r.row.ours_ns,
                    r.messages_per_fault
                ));
                out.push_str(&line[at..]);
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    let dir = hurd_bench::target_dir(option_env!("CARGO_TARGET_TMPDIR")).join("bench");
    let file = dir.join("pager.json");
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, out)) {
        eprintln!("cannot write {}: {e}", file.display());
        std::process::exit(1);
    }
    println!("wrote {}", file.display());
}
