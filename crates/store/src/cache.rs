//! A per-process cache of derived data (a user's scope, the dashboard's figures), exact across
//! processes: every entry is tagged with the audit head's sequence number at the time it was
//! computed, and every write bumps that number in the same transaction (see `WriteTx`). A request
//! reads the current number together with its session, in the same query, so a cached value is
//! used only if nothing at all was written since. Sessions and users themselves are never cached.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries kept at most; past that the cache starts over (it only ever saves work).
const CAPACITY: usize = 10_000;

/// A value and the audit sequence number it was computed at.
type Entry = (i64, Arc<dyn Any + Send + Sync>);

#[derive(Default)]
pub(crate) struct Cache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Cache {
    /// The value stored under `key` for exactly this audit sequence number.
    pub(crate) fn get<T: Clone + Send + Sync + 'static>(&self, key: &str, seq: i64) -> Option<T> {
        let entries = self.entries.lock().ok()?;
        let (at, value) = entries.get(key)?;
        if *at != seq {
            return None;
        }
        value.downcast_ref::<T>().cloned()
    }

    pub(crate) fn put<T: Send + Sync + 'static>(&self, key: String, seq: i64, value: T) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(key, (seq, Arc::new(value)));
        }
    }
}
