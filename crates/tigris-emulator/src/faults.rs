//! Fault injection and request accounting, so tests can make any step of a workflow fail.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

/// A failure the emulator will answer with instead of serving a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedFailure {
    /// The HTTP status to answer with.
    pub status: u16,
    /// The error code in the body (`ServiceUnavailable`, `NoSuchEntity`, ...).
    pub code: String,
}

#[derive(Debug)]
struct Rule {
    operation: String,
    remaining: u32,
    failure: InjectedFailure,
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<Rule>,
    latency: Duration,
    counts: HashMap<String, u64>,
}

/// The emulator's fault-injection switchboard and request counters.
///
/// Operations are named as in the APIs they belong to: S3 operation names (`CreateBucket`,
/// `PutObject`, `DeleteBucket`, ...), IAM actions (`CreatePolicy`, `AttachUserPolicy`, ...), and
/// `PatchBucket` for Tigris's `PATCH /{bucket}` settings endpoint.
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// let emu = tigris_emulator::Emulator::start().await?;
/// // The next two CreateBucket requests get 503 ServiceUnavailable; the third is served.
/// emu.faults().fail_next("CreateBucket", 2, 503, "ServiceUnavailable");
/// emu.faults().set_latency(std::time::Duration::from_millis(5));
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct Faults {
    state: Mutex<State>,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Faults")
            .field("rules", &state.rules)
            .field("latency", &state.latency)
            .finish()
    }
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock leaves plain data behind; keep serving.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Fails the next `times` requests for `operation` with `status` and error `code`.
    ///
    /// Rules for the same operation are used in the order they were added.
    pub fn fail_next(&self, operation: &str, times: u32, status: u16, code: &str) {
        let failure = InjectedFailure {
            status,
            code: code.to_owned(),
        };
        self.lock().rules.push(Rule {
            operation: operation.to_owned(),
            remaining: times,
            failure,
        });
    }

    /// Delays every request by `latency` before it is served (zero turns it off).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Removes every pending failure rule and the added latency.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.rules.clear();
        state.latency = Duration::ZERO;
    }

    /// How many authenticated requests for `operation` reached the emulator so far, failed ones
    /// included.
    pub fn count(&self, operation: &str) -> u64 {
        self.lock().counts.get(operation).copied().unwrap_or(0)
    }

    /// How many authenticated requests reached the emulator so far, for every operation.
    pub fn total(&self) -> u64 {
        self.lock().counts.values().sum()
    }

    pub(crate) fn latency(&self) -> Duration {
        self.lock().latency
    }

    /// Counts a request for `operation` and returns the failure to answer with, if one is due.
    pub(crate) fn on_request(&self, operation: &str) -> Option<InjectedFailure> {
        let mut state = self.lock();
        *state.counts.entry(operation.to_owned()).or_default() += 1;
        let index = state
            .rules
            .iter()
            .position(|r| r.operation == operation && r.remaining > 0)?;
        let rule = &mut state.rules[index];
        rule.remaining -= 1;
        let failure = rule.failure.clone();
        if rule.remaining == 0 {
            state.rules.remove(index);
        }
        Some(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_fire_the_requested_number_of_times_then_stop() {
        let faults = Faults::default();
        faults.fail_next("PutObject", 2, 500, "InternalError");
        assert!(faults.on_request("GetObject").is_none());
        assert_eq!(
            faults.on_request("PutObject").unwrap().code,
            "InternalError"
        );
        assert!(faults.on_request("PutObject").is_some());
        assert!(faults.on_request("PutObject").is_none());
        assert_eq!(faults.count("PutObject"), 3);
        assert_eq!(faults.total(), 4);
    }
}
