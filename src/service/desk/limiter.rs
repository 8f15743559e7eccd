//! The login rate limit.
//!
//! - Per client address: at most [`LOGIN_ATTEMPTS`] attempts in [`LOGIN_WINDOW`]. An attempt
//!   is counted when it arrives, before the password is checked, so a burst of concurrent
//!   posts cannot slip past the limit while the checks run. A successful sign-in gives its
//!   attempt back.
//! - Per user name: no lock (anyone who knows a name could otherwise lock its owner out),
//!   but each failure beyond [`LOGIN_ATTEMPTS`] in the window delays the next attempt for
//!   that name by a second more, up to [`MAX_USER_DELAY`].
//! - Password hashing: Argon2 takes ~19 MiB and real CPU time per check, so at most
//!   [`CONCURRENT_HASHES`] run at once; a request finding them all busy is refused at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Attempts per client address within [`LOGIN_WINDOW`].
pub const LOGIN_ATTEMPTS: usize = 5;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(300);
/// Password checks running at once, at most.
pub const CONCURRENT_HASHES: usize = 4;
/// The longest a user name's failures slow down its next attempt.
pub const MAX_USER_DELAY: Duration = Duration::from_secs(10);

/// Why an attempt may not go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The address used up its attempts.
    Limited,
    /// Every password-check slot is taken.
    Busy,
}

#[derive(Debug)]
pub struct LoginLimiter {
    by_addr: Mutex<HashMap<String, Vec<Instant>>>,
    failures_by_user: Mutex<HashMap<String, Vec<Instant>>>,
    hashing: std::sync::Arc<Semaphore>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            by_addr: Mutex::default(),
            failures_by_user: Mutex::default(),
            hashing: std::sync::Arc::new(Semaphore::new(CONCURRENT_HASHES)),
        }
    }
}

/// Keeps the window's entries and forgets keys without any, so the maps stay small.
fn recent(map: &mut HashMap<String, Vec<Instant>>, now: Instant) {
    map.retain(|_, times| {
        times.retain(|t| now.duration_since(*t) < LOGIN_WINDOW);
        !times.is_empty()
    });
}

impl LoginLimiter {
    /// Counts an attempt from `addr`; refuses it when the address used up its attempts.
    pub fn attempt(&self, addr: &str) -> Result<(), Refusal> {
        let now = Instant::now();
        let mut map = self.by_addr.lock().unwrap_or_else(|e| e.into_inner());
        recent(&mut map, now);
        let times = map.entry(addr.to_string()).or_default();
        if times.len() >= LOGIN_ATTEMPTS {
            return Err(Refusal::Limited);
        }
        times.push(now);
        Ok(())
    }

    /// Gives an attempt back (a successful sign-in, or one refused for being busy).
    pub fn give_back(&self, addr: &str) {
        let mut map = self.by_addr.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(times) = map.get_mut(addr) {
            times.pop();
        }
    }

    /// How long an attempt for `user` waits before its password is checked.
    pub fn user_delay(&self, user: &str) -> Duration {
        let now = Instant::now();
        let mut map = self
            .failures_by_user
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        recent(&mut map, now);
        let failures = map.get(user).map_or(0, Vec::len);
        if failures < LOGIN_ATTEMPTS {
            return Duration::ZERO;
        }
        Duration::from_secs((failures - LOGIN_ATTEMPTS + 1) as u64).min(MAX_USER_DELAY)
    }

    pub fn user_failed(&self, user: &str) {
        self.failures_by_user
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(user.to_string())
            .or_default()
            .push(Instant::now());
    }

    pub fn user_succeeded(&self, user: &str) {
        self.failures_by_user
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(user);
    }

    /// A password-check slot, or [`Refusal::Busy`] at once.
    pub fn hashing_slot(&self) -> Result<OwnedSemaphorePermit, Refusal> {
        self.hashing
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::Busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_five_attempts_counted_before_any_check() {
        let l = LoginLimiter::default();
        for _ in 0..LOGIN_ATTEMPTS {
            assert_eq!(l.attempt("1.2.3.4"), Ok(()));
        }
        assert_eq!(l.attempt("1.2.3.4"), Err(Refusal::Limited));
        assert_eq!(l.attempt("5.6.7.8"), Ok(()), "other addresses go on");
        l.give_back("1.2.3.4");
        assert_eq!(l.attempt("1.2.3.4"), Ok(()));
    }

    #[test]
    fn a_user_name_is_slowed_not_locked() {
        let l = LoginLimiter::default();
        for _ in 0..LOGIN_ATTEMPTS - 1 {
            l.user_failed("ana");
        }
        assert_eq!(l.user_delay("ana"), Duration::ZERO);
        l.user_failed("ana");
        assert_eq!(l.user_delay("ana"), Duration::from_secs(1));
        for _ in 0..100 {
            l.user_failed("ana");
        }
        assert_eq!(l.user_delay("ana"), MAX_USER_DELAY);
        assert_eq!(l.user_delay("bo"), Duration::ZERO);
        l.user_succeeded("ana");
        assert_eq!(l.user_delay("ana"), Duration::ZERO);
    }

    #[test]
    fn password_checks_beyond_the_slots_are_refused_at_once() {
        let l = LoginLimiter::default();
        let held: Vec<_> = (0..CONCURRENT_HASHES)
            .map(|_| l.hashing_slot().unwrap())
            .collect();
        assert_eq!(l.hashing_slot().err(), Some(Refusal::Busy));
        drop(held);
        assert!(l.hashing_slot().is_ok());
    }
}
