//! Message ids to routine names: what each [`interface!`](crate::interface!)
//! says about itself, and a table of interfaces to look ids up in.
//!
//! The Hurd's `rpctrace` names the messages it forwards from `.msgids` files
//! that `mig -list` writes (one line per routine: subsystem, base id, routine
//! name, index, request id, reply id). Here every `interface!` definition
//! emits that list as data instead — a static [`Subsystem`] called
//! `DESCRIPTION` in the generated module, with each routine's name, id, kind
//! and the names and kinds of its arguments and results — and a crate that
//! defines interfaces lists them in one static slice (`hurd_trans::protocol::
//! INTERFACES`, `hurd_abi::INTERFACES`…). A tool gathers the slices it knows
//! into [`MsgIds`] and asks it for any id:
//!
//! ```
//! use hurd_ipc::interface;
//! use hurd_ipc::msgids::MsgIds;
//!
//! interface! {
//!     /// A calculator.
//!     pub mod calc: subsystem 3000 prefix "calc_" {
//!         /// Adds two numbers.
//!         routine add(a: u32, b: u32) -> (sum: u32);
//!         skip withdrawn();
//!         /// Records a note.
//!         simpleroutine note(text: String);
//!     }
//! }
//!
//! let mut ids = MsgIds::new();
//! ids.add(&calc::DESCRIPTION);
//! assert_eq!(ids.lookup(3000).unwrap().to_string(), "calc_add");
//! assert_eq!(ids.lookup(3100).unwrap().to_string(), "calc_add-reply");
//! assert_eq!(ids.lookup(3000).unwrap().routine.args[1].name, "b");
//! // A withdrawn routine, a simpleroutine's "reply" and a stranger are unknown.
//! assert!(ids.lookup(3001).is_none());
//! assert!(ids.lookup(3102).is_none());
//! assert!(ids.lookup(7).is_none());
//! ```
//!
//! As in `rpctrace`, an id that is not a request but whose hundreds digit is
//! odd is taken for the reply of the request 100 below it.

use alloc::vec::Vec;
use core::fmt;

use crate::mig::REPLY_ID_OFFSET;

/// How one argument or result travels, for printing it: the Rust type's
/// [`MsgArg::KIND`](crate::mig::MsgArg::KIND).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArgKind {
    /// An unsigned 32-bit integer.
    U32,
    /// A signed 32-bit integer.
    I32,
    /// An unsigned 64-bit integer.
    U64,
    /// A signed 64-bit integer.
    I64,
    /// A boolean (a 32-bit integer, 0 or 1).
    Bool,
    /// Bytes, best shown as data.
    Bytes,
    /// Bytes that are text: a name, a path, a string.
    Text,
    /// An array of 32-bit integers.
    U32Array,
    /// An array of 16-bit integers.
    U16Array,
    /// A port right.
    Port,
    /// An array of port rights.
    Ports,
    /// Out-of-line memory.
    Ool,
    /// A structure of the interface's own (a `stat` buffer, a thread state…).
    Struct,
}

/// One argument or result of a routine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    /// Its name in the definition.
    pub name: &'static str,
    /// Its Rust type, as written in the definition.
    pub ty: &'static str,
    /// How it travels.
    pub kind: ArgKind,
}

/// What a message id of an interface is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoutineKind {
    /// A request with a reply (`routine`).
    Routine,
    /// A request without one (`simpleroutine`).
    SimpleRoutine,
    /// An id held for a routine the interface does not have (`skip`).
    Skip,
}

/// One routine of an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routine {
    /// Its name, with the interface's prefix (`io_write`).
    pub name: &'static str,
    /// Its request's message id.
    pub id: i32,
    /// Routine, simpleroutine or a skipped id.
    pub kind: RoutineKind,
    /// The request's arguments, in order (the destination port is not one).
    pub args: &'static [Arg],
    /// The reply's results after the return code, in order.
    pub results: &'static [Arg],
}

/// An interface as `mig -list` would describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subsystem {
    /// Its name (the module's name in the definition).
    pub name: &'static str,
    /// The first message id.
    pub base: i32,
    /// Its routines, in id order from `base`, skipped ids included.
    pub routines: &'static [Routine],
}

impl Subsystem {
    /// One past the last message id.
    pub fn end(&self) -> i32 {
        let count = i32::try_from(self.routines.len()).unwrap_or(i32::MAX);
        self.base.saturating_add(count)
    }

    /// The routine (or skipped id) with request id `id`.
    pub fn routine(&self, id: i32) -> Option<&'static Routine> {
        let index = usize::try_from(id.checked_sub(self.base)?).ok()?;
        self.routines.get(index)
    }
}

/// What [`MsgIds::lookup`] found for an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// The interface.
    pub subsystem: &'static Subsystem,
    /// The routine.
    pub routine: &'static Routine,
    /// Whether the id was the routine's reply rather than its request.
    pub reply: bool,
}

impl fmt::Display for Found {
    /// The routine's name, `-reply` after it for a reply, as `rpctrace`
    /// names messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.routine.name)?;
        if self.reply {
            f.write_str("-reply")?;
        }
        Ok(())
    }
}

/// A table of interfaces, for naming any message id.
///
/// Interfaces may overlap (hurd-vm defines the memory-object control calls
/// of `mach.defs` as interfaces of their own): a routine wins over a skipped
/// id, and among routines the interface added first.
#[derive(Debug, Clone, Default)]
pub struct MsgIds {
    subsystems: Vec<&'static Subsystem>,
}

impl MsgIds {
    /// An empty table.
    pub fn new() -> MsgIds {
        MsgIds::default()
    }

    /// A table of the interfaces in each of `lists` (as the crates export
    /// them).
    pub fn with(lists: &[&[&'static Subsystem]]) -> MsgIds {
        let mut ids = MsgIds::new();
        for list in lists {
            for subsystem in *list {
                ids.add(subsystem);
            }
        }
        ids
    }

    /// Adds an interface (once: adding it again changes nothing).
    pub fn add(&mut self, subsystem: &'static Subsystem) {
        if !self.subsystems.iter().any(|s| core::ptr::eq(*s, subsystem)) {
            self.subsystems.push(subsystem);
        }
    }

    /// The interfaces in the table, in the order they were added.
    pub fn subsystems(&self) -> &[&'static Subsystem] {
        &self.subsystems
    }

    /// The routine whose request id is `id` (not a skipped id).
    pub fn request(&self, id: i32) -> Option<Found> {
        self.subsystems.iter().find_map(|subsystem| {
            let routine = subsystem.routine(id)?;
            (routine.kind != RoutineKind::Skip).then_some(Found {
                subsystem,
                routine,
                reply: false,
            })
        })
    }

    /// The routine whose reply id is `id` (simpleroutines have none).
    pub fn reply(&self, id: i32) -> Option<Found> {
        let found = self.request(id.checked_sub(REPLY_ID_OFFSET)?)?;
        (found.routine.kind == RoutineKind::Routine).then_some(Found {
            reply: true,
            ..found
        })
    }

    /// Names `id`: a request, or else (when its hundreds digit is odd, as
    /// `rpctrace` guesses) the reply of the request 100 below.
    pub fn lookup(&self, id: i32) -> Option<Found> {
        self.request(id).or_else(|| {
            if (id / 100) % 2 != 0 {
                self.reply(id)
            } else {
                None
            }
        })
    }
}
