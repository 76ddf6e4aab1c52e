//! The keys of a warm instance, kept fresh: every instance re-reads its key source (the keys
//! secret) when its copy is older than a bound, so a key published, activated, retired or
//! removed there reaches every serving instance within that bound, without a deployment.
//!
//! - From 80% of the bound on, the first request starts a re-read in the background and goes on
//!   with the keys it has: a busy instance never waits for it.
//! - At the bound, a request waits for the re-read (an idle instance's first request pays one
//!   Secrets Manager round trip), so no instance serves with keys older than the bound while the
//!   source answers.
//! - A failed re-read keeps the keys the instance has, is logged, and is retried in the
//!   background at most every `RETRY_SECONDS`; failures of a copy older than the bound are
//!   counted (`stale_failures`), which the metrics turn into `KeysRefreshFailed` and an alarm.
//!   It never takes the function down.
//!
//! Ages are measured on the service's clock, so tests move time instead of sleeping. A copy is
//! as old as the moment its read began, and a clock that steps back makes the copy due.

use super::key_ring::{KeyMaterial, KeyRing};
use crate::clock::Clock;
use async_trait::async_trait;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Due {
    Not,
    InBackground,
    Now,
}

/// How long after a failed re-read the next one may start.
pub const RETRY_SECONDS: i64 = 30;

/// Where an instance reads its keys again (the keys secret). The domain's port: the app
/// implements it over Secrets Manager.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The keys as they are now, checked (`KeyMaterial::check`). The error names the source,
    /// never a value.
    async fn load(&self) -> Result<KeyMaterial, String>;
}

/// How an instance refreshes its keys.
pub struct Refresh {
    pub source: Arc<dyn KeySource>,
    /// The bound: no request is served with a copy older than this while the source answers.
    pub max_age_seconds: i64,
}

pub struct LiveKeys {
    ring: RwLock<Arc<KeyRing>>,
    refresh: Option<Refresh>,
    /// When the keys in use were read (the service clock's seconds).
    loaded_at: AtomicI64,
    /// No re-read starts before this; later than `loaded_at` only after a failure.
    next_attempt: AtomicI64,
    /// Held by the one re-read under way.
    reading: Arc<tokio::sync::Mutex<()>>,
    issuer: String,
    access_token_lifetime: i64,
    stale_failures: AtomicU64,
}

impl LiveKeys {
    /// Keys that never change (tests, benchmarks, a run without a source).
    pub fn fixed(ring: KeyRing) -> Self {
        Self::new(ring, None, 0, String::new(), 0)
    }

    pub fn new(
        ring: KeyRing,
        refresh: Option<Refresh>,
        loaded_at: i64,
        issuer: String,
        access_token_lifetime: i64,
    ) -> Self {
        Self {
            ring: RwLock::new(Arc::new(ring)),
            refresh,
            loaded_at: AtomicI64::new(loaded_at),
            next_attempt: AtomicI64::new(loaded_at),
            reading: Arc::new(tokio::sync::Mutex::new(())),
            issuer,
            access_token_lifetime,
            stale_failures: AtomicU64::new(0),
        }
    }

    /// The keys to use now: one lock read and a reference count.
    pub fn get(&self) -> Arc<KeyRing> {
        self.ring
            .read()
            .expect("the key lock is never poisoned")
            .clone()
    }

    /// Failed re-reads of a copy older than the bound since the last call (for the metrics).
    pub fn take_stale_failures(&self) -> u64 {
        self.stale_failures.swap(0, Ordering::Relaxed)
    }

    /// Called once per request before it uses any key: re-reads the source if the copy is due.
    pub async fn refresh_if_due(self: &Arc<Self>, clock: &Arc<dyn Clock>) {
        let Some(refresh) = &self.refresh else {
            return;
        };
        let bound = refresh.max_age_seconds;
        match self.due(clock.now(), bound) {
            Due::Not => {}
            Due::InBackground => {
                let Ok(guard) = self.reading.clone().try_lock_owned() else {
                    return; // a re-read is under way
                };
                if self.due(clock.now(), bound) == Due::Not {
                    return; // another request just re-read them
                }
                let keys = self.clone();
                let clock = clock.clone();
                tokio::spawn(async move {
                    keys.reload(clock.as_ref()).await;
                    drop(guard);
                });
            }
            Due::Now => {
                // Wait for a re-read under way, then judge again: it may have been started
                // long ago (a frozen instance) and brought back keys already too old.
                let _guard = self.reading.lock().await;
                if self.due(clock.now(), bound) == Due::Now {
                    self.reload(clock.as_ref()).await;
                }
            }
        }
    }

    /// Whether the copy is due for a re-read at `now`, and how.
    fn due(&self, now: i64, bound: i64) -> Due {
        let loaded_at = self.loaded_at.load(Ordering::Acquire);
        let next_attempt = self.next_attempt.load(Ordering::Acquire);
        // A clock that stepped back makes the stored times meaningless: the copy is due.
        let age = if now < loaded_at {
            bound
        } else {
            now - loaded_at
        };
        let may_try = now >= next_attempt || next_attempt - now > RETRY_SECONDS;
        if !may_try || age * 5 < bound * 4 {
            Due::Not
        } else if age >= bound && next_attempt <= loaded_at {
            // Past the bound, and the last attempt did not fail: the request waits.
            Due::Now
        } else {
            Due::InBackground
        }
    }

    /// Reads the source once; the caller holds `reading`.
    async fn reload(&self, clock: &dyn Clock) {
        let Some(refresh) = &self.refresh else {
            return;
        };
        // The copy is as old as the moment the read began: an instance frozen mid-read (Lambda
        // freezes it between invocations) must not take a late answer for a fresh one.
        let started = clock.now();
        let outcome = refresh.source.load().await;
        let now = clock.now();
        match outcome {
            Ok(material) => {
                let unpublished = material.active_without_publication(self.get().material(), now);
                if !unpublished.is_empty() {
                    tracing::error!(
                        kids = unpublished.join(","),
                        "keys became active without being published first: instances that \
                         have not read them yet refuse what they sign (README, Rotate a key)"
                    );
                }
                let ring = KeyRing::build(material, &self.issuer, self.access_token_lifetime);
                *self.ring.write().expect("the key lock is never poisoned") = Arc::new(ring);
                self.next_attempt.store(started, Ordering::Release);
                self.loaded_at.store(started, Ordering::Release);
                tracing::debug!("keys re-read");
            }
            Err(why) => {
                let age = now - self.loaded_at.load(Ordering::Acquire);
                self.next_attempt
                    .store(now + RETRY_SECONDS, Ordering::Release);
                if age >= refresh.max_age_seconds {
                    self.stale_failures.fetch_add(1, Ordering::Relaxed);
                }
                tracing::error!(
                    age_seconds = age,
                    "re-reading the keys failed; keeping the keys this instance has: {why}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::config::{key_material, plain_entries};
    use std::sync::atomic::AtomicUsize;

    /// A source whose read takes `stall` seconds of the clock: an instance frozen mid-read.
    struct Stalling {
        clock: Arc<ManualClock>,
        stall: i64,
        reads: AtomicUsize,
    }

    #[async_trait]
    impl KeySource for Stalling {
        async fn load(&self) -> Result<KeyMaterial, String> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.clock.advance(self.stall);
            Ok(material())
        }
    }

    fn material() -> KeyMaterial {
        key_material(
            plain_entries("SIGNING_KEYS", "s:hJ3vQ8rZ-k2PqW9xLm4TnB7yGc5VdF1s").unwrap(),
            plain_entries("GRANT_TOKEN_KEYS", "g:Xq5Lw2Nc-R8tYz3KpV6mJd9HsB4fGa7e").unwrap(),
        )
        .unwrap()
    }

    /// Keys read at 1,000,000 with a bound of 300, from a source whose reads take `stall`.
    fn instance(stall: i64) -> (Arc<ManualClock>, Arc<Stalling>, Arc<LiveKeys>) {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let source = Arc::new(Stalling {
            clock: clock.clone(),
            stall,
            reads: AtomicUsize::new(0),
        });
        let keys = keys_over(&clock, source.clone());
        (clock, source, keys)
    }

    /// Keys read now with a bound of 300, re-read from `source`.
    fn keys_over(clock: &Arc<ManualClock>, source: Arc<dyn KeySource>) -> Arc<LiveKeys> {
        let refresh = Refresh {
            source,
            max_age_seconds: 300,
        };
        let ring = KeyRing::build(material(), "https://issuer.test", 600);
        Arc::new(LiveKeys::new(
            ring,
            Some(refresh),
            clock.now(),
            "https://issuer.test".into(),
            600,
        ))
    }

    #[tokio::test]
    async fn a_copy_is_as_old_as_the_moment_its_read_began() {
        let (clock, source, keys) = instance(200);
        let service_clock: Arc<dyn Clock> = clock.clone();
        clock.advance(300);
        keys.refresh_if_due(&service_clock).await;
        assert_eq!(source.reads.load(Ordering::SeqCst), 1);
        // The read began at 300 and ended at 500: at 600 its copy is 300 old, due again.
        clock.advance(100);
        keys.refresh_if_due(&service_clock).await;
        assert_eq!(source.reads.load(Ordering::SeqCst), 2);
    }

    /// A source that cannot be read, counting the attempts.
    #[derive(Default)]
    struct Failing {
        reads: AtomicUsize,
    }

    #[async_trait]
    impl KeySource for Failing {
        async fn load(&self) -> Result<KeyMaterial, String> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Err("unreachable".into())
        }
    }

    /// Failed re-reads of a copy past its bound are counted once each, for the metrics.
    #[tokio::test]
    async fn failed_reads_past_the_bound_are_counted_once() {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let service_clock: Arc<dyn Clock> = clock.clone();
        let source = Arc::new(Failing::default());
        let keys = keys_over(&clock, source.clone());
        assert_eq!(keys.take_stale_failures(), 0);
        clock.advance(300);
        keys.refresh_if_due(&service_clock).await;
        assert_eq!(keys.take_stale_failures(), 1);
        assert_eq!(keys.take_stale_failures(), 0);
        // A failed read is not tried again for RETRY_SECONDS: requests go on with the keys
        // they have, and do not all queue behind an unreachable source.
        for wait in [0, RETRY_SECONDS - 1] {
            clock.advance(wait);
            keys.refresh_if_due(&service_clock).await;
            for _ in 0..100 {
                tokio::task::yield_now().await;
            }
            assert_eq!(
                source.reads.load(Ordering::SeqCst),
                1,
                "{wait} s after the failure"
            );
        }
        // Then it is tried again, in the background (the request goes on with its keys).
        clock.advance(1);
        keys.refresh_if_due(&service_clock).await;
        for _ in 0..100 {
            if source.reads.load(Ordering::SeqCst) == 2 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(source.reads.load(Ordering::SeqCst), 2);
    }

    /// A failed background read of a copy still within its bound is no stale failure.
    #[tokio::test]
    async fn a_failed_read_within_the_bound_is_no_stale_failure() {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let service_clock: Arc<dyn Clock> = clock.clone();
        let source = Arc::new(Failing::default());
        let keys = keys_over(&clock, source.clone());
        clock.advance(250);
        keys.refresh_if_due(&service_clock).await;
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(source.reads.load(Ordering::SeqCst), 1);
        assert_eq!(keys.take_stale_failures(), 0);
    }

    /// Past four fifths of the bound, a request re-reads the keys in the background and goes
    /// on with its copy.
    #[tokio::test]
    async fn a_copy_near_its_bound_is_re_read_in_the_background() {
        let (clock, source, keys) = instance(0);
        let service_clock: Arc<dyn Clock> = clock.clone();
        // Before four fifths of the bound (240 of 300), nothing is re-read.
        clock.advance(239);
        keys.refresh_if_due(&service_clock).await;
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(source.reads.load(Ordering::SeqCst), 0);
        clock.advance(11);
        keys.refresh_if_due(&service_clock).await;
        for _ in 0..100 {
            if source.reads.load(Ordering::SeqCst) == 1 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(source.reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_clock_that_steps_back_makes_the_copy_due() {
        let (clock, source, keys) = instance(0);
        let service_clock: Arc<dyn Clock> = clock.clone();
        clock.advance(-3600);
        keys.refresh_if_due(&service_clock).await;
        assert_eq!(source.reads.load(Ordering::SeqCst), 1);
    }
}
