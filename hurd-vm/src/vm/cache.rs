//! The object cache (`may_cache`): unused objects kept for their pages, evicted beyond a limit, and shadow chains collapsed.

use super::*;

impl<M: Mmu, F: FrameAllocator> Vm<M, F> {
    /// Whether an object nobody uses may stay: an external, live object whose
    /// pager said may_cache.
    pub(super) fn cacheable(&self, id: ObjectId) -> bool {
        self.objects.get(&id).is_some_and(|o| {
            o.is_external()
                && o.may_cache
                && o.state == ObjectState::Ready
                && o.refs() == 0
                && o.pager
                    .is_some_and(|l| self.by_control.get(&l.control) == Some(&id))
        })
    }

    pub(super) fn cache_object(&mut self, id: ObjectId) {
        if !self.cache.contains(&id) {
            self.cache.push(id);
        }
        while let Some(&oldest) = self.cache.first()
            && self.cache.len() > self.cache_limit
        {
            self.evict(oldest);
        }
    }

    /// Takes an object out of the cache because a map uses it again.
    pub(crate) fn uncache(&mut self, id: ObjectId) {
        self.cache.retain(|c| *c != id);
    }

    /// Terminates a cached object (or does nothing if it is not cached).
    pub(crate) fn evict(&mut self, id: ObjectId) {
        let Some(at) = self.cache.iter().position(|c| *c == id) else {
            return;
        };
        self.cache.remove(at);
        let unused = match self.objects.get_mut(&id) {
            Some(o) if o.refs() == 0 => {
                // Not to be cached again on the way out.
                o.may_cache = false;
                true
            }
            _ => false,
        };
        if unused {
            self.destroy_object(id);
        }
    }

    /// The objects kept after their last unmapping (may_cache), oldest first.
    pub fn cached_objects(&self) -> &[ObjectId] {
        &self.cache
    }

    /// How many unused objects to keep at most ([`OBJECT_CACHE_LIMIT`] by
    /// default); the oldest beyond it are terminated.
    pub fn set_object_cache_limit(&mut self, limit: usize) {
        self.cache_limit = limit;
        while let Some(&oldest) = self.cache.first()
            && self.cache.len() > self.cache_limit
        {
            self.evict(oldest);
        }
    }

    pub(crate) fn insert_page(&mut self, obj: ObjectId, idx: u64, page: Page) {
        if let Some(f) = page.frame() {
            self.frames.insert(
                f,
                FrameInfo {
                    owner: (obj, idx),
                    mappings: Vec::new(),
                },
            );
        }
        if let Some(o) = self.objects.get_mut(&obj) {
            o.pages.insert(idx, page);
        }
    }

    /// Merges shadows that only `top` uses into it, so chains stay short.
    pub(crate) fn collapse(&mut self, top: ObjectId) {
        loop {
            let Some((b, boff)) = self.objects.get(&top).and_then(|o| o.shadow) else {
                return;
            };
            let top_size = self.objects.get(&top).map_or(0, |o| o.size);
            let collapsible = self
                .objects
                .get(&b)
                .is_some_and(|o| o.pager.is_none() && o.refs() == 1);
            if !collapsible {
                return;
            }
            let Some(bo) = self.objects.remove(&b) else {
                return;
            };
            let first = boff / PAGE_SIZE;
            let last = (boff + top_size) / PAGE_SIZE;
            for (bidx, p) in bo.pages {
                let keep = bidx >= first
                    && bidx < last
                    && self.objects.get(&top).is_some_and(|o| {
                        !o.pages.contains_key(&(bidx - first))
                            && !o.paged_out.contains(&(bidx - first))
                    });
                match (keep, p.frame()) {
                    (true, Some(f)) => {
                        if let Some(fi) = self.frames.get_mut(&f) {
                            fi.owner = (top, bidx - first);
                        }
                        if let Some(o) = self.objects.get_mut(&top) {
                            o.pages.insert(bidx - first, p);
                        }
                    }
                    (_, Some(f)) => self.drop_frame(f),
                    (_, None) => {}
                }
            }
            if let Some(o) = self.objects.get_mut(&top) {
                o.shadow = bo.shadow.map(|(s, off)| (s, off + boff));
            }
            self.stats.collapses += 1;
        }
    }
}
