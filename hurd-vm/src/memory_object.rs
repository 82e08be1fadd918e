//! The kernel side of the memory_object protocol.
//!
//! An external object is created once per pager per kernel
//! ([`Vm::create_external_object`] queues `memory_object_init`); `vm_map`
//! waits on its readiness ticket until the pager answers `ready`. Faults queue
//! `data_request` and `data_unlock` ([`crate::fault`]). Messages from the pager
//! arrive through [`Vm::handle_pager_message`], which validates every field
//! before it changes anything: a malformed or unsolicited message is rejected
//! whole, logged, and leaves the object as it was.

use alloc::vec::Vec;

use hurd_ipc::{Disposition, PortItem, PortName};

use crate::error::{ProtocolError, VmError};
use crate::map::MapId;
use crate::mmu::{FrameAllocator, Mmu};
use crate::object::{ObjectId, ObjectState, PagerLink, VmObject};
use crate::page::{PAGE_BYTES, PAGE_SIZE, Page, PageState, is_page_aligned, round_page};
use crate::prot::{VM_PROT_NO_CHANGE, VmProt};
use crate::protocol::{
    ControlCall, CopyStrategy, KernelCall, Outgoing, ReturnPolicy, control, control_item,
    control_lock, control_unavailable, memory_object, memory_object_default, null_item, page_data,
};
use crate::vm::Vm;

impl<M: Mmu, F: FrameAllocator> Vm<M, F> {
    /// The object this kernel made for a pager port, if any.
    pub fn object_for_pager(&self, pager: PortName) -> Option<ObjectId> {
        self.by_pager.get(&pager).copied()
    }

    /// The object a control port belongs to.
    pub fn object_for_control(&self, control: PortName) -> Option<ObjectId> {
        self.by_control.get(&control).copied()
    }

    /// Creates the object for a pager seen for the first time: queues
    /// `memory_object_init(pager, control, PAGE_SIZE)` and returns the object
    /// and the ticket that completes when the pager answers `ready`.
    /// `control` is a fresh receive right of the kernel's.
    ///
    /// # Errors
    ///
    /// `InvalidArgument` when `pager` or `control` already belongs to an
    /// object.
    pub fn create_external_object(
        &mut self,
        pager: PortName,
        control: PortName,
    ) -> Result<(ObjectId, crate::Ticket), VmError> {
        if self.by_pager.contains_key(&pager) || self.by_control.contains_key(&control) {
            return Err(VmError::InvalidArgument);
        }
        let id = self.fetch_id();
        let mut obj = VmObject::anonymous(0);
        obj.pager = Some(PagerLink { pager, control });
        obj.state = ObjectState::WaitingReady(id);
        let oid = self.new_object(obj);
        self.by_pager.insert(pager, oid);
        self.by_control.insert(control, oid);
        self.dead_controls.remove(&control);
        self.outbox.push(Outgoing::to_pager(
            pager,
            KernelCall::Object(memory_object::Call::init {
                control: control_item(control),
                name: null_item(),
                page_size: PAGE_SIZE,
            }),
        ));
        Ok((oid, self.wait_on(oid, None, id)))
    }

    /// A ticket on the object's readiness, if it is still waiting for `ready`.
    pub fn ready_ticket(&mut self, object: ObjectId) -> Option<crate::Ticket> {
        match self.objects.get(&object)?.state {
            ObjectState::WaitingReady(id) => Some(self.wait_on(object, None, id)),
            _ => None,
        }
    }

    /// `memory_object_get_attributes`: (ready, may_cache, copy_strategy).
    ///
    /// # Errors
    ///
    /// [`ProtocolError::UnknownControl`] for a control port of no object.
    pub fn object_attributes(&self, control: PortName) -> Result<(bool, bool, u32), ProtocolError> {
        let o = self
            .by_control
            .get(&control)
            .and_then(|id| self.objects.get(id))
            .ok_or(ProtocolError::UnknownControl)?;
        Ok((
            o.state == ObjectState::Ready,
            o.may_cache,
            o.copy_strategy.into(),
        ))
    }

    /// The pager behind `pager` died (its port is a dead name now): the
    /// requests waiting on it fail with `KERN_MEMORY_FAILURE`, and so will any
    /// later fault that needs it. Resident pages stay usable.
    pub fn pager_died(&mut self, pager: PortName) {
        let Some(oid) = self.by_pager.get(&pager).copied() else {
            return;
        };
        log::warn!("pager {pager} died: failing its object");
        self.kill_object(oid, VmError::MemoryFailure, false);
        // Nobody uses it: it goes now.
        self.evict(oid);
    }

    /// Marks an object dead and fails every wait on it; with `discard`, frees
    /// its pages too.
    fn kill_object(&mut self, oid: ObjectId, e: VmError, discard: bool) {
        let Some(o) = self.objects.get_mut(&oid) else {
            return;
        };
        let old = core::mem::replace(&mut o.state, ObjectState::Dead(e));
        let pages: Vec<(u64, Page)> = o.pages.iter().map(|(i, p)| (*i, *p)).collect();
        if let ObjectState::WaitingReady(id) = old {
            self.fail_fetch(id, e);
        }
        for (idx, p) in pages {
            let busy = !matches!(p.state, PageState::Resident(_));
            self.fail_page_waits(&p, e);
            if let Some(o) = self.objects.get_mut(&oid) {
                if busy || discard {
                    o.pages.remove(&idx);
                } else if let Some(q) = o.pages.get_mut(&idx) {
                    q.unlock = None;
                }
            }
            if discard && let Some(f) = p.frame() {
                self.drop_frame(f);
            }
        }
    }

    /// Returns dirty and precious pages and sends `terminate`, once, for an
    /// external object going away.
    pub(crate) fn return_and_terminate(&mut self, oid: ObjectId) {
        let Some(o) = self.objects.get(&oid) else {
            return;
        };
        let Some(link) = o.pager else {
            return;
        };
        if self.by_control.get(&link.control) != Some(&oid) {
            return; // already terminated (destroyed)
        }
        // The default pager's copy of a temporary object dies with it: there
        // is nothing to return.
        let alive = !matches!(o.state, ObjectState::Dead(_)) && !o.internal;
        let resident: Vec<(u64, Page)> = o
            .pages
            .iter()
            .filter(|(_, p)| p.frame().is_some())
            .map(|(i, p)| (*i, *p))
            .collect();
        if alive {
            for (idx, p) in resident {
                let Some(f) = p.frame() else { continue };
                self.unmap_frame(f);
                let dirty = self
                    .objects
                    .get(&oid)
                    .and_then(|o| o.pages.get(&idx))
                    .is_some_and(|q| q.dirty);
                if dirty || p.precious {
                    let data = self.frame_bytes(f);
                    self.push_return(link, idx * PAGE_SIZE, data, dirty, false);
                }
            }
        }
        // The control receive right goes to the pager, and with it the
        // kernel's reference to the memory object.
        self.outbox.push(Outgoing {
            to: link.pager,
            disposition: Disposition::MoveSend,
            call: KernelCall::Object(memory_object::Call::terminate {
                control: PortItem {
                    disposition: Disposition::MoveReceive,
                    name: link.control,
                },
                name: null_item(),
            }),
        });
        self.by_control.remove(&link.control);
        self.by_pager.remove(&link.pager);
        self.dead_controls.insert(link.control);
    }

    fn push_return(
        &mut self,
        link: PagerLink,
        offset: u64,
        data: Vec<u8>,
        dirty: bool,
        kernel_copy: bool,
    ) {
        self.stats.data_returns += 1;
        self.outbox.push(Outgoing::to_pager(
            link.pager,
            KernelCall::Object(memory_object::Call::data_return {
                control: control_item(link.control),
                offset,
                data: page_data(data),
                dirty,
                kernel_copy,
            }),
        ));
    }

    /// `vm_set_default_memory_manager`: the default pager, a send right the
    /// kernel holds (or `None`). Anonymous memory can be paged out only while
    /// there is one; objects already handed to a default pager keep theirs.
    pub fn set_default_pager(&mut self, pager: Option<PortName>) {
        self.default_pager = pager;
    }

    /// The default pager.
    pub fn default_pager(&self) -> Option<PortName> {
        self.default_pager
    }

    /// `memory_object_create`: hands the anonymous object `object` to the
    /// default pager so that its pages can be paged out. `memory_object` is a
    /// fresh port of the kernel's with both its receive right (moved to the
    /// default pager by the message) and a send right (kept); `control` is a
    /// fresh receive right, as for [`Vm::create_external_object`]. The object
    /// becomes *internal*: still anonymous memory for copy-on-write, ready at
    /// once (no `init`/`ready`), asking the pager only for pages it paged out.
    ///
    /// Errors: `InvalidName` (no such object), `InvalidArgument` (the object
    /// already has a pager, or a port is in use), `Failure` (no default pager).
    ///
    /// # Errors
    ///
    /// As listed above.
    pub fn create_internal_object(
        &mut self,
        object: ObjectId,
        memory_object: PortName,
        control: PortName,
    ) -> Result<(), VmError> {
        let o = self.objects.get(&object).ok_or(VmError::InvalidName)?;
        if o.pager.is_some()
            || !memory_object.is_valid()
            || !control.is_valid()
            || self.by_pager.contains_key(&memory_object)
            || self.by_control.contains_key(&control)
        {
            return Err(VmError::InvalidArgument);
        }
        let default = self.default_pager.ok_or(VmError::Failure)?;
        let size = o.size;
        if let Some(o) = self.objects.get_mut(&object) {
            o.pager = Some(PagerLink {
                pager: memory_object,
                control,
            });
            o.internal = true;
            o.copy_strategy = CopyStrategy::Temporary;
            o.state = ObjectState::Ready;
        }
        self.by_pager.insert(memory_object, object);
        self.by_control.insert(control, object);
        self.dead_controls.remove(&control);
        self.stats.creates += 1;
        // The receive right of the memory object port goes to the default
        // pager; the kernel keeps a send right under the same name.
        self.outbox.push(Outgoing::to_pager(
            default,
            KernelCall::Default(memory_object_default::Call::create {
                new_memory_object: PortItem {
                    disposition: Disposition::MoveReceive,
                    name: memory_object,
                },
                new_object_size: size,
                new_control: control_item(control),
                new_name: null_item(),
                new_page_size: PAGE_SIZE,
            }),
        ));
        Ok(())
    }

    /// Pages out every resident page of the objects mapped in
    /// `[addr, addr + size)` of `map` (the hook a pageout daemon or a memory
    /// pressure signal calls). Anonymous objects are first handed to the
    /// default pager ([`Vm::create_internal_object`]) with ports from
    /// `new_ports`, which returns `(memory_object, control)` or `None` when
    /// it has none (`ResourceShortage`). Returns how many pages were freed.
    ///
    /// Only the objects the regions map directly are paged out, not the
    /// objects they shadow. Errors: `InvalidArgument` (unaligned or empty
    /// range), `InvalidName` (no such map), `Failure` (anonymous memory to
    /// page out and no default pager).
    ///
    /// # Errors
    ///
    /// As listed above, and `ResourceShortage` when `new_ports` has none.
    pub fn pageout_range(
        &mut self,
        map: MapId,
        addr: u64,
        size: u64,
        new_ports: &mut dyn FnMut() -> Option<(PortName, PortName)>,
    ) -> Result<usize, VmError> {
        if !is_page_aligned(addr) || size == 0 {
            return Err(VmError::InvalidArgument);
        }
        let end = addr
            .checked_add(round_page(size))
            .ok_or(VmError::InvalidArgument)?;
        let entries: Vec<crate::MapEntry> = self
            .maps
            .get(&map)
            .ok_or(VmError::InvalidName)?
            .entries()
            .filter(|e| e.start < end && e.end > addr)
            .copied()
            .collect();
        let mut freed = 0;
        for e in entries {
            let (s, t) = (e.start.max(addr), e.end.min(end));
            let first = e.object_offset(s) / PAGE_SIZE;
            let last = e.object_offset(t) / PAGE_SIZE;
            let resident: Vec<u64> = self
                .pages_in(e.object, first, last, |p| p.frame().is_some())
                .into_iter()
                .map(|(i, _)| i)
                .collect();
            if resident.is_empty() {
                continue;
            }
            if self
                .objects
                .get(&e.object)
                .is_some_and(|o| o.pager.is_none())
            {
                if self.default_pager.is_none() {
                    return Err(VmError::Failure);
                }
                let (mo, ctl) = new_ports().ok_or(VmError::ResourceShortage)?;
                self.create_internal_object(e.object, mo, ctl)?;
            }
            for idx in resident {
                if self.pageout(e.object, idx * PAGE_SIZE)? {
                    freed += 1;
                }
            }
        }
        Ok(freed)
    }

    /// Pages a page out and frees its frame; returns whether it was resident.
    ///
    /// For an external object the page is returned if dirty or precious
    /// (`data_return`, `kernel_copy` false). For an internal object (see
    /// [`Vm::create_internal_object`]) its first pageout is
    /// `memory_object_data_initialize`, later ones `data_return` with
    /// `dirty` set, and a clean page the default pager already holds is just
    /// dropped; the next fault asks the default pager for it. An anonymous
    /// object without a pager is `InvalidArgument` (see [`Vm::pageout_range`]).
    ///
    /// # Errors
    ///
    /// `InvalidName` (no such object), `InvalidArgument` (see above), or the
    /// object's own failure for an internal object whose pager is gone.
    pub fn pageout(&mut self, object: ObjectId, offset: u64) -> Result<bool, VmError> {
        let o = self.objects.get(&object).ok_or(VmError::InvalidName)?;
        let link = o.pager.ok_or(VmError::InvalidArgument)?;
        let internal = o.internal;
        if internal && let ObjectState::Dead(e) = o.state {
            // Nowhere to put it: keep it.
            return Err(e);
        }
        let idx = offset / PAGE_SIZE;
        let Some(p) = o.pages.get(&idx).copied() else {
            return Ok(false);
        };
        let Some(f) = p.frame() else {
            return Ok(false);
        };
        let dirty = p.dirty || self.take_frame_dirty(f);
        self.unmap_frame(f);
        let dirty = dirty
            || self
                .objects
                .get(&object)
                .and_then(|o| o.pages.get(&idx))
                .is_some_and(|q| q.dirty);
        let held = self
            .objects
            .get(&object)
            .is_some_and(|o| o.paged_out.contains(&idx));
        if internal && !held {
            let data = self.frame_bytes(f);
            self.outbox.push(Outgoing::to_pager(
                link.pager,
                KernelCall::Default(memory_object_default::Call::data_initialize {
                    control: control_item(link.control),
                    offset: idx * PAGE_SIZE,
                    data: page_data(data),
                }),
            ));
        } else if dirty || (p.precious && !internal) {
            let data = self.frame_bytes(f);
            self.push_return(link, idx * PAGE_SIZE, data, dirty, false);
        }
        if let Some(o) = self.objects.get_mut(&object) {
            o.pages.remove(&idx);
            if internal {
                o.paged_out.insert(idx);
            }
        }
        self.drop_frame(f);
        self.stats.pageouts += 1;
        Ok(true)
    }

    /// Handles a call a pager made on `control` (decoded with
    /// [`ControlCall::decode`]). On error nothing was changed and nothing
    /// the call carried was used (its `reply_to` right is still the
    /// caller's to release); the error is logged.
    ///
    /// # Errors
    ///
    /// Why the call was rejected: an unknown or terminated control port,
    /// an unaligned, wrongly sized or out-of-range range, data nobody asked
    /// for, a field out of its range.
    pub fn handle_pager_message(
        &mut self,
        control: PortName,
        call: ControlCall,
    ) -> Result<(), ProtocolError> {
        let r = self.handle_inner(control, call);
        if let Err(e) = r {
            self.stats.rejected += 1;
            log::warn!("rejected pager message on control port {control}: {e}");
        }
        r
    }

    fn live_object(&self, control: PortName) -> Result<ObjectId, ProtocolError> {
        match self.by_control.get(&control) {
            Some(id) => match self.objects.get(id).map(|o| o.state) {
                Some(ObjectState::Dead(_)) | None => Err(ProtocolError::Terminated),
                Some(_) => Ok(*id),
            },
            None if self.dead_controls.contains(&control) => Err(ProtocolError::Terminated),
            None => Err(ProtocolError::UnknownControl),
        }
    }

    fn page_range(offset: u64, size: u64) -> Result<(u64, u64), ProtocolError> {
        if !is_page_aligned(offset) || !is_page_aligned(size) || size == 0 {
            return Err(ProtocolError::Unaligned);
        }
        let end = offset.checked_add(size).ok_or(ProtocolError::OutOfRange)?;
        Ok((offset / PAGE_SIZE, end / PAGE_SIZE))
    }

    fn handle_inner(&mut self, control: PortName, call: ControlCall) -> Result<(), ProtocolError> {
        let oid = self.live_object(control)?;
        match call {
            ControlCall::Control(control::Call::ready {
                may_cache,
                copy_strategy,
            }) => {
                let cs =
                    CopyStrategy::try_from(copy_strategy).map_err(|_| ProtocolError::BadValue)?;
                if let Some(o) = self.objects.get_mut(&oid) {
                    o.may_cache = may_cache;
                    o.copy_strategy = cs;
                    o.state = ObjectState::Ready;
                }
                if !may_cache {
                    self.evict(oid);
                }
                Ok(())
            }
            ControlCall::Control(control::Call::change_attributes {
                may_cache,
                copy_strategy,
                reply_to,
            }) => {
                let cs =
                    CopyStrategy::try_from(copy_strategy).map_err(|_| ProtocolError::BadValue)?;
                if let Some(o) = self.objects.get_mut(&oid) {
                    o.may_cache = may_cache;
                    o.copy_strategy = cs;
                }
                if reply_to.name.is_valid() {
                    self.outbox.push(Outgoing::reply(
                        reply_to.name,
                        memory_object::Call::change_completed {
                            may_cache,
                            copy_strategy,
                        },
                    ));
                }
                if !may_cache {
                    // A cached object the pager no longer lets us keep.
                    self.evict(oid);
                }
                Ok(())
            }
            ControlCall::Control(control::Call::data_supply {
                offset,
                data,
                lock_value,
                precious,
                reply_to,
            }) => self.data_supply(
                oid,
                control,
                offset,
                data.data,
                lock_value,
                precious,
                reply_to.name,
            ),
            ControlCall::Control(control::Call::data_error {
                offset,
                size,
                error_value: error,
            }) => {
                let (first, last) = Self::page_range(offset, round_page(size))?;
                let e = VmError::from_pager_code(error);
                let waiting: Vec<(u64, Page)> = self.pages_in(oid, first, last, |p| {
                    matches!(p.state, PageState::Busy(_)) || p.unlock.is_some()
                });
                if waiting.is_empty() {
                    // Stale, not malformed: the answer to a data_unlock whose
                    // page was paged out or flushed meanwhile (its waiters
                    // retried). GNU Mach ignores it too.
                    log::debug!("data_error for pages no longer waiting on control {control}");
                    return Ok(());
                }
                for (idx, p) in waiting {
                    self.fail_page_waits(&p, e);
                    if let Some(o) = self.objects.get_mut(&oid) {
                        if matches!(p.state, PageState::Busy(_)) {
                            o.pages.remove(&idx);
                        } else if let Some(q) = o.pages.get_mut(&idx) {
                            q.unlock = None;
                        }
                    }
                }
                Ok(())
            }
            ControlCall::Unavailable(control_unavailable::Call::data_unavailable {
                offset,
                size,
            }) => {
                let (first, last) = Self::page_range(offset, size)?;
                let busy =
                    self.pages_in(oid, first, last, |p| matches!(p.state, PageState::Busy(_)));
                if busy.is_empty() {
                    return Err(ProtocolError::Unsolicited);
                }
                let has_shadow = self.objects.get(&oid).is_some_and(|o| o.shadow.is_some());
                for (idx, _) in busy {
                    if has_shadow {
                        if let Some(q) = self
                            .objects
                            .get_mut(&oid)
                            .and_then(|o| o.pages.get_mut(&idx))
                        {
                            q.state = PageState::Absent;
                        }
                        continue;
                    }
                    match self.phys.alloc_frame() {
                        Some(f) => {
                            self.phys.zero_frame(f);
                            self.insert_page(oid, idx, Page::resident(f));
                        }
                        None => {
                            if let Some(p) = self
                                .objects
                                .get_mut(&oid)
                                .and_then(|o| o.pages.remove(&idx))
                            {
                                self.fail_page_waits(&p, VmError::ResourceShortage);
                            }
                        }
                    }
                }
                Ok(())
            }
            ControlCall::Lock(control_lock::Call::lock_request {
                offset,
                size,
                should_return,
                should_flush,
                lock_value,
                reply_to,
            }) => {
                let (first, last) = Self::page_range(offset, round_page(size))?;
                let policy =
                    ReturnPolicy::try_from(should_return).map_err(|_| ProtocolError::BadValue)?;
                let lock = if lock_value == VM_PROT_NO_CHANGE {
                    None
                } else {
                    Some(VmProt::from_wire(lock_value).ok_or(ProtocolError::BadValue)?)
                };
                self.lock_request(oid, first, last, policy, should_flush, lock);
                if reply_to.name.is_valid() {
                    self.outbox.push(Outgoing::reply(
                        reply_to.name,
                        memory_object::Call::lock_completed {
                            control: control_item(control),
                            offset,
                            length: size,
                        },
                    ));
                }
                Ok(())
            }
            ControlCall::Control(control::Call::destroy { reason }) => {
                log::info!("pager destroyed object on control {control} (reason {reason})");
                self.kill_object(oid, VmError::MemoryFailure, true);
                // Unmapping may have folded dirty bits: the data is discarded anyway.
                self.return_and_terminate(oid);
                self.evict(oid);
                Ok(())
            }
        }
    }

    fn pages_in(
        &self,
        oid: ObjectId,
        first: u64,
        last: u64,
        pred: impl Fn(&Page) -> bool,
    ) -> Vec<(u64, Page)> {
        self.objects
            .get(&oid)
            .map(|o| {
                o.pages
                    .range(first..last)
                    .filter(|(_, p)| pred(p))
                    .map(|(i, p)| (*i, *p))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[allow(clippy::too_many_arguments)]
    fn data_supply(
        &mut self,
        oid: ObjectId,
        control: PortName,
        offset: u64,
        data: Vec<u8>,
        lock_value: u32,
        precious: bool,
        reply_to: PortName,
    ) -> Result<(), ProtocolError> {
        if !is_page_aligned(offset) {
            return Err(ProtocolError::Unaligned);
        }
        if data.is_empty() || !data.len().is_multiple_of(PAGE_BYTES) {
            return Err(ProtocolError::WrongSize);
        }
        let lock = VmProt::from_wire(lock_value).ok_or(ProtocolError::BadValue)?;
        let (first, last) = Self::page_range(offset, data.len() as u64)?;
        let o = self.objects.get(&oid).ok_or(ProtocolError::Terminated)?;
        if last * PAGE_SIZE > round_page(o.size) {
            return Err(ProtocolError::OutOfRange);
        }
        for idx in first..last {
            let ok = match o.pages.get(&idx) {
                Some(p) => matches!(p.state, PageState::Busy(_)),
                None => self.accept_unrequested_supply,
            };
            if !ok {
                return Err(ProtocolError::Unsolicited);
            }
        }
        for (i, chunk) in data.chunks_exact(PAGE_BYTES).enumerate() {
            let idx = first + i as u64;
            let Some(f) = self.phys.alloc_frame() else {
                // Out of frames: those who wait for this page fail; the pager
                // is told through supply_completed.
                if let Some(p) = self
                    .objects
                    .get_mut(&oid)
                    .and_then(|o| o.pages.remove(&idx))
                {
                    self.fail_page_waits(&p, VmError::ResourceShortage);
                }
                if reply_to.is_valid() {
                    self.outbox.push(Outgoing::reply(
                        reply_to,
                        memory_object::Call::supply_completed {
                            control: control_item(control),
                            offset,
                            length: data.len() as u64,
                            result: VmError::ResourceShortage.into(),
                            error_offset: idx * PAGE_SIZE,
                        },
                    ));
                }
                return Ok(());
            };
            self.phys.write_frame(f, 0, chunk);
            let mut p = Page::resident(f);
            p.lock = lock;
            p.precious = precious;
            self.insert_page(oid, idx, p);
        }
        if reply_to.is_valid() {
            self.outbox.push(Outgoing::reply(
                reply_to,
                memory_object::Call::supply_completed {
                    control: control_item(control),
                    offset,
                    length: data.len() as u64,
                    result: 0,
                    error_offset: 0,
                },
            ));
        }
        Ok(())
    }

    fn lock_request(
        &mut self,
        oid: ObjectId,
        first: u64,
        last: u64,
        policy: ReturnPolicy,
        flush: bool,
        lock: Option<VmProt>,
    ) {
        let Some(link) = self.objects.get(&oid).and_then(|o| o.pager) else {
            return;
        };
        let pages = self.pages_in(oid, first, last, |p| p.frame().is_some());
        for (idx, p) in pages {
            let Some(f) = p.frame() else { continue };
            // 1. restrict access
            if let Some(lock) = lock {
                self.lock_frame(f, lock);
                if let Some(q) = self
                    .objects
                    .get_mut(&oid)
                    .and_then(|o| o.pages.get_mut(&idx))
                {
                    q.lock = lock;
                    q.unlock = None;
                }
            }
            // 2. write back
            let dirty = self.take_frame_dirty(f)
                || self
                    .objects
                    .get(&oid)
                    .and_then(|o| o.pages.get(&idx))
                    .is_some_and(|q| q.dirty);
            let give_back = match policy {
                ReturnPolicy::None => false,
                ReturnPolicy::Dirty => dirty,
                ReturnPolicy::All => dirty || p.precious,
            };
            if give_back {
                let data = self.frame_bytes(f);
                self.push_return(link, idx * PAGE_SIZE, data, dirty, !flush);
            }
            if let Some(q) = self
                .objects
                .get_mut(&oid)
                .and_then(|o| o.pages.get_mut(&idx))
            {
                q.dirty = dirty && !give_back;
            }
            // 3. flush
            if flush {
                if let Some(o) = self.objects.get_mut(&oid) {
                    o.pages.remove(&idx);
                    // Anonymous memory the default pager flushed is its to
                    // supply from now on (returned, or its to lose).
                    if o.internal {
                        o.paged_out.insert(idx);
                    }
                }
                self.drop_frame(f);
            }
        }
    }
}
