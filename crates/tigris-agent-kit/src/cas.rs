//! The compare-and-swap core that leases and task claims share: a small text record written
//! with `If-None-Match: *` or `If-Match`, read back with the server's clock, and a probe that
//! settles writes whose response was lost.

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{ByteStream, DateTime, DateTimeFormat};
use tigris_core::BucketName;
use tigris_core::error::Classified;

use crate::error::{Error, ErrorKind, Leftover, Operation, Result, Step};

/// The first line of every record: what wrote it, and the format version.
const MAGIC: &str = "tigris-agent-kit lease v1";

/// The longest owner name, in bytes.
pub(crate) const MAX_OWNER_LEN: usize = 256;

/// What a lease or claim object is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Held by its owner until `ttl` after its `Last-Modified`.
    Held,
    /// A task claim whose task was completed: terminal.
    Done,
    /// A task claim given up by its owner: claimable again at once.
    Failed,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

/// The body of a lease or claim object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) owner: String,
    /// Unique per acquisition: tells this holder's writes from any other's, so a write whose
    /// response was lost can be recognised when read back.
    pub(crate) token: String,
    pub(crate) ttl: Duration,
    /// Incremented by every write of one holder.
    pub(crate) seq: u64,
    pub(crate) state: State,
    /// How many times the task was claimed (1 for the first claim); 0 for a plain lease.
    pub(crate) attempt: u32,
    /// Why a claim failed, one line.
    pub(crate) note: String,
}

impl Record {
    pub(crate) fn new(owner: &str, ttl: Duration, attempt: u32) -> Self {
        Self {
            owner: owner.to_owned(),
            token: new_token(),
            ttl,
            seq: 1,
            state: State::Held,
            attempt,
            note: String::new(),
        }
    }

    /// The next write of the same holder.
    pub(crate) fn next(&self, state: State, note: &str) -> Self {
        Self {
            seq: self.seq + 1,
            state,
            note: note.replace(['\r', '\n'], " "),
            ..self.clone()
        }
    }

    pub(crate) fn encode(&self) -> String {
        format!(
            "{MAGIC}\nowner: {}\ntoken: {}\nttl-ms: {}\nseq: {}\nstate: {}\nattempt: {}\nnote: {}\n",
            self.owner,
            self.token,
            self.ttl.as_millis(),
            self.seq,
            self.state.as_str(),
            self.attempt,
            self.note
        )
    }

    pub(crate) fn decode(body: &str) -> Option<Self> {
        let mut lines = body.lines();
        if lines.next()? != MAGIC {
            return None;
        }
        let mut field = |name: &str| {
            let line = lines.next()?;
            line.strip_prefix(name)?
                .strip_prefix(": ")
                .or_else(|| line.strip_prefix(name)?.strip_prefix(':'))
                .map(str::to_owned)
        };
        let owner = field("owner")?;
        let token = field("token")?;
        let ttl = Duration::from_millis(field("ttl-ms")?.parse().ok()?);
        let seq = field("seq")?.parse().ok()?;
        let state = match field("state")?.as_str() {
            "held" => State::Held,
            "done" => State::Done,
            "failed" => State::Failed,
            _ => return None,
        };
        let attempt = field("attempt")?.parse().ok()?;
        let note = field("note")?;
        Some(Self {
            owner,
            token,
            ttl,
            seq,
            state,
            attempt,
            note,
        })
    }

    /// Whether `other` is this holder's write of this very record.
    fn same_write(&self, other: &Record) -> bool {
        self.token == other.token && self.seq == other.seq && self.state == other.state
    }
}

/// A token no other acquisition has: 128 bits from the standard library's randomly keyed
/// hasher over the time, the process and a counter.
pub(crate) fn new_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = (nanos, std::process::id(), n);
    let a = RandomState::new().hash_one(seed);
    let b = RandomState::new().hash_one((seed, a));
    format!("{a:016x}{b:016x}")
}

/// A record as read from the server, with the server's times.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) record: Record,
    pub(crate) etag: String,
    /// `Last-Modified` of the object: when its last write was applied, by the server's clock
    /// (whole seconds).
    pub(crate) last_modified: SystemTime,
    /// `Date` of the answer: the server's clock when it answered (whole seconds), or this
    /// machine's when the answer had none.
    pub(crate) now: SystemTime,
}

impl Seen {
    /// Whether the holder's TTL has certainly run out, judged by the server's clock alone.
    pub(crate) fn is_expired(&self) -> bool {
        is_expired(self.last_modified, self.record.ttl, self.now)
    }
}

/// Whether a write applied at `last_modified` with `ttl` has certainly lapsed at `now`, both
/// read from the server in whole seconds: the write happened in
/// `[last_modified, last_modified + 1s)`, and the answer in `[now, now + 1s)`, so the lease
/// counts as expired from `last_modified + ttl + 1s` on.
pub(crate) fn is_expired(last_modified: SystemTime, ttl: Duration, now: SystemTime) -> bool {
    now >= last_modified + ttl + Duration::from_secs(1)
}

/// Keeps the `Date` header of an answer (success or error) for the request it is attached to.
#[derive(Clone, Default)]
pub(crate) struct DateCapture(Arc<Mutex<Option<String>>>);

impl fmt::Debug for DateCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DateCapture")
    }
}

impl Intercept for DateCapture {
    fn name(&self) -> &'static str {
        "DateCapture"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        let date = context.response().headers().get("date").map(str::to_owned);
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = date;
        Ok(())
    }
}

impl DateCapture {
    /// The server's time of the last answer, else this machine's clock.
    pub(crate) fn server_now(&self) -> SystemTime {
        let date = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        date.and_then(|d| DateTime::from_str(&d, DateTimeFormat::HttpDate).ok())
            .and_then(|d| SystemTime::try_from(d).ok())
            .unwrap_or_else(SystemTime::now)
    }
}

/// Where a record lives, and what the call is (for errors).
#[derive(Clone)]
pub(crate) struct Slot<'a> {
    pub(crate) s3: &'a aws_sdk_s3::Client,
    pub(crate) bucket: &'a BucketName,
    pub(crate) key: &'a str,
    pub(crate) operation: &'a Operation,
}

/// The condition a record write is made under.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Condition<'a> {
    /// `If-None-Match: *`: only if there is no object.
    Absent,
    /// `If-Match`: only if the object is still at this ETag.
    Etag(&'a str),
}

/// The outcome of a conditional record write.
#[derive(Debug)]
pub(crate) enum Written {
    /// The record is on the server at this ETag; `sent` is when the write that put it there was
    /// sent (the holder's time stays within the TTL counted from there).
    Won { etag: String, sent: Instant },
    /// The condition failed: someone else's record is there (or none, for `If-Match`).
    Beaten(Option<Seen>),
}

fn refused<E: ProvideErrorMetadata>(
    err: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> bool {
    let status = err.raw_response().map(|r| r.status().as_u16());
    status == Some(412)
        || matches!(err.code(), Some("PreconditionFailed" | "NoSuchKey"))
        || (status == Some(404) && err.code().is_none())
}

impl Slot<'_> {
    fn leftover(&self) -> Leftover {
        Leftover::Lease {
            bucket: self.bucket.clone(),
            key: self.key.to_owned(),
        }
    }

    /// Reads the record; `None` when there is no object.
    pub(crate) async fn read(&self) -> Result<Option<Seen>> {
        let dates = DateCapture::default();
        let answer = self
            .s3
            .get_object()
            .bucket(self.bucket.as_str())
            .key(self.key)
            .customize()
            .interceptor(dates.clone())
            .send()
            .await;
        let out = match answer {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Ok(None);
            }
            Err(e) => return Err(Error::from_s3(self.operation.clone(), Step::ReadLease, e)),
        };
        let etag = out.e_tag().unwrap_or_default().to_owned();
        let last_modified = out
            .last_modified()
            .and_then(|t| SystemTime::try_from(*t).ok());
        let body = out.body.collect().await.map_err(|e| {
            Error::transient(self.operation.clone(), Step::ReadLease).with_source(e)
        })?;
        let record = std::str::from_utf8(&body.into_bytes())
            .ok()
            .and_then(Record::decode);
        match (record, last_modified, etag.is_empty()) {
            (Some(record), Some(last_modified), false) => Ok(Some(Seen {
                record,
                etag,
                last_modified,
                now: dates.server_now(),
            })),
            _ => Err(Error::unexpected(
                self.operation.clone(),
                Step::ReadLease,
                "the object at the lease's key is not a lease written by this kit (or has no \
                 ETag or Last-Modified)",
            )),
        }
    }

    /// Writes `record` under `condition`. A refusal or a failure that may have been applied is
    /// followed by a read: if the record there is this very write, the write won (its response
    /// was lost, or a retry of it was refused by its own success). When that read fails too,
    /// the error names the object as a [`Leftover::Lease`].
    pub(crate) async fn write(&self, condition: Condition<'_>, record: &Record) -> Result<Written> {
        let sent = Instant::now();
        let request = self
            .s3
            .put_object()
            .bucket(self.bucket.as_str())
            .key(self.key)
            .content_type("text/plain")
            .body(ByteStream::from(record.encode().into_bytes()));
        let request = match condition {
            Condition::Absent => request.if_none_match("*"),
            Condition::Etag(etag) => request.if_match(etag),
        };
        let err = match request.send().await {
            Ok(out) => match out.e_tag() {
                Some(etag) => {
                    return Ok(Written::Won {
                        etag: etag.to_owned(),
                        sent,
                    });
                }
                // No ETag to swap on later: read it back.
                None => None,
            },
            Err(e) => Some(e),
        };
        let (was_refused, error) = match err {
            None => (false, None),
            Some(e) => {
                let was_refused = refused(&e);
                if !was_refused && !Classified::from_sdk(&e).may_have_applied() {
                    return Err(Error::from_s3(self.operation.clone(), Step::WriteLease, e));
                }
                (
                    was_refused,
                    Some(Error::from_s3(self.operation.clone(), Step::WriteLease, e)),
                )
            }
        };
        let seen = match self.read().await {
            Ok(seen) => seen,
            Err(probe) => {
                let err = error.unwrap_or(probe);
                return Err(err.with_leftovers(vec![self.leftover()]));
            }
        };
        match seen {
            Some(seen) if seen.record.same_write(record) => Ok(Written::Won {
                etag: seen.etag,
                sent,
            }),
            seen if was_refused => Ok(Written::Beaten(seen)),
            // Not applied: another holder's record is there, or none.
            seen => match (condition, error) {
                // Still at the ETag the write was conditioned on: not applied, still held.
                (Condition::Etag(old), Some(error))
                    if seen.as_ref().is_some_and(|s| s.etag == old) =>
                {
                    Err(error)
                }
                (Condition::Etag(_), _) => Ok(Written::Beaten(seen)),
                (Condition::Absent, Some(error)) if seen.is_none() => Err(error),
                (Condition::Absent, _) => Ok(Written::Beaten(seen)),
            },
        }
    }

    /// Deletes the object if it is still at `etag`. `Ok(true)` when this call deleted it,
    /// `Ok(false)` when it was no longer there at that ETag (taken over, or already gone). A
    /// failure that may have been applied is settled by a read; if that fails too, the error
    /// names the object as a [`Leftover::Lease`].
    pub(crate) async fn delete(&self, etag: &str, record: &Record) -> Result<bool> {
        let answer = self
            .s3
            .delete_object()
            .bucket(self.bucket.as_str())
            .key(self.key)
            .if_match(etag)
            .send()
            .await;
        let error = match answer {
            Ok(_) => return Ok(true),
            Err(e) if refused(&e) => return Ok(false),
            Err(e) => {
                let may_have_applied = Classified::from_sdk(&e).may_have_applied();
                let error = Error::from_s3(self.operation.clone(), Step::DeleteLease, e);
                if !may_have_applied {
                    return Err(error.with_leftovers(vec![self.leftover()]));
                }
                error
            }
        };
        match self.read().await {
            // Gone, or someone else's: not ours any more.
            Ok(None) => Ok(true),
            Ok(Some(seen)) if seen.record.token != record.token => Ok(false),
            Ok(Some(_)) | Err(_) => Err(error.with_leftovers(vec![self.leftover()])),
        }
    }
}

/// The longest TTL a lease or a claim may have: one day.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(86_400);

/// Validates a lease's owner name and TTL (shared by leases and queues).
pub(crate) fn check_owner_and_ttl(operation: &Operation, owner: &str, ttl: Duration) -> Result<()> {
    if owner.is_empty() || owner.len() > MAX_OWNER_LEN || owner.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            operation.clone(),
            format!("the owner name must be 1 to {MAX_OWNER_LEN} bytes without control characters"),
        ));
    }
    if ttl < Duration::from_secs(1) || ttl > MAX_TTL {
        return Err(Error::invalid_input(
            operation.clone(),
            "the TTL must be between 1 second and 1 day (expiry is judged in whole seconds)",
        ));
    }
    Ok(())
}

/// Validates an object key the kit writes to.
pub(crate) fn check_key(operation: &Operation, key: &str, what: &str) -> Result<()> {
    if key.is_empty() || key.len() > 1024 || key.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            operation.clone(),
            format!("the {what} must be 1 to 1024 bytes without control characters"),
        ));
    }
    Ok(())
}

/// A failure kind for `Display` of a lease error.
pub(crate) fn lost(operation: Operation, step: Step, key: &str, seen: Option<&Seen>) -> Error {
    match seen {
        Some(seen) => Error::lease(
            ErrorKind::PreconditionFailed,
            operation,
            step,
            Some(seen.record.owner.clone()),
            format!(
                "the lease object {key} is now held by {:?} (the lease lapsed and was taken over)",
                seen.record.owner
            ),
        ),
        None => Error::lease(
            ErrorKind::PreconditionFailed,
            operation,
            step,
            None,
            format!("the lease object {key} is gone (released or taken over and released)"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A lease object is read from a bucket anyone with write access can write: any body
        /// decodes to a record or to nothing, never a panic, and a record encodes back the same.
        #[test]
        fn any_lease_body_decodes_without_panicking(
            body in prop_oneof![
                ".{0,200}",
                prop::collection::vec(
                    "(owner|token|ttl-ms|seq|state|attempt|note)(: ?)?(.{0,10}|[0-9]{0,22}|held|done|failed)",
                    0..9,
                )
                .prop_map(|lines| format!("{MAGIC}\n{}", lines.join("\n"))),
            ],
        ) {
            if let Some(record) = Record::decode(&body) {
                prop_assert_eq!(Record::decode(&record.encode()), Some(record));
            }
        }
    }

    #[test]
    fn records_round_trip_and_foreign_bodies_are_refused() {
        let record =
            Record::new("agent-1", Duration::from_secs(30), 2).next(State::Failed, "bad\ninput");
        let decoded = Record::decode(&record.encode()).unwrap();
        assert_eq!(decoded, record);
        assert_eq!(decoded.note, "bad input");
        assert_eq!(decoded.seq, 2);
        assert!(Record::decode("hello").is_none());
        assert!(Record::decode(&record.encode().replace("state: failed", "state: odd")).is_none());
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(new_token(), new_token());
        assert_eq!(new_token().len(), 32);
    }

    #[test]
    fn expiry_allows_for_whole_second_dates() {
        let lm = UNIX_EPOCH + Duration::from_secs(1_000);
        let ttl = Duration::from_secs(10);
        assert!(!is_expired(lm, ttl, lm + Duration::from_secs(10)));
        assert!(is_expired(lm, ttl, lm + Duration::from_secs(11)));
    }
}
