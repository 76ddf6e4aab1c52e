//! A per-instance cache of client records, so most requests cost no client read. A disabled
//! client or rotated secret takes effect on a warm instance within the cache lifetime.
//! Only found clients are cached: unknown ids cannot grow the map.

use crate::domain::model::Client;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct ClientCache {
    lifetime: Duration,
    entries: Mutex<HashMap<String, (Instant, Client)>>,
}

impl ClientCache {
    pub fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, id: &str) -> Option<Client> {
        let entries = self.entries.lock().expect("client cache poisoned");
        entries
            .get(id)
            .filter(|(at, _)| at.elapsed() < self.lifetime)
            .map(|(_, client)| client.clone())
    }

    pub fn put(&self, client: Client) {
        if self.lifetime.is_zero() {
            return;
        }
        self.entries
            .lock()
            .expect("client cache poisoned")
            .insert(client.id.clone(), (Instant::now(), client));
    }

    /// Drops a client so this instance reads it afresh (after an admin change).
    pub fn forget(&self, id: &str) {
        self.entries
            .lock()
            .expect("client cache poisoned")
            .remove(id);
    }
}
