//! The descriptor table: descriptor numbers to open files.
//!
//! On the Hurd an open file is a send right to an I/O port (the server's
//! *peropen*: the file pointer and open modes live there), so `dup` is one
//! more reference to the same right and the offset is shared, as POSIX
//! says; only close-on-exec belongs to the descriptor. The table is generic
//! over `T`, what a descriptor holds ([`Clone`] makes a duplicate: for a
//! port right, a new user reference).

use alloc::vec::Vec;

use linux_abi::Errno;

/// The default `RLIMIT_NOFILE` (Linux's soft limit).
pub const DEFAULT_LIMIT: usize = 1024;
/// The largest limit a process may set (Linux's `nr_open` default).
pub const MAX_LIMIT: usize = 1 << 20;

/// One open descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<T> {
    /// What the descriptor refers to.
    pub file: T,
    /// `FD_CLOEXEC`.
    pub cloexec: bool,
}

/// The table.
#[derive(Clone, Debug)]
pub struct FdTable<T> {
    slots: Vec<Option<Entry<T>>>,
    limit: usize,
}

impl<T: Clone> Default for FdTable<T> {
    fn default() -> Self {
        FdTable::new()
    }
}

impl<T: Clone> FdTable<T> {
    /// An empty table with the default limit.
    pub fn new() -> FdTable<T> {
        FdTable {
            slots: Vec::new(),
            limit: DEFAULT_LIMIT,
        }
    }

    /// The limit on descriptor numbers (`RLIMIT_NOFILE`).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Sets the limit. Descriptors at or above it stay open (as on Linux).
    ///
    /// # Errors
    /// `EPERM` above [`MAX_LIMIT`].
    pub fn set_limit(&mut self, limit: usize) -> Result<(), Errno> {
        if limit > MAX_LIMIT {
            return Err(Errno::Perm);
        }
        self.limit = limit;
        Ok(())
    }

    /// The entry of descriptor `fd`.
    ///
    /// # Errors
    /// `EBADF` if it is not open (any negative or huge number included).
    pub fn get(&self, fd: i32) -> Result<&Entry<T>, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(Option::as_ref)
            .ok_or(Errno::Badf)
    }

    /// The mutable entry of descriptor `fd` (to change its flags).
    ///
    /// # Errors
    /// `EBADF` if it is not open.
    pub fn get_mut(&mut self, fd: i32) -> Result<&mut Entry<T>, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(Errno::Badf)
    }

    /// The lowest free descriptor at or above `min`.
    fn lowest_free(&self, min: usize) -> Result<usize, Errno> {
        let found = (min..self.slots.len())
            .find(|&i| self.slots[i].is_none())
            .unwrap_or(self.slots.len().max(min));
        if found >= self.limit {
            Err(Errno::Mfile)
        } else {
            Ok(found)
        }
    }

    fn put(&mut self, fd: usize, entry: Entry<T>) -> Option<Entry<T>> {
        if self.slots.len() <= fd {
            self.slots.resize(fd + 1, None);
        }
        self.slots[fd].replace(entry)
    }

    /// Opens `file` at the lowest free descriptor (`open`, `socket`...).
    ///
    /// # Errors
    /// `EMFILE` when every descriptor below the limit is taken; `file` is
    /// handed back in that case so the caller can release it.
    pub fn insert(&mut self, file: T, cloexec: bool) -> Result<i32, (Errno, T)> {
        match self.lowest_free(0) {
            Ok(fd) => {
                self.put(fd, Entry { file, cloexec });
                Ok(fd as i32)
            }
            Err(e) => Err((e, file)),
        }
    }

    /// `dup` and `F_DUPFD[_CLOEXEC]`: a new descriptor at or above `min`
    /// for the same file (the copy never has `FD_CLOEXEC` unless asked).
    ///
    /// # Errors
    /// `EBADF` for a closed `fd`; `EINVAL` for `min` at or above the
    /// limit; `EMFILE` when none is free.
    pub fn dup(&mut self, fd: i32, min: i32, cloexec: bool) -> Result<i32, Errno> {
        let file = self.get(fd)?.file.clone();
        let min = usize::try_from(min).map_err(|_| Errno::Inval)?;
        if min >= self.limit {
            return Err(Errno::Inval);
        }
        let new = self.lowest_free(min)?;
        self.put(new, Entry { file, cloexec });
        Ok(new as i32)
    }

    /// `dup2` and `dup3`: makes `new` refer to `old`'s file, closing what
    /// `new` held (returned, for the caller to release). `dup2(fd, fd)`
    /// does nothing; `dup3(fd, fd)` is `EINVAL` (`same_is_error`).
    ///
    /// # Errors
    /// `EBADF` for a closed `old` or a `new` outside `0..limit`; `EINVAL`
    /// as above.
    pub fn dup2(
        &mut self,
        old: i32,
        new: i32,
        cloexec: bool,
        same_is_error: bool,
    ) -> Result<Option<Entry<T>>, Errno> {
        let file = self.get(old)?.file.clone();
        let slot = usize::try_from(new)
            .ok()
            .filter(|&n| n < self.limit)
            .ok_or(Errno::Badf)?;
        if old == new {
            return if same_is_error {
                Err(Errno::Inval)
            } else {
                Ok(None)
            };
        }
        Ok(self.put(slot, Entry { file, cloexec }))
    }

    /// `close`: removes the descriptor and returns its entry.
    ///
    /// # Errors
    /// `EBADF` if it is not open.
    pub fn close(&mut self, fd: i32) -> Result<Entry<T>, Errno> {
        let i = usize::try_from(fd).map_err(|_| Errno::Badf)?;
        let entry = self
            .slots
            .get_mut(i)
            .and_then(Option::take)
            .ok_or(Errno::Badf)?;
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        Ok(entry)
    }

    /// What `exec` keeps: every descriptor without `FD_CLOEXEC` (in number
    /// order, with its number); the others are closed and returned second.
    pub fn split_for_exec(&mut self) -> (Vec<(i32, T)>, Vec<T>) {
        let mut keep = Vec::new();
        let mut close = Vec::new();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            match slot.take() {
                Some(e) if !e.cloexec => {
                    keep.push((i as i32, e.file.clone()));
                    *slot = Some(e);
                }
                Some(e) => close.push(e.file),
                None => {}
            }
        }
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        (keep, close)
    }

    /// The open descriptors, in order.
    pub fn iter(&self) -> impl Iterator<Item = (i32, &Entry<T>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|e| (i as i32, e)))
    }

    /// How many descriptors are open.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
