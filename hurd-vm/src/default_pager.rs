//! A default pager: serves memory objects from a [`BackingStore`].
//!
//! The default pager is the pager of anonymous memory: what the kernel pages
//! out goes to it with `data_return`, and comes back on `data_request`; pages
//! it never got are `data_unavailable` (zero-fill). [`DefaultPager`] is that
//! server, written against hurd-ipc's [`UserIpc`] so it runs hosted and on the
//! kernel; [`MemStore`] is an in-memory store. One pager serves any number of
//! objects, keyed by the port each arrived on.
//!
//! It serves both ways an object reaches it: mapped through `vm_map` of its
//! own port (`memory_object_init`, answered with `ready`), and created by a
//! kernel for anonymous memory (`memory_object_create` on the default pager's
//! port, which moves in the receive right of a new memory object port; the
//! pager serves it from then on and destroys it at `terminate`). Pages arrive
//! with `data_initialize` (first pageout) or `data_return`.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use hurd_ipc::mig::{Dispatch, Request};
use hurd_ipc::user::{PortSet, Right};
use hurd_ipc::{Disposition, OolItem, PortItem, PortName, RightType, UserIpc};

use crate::page::{PAGE_BYTES, PAGE_SIZE, is_page_aligned};
use crate::protocol::{
    CopyStrategy, control, control_unavailable, memory_object, memory_object_default,
};

/// The most pages one `data_request` may ask for. The kernel asks for one
/// page at a time (GNU Mach's default pager accepts nothing else); a longer
/// request, which only another task holding the object's port can send, is
/// dropped rather than answered page by page without bound.
pub const MAX_REQUEST_PAGES: u64 = 256;

/// Where a default pager keeps pages: by object (the memory object port as
/// the pager names it) and page-aligned offset.
pub trait BackingStore {
    /// The page at `offset`, if one was written.
    fn read(&self, object: PortName, offset: u64) -> Option<Vec<u8>>;
    /// Stores a page.
    fn write(&mut self, object: PortName, offset: u64, data: &[u8]);
    /// Forgets an object's pages.
    fn discard(&mut self, object: PortName);
}

/// A backing store in memory.
#[derive(Default, Debug)]
pub struct MemStore {
    pages: BTreeMap<(PortName, u64), Vec<u8>>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// Pages held.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether no page is held.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }
}

impl BackingStore for MemStore {
    fn read(&self, object: PortName, offset: u64) -> Option<Vec<u8>> {
        self.pages.get(&(object, offset)).cloned()
    }

    fn write(&mut self, object: PortName, offset: u64, data: &[u8]) {
        self.pages.insert((object, offset), data.to_vec());
    }

    fn discard(&mut self, object: PortName) {
        self.pages.retain(|(o, _), _| *o != object);
    }
}

/// Counters of a default pager.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PagerStats {
    /// `data_request`s answered.
    pub requests: u64,
    /// Pages supplied from the store.
    pub supplied: u64,
    /// `data_unavailable` answers.
    pub unavailable: u64,
    /// Pages stored from `data_return`.
    pub returned: u64,
    /// Objects terminated.
    pub terminated: u64,
    /// Objects created by a kernel (`memory_object_create`).
    pub created: u64,
    /// Pages stored from `data_initialize`.
    pub initialized: u64,
}

/// The default pager: a `memory_object` server over a backing store.
pub struct DefaultPager<'a, I: UserIpc + ?Sized, S: BackingStore> {
    ipc: &'a I,
    store: RefCell<S>,
    stats: RefCell<PagerStats>,
    /// The port set served.
    set: Cell<PortName>,
    /// Memory object ports kernels created (receive rights of the pager's).
    created: RefCell<BTreeSet<PortName>>,
}

impl<'a, I: UserIpc + ?Sized, S: BackingStore> DefaultPager<'a, I, S> {
    /// A pager answering through `ipc`.
    pub fn new(ipc: &'a I, store: S) -> Self {
        DefaultPager {
            ipc,
            store: RefCell::new(store),
            stats: RefCell::new(PagerStats::default()),
            set: Cell::new(PortName::NULL),
            created: RefCell::new(BTreeSet::new()),
        }
    }

    /// Serves `port` — the default pager's port, which is also a memory
    /// object port kernels may `vm_map` — and the memory objects kernels
    /// create through it, until receiving fails (the task ends).
    pub fn serve(&self, port: PortName) -> hurd_ipc::MsgReturn {
        let set = match PortSet::allocate(self.ipc) {
            Ok(s) => s,
            Err(_) => return memory_object::serve(self, self.ipc, port),
        };
        if set.insert(port).is_err() {
            drop(set);
            return memory_object::serve(self, self.ipc, port);
        }
        let set = set.into_raw();
        self.set.set(set);
        hurd_ipc::mig::serve(self.ipc, set, |msg| self.demux(msg))
    }

    /// Handles one request of either interface.
    pub fn demux(&self, msg: hurd_ipc::Message) -> Dispatch {
        match memory_object::demux(self, self.ipc, msg) {
            Dispatch::NotMine(m) => memory_object_default::demux(self, self.ipc, m),
            d => d,
        }
    }

    /// The counters.
    pub fn stats(&self) -> PagerStats {
        *self.stats.borrow()
    }

    /// The store, back.
    pub fn into_store(self) -> S {
        self.store.into_inner()
    }

    /// Releases a right that came in a request, as its kind needs (a
    /// receive right where a send right belongs is destroyed, not leaked).
    fn release(&self, p: PortItem) {
        drop(Right::received(self.ipc, p));
    }
}

impl<I: UserIpc + ?Sized, S: BackingStore> memory_object::Server for DefaultPager<'_, I, S> {
    fn init(&self, _req: &Request, control: PortItem, name: PortItem, page_size: u64) {
        let strategy = CopyStrategy::Temporary.into();
        if page_size != PAGE_SIZE {
            log::warn!("default pager: page size {page_size} not supported");
        }
        let _ = control::Client::new(self.ipc, control.name).ready(false, strategy);
        self.release(name);
    }

    fn terminate(&self, req: &Request, control: PortItem, name: PortItem) {
        self.stats.borrow_mut().terminated += 1;
        self.store.borrow_mut().discard(req.port);
        self.release(control);
        self.release(name);
        // A created object ends here; the pager's own port lives on.
        if self.created.borrow_mut().remove(&req.port) {
            let _ = self.ipc.port_mod_refs(req.port, RightType::Receive, -1);
        }
    }

    fn copy(&self, _req: &Request, old: PortItem, _o: u64, _l: u64, new: PortItem) {
        self.release(old);
        self.release(new);
    }

    fn data_request(&self, req: &Request, control: PortItem, offset: u64, length: u64, _a: u32) {
        self.stats.borrow_mut().requests += 1;
        let ctl = control.name;
        let end = offset.checked_add(length).filter(|_| {
            is_page_aligned(offset)
                && is_page_aligned(length)
                && length / PAGE_SIZE <= MAX_REQUEST_PAGES
        });
        if let Some(end) = end {
            for off in (offset..end).step_by(PAGE_BYTES) {
                let page = self.store.borrow().read(req.port, off);
                let _ = match page {
                    Some(data) => {
                        self.stats.borrow_mut().supplied += 1;
                        control::Client::new(self.ipc, ctl).data_supply(
                            off,
                            OolItem {
                                data,
                                deallocate: true,
                            },
                            0,
                            false,
                            PortItem {
                                disposition: Disposition::MakeSendOnce,
                                name: PortName::NULL,
                            },
                        )
                    }
                    None => {
                        self.stats.borrow_mut().unavailable += 1;
                        control_unavailable::Client::new(self.ipc, ctl)
                            .data_unavailable(off, PAGE_SIZE)
                    }
                };
            }
        } else {
            log::warn!("default pager: data_request of {length:#x} bytes at {offset:#x} dropped");
        }
        self.release(control);
    }

    fn data_unlock(&self, _req: &Request, control: PortItem, offset: u64, length: u64, _a: u32) {
        // Anonymous memory is never locked; unlock whatever is asked.
        let _ = crate::protocol::control_lock::Client::new(self.ipc, control.name).lock_request(
            offset,
            length,
            0,
            false,
            0,
            PortItem {
                disposition: Disposition::MakeSendOnce,
                name: PortName::NULL,
            },
        );
        self.release(control);
    }

    fn lock_completed(&self, _req: &Request, control: PortItem, _o: u64, _l: u64) {
        self.release(control);
    }

    fn supply_completed(
        &self,
        _r: &Request,
        control: PortItem,
        _o: u64,
        _l: u64,
        _e: i32,
        _eo: u64,
    ) {
        self.release(control);
    }

    fn data_return(
        &self,
        req: &Request,
        control: PortItem,
        offset: u64,
        data: OolItem,
        _dirty: bool,
        _kernel_copy: bool,
    ) {
        // The pages must lie within the offsets a memory object has: a
        // return past the last one (which only another task holding the
        // object's port can send) is dropped whole.
        let fits = offset.checked_add(data.data.len() as u64).is_some();
        if is_page_aligned(offset) && data.data.len().is_multiple_of(PAGE_BYTES) && fits {
            let mut store = self.store.borrow_mut();
            for (i, page) in data.data.chunks_exact(PAGE_BYTES).enumerate() {
                // Within `offset + len`, which fits.
                store.write(req.port, offset + (i * PAGE_BYTES) as u64, page);
                self.stats.borrow_mut().returned += 1;
            }
        } else {
            log::warn!("default pager: data_return at {offset:#x} dropped");
        }
        self.release(control);
    }

    fn change_completed(&self, _req: &Request, _may_cache: bool, _copy_strategy: u32) {}
}

impl<I: UserIpc + ?Sized, S: BackingStore> memory_object_default::Server
    for DefaultPager<'_, I, S>
{
    fn create(
        &self,
        _req: &Request,
        new_memory_object: PortItem,
        _size: u64,
        control: PortItem,
        name: PortItem,
        page_size: u64,
    ) {
        self.release(control);
        self.release(name);
        let mo = new_memory_object.name;
        if !mo.is_valid() {
            return;
        }
        let ours = matches!(
            self.ipc.port_type(mo),
            Ok(t) if t.contains(hurd_ipc::PortType::RECEIVE)
        );
        if !ours || page_size != PAGE_SIZE || self.ipc.port_move_member(mo, self.set.get()).is_err()
        {
            log::warn!("default pager: cannot serve created object {mo}");
            if ours {
                let _ = self.ipc.port_mod_refs(mo, RightType::Receive, -1);
            }
            return;
        }
        self.created.borrow_mut().insert(mo);
        self.stats.borrow_mut().created += 1;
    }

    fn data_initialize(&self, req: &Request, control: PortItem, offset: u64, data: OolItem) {
        if is_page_aligned(offset) && data.data.len() == PAGE_BYTES {
            // Initial contents only: data already written wins.
            let mut store = self.store.borrow_mut();
            if store.read(req.port, offset).is_none() {
                store.write(req.port, offset, &data.data);
                self.stats.borrow_mut().initialized += 1;
            }
        }
        self.release(control);
    }
}
