//! Loads and stores through the software MMU, faulting as a CPU would.

use crate::error::VmError;
use crate::fault::{FaultAction, Ticket};
use crate::map::MapId;
use crate::mmu::FrameAllocator;
use crate::page::{PAGE_SIZE, trunc_page};
use crate::prot::VmProt;
use crate::soft_mmu::SoftMmu;
use crate::vm::Vm;

/// Why a load or store could not finish.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Stall {
    /// A pager must answer first: wait on the ticket and retry the access.
    Wait(Ticket),
    /// The access fails.
    Error(VmError),
}

impl From<VmError> for Stall {
    fn from(e: VmError) -> Self {
        Stall::Error(e)
    }
}

impl<F: FrameAllocator> Vm<SoftMmu, F> {
    /// Translates `va` for `access`, faulting (at most a few times) until a
    /// translation allows it.
    fn resolve(&mut self, map: MapId, va: u64, access: VmProt) -> Result<crate::Frame, Stall> {
        for _ in 0..4 {
            match self.mmu.translate(map.pmap(), va, access) {
                Ok(f) => return Ok(f),
                Err(_) => match self.fault(map, va, access) {
                    FaultAction::Error(e) => return Err(Stall::Error(e)),
                    a => {
                        if let Some(t) = a.ticket() {
                            return Err(Stall::Wait(t));
                        }
                    }
                },
            }
        }
        Err(Stall::Error(VmError::Failure))
    }

    /// A load of `buf.len()` bytes at `addr` in `map`, as a thread of the task
    /// would do it: through the page tables, faulting where they say so.
    ///
    /// # Errors
    ///
    /// [`Stall::Wait`] when a pager must answer first (wait on the ticket and
    /// call again); [`Stall::Error`] with `InvalidAddress` (nothing mapped),
    /// `ProtectionFailure`, `ResourceShortage`, or the pager's failure
    /// (`MemoryError`, `MemoryFailure`).
    pub fn load(&mut self, map: MapId, addr: u64, buf: &mut [u8]) -> Result<(), Stall> {
        let mut done = 0usize;
        while done < buf.len() {
            let va = addr
                .checked_add(done as u64)
                .ok_or(VmError::InvalidAddress)?;
            let off = (va - trunc_page(va)) as usize;
            let n = (PAGE_SIZE as usize - off).min(buf.len() - done);
            let f = self.resolve(map, va, VmProt::READ)?;
            self.phys.read_frame(f, off, &mut buf[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// A store of `data` at `addr` in `map`, faulting where the page tables
    /// say so (copy-on-write, unlock, zero-fill, pager).
    ///
    /// # Errors
    ///
    /// As [`Vm::load`].
    pub fn store(&mut self, map: MapId, addr: u64, data: &[u8]) -> Result<(), Stall> {
        let mut done = 0usize;
        while done < data.len() {
            let va = addr
                .checked_add(done as u64)
                .ok_or(VmError::InvalidAddress)?;
            let off = (va - trunc_page(va)) as usize;
            let n = (PAGE_SIZE as usize - off).min(data.len() - done);
            let f = self.resolve(map, va, VmProt::WRITE)?;
            self.phys.write_frame(f, off, &data[done..done + n]);
            done += n;
        }
        Ok(())
    }
}
