//! Fault injection and request accounting, so tests can make any step of a workflow fail.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use http::HeaderMap;

/// A failure the emulator answers with instead of (or after) serving a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedFailure {
    /// The HTTP status to answer with.
    pub status: u16,
    /// The error code in the body (`ServiceUnavailable`, `NoSuchEntity`, ...).
    pub code: String,
    /// No answer at all: the connection is closed without a response (before serving, the
    /// request is not carried out; after serving, it is, and its response is lost). `status`
    /// and `code` are then unused.
    pub drop_connection: bool,
}

/// When an injected failure is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timing {
    /// Instead of serving: nothing happens on the server.
    Before,
    /// After serving: the change is made, but the client sees an error (a lost response).
    After,
}

/// A request's number, put into request extensions by the server so that a failure injected
/// "after apply" can be matched to the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RequestTag(pub(crate) u64);

/// A rule: which requests fail, how often, and how.
///
/// Operations are named as in the APIs they belong to: S3 operation names (`CreateBucket`,
/// `PutObject`, `DeleteBucket`, ...), IAM actions (`CreatePolicy`, `AttachUserPolicy`, ...),
/// `PatchBucket` for Tigris's `PATCH /{bucket}` settings endpoint, `ListForks` (`GET /` with
/// `X-Tigris-Fork`, narrowed by the source bucket) and `GetBucketMetadata`
/// (`GET /{bucket}?metadata`). Many Tigris requests are S3 operations with a header (a snapshot,
/// a fork, a merge or a rebase is a `CreateBucket`, a snapshot delete a `DeleteBucket`): narrow a rule with [`with_header`](Self::with_header) and
/// [`bucket`](Self::bucket).
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// use tigris_emulator::Fault;
/// let emu = tigris_emulator::Emulator::start().await?;
/// // The next fork of `datasets` fails; plain creates and snapshots are served.
/// emu.faults().inject(
///     Fault::on("CreateBucket").with_header("x-tigris-fork-source-bucket").status(503).code("SlowDown"),
/// );
/// // The next DeleteBucket of `scratch` deletes it, but answers 500 as if the response was lost.
/// emu.faults().inject(Fault::on("DeleteBucket").bucket("scratch").after_apply());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Fault {
    operation: String,
    bucket: Option<String>,
    header: Option<String>,
    skip: u32,
    remaining: u32,
    failure: InjectedFailure,
    timing: Timing,
}

impl Fault {
    /// Fails the next request for `operation`, once, with `500 InternalError`, before serving.
    pub fn on(operation: &str) -> Self {
        Self {
            operation: operation.to_owned(),
            bucket: None,
            header: None,
            skip: 0,
            remaining: 1,
            failure: InjectedFailure {
                status: 500,
                code: "InternalError".to_owned(),
                drop_connection: false,
            },
            timing: Timing::Before,
        }
    }

    /// Like [`on`](Self::on), for a request of any operation: with [`skip`](Self::skip)`(k)`
    /// it fails the request at position `k` (from 0) of what reaches the emulator from now on,
    /// whatever it is. [`Faults::record`] tells which operation that position is.
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// use tigris_emulator::Fault;
    /// let emu = tigris_emulator::Emulator::start().await?;
    /// // The fourth request from now, whatever it is, is carried out and then its connection is
    /// // closed without an answer.
    /// emu.faults().inject(Fault::any().skip(3).after_apply().drop_connection());
    /// # Ok(()) }
    /// ```
    pub fn any() -> Self {
        Self::on(ANY)
    }

    /// Only requests on this bucket.
    pub fn bucket(mut self, bucket: &str) -> Self {
        self.bucket = Some(bucket.to_owned());
        self
    }

    /// Only requests carrying this header (any value; the name is case-insensitive).
    pub fn with_header(mut self, name: &str) -> Self {
        self.header = Some(name.to_ascii_lowercase());
        self
    }

    /// How many matching requests fail (default 1).
    pub fn times(mut self, times: u32) -> Self {
        self.remaining = times;
        self
    }

    /// Lets the first `skip` matching requests through before failing any (default 0), so a
    /// test can fail the n-th request of an operation, for example every position in turn.
    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = skip;
        self
    }

    /// The HTTP status (default 500).
    pub fn status(mut self, status: u16) -> Self {
        self.failure.status = status;
        self
    }

    /// The error code (default `InternalError`).
    pub fn code(mut self, code: &str) -> Self {
        self.failure.code = code.to_owned();
        self
    }

    /// Serves the request first, then answers with the failure: the change happened but the
    /// client cannot know it, as when a response is lost.
    pub fn after_apply(mut self) -> Self {
        self.timing = Timing::After;
        self
    }

    /// Closes the connection without answering, instead of answering with an error status:
    /// before serving (the default) the request is not carried out, as when a connection breaks
    /// on the way; with [`after_apply`](Self::after_apply) it is, and its response is lost.
    pub fn drop_connection(mut self) -> Self {
        self.failure.drop_connection = true;
        self
    }

    fn matches(&self, operation: &str, bucket: Option<&str>, headers: &HeaderMap) -> bool {
        self.remaining > 0
            && (self.operation == operation || self.operation == ANY)
            && self.bucket.as_deref().is_none_or(|b| Some(b) == bucket)
            && self
                .header
                .as_deref()
                .is_none_or(|h| headers.contains_key(h))
    }
}

/// The operation name [`Fault::any`] matches every request with.
const ANY: &str = "*";

#[derive(Debug, Default)]
struct State {
    rules: Vec<Fault>,
    latency: Duration,
    counts: HashMap<String, u64>,
    /// The operations of the requests since [`Faults::record`], in arrival order.
    recording: Option<Vec<String>>,
}

/// The emulator's fault-injection switchboard and request counters.
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

    /// Adds a rule. Rules are tried in the order they were added; the first that matches a
    /// request is used up by it.
    pub fn inject(&self, fault: Fault) {
        self.lock().rules.push(fault);
    }

    /// Fails the next `times` requests for `operation` with `status` and error `code`, before
    /// they are served. Shorthand for [`inject`](Self::inject) of a [`Fault`].
    pub fn fail_next(&self, operation: &str, times: u32, status: u16, code: &str) {
        self.inject(Fault::on(operation).times(times).status(status).code(code));
    }

    /// Delays every request by `latency` before it is served (zero turns it off).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Removes every pending rule and the added latency.
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

    /// Starts recording the operation of every authenticated request from now on, in the
    /// order they arrive (failed and retried ones included), dropping what was recorded
    /// before; [`recorded`](Self::recorded) reads it. Position `k` of the record is the request
    /// [`Fault::any`]`().skip(k)` injected now would fail.
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let emu = tigris_emulator::Emulator::start().await?;
    /// emu.faults().record();
    /// // ... run a workflow ...
    /// let requests: Vec<String> = emu.faults().recorded();
    /// # Ok(()) }
    /// ```
    pub fn record(&self) {
        self.lock().recording = Some(Vec::new());
    }

    /// The operations recorded since [`record`](Self::record), in order (empty if it was never
    /// called). Recording goes on.
    pub fn recorded(&self) -> Vec<String> {
        self.lock().recording.clone().unwrap_or_default()
    }

    pub(crate) fn latency(&self) -> Duration {
        self.lock().latency
    }

    /// Counts a request and returns the failure due for it, if any, with when to answer it.
    pub(crate) fn on_request(
        &self,
        operation: &str,
        bucket: Option<&str>,
        headers: &HeaderMap,
    ) -> Option<(InjectedFailure, Timing)> {
        let mut state = self.lock();
        *state.counts.entry(operation.to_owned()).or_default() += 1;
        if let Some(recording) = state.recording.as_mut() {
            recording.push(operation.to_owned());
        }
        let index = state
            .rules
            .iter()
            .position(|r| r.matches(operation, bucket, headers))?;
        let rule = &mut state.rules[index];
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        rule.remaining -= 1;
        let due = (rule.failure.clone(), rule.timing);
        if rule.remaining == 0 {
            state.rules.remove(index);
        }
        Some(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_fails_the_kth_request_whatever_it_is_and_recording_names_it() {
        let faults = Faults::default();
        faults.record();
        faults.inject(Fault::any().skip(2).after_apply().drop_connection());
        assert!(faults.on_request("CreateBucket", None, &none()).is_none());
        assert!(faults.on_request("PutObject", None, &none()).is_none());
        let (failure, timing) = faults.on_request("CreateAccessKey", None, &none()).unwrap();
        assert!(failure.drop_connection);
        assert_eq!(timing, Timing::After);
        assert!(
            faults
                .on_request("CreateAccessKey", None, &none())
                .is_none()
        );
        assert_eq!(
            faults.recorded(),
            [
                "CreateBucket",
                "PutObject",
                "CreateAccessKey",
                "CreateAccessKey"
            ]
        );
    }

    fn none() -> HeaderMap {
        HeaderMap::new()
    }

    #[test]
    fn rules_fire_the_requested_number_of_times_then_stop() {
        let faults = Faults::default();
        faults.fail_next("PutObject", 2, 500, "InternalError");
        assert!(faults.on_request("GetObject", None, &none()).is_none());
        assert_eq!(
            faults
                .on_request("PutObject", None, &none())
                .unwrap()
                .0
                .code,
            "InternalError"
        );
        assert!(faults.on_request("PutObject", None, &none()).is_some());
        assert!(faults.on_request("PutObject", None, &none()).is_none());
        assert_eq!(faults.count("PutObject"), 3);
        assert_eq!(faults.total(), 4);
    }

    #[test]
    fn rules_can_be_narrowed_by_bucket_and_header() {
        let faults = Faults::default();
        faults.inject(
            Fault::on("CreateBucket")
                .bucket("b")
                .with_header("X-Tigris-Fork-Source-Bucket")
                .after_apply(),
        );
        let mut fork = HeaderMap::new();
        fork.insert("x-tigris-fork-source-bucket", "src".parse().unwrap());
        assert!(
            faults
                .on_request("CreateBucket", Some("b"), &none())
                .is_none()
        );
        assert!(
            faults
                .on_request("CreateBucket", Some("other"), &fork)
                .is_none()
        );
        let (failure, timing) = faults.on_request("CreateBucket", Some("b"), &fork).unwrap();
        assert_eq!((failure.status, timing), (500, Timing::After));
        assert!(
            faults
                .on_request("CreateBucket", Some("b"), &fork)
                .is_none()
        );
    }
}
