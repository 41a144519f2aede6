//! The in-memory frame cache: finished frames live in shared-memory segments, so a cached frame
//! is served by handing the client the segment (once) and an offset, without copying pixels.
use std::collections::HashMap;
use std::sync::Arc;

use dreamfx_protocol::job::JobKey;
use dreamfx_protocol::shm::Segment;

struct Entry {
    segment: Arc<Segment>,
    last_used: u64,
}

/// Bounded by bytes, least recently used out first. Evicting only drops the runtime's handle:
/// a client still mapping the segment keeps its pixels valid until it lets go.
pub struct FrameCache {
    entries: HashMap<JobKey, Entry>,
    bytes: u64,
    capacity: u64,
    clock: u64,
}

impl FrameCache {
    pub fn new(capacity: u64) -> Self {
        FrameCache {
            entries: HashMap::new(),
            bytes: 0,
            capacity,
            clock: 0,
        }
    }

    pub fn get(&mut self, key: &JobKey) -> Option<Arc<Segment>> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|e| {
            e.last_used = clock;
            e.segment.clone()
        })
    }

    pub fn insert(&mut self, key: JobKey, segment: Arc<Segment>) {
        self.clock += 1;
        self.bytes += segment.len();
        if let Some(old) = self.entries.insert(
            key,
            Entry {
                segment,
                last_used: self.clock,
            },
        ) {
            self.bytes -= old.segment.len();
        }
        while self.bytes > self.capacity && self.entries.len() > 1 {
            let oldest = *self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k)
                .unwrap();
            let e = self.entries.remove(&oldest).unwrap();
            self.bytes -= e.segment.len();
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used_past_capacity() {
        let seg = |id| Arc::new(Segment::create(id, 4096).unwrap());
        let mut cache = FrameCache::new(2 * 4096);
        cache.insert(JobKey([1; 32]), seg(1));
        cache.insert(JobKey([2; 32]), seg(2));
        assert!(cache.get(&JobKey([1; 32])).is_some());
        cache.insert(JobKey([3; 32]), seg(3));
        assert_eq!(cache.len(), 2);
        assert!(
            cache.get(&JobKey([2; 32])).is_none(),
            "2 was least recently used"
        );
        assert!(cache.get(&JobKey([1; 32])).is_some());
        assert_eq!(cache.bytes(), 2 * 4096);
    }
}
