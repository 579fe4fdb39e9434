//! The emulator's clock: the wall clock plus an offset a test can advance.
//!
//! Storage time — `Last-Modified`, bucket creation, snapshot and version timestamps, the `Date`
//! response header, and whatever expires by them — reads this clock, so a test can move an
//! emulator days ahead through [`Emulator::advance_clock`](crate::Emulator::advance_clock)
//! instead of sleeping. Request signatures are judged by the real clock: a client signing with
//! its own (real) time is never refused as skewed because a test advanced the emulator.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// A shared handle on one emulator's clock; clones read and advance the same offset.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    /// Nanoseconds added to the wall clock. Only ever grows, so the clock never goes back.
    offset_nanos: Arc<AtomicU64>,
}

impl Clock {
    /// Now, as the emulator's storage sees it.
    pub(crate) fn now(&self) -> SystemTime {
        SystemTime::now() + self.offset()
    }

    /// How far ahead of the wall clock this clock is.
    pub(crate) fn offset(&self) -> Duration {
        Duration::from_nanos(self.offset_nanos.load(Ordering::Acquire))
    }

    /// Moves the clock `by` ahead (saturating).
    pub(crate) fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .offset_nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |o| {
                Some(o.saturating_add(by))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone_and_never_goes_back() {
        let clock = Clock::default();
        let other = clock.clone();
        let before = clock.now();
        other.advance(Duration::from_secs(86_400));
        assert!(clock.now() >= before + Duration::from_secs(86_400));
        clock.advance(Duration::MAX);
        assert_eq!(clock.offset(), Duration::from_nanos(u64::MAX));
    }
}
