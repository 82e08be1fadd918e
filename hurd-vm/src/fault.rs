//! Fault resolution: what to do about an access the MMU refused.
//!
//! [`Vm::fault`] finds the region, checks its protection, resolves a pending
//! copy-on-write, then walks the object and its shadow chain for the page. It
//! either resolves the fault at once — maps a resident frame, zero-fills, or
//! copies a page up from a shadow — or queues a message for a pager and hands
//! back a [`Ticket`] to wait on. A page already being fetched is waited for,
//! never requested twice.

use crate::error::VmError;
use crate::map::MapId;
use crate::mmu::{FrameAllocator, Mmu};
use crate::object::{ObjectId, ObjectState};
use crate::page::{FetchId, PAGE_SIZE, Page, PageState, trunc_page};
use crate::prot::VmProt;
use crate::protocol::{KernelCall, Outgoing, control_item, memory_object};
use crate::vm::Vm;

/// Something to wait for: a page being fetched or unlocked, or an object's
/// `ready`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Ticket {
    /// The object.
    pub object: ObjectId,
    /// The page index, or `None` for the object's readiness.
    pub page: Option<u64>,
    /// Which request.
    pub id: FetchId,
}

/// How a wait ended (see [`Vm::ticket_status`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TicketStatus {
    /// Still waiting for the pager.
    Pending,
    /// The pager answered: retry the access.
    Done,
    /// The request failed: the access fails with this error.
    Failed(VmError),
}

/// The outcome of a fault.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FaultAction {
    /// A resident frame was mapped: retry the access.
    MapFrame,
    /// A zero-filled frame was mapped: retry.
    ZeroFill,
    /// A page was copied from a shadow object into the top object: retry.
    CopyUp,
    /// `data_request` was queued: wait on the ticket, then retry.
    RequestData(Ticket),
    /// `data_unlock` was queued: wait on the ticket, then retry.
    RequestUnlock(Ticket),
    /// The page is already being fetched or unlocked (or the object is not
    /// ready yet): wait on the ticket, then retry.
    Wait(Ticket),
    /// The access fails.
    Error(VmError),
}

impl FaultAction {
    /// Whether the access can be retried at once.
    pub fn is_resolved(&self) -> bool {
        matches!(
            self,
            FaultAction::MapFrame | FaultAction::ZeroFill | FaultAction::CopyUp
        )
    }

    /// The ticket to wait on, if the fault waits for a pager.
    pub fn ticket(&self) -> Option<Ticket> {
        match self {
            FaultAction::RequestData(t) | FaultAction::RequestUnlock(t) | FaultAction::Wait(t) => {
                Some(*t)
            }
            _ => None,
        }
    }
}

impl<M: Mmu, F: FrameAllocator> Vm<M, F> {
    /// Resolves a fault of `access` at `addr` in `map`.
    pub fn fault(&mut self, map: MapId, addr: u64, access: VmProt) -> FaultAction {
        self.stats.faults += 1;
        match self.fault_inner(map, addr, access) {
            Ok(a) => a,
            Err(e) => FaultAction::Error(e),
        }
    }

    fn fault_inner(
        &mut self,
        map: MapId,
        addr: u64,
        access: VmProt,
    ) -> Result<FaultAction, VmError> {
        let va = trunc_page(addr);
        let m = self.maps.get(&map).ok_or(VmError::InvalidName)?;
        let mut entry = *m.lookup(va).ok_or(VmError::InvalidAddress)?;
        if !entry.prot.contains(access) {
            return Err(VmError::ProtectionFailure);
        }
        if access.contains(VmProt::WRITE) && entry.needs_copy {
            entry = self.resolve_needs_copy(map, entry)?;
        }
        let space = map.pmap();
        let top = entry.object;
        self.collapse(top);
        let mut obj = top;
        let mut idx = entry.object_offset(va) / PAGE_SIZE;
        let mut depth = 0u32;
        loop {
            let o = self.objects.get(&obj).ok_or(VmError::Terminated)?;
            if let ObjectState::WaitingReady(id) = o.state {
                return Ok(FaultAction::Wait(self.wait_on(obj, None, id)));
            }
            let needed = if depth == 0 { access } else { VmProt::READ };
            let mut absent = false;
            if let Some(page) = o.pages.get(&idx).copied() {
                match page.state {
                    PageState::Busy(id) => {
                        return Ok(FaultAction::Wait(self.wait_on(obj, Some(idx), id)));
                    }
                    PageState::Absent => absent = true,
                    PageState::Resident(frame) => {
                        if page.lock.intersects(needed) {
                            return self.request_unlock(obj, idx, page, needed);
                        }
                        if depth == 0 {
                            let mut prot = entry.prot - page.lock;
                            if entry.needs_copy {
                                prot -= VmProt::WRITE;
                            }
                            self.map_page(space, va, frame, prot)?;
                            return Ok(FaultAction::MapFrame);
                        }
                        if access.contains(VmProt::WRITE) {
                            let nf = self.phys.alloc_frame().ok_or(VmError::ResourceShortage)?;
                            self.phys.copy_frame(frame, nf);
                            // Other maps may read the shadow's page through
                            // this same top object: they must see the copy
                            // now, so every translation of the original goes
                            // (as Mach's pmap_page_protect(NONE) here).
                            self.unmap_frame(frame);
                            let top_idx = entry.object_offset(va) / PAGE_SIZE;
                            let mut p = Page::resident(nf);
                            p.dirty = true;
                            self.insert_page(top, top_idx, p);
                            self.map_page(space, va, nf, entry.prot)?;
                            self.stats.copy_ups += 1;
                            return Ok(FaultAction::CopyUp);
                        }
                        let prot = entry.prot - page.lock - VmProt::WRITE;
                        self.map_page(space, va, frame, prot)?;
                        return Ok(FaultAction::MapFrame);
                    }
                }
            }
            // An internal object asks its default pager only for pages it
            // paged out; the others come from the shadow or are zero.
            let ask = !o.internal || o.paged_out.contains(&idx);
            if !absent
                && ask
                && let Some(link) = o.pager
            {
                if let ObjectState::Dead(e) = o.state {
                    return Err(e);
                }
                let id = self.fetch_id();
                if let Some(o) = self.objects.get_mut(&obj) {
                    o.pages.insert(idx, Page::busy(id));
                }
                self.outbox.push(Outgoing::to_pager(
                    link.pager,
                    KernelCall::Object(memory_object::Call::data_request {
                        control: control_item(link.control),
                        offset: idx * PAGE_SIZE,
                        length: PAGE_SIZE,
                        desired_access: needed.bits(),
                    }),
                ));
                self.stats.data_requests += 1;
                return Ok(FaultAction::RequestData(self.wait_on(obj, Some(idx), id)));
            }
            match o.shadow {
                Some((s, soff)) => {
                    idx = (idx * PAGE_SIZE + soff) / PAGE_SIZE;
                    obj = s;
                    depth += 1;
                }
                None => {
                    let f = self.phys.alloc_frame().ok_or(VmError::ResourceShortage)?;
                    self.phys.zero_frame(f);
                    let top_idx = entry.object_offset(va) / PAGE_SIZE;
                    self.insert_page(top, top_idx, Page::resident(f));
                    let mut prot = entry.prot;
                    if entry.needs_copy {
                        prot -= VmProt::WRITE;
                    }
                    self.map_page(space, va, f, prot)?;
                    self.stats.zero_fills += 1;
                    return Ok(FaultAction::ZeroFill);
                }
            }
        }
    }

    fn request_unlock(
        &mut self,
        obj: ObjectId,
        idx: u64,
        page: Page,
        needed: VmProt,
    ) -> Result<FaultAction, VmError> {
        if let Some(id) = page.unlock {
            return Ok(FaultAction::Wait(self.wait_on(obj, Some(idx), id)));
        }
        let o = self.objects.get(&obj).ok_or(VmError::Terminated)?;
        if let ObjectState::Dead(e) = o.state {
            return Err(e);
        }
        let link = o.pager.ok_or(VmError::ProtectionFailure)?;
        let id = self.fetch_id();
        if let Some(p) = self
            .objects
            .get_mut(&obj)
            .and_then(|o| o.pages.get_mut(&idx))
        {
            p.unlock = Some(id);
        }
        self.outbox.push(Outgoing::to_pager(
            link.pager,
            KernelCall::Object(memory_object::Call::data_unlock {
                control: control_item(link.control),
                offset: idx * PAGE_SIZE,
                length: PAGE_SIZE,
                desired_access: needed.bits(),
            }),
        ));
        self.stats.data_unlocks += 1;
        Ok(FaultAction::RequestUnlock(self.wait_on(obj, Some(idx), id)))
    }

    /// Registers a waiter on a request and returns its ticket.
    pub(crate) fn wait_on(&mut self, object: ObjectId, page: Option<u64>, id: FetchId) -> Ticket {
        *self.waiters.entry(id).or_insert(0) += 1;
        Ticket { object, page, id }
    }

    /// Records that a request failed, for whoever waits on it.
    pub(crate) fn fail_fetch(&mut self, id: FetchId, e: VmError) {
        if self.waiters.contains_key(&id) {
            self.failed.insert(id, e);
        }
    }

    /// Fails the requests outstanding on a page.
    pub(crate) fn fail_page_waits(&mut self, page: &Page, e: VmError) {
        if let PageState::Busy(id) = page.state {
            self.fail_fetch(id, e);
        }
        if let Some(id) = page.unlock {
            self.fail_fetch(id, e);
        }
    }

    fn consume_ticket(&mut self, id: FetchId) {
        if let Some(n) = self.waiters.get_mut(&id) {
            *n -= 1;
            if *n == 0 {
                self.waiters.remove(&id);
                self.failed.remove(&id);
            }
        }
    }

    /// Where the request behind a ticket stands. Once it returns
    /// [`TicketStatus::Done`] or [`TicketStatus::Failed`] the ticket is used up.
    pub fn ticket_status(&mut self, t: &Ticket) -> TicketStatus {
        if let Some(e) = self.failed.get(&t.id).copied() {
            self.consume_ticket(t.id);
            return TicketStatus::Failed(e);
        }
        let status = match self.objects.get(&t.object) {
            None => TicketStatus::Failed(VmError::Terminated),
            Some(o) => match t.page {
                None => match o.state {
                    ObjectState::WaitingReady(id) if id == t.id => TicketStatus::Pending,
                    ObjectState::Dead(e) => TicketStatus::Failed(e),
                    _ => TicketStatus::Done,
                },
                Some(idx) => match o.pages.get(&idx) {
                    Some(p) if p.state == PageState::Busy(t.id) || p.unlock == Some(t.id) => {
                        TicketStatus::Pending
                    }
                    _ => TicketStatus::Done,
                },
            },
        };
        if status != TicketStatus::Pending {
            self.consume_ticket(t.id);
        }
        status
    }

    /// Gives up waiting on a ticket (a timed-out or interrupted fault).
    pub fn release_ticket(&mut self, t: &Ticket) {
        self.consume_ticket(t.id);
    }
}
