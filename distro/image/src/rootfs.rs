//! The root filesystem of an image, packed as a tar archive boot module.
//!
//! The tree holds the manifest's directories, programs and files, every parent
//! directory they imply (mode `0o755`, owned by root), and the nodes of passive
//! translators. A passive translator record is stored in a pax extended header
//! of its node's entry under the keyword [`TRANSLATOR_KEYWORD`], whose value is
//! the command line in the Hurd's argz form: each word followed by a NUL byte
//! (what `file_get_translator` returns).

use std::collections::BTreeMap;
use std::fmt;

use hurd_trans::stat::TimeSpec;
use hurd_trans::tar::{Header, WriteError, Writer};

use crate::Epoch;
use crate::manifest::Translator;

pub use hurd_trans::tar::TRANSLATOR_KEYWORD;

/// A node of the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Directory, or file with its contents.
    pub contents: NodeContents,
    /// Permission bits.
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Group gid.
    pub gid: u32,
    /// The passive translator's command line, if one is set.
    pub translator: Option<Vec<String>>,
    /// Whether the manifest gave this node (not only implied it).
    explicit: bool,
}

/// What a node holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeContents {
    /// A directory.
    Dir,
    /// A regular file.
    File(Vec<u8>),
}

/// Why a tree cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeError(pub String);

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TreeError {}

/// A root filesystem tree, keyed by absolute path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RootFs {
    nodes: BTreeMap<String, Node>,
}

impl RootFs {
    /// An empty tree (just `/`).
    pub fn new() -> RootFs {
        let mut nodes = BTreeMap::new();
        nodes.insert("/".to_owned(), implied_dir());
        RootFs { nodes }
    }

    /// The node at `path`.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Every node, in path order.
    pub fn nodes(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(p, n)| (p.as_str(), n))
    }

    /// Adds a directory (its parents are implied).
    ///
    /// # Errors
    ///
    /// When `path` is given twice or would be inside a file.
    pub fn add_dir(&mut self, path: &str, mode: u32, uid: u32, gid: u32) -> Result<(), TreeError> {
        self.make_parents(path)?;
        let node = Node {
            contents: NodeContents::Dir,
            mode,
            uid,
            gid,
            translator: None,
            explicit: true,
        };
        match self.nodes.get_mut(path) {
            Some(n) if n.contents == NodeContents::Dir && !n.explicit => *n = node,
            Some(_) => return Err(TreeError(format!("`{path}` is given twice"))),
            None => {
                self.nodes.insert(path.to_owned(), node);
            }
        }
        Ok(())
    }

    /// Adds a regular file (its parents are implied).
    ///
    /// # Errors
    ///
    /// When `path` is given twice, is a directory, or would be inside a file.
    pub fn add_file(
        &mut self,
        path: &str,
        data: Vec<u8>,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(), TreeError> {
        self.make_parents(path)?;
        if let Some(n) = self.nodes.get(path) {
            return Err(TreeError(match n.contents {
                NodeContents::Dir => format!("`{path}` is a directory (it holds other entries)"),
                NodeContents::File(_) => format!("`{path}` is given twice"),
            }));
        }
        self.nodes.insert(
            path.to_owned(),
            Node {
                contents: NodeContents::File(data),
                mode,
                uid,
                gid,
                translator: None,
                explicit: true,
            },
        );
        Ok(())
    }

    /// Records a passive translator on its node, making the node (an empty
    /// file owned by the translator's owner) if nothing else made it. A node
    /// the manifest gives must be owned by the translator's owner.
    ///
    /// # Errors
    ///
    /// When the translator's owner does not own the node the manifest
    /// gives, or its node would be inside a file.
    pub fn set_translator(&mut self, t: &Translator) -> Result<(), TreeError> {
        if !self.nodes.contains_key(&t.node) {
            self.add_file(&t.node, Vec::new(), 0o644, t.owner, 0)?;
        }
        let Some(node) = self.nodes.get_mut(&t.node) else {
            return Err(TreeError(format!("`{}`: no such node", t.node)));
        };
        if node.uid != t.owner {
            return Err(TreeError(format!(
                "`{}`: the translator's owner {} is not the node's owner {} \
                 (a translator runs with its node owner's identity)",
                t.node, t.owner, node.uid
            )));
        }
        node.translator = Some(t.command.clone());
        Ok(())
    }

    /// Packs the tree as a tar archive (parents before children, `/` itself
    /// omitted), with every size, mode and owner as the tree has them (pax
    /// records for what ustar cannot hold) and every entry dated `epoch`.
    /// The same tree gives the same bytes.
    ///
    /// # Errors
    ///
    /// The first node the writer cannot write (a name with a NUL), named.
    pub fn to_tar(&self, epoch: Epoch) -> Result<Vec<u8>, TreeError> {
        let mtime = TimeSpec {
            sec: i64::try_from(epoch.secs()).unwrap_or(i64::MAX),
            nsec: 0,
        };
        let mut w = Writer::new();
        for (path, node) in self.nodes.iter().filter(|(p, _)| p.as_str() != "/") {
            let rel = path.trim_start_matches('/');
            let (mut header, data): (Header, &[u8]) = match &node.contents {
                NodeContents::Dir => (Header::dir(rel, node.mode), &[]),
                NodeContents::File(d) => (Header::file(rel, node.mode), d),
            };
            header.uid = node.uid;
            header.gid = node.gid;
            header.mtime = mtime;
            if let Some(cmd) = &node.translator {
                header
                    .extra
                    .push((TRANSLATOR_KEYWORD.to_owned(), argz(cmd)));
            }
            w.append(&header, data)
                .map_err(|e: WriteError| TreeError(format!("`{path}`: {e}")))?;
        }
        Ok(w.finish())
    }

    /// Moves the nodes below the directory `mount` into a tree of their own
    /// (a disk mounted there), whose root takes `mount`'s mode and owner;
    /// `mount` stays, as the mount point, made if nothing made it.
    ///
    /// # Errors
    ///
    /// When `mount` is a file or would be inside one.
    pub fn split_off(&mut self, mount: &str) -> Result<RootFs, TreeError> {
        match self.nodes.get(mount) {
            Some(n) if n.contents != NodeContents::Dir => {
                return Err(TreeError(format!(
                    "`{mount}` is a file: a disk is mounted on a directory"
                )));
            }
            Some(_) => {}
            None => {
                self.make_parents(mount)?;
                self.nodes.insert(mount.to_owned(), implied_dir());
            }
        }
        let below: Vec<String> = self
            .nodes
            .keys()
            .filter(|p| p.strip_prefix(mount).is_some_and(|r| r.starts_with('/')))
            .cloned()
            .collect();
        let mut disk = RootFs::new();
        if let Some(root) = self.nodes.get(mount) {
            disk.nodes.insert("/".to_owned(), root.clone());
        }
        for path in below {
            if let Some(node) = self.nodes.remove(&path) {
                disk.nodes.insert(path[mount.len()..].to_owned(), node);
            }
        }
        Ok(disk)
    }

    /// A copy of the tree holding only what is at or below one of `keep`
    /// (and the directories above it): the boot file system of a system
    /// whose root is on a disk.
    pub fn subset(&self, keep: &[&str]) -> RootFs {
        let kept = |p: &str| {
            keep.iter().any(|k| {
                p == *k
                    || p.strip_prefix(k).is_some_and(|r| r.starts_with('/'))
                    || k.strip_prefix(p)
                        .is_some_and(|r| p == "/" || r.starts_with('/'))
            })
        };
        RootFs {
            nodes: self
                .nodes
                .iter()
                .filter(|(p, _)| kept(p))
                .map(|(p, n)| (p.clone(), n.clone()))
                .collect(),
        }
    }

    /// Makes the directory `path` with `mode` unless the manifest gave it
    /// (a directory only implied by its entries takes `mode`).
    ///
    /// # Errors
    ///
    /// When `path` is a file, or would be inside one.
    pub fn ensure_dir(&mut self, path: &str, mode: u32) -> Result<(), TreeError> {
        match self.nodes.get(path) {
            Some(n) if n.contents == NodeContents::Dir && n.explicit => Ok(()),
            _ => self.add_dir(path, mode, 0, 0),
        }
    }

    /// Makes every parent directory of `path`; fails if one is a file.
    fn make_parents(&mut self, path: &str) -> Result<(), TreeError> {
        let mut parent = String::new();
        let components: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        for c in &components[..components.len().saturating_sub(1)] {
            parent.push('/');
            parent.push_str(c);
            match self.nodes.get(&parent) {
                Some(n) if n.contents == NodeContents::Dir => {}
                Some(_) => {
                    return Err(TreeError(format!(
                        "`{path}` would be inside `{parent}`, which is a file"
                    )));
                }
                None => {
                    self.nodes.insert(parent.clone(), implied_dir());
                }
            }
        }
        Ok(())
    }
}

fn implied_dir() -> Node {
    Node {
        contents: NodeContents::Dir,
        mode: 0o755,
        uid: 0,
        gid: 0,
        translator: None,
        explicit: false,
    }
}

/// The Hurd's argz form: each word followed by NUL.
pub fn argz(words: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for w in words {
        out.extend_from_slice(w.as_bytes());
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_keeps_every_owner_and_size() {
        let mut fs = RootFs::new();
        fs.add_dir("/srv", 0o750, 3_000_000, 4_000_000)
            .expect("dir");
        let data = vec![7u8; 100_000];
        fs.add_file("/srv/data", data.clone(), 0o640, u32::MAX, 2_097_152)
            .expect("file");
        fs.set_translator(&Translator {
            node: "/srv/greet".into(),
            command: vec!["/hurd/hello".into(), "hi there".into()],
            owner: 3_000_000,
            line: 0,
        })
        .expect("translator");
        let archive = fs.to_tar(Epoch::DEFAULT).expect("tar");
        let entries = hurd_servers::untar::entries(&archive).expect("entries");
        let by_path = |p: &str| {
            entries
                .iter()
                .find(|e| e.path == p)
                .unwrap_or_else(|| panic!("{p}"))
        };
        let srv = by_path("srv");
        assert_eq!(
            (srv.header.uid, srv.header.gid, srv.header.mode),
            (3_000_000, 4_000_000, 0o750)
        );
        let d = by_path("srv/data");
        assert_eq!((d.header.uid, d.header.gid), (u32::MAX, 2_097_152));
        let mut back = vec![0u8; data.len()];
        assert_eq!(d.read(0, &mut back), Ok(data.len()));
        assert_eq!(back, data);
        assert_eq!(
            by_path("srv/greet").translator(),
            Some(&b"/hurd/hello\0hi there\0"[..])
        );
    }

    #[test]
    fn a_disk_takes_what_is_below_its_mount_point() {
        let mut fs = RootFs::new();
        fs.add_dir("/home/alice", 0o700, 1000, 100).expect("dir");
        fs.add_file("/home/alice/note", b"n".to_vec(), 0o600, 1000, 100)
            .expect("file");
        fs.add_file("/homework", b"h".to_vec(), 0o644, 0, 0)
            .expect("file");
        let disk = fs.split_off("/home").expect("split");
        let paths: Vec<&str> = disk.nodes().map(|(p, _)| p).collect();
        assert_eq!(paths, ["/", "/alice", "/alice/note"]);
        assert_eq!(
            disk.get("/alice").map(|n| (n.uid, n.mode)),
            Some((1000, 0o700))
        );
        assert!(fs.get("/home").is_some(), "the mount point stays");
        assert!(fs.get("/home/alice").is_none());
        assert!(fs.get("/homework").is_some());
        // A mount point nothing made is made; a file is refused.
        let empty = fs.split_off("/srv/data").expect("split");
        assert_eq!(empty.nodes().count(), 1);
        assert!(fs.get("/srv/data").is_some());
        assert!(fs.split_off("/homework").is_err());
        assert!(fs.split_off("/homework/x").is_err());
    }

    #[test]
    fn parents_are_implied_and_files_are_not_dirs() {
        let mut fs = RootFs::new();
        fs.add_file("/a/b/c", b"x".to_vec(), 0o644, 0, 0)
            .expect("file");
        assert_eq!(
            fs.get("/a/b").map(|n| &n.contents),
            Some(&NodeContents::Dir)
        );
        let e = fs
            .add_file("/a/b/c/d", vec![], 0o644, 0, 0)
            .expect_err("inside a file");
        assert!(e.0.contains("`/a/b/c`, which is a file"), "{e}");
        let e = fs.add_file("/a/b", vec![], 0o644, 0, 0).expect_err("a dir");
        assert!(e.0.contains("is a directory"), "{e}");
        // An implied directory may be given explicitly once.
        fs.add_dir("/a", 0o700, 5, 5).expect("dir");
        assert_eq!(fs.get("/a").map(|n| n.mode), Some(0o700));
        assert!(fs.add_dir("/a", 0o700, 5, 5).is_err());
    }

    #[test]
    fn translator_owner_must_match_the_node() {
        let mut fs = RootFs::new();
        fs.add_file("/srv/x", vec![], 0o644, 1000, 1000)
            .expect("file");
        let t = |owner| Translator {
            node: "/srv/x".into(),
            command: vec!["/hurd/hello".into()],
            owner,
            line: 0,
        };
        assert!(fs.set_translator(&t(0)).is_err());
        fs.set_translator(&t(1000)).expect("owner matches");
        assert_eq!(
            fs.get("/srv/x").and_then(|n| n.translator.clone()),
            Some(vec!["/hurd/hello".to_owned()])
        );
    }
}
