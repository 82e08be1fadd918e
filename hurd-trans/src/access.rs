//! Permission checks, as `fshelp_access` and `fshelp_isowner` make them.
//!
//! In order: a caller holding uid 0 may do anything; a caller with *no* uids
//! (an unauthenticated port, or one whose reauthentication failed) is the
//! *unknown user*, governed by the [`S_IUNKNOWN`](crate::mode::S_IUNKNOWN) bits when the file has
//! [`S_IUSEUNK`] set and treated as "other" otherwise; a caller holding the
//! owner's uid gets the owner bits; one holding the group gets the group bits;
//! everyone else the "other" bits. The author (`st_author`) grants nothing.

use hurd_auth::IdSet;
use hurd_ipc::Errno;

use crate::mode::{S_IEXEC, S_IREAD, S_IUNKSHIFT, S_IUSEUNK, S_IWRITE};
use crate::stat::Stat;

/// What a caller wants to do with a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Op {
    /// Read it (`S_IREAD`).
    Read,
    /// Write it (`S_IWRITE`).
    Write,
    /// Execute it, or search the directory (`S_IEXEC`).
    Exec,
}

impl Op {
    const fn owner_bit(self) -> u32 {
        match self {
            Op::Read => S_IREAD,
            Op::Write => S_IWRITE,
            Op::Exec => S_IEXEC,
        }
    }
}

/// Whether `user` may do `op` to a file with status `st` (`EACCES` if not).
///
/// # Errors
///
/// `EACCES` when the mode bits refuse `op` to `user`.
pub fn check(user: &IdSet, st: &Stat, op: Op) -> Result<(), Errno> {
    let bit = op.owner_bit();
    if user.has_euid(0) {
        return Ok(());
    }
    let allowed = if user.euids.is_empty() && st.mode & S_IUSEUNK != 0 {
        st.mode & (bit << S_IUNKSHIFT) != 0
    } else if user.has_euid(st.uid) {
        st.mode & bit != 0
    } else if user.has_egid(st.gid) {
        st.mode & (bit >> 3) != 0
    } else {
        st.mode & (bit >> 6) != 0
    };
    if allowed { Ok(()) } else { Err(Errno::Access) }
}

/// Whether `user` owns the file (holds its uid, or uid 0): `EPERM` if not.
/// Changing modes, owners, the author and translators needs this.
///
/// # Errors
///
/// `EPERM` when `user` neither owns the file nor is root.
pub fn is_owner(user: &IdSet, st: &Stat) -> Result<(), Errno> {
    if user.has_euid(0) || user.has_euid(st.uid) {
        Ok(())
    } else {
        Err(Errno::Perm)
    }
}

/// Whether `user` is root (holds uid 0): `EPERM` if not.
///
/// # Errors
///
/// `EPERM` when `user` does not hold uid 0.
pub fn is_root(user: &IdSet) -> Result<(), Errno> {
    if user.has_euid(0) {
        Ok(())
    } else {
        Err(Errno::Perm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mode::{S_IFREG, S_IUNKNOWN};

    fn file(mode: u32) -> Stat {
        Stat {
            mode: S_IFREG | mode,
            uid: 1000,
            gid: 100,
            author: 2000,
            ..Stat::default()
        }
    }

    #[test]
    fn owner_group_other() {
        let st = file(0o640);
        let owner = IdSet::user(1000, &[1]);
        let member = IdSet::user(1001, &[100]);
        let other = IdSet::user(1002, &[5]);
        assert_eq!(check(&owner, &st, Op::Write), Ok(()));
        assert_eq!(check(&owner, &st, Op::Exec), Err(Errno::Access));
        assert_eq!(check(&member, &st, Op::Read), Ok(()));
        assert_eq!(check(&member, &st, Op::Write), Err(Errno::Access));
        assert_eq!(check(&other, &st, Op::Read), Err(Errno::Access));
        assert_eq!(check(&IdSet::root(), &st, Op::Write), Ok(()));
    }

    #[test]
    fn owner_bits_win_over_group_and_other() {
        // Owner denied, others allowed: the owner is still denied (no fall-through).
        let st = file(0o077);
        assert_eq!(
            check(&IdSet::user(1000, &[100]), &st, Op::Read),
            Err(Errno::Access)
        );
        assert_eq!(check(&IdSet::user(5, &[5]), &st, Op::Read), Ok(()));
    }

    #[test]
    fn unknown_user_uses_the_unknown_bits_only_with_iuseunk() {
        let nobody = IdSet::empty();
        // Without S_IUSEUNK an unknown user is "other".
        assert_eq!(check(&nobody, &file(0o604), Op::Read), Ok(()));
        assert_eq!(check(&nobody, &file(0o600), Op::Read), Err(Errno::Access));
        // With it, only the unknown bits count.
        let unk_read = S_IUSEUNK | (S_IREAD << S_IUNKSHIFT);
        assert_eq!(check(&nobody, &file(0o600 | unk_read), Op::Read), Ok(()));
        assert_eq!(
            check(&nobody, &file(0o604 | S_IUSEUNK), Op::Read),
            Err(Errno::Access)
        );
        assert_eq!(
            check(&nobody, &file(0o666 | unk_read), Op::Write),
            Err(Errno::Access)
        );
        assert_eq!(unk_read & S_IUNKNOWN, S_IREAD << S_IUNKSHIFT);
        // Known users ignore the unknown bits.
        assert_eq!(
            check(&IdSet::user(7, &[7]), &file(0o600 | unk_read), Op::Read),
            Err(Errno::Access)
        );
    }

    #[test]
    fn the_author_is_not_the_owner() {
        let st = file(0o600);
        let author = IdSet::user(2000, &[2000]);
        assert_eq!(check(&author, &st, Op::Read), Err(Errno::Access));
        assert_eq!(is_owner(&author, &st), Err(Errno::Perm));
        assert_eq!(is_owner(&IdSet::user(1000, &[]), &st), Ok(()));
        assert_eq!(is_owner(&IdSet::root(), &st), Ok(()));
    }
}
