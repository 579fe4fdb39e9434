#![cfg_attr(docsrs, feature(doc_cfg))]
//! A local Tigris-compatible object store: S3 plus Tigris's snapshots, forks, force delete and
//! rename, with SigV4 verified on every request and fault injection for tests. In memory by
//! default; with a data directory ([`EmulatorBuilder::data_dir`], `--data-dir`) it survives
//! restarts, `kill -9` included.
//!
//! # Examples
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emu = tigris_emulator::Emulator::start().await?;
//! println!("S3 endpoint: {}", emu.endpoint());
//! let creds = emu.root_credentials();
//! println!("access key: {}", creds.access_key_id());
//! // Point any S3 client at `emu.endpoint()` with path-style addressing and region `auto`.
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # What it implements
//! - S3: buckets; objects (put, get with ranges and conditions, head, delete, multi-delete,
//!   copy); multipart uploads; ListObjects and ListObjectsV2 with prefix, delimiter, pagination and
//!   `encoding-type=url`; lifecycle configuration; CORS (preflight `OPTIONS` and the headers of
//!   answers to requests with an `Origin`); standard error codes in S3 XML.
//! - Conditional writes, checked under the store lock together with the write they guard (so of
//!   N concurrent `If-None-Match: *` PUTs of a key exactly one succeeds): `If-Match` and
//!   `If-None-Match` (an ETag or `*`) on PutObject, CompleteMultipartUpload and CopyObject's
//!   destination, `If-Match` on DeleteObject (a missing key is `404 NoSuchKey`, as for a
//!   write: S3 documents the 412 but not the missing-key case, so this choice is ours), and `x-amz-copy-source-if-{match,none-match,modified-since,unmodified-since}`
//!   on CopyObject's source. A failing condition is `412 PreconditionFailed`; `If-Match` on a
//!   missing key is `404 NoSuchKey`, as on S3. Writes are serialized, so S3's
//!   `409 ConditionalRequestConflict` (a race it detects late) never arises here.
//! - Tigris: snapshot-enabled buckets (`X-Tigris-Enable-Snapshot`), named snapshots
//!   (`X-Tigris-Snapshot` on CreateBucket, version in `x-tigris-snapshot-version`), snapshot
//!   listing (`X-Tigris-Snapshot` on ListBuckets), reads at a snapshot
//!   (`X-Tigris-Snapshot-Version` on GetObject, HeadObject, ListObjects(V2), CopyObject),
//!   copy-on-write forks (`X-Tigris-Fork-Source-Bucket[-Snapshot]`), HeadBucket info headers,
//!   force delete (`Tigris-Force-Delete` or `X-Tigris-Force-Delete`), snapshot delete
//!   (`X-Tigris-Snapshot-Version` on DeleteBucket) and rename (`X-Tigris-Rename` on CopyObject).
//!   `X-Tigris-CAS: true` on GetObject and HeadObject is accepted (and, like every header, must
//!   be signed when listed as signed); the emulator is one region with no caches, so every read
//!   is already the consistent read that header asks for.
//!   Metadata queries: `X-Tigris-Query` on ListObjectsV2 (conditions on `` `key` ``,
//!   `` `Content-Type` ``, `` `Content-Length` ``, `` `Last-Modified` `` with
//!   `= != > < >= <=`, `[NOT] IN (…)`, `REGEXP`, joined by `AND`, and `ORDER BY … [ASC|DESC]`),
//!   paginated by `max-keys` and continuation tokens; parsed by the same parser as notification
//!   filters. Emulator choices: a query with a delimiter is `400 InvalidArgument`; an ordered
//!   query's continuation token is a position in the ordered result.
//!   Fork listing (`GET /` with `X-Tigris-Fork`), bucket metadata (`GET /{bucket}?metadata`),
//!   merging a fork into its parent (`X-Tigris-Merge-Source-Bucket` on CreateBucket) and
//!   rebasing a fork onto its parent's present (`X-Tigris-Rebase` on CreateBucket); the
//!   semantics the emulator chose where Tigris documents none are in the crate README.
//! - Bundles: `POST /{bucket}?bundle` answers the named objects (JSON or XML key list, at most
//!   5,000) as one streamed tar in request order, skip or fail mode for missing keys, `none`,
//!   `gzip` or `zstd` compression, counts as HTTP trailers; `s3:GetObject` is checked per key.
//!   Presigned URLs: query-string SigV4 (`X-Amz-Expires` enforced, 1 s to 7 days, and every
//!   `x-amz-*` / `x-tigris-*` header must be signed, as from any SDK's presigner) and Tigris's
//!   presign endpoint (`POST /?func=presign`, GET or PUT, up to 90 days, `version_id` to pin a
//!   GET); object version ids are the write versions that snapshot reads answer in
//!   `x-amz-version-id` and that `?versionId=` takes on GetObject, HeadObject, CopyObject's
//!   source, DeleteObject and DeleteObjects (which delete that version).
//! - IAM (Query API on the same listener, `POST /`): CreateAccessKey, DeleteAccessKey,
//!   ListAccessKeys, CreatePolicy, GetPolicy, DeletePolicy, ListPolicies, AttachUserPolicy,
//!   DetachUserPolicy, ListAttachedUserPolicies; and Tigris's own, answered in JSON as
//!   `@tigrisdata/iam` parses them: CreateAccessKeyWithBucketsRole, UpdateAccessKeyWithBucketsRole
//!   (a role per bucket: Editor, ReadOnly, NamespaceAdmin on `*`), RotateAccessKey, the detailed
//!   listing `POST /?Detailed`, ListUserPolicies, and the mgmt `GET /users/whoami`. As on Tigris
//!   the access key id is the user name.
//!   S3 and IAM requests signed with such a key are authorized against its attached policies
//!   (actions and resources with wildcards, explicit and implicit deny, `aws:CurrentTime` date
//!   conditions at the emulator's clock, `aws:SourceIp`); IAM actions against the user or policy
//!   ARN they act on; the root key may do everything. Parameters are validated as AWS IAM
//!   constrains them (`Path`, `Description`, `PolicyName`, `UserName`, `PolicyArn`:
//!   `400 ValidationError`; the 6144-character `PolicySize` quota: `409 LimitExceeded`) and
//!   every echoed value is XML-escaped.
//! - Object notifications: `PATCH /{bucket}` with `{"object_notifications": ...}` (webhook URL,
//!   filter, token or basic auth), and delivery of Tigris webhook events on put, copy, delete and
//!   rename: off the request path, at least once, retried with backoff, 8 requests in flight
//!   per webhook URL, in order per object key, through bounded lanes (full: the event is
//!   dropped, counted and logged). `enabled: false` keeps the settings without delivering; a
//!   `********` token or basic-auth password (as `?metadata` masks it) keeps the stored secret.
//! - Soft delete: on at creation (`X-Tigris-Soft-Delete: true` for 7 days, or the days, 7–90)
//!   or later (`PATCH /{bucket}` with `{"soft_delete": {"enabled", "retention_days"}}`), shown
//!   in the bucket metadata. A delete in such a bucket keeps the object as a deleted version
//!   (version id: its write's version) until the window ends by the emulator's clock
//!   ([`Emulator::advance_clock`] moves it). `X-Tigris-Soft-Delete: true` on ListObjectsV2
//!   (each deleted key, its latest deletion) and ListObjectVersions (every deleted version)
//!   lists them; RestoreObject with `X-Tigris-Restore-Type: soft-delete`
//!   [+ `X-Tigris-Restore-Version`] writes one back; DeleteObject with `versionId` and
//!   `X-Tigris-Soft-Delete: true` purges one. A deleted soft-delete bucket (force delete
//!   included) is kept with its objects, listed by `GET /?OnlyDeleted=true` (JSON) and restored
//!   by `POST /{bucket}?restore`. Actions: the soft-delete views need `s3:ListBucketVersions`,
//!   restore `s3:RestoreObject`, purge `s3:DeleteObjectVersion`, the `soft_delete` setting
//!   `s3:PutBucketVersioning` (on top of `PATCH`'s own), the deleted-bucket listing
//!   `s3:ListAllMyBuckets`, a bucket restore `s3:CreateBucket`. ListObjectVersions without the
//!   header lists the history the bucket's own level keeps (objects and delete markers).
//! - Bucket settings: placement (`X-Tigris-Regions` on CreateBucket, `object_regions` in
//!   `PATCH /{bucket}`: `usa` or `eur` alone, or one or two of `ams fra gru iad jnb lhr nrt ord
//!   sin sjc syd`; empty is global), default storage class (`X-Amz-Storage-Class`,
//!   `storage_class`: STANDARD, STANDARD_IA, GLACIER, GLACIER_IR), access (`X-Amz-Acl:
//!   public-read|private` and `X-Amz-Acl-Public-List-Objects-Enabled` on CreateBucket and on the
//!   PATCH), `acl_settings`, `cache_control`, `website.domain_name`, `additional_http_headers`
//!   delete protection (`protection.protected`) and the bucket type (`type`: 1 turns snapshots
//!   on, refused with lifecycle rules or the GLACIER class; 0 off, refused for forks and fork
//!   parents; snapshots taken before stay, with the history they read, and read again once
//!   snapshots are back on). A PATCH changes only the keys it sends, and
//!   nothing when any key is invalid (`400 InvalidArgument`) or unknown (`501 NotImplemented`).
//!   All are read back from `GET /{bucket}?metadata` and the JSON bucket listing (`GET /` with
//!   `Accept: application/json`: `Include*` flags for regions, type, visibility, lineage, owner
//!   and page stats, `OnlyForked`, `max-buckets` and `continuation-token` paging).
//!   Emulator choices: settings are recorded, not simulated (one region, no CDN: placement,
//!   storage class, cache control, extra headers and the custom domain change nothing served;
//!   the domain's CNAME is not checked); a bucket with delete protection on refuses
//!   DeleteBucket, force delete included, with `409 BucketProtected`; the PATCH needs
//!   `s3:PutBucketAcl` for the access keys, `s3:PutBucketWebsite` for `website`,
//!   `s3:PutBucketSettings` for the others and `s3:PutBucketNotification` for
//!   `object_notifications`; the listing needs `s3:ListAllMyBuckets`, and its `Stats` sum each
//!   bucket's metadata size estimate (a fork counts what it reads through to); the one owner is
//!   the root key, so `OwnedBy` filters nothing; a fork starts with default settings (the
//!   creation headers are read for plain creation only).
//! - Shadow buckets: `shadow_bucket` in `PATCH /{bucket}` (secret masked in `?metadata`, a
//!   `********` keeps it); a miss on GetObject (or HeadObject with
//!   `X-Tigris-Schedule-Migration`) is copied in from the shadow, synchronously, before the
//!   answer; a plain HeadObject answers the shadow's headers with `X-Tigris-Read-Source:
//!   block_shadow`; `X-Tigris-List-Source` picks the side ListObjectsV2 lists; with
//!   `write_through`, PutObject and DeleteObject reach the shadow first. Requests to the shadow
//!   are SigV4-signed over plain HTTP; an unreachable shadow is `503 ServiceUnavailable`, one
//!   refusing the credentials `403 AccessDenied`, both naming it. Choices are in the README.
//! - A read-only console in the browser at `/_console/` on the same port
//!   ([`Emulator::console_url`]): buckets, the fork tree, each fork's changes against its
//!   parent, objects (also at a snapshot), keys and policies, webhook deliveries, refreshed
//!   live. Loopback clients only unless [`EmulatorBuilder::console`] says otherwise; `GET` and
//!   `HEAD` only; every rendered value escaped; a Content-Security-Policy; never a secret.
//! - Refuses `aws-chunked` uploads with trailing checksums with `400 InvalidContentEncoding`, as
//!   Tigris does, so a client not configured with `WhenRequired` checksums fails here first.
//!
//! Snapshots and forks copy nothing: the store keeps each key's history and a fork reads through
//! to its parent as of the fork version, so both cost the same for ten objects or a million.
//! History is kept only where something can still read it (the live version, the newest version
//! at or before each snapshot and each fork point); the rest is freed on overwrite and delete and
//! when snapshots or forks are deleted.
//!
//! Parsers of client input (SigV4, IAM forms and actions, policy documents, notification
//! and bucket settings, S3 ranges, copy sources and list/part parameters) are property-tested
//! never to panic.
//!
//! # Persistence
//! Without a data directory everything lives in memory and is gone when the emulator stops.
//! With one, every change is on disk before the request that made it is answered, and a restart
//! on the same directory serves the same state: buckets and their settings (snapshots enabled,
//! lifecycle, fork point, placement, storage class, access, protection and the other
//! `PATCH /{bucket}` settings), objects with every retained version, snapshots, forks, IAM access keys,
//! policies and attachments, notification settings, soft-delete settings, soft-deleted objects
//! and buckets.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emu = tigris_emulator::Emulator::builder()
//!     .data_dir("./tigris-data")
//!     .start()
//!     .await?;
//! # drop(emu);
//! # Ok(()) }
//! ```
//!
//! The directory holds `journal.redb` (a [redb](https://docs.rs/redb) table of changes, each
//! committed with fsync before the answer) and `objects/` (one file per retained object body,
//! written to a temporary file, fsynced and renamed before its journal record). At startup the
//! journal is replayed into memory and compacted to the records that rebuild the current state.
//! A snapshot or a fork is one small record: nothing is copied on disk either. The body of a
//! version that is freed (overwritten, deleted, no longer pinned) is deleted once the change
//! that freed it is journaled; a crash in between leaves a file that the next start removes.
//! The journal itself grows until the next start compacts it (and shrinks the file). IAM and
//! notification-settings changes are journaled before they are applied, like store changes; a
//! rename or a soft-delete restore is one record. A failed journal write reopens the journal
//! for the next one. Bodies are checked against their recorded MD5 when read back; a damaged
//! one is an error on read, not wrong bytes. A missing or empty journal beside object bodies
//! refuses to start ([`EmulatorBuilder::discard_unjournaled_bodies`] overrides), and body files
//! no journal record names are never deleted unless asked.
//!
//! Emulator choices: in-progress multipart uploads are not kept (a restart forgets them; complete
//! them before stopping). Reads are served from memory, so the data must fit in RAM. One emulator
//! at a time may have a directory open; a second gets an error. An unreadable or corrupt
//! directory is an error from [`EmulatorBuilder::start`] (the binary prints it and exits with
//! status 1), never a panic.
//!
//! `GET /health` without credentials answers `200 ok` (a liveness probe; Tigris documents none,
//! the path follows common practice). The binary prints `ready: <endpoint>` once it listens.
//!
//! # Where it differs from Tigris
//! Choices the emulator had to make where Tigris documents nothing: deleting a bucket that
//! still has forks fails with `409 BucketHasForks`; deleting an unknown snapshot fails with
//! `404 NoSuchSnapshot`; forking or snapshotting a bucket without snapshots enabled fails with
//! `400 InvalidArgument`. A merge applies, per key the fork changed since it was made or last
//! merged, the fork's state to the parent (the fork wins), then snapshots the parent; merging
//! into anything but the direct parent is `400 InvalidArgument`. Lifecycle rules (S3 XML or `lifecycle_rules` in `PATCH /{bucket}`) expire objects and
//! move them to colder storage classes when the clock is advanced ([`Emulator::advance_clock`]).
//! Soft delete, where Tigris is silent: a deleted object's window is fixed when it is deleted
//! (turning soft delete off, or changing the retention, leaves earlier deletions as they were);
//! a restored object is a new write (new version id, `Last-Modified` now) that replaces a live
//! object of the key; on a snapshot-enabled bucket a plain delete is a delete marker in the
//! history, not a soft delete (as the TypeScript client documents); a deleted bucket's name
//! stays reserved for its window (`BucketAlreadyExists`), a restore of a live bucket is
//! `400 InvalidArgument` and of an unknown or expired one `404 NoSuchBucket`;
//! `X-Tigris-Soft-Delete` on DeleteBucket overrides the bucket's setting (`true` or days: keep
//! it; `false`: delete for good); a soft-deleted fork still counts as a fork of its parent
//! (`BucketHasForks`) until its window ends; the deleted views take no delimiter
//! (ListObjectsV2: `400 InvalidArgument`, ListObjectVersions: `501 NotImplemented`).
//! Archive (GLACIER) objects answer GetObject `403 InvalidObjectState` until RestoreObject
//! (without the soft-delete header; `s3:RestoreObject`) has restored them; the restore takes
//! [`EmulatorBuilder::restore_delay`] (zero by default) by the emulator's clock, and its copy
//! is readable for the request's `Days`; HeadObject reports it in `x-amz-restore`.
//! Policy documents may name any `s3:` action. Webhooks are delivered over plain `http://` only.
//! Requests must be signed for `auto`, an AWS-shaped region name or a three-letter Tigris
//! location; others are refused with `400 AuthorizationHeaderMalformed`.
//!
//! # Crate organization
//! - [`Emulator`] / [`EmulatorBuilder`]: start a server in-process on loopback.
//! - [`Faults`] and [`Fault`]: fault injection (fail the next N requests of an operation,
//!   narrowed by bucket or header, or the k-th request whatever it is; answered with an error
//!   or by closing the connection, before or after they are served; add latency), request
//!   counters and a record of the operations in arrival order.
//! - The `tigris-emulator` binary serves the same until stopped.

mod api;
mod clock;
mod console;
mod header;
mod http;
mod iam;
mod notify;
mod s3;
mod state;
mod store;
#[cfg(test)]
mod strategies;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use console::access::ConsoleAccess;
pub use http::faults::{Fault, Faults, InjectedFailure};

use state::Shared;

/// The root access key id used when none is given.
pub const DEFAULT_ACCESS_KEY_ID: &str = "tid_emulator_root";
/// The root secret used when none is given. It only protects a loopback test server.
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "tsec_emulator_root_secret";

/// The root credentials of a running emulator: they may do everything.
#[derive(Clone)]
pub struct RootCredentials {
    access_key_id: String,
    secret_access_key: String,
}

impl RootCredentials {
    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key. Pass it to a credentials provider; never log it.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }
}

impl fmt::Debug for RootCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .finish()
    }
}

/// Configures an [`Emulator`] before it starts.
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// let emu = tigris_emulator::Emulator::builder()
///     .credentials("my-root-key", "my-root-secret")
///     .start()
///     .await?;
/// assert_eq!(emu.root_credentials().access_key_id(), "my-root-key");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EmulatorBuilder {
    addr: SocketAddr,
    credentials: RootCredentials,
    limits: http::server::Limits,
    data_dir: Option<PathBuf>,
    console: ConsoleAccess,
    discard_unjournaled_bodies: bool,
    restore_delay: std::time::Duration,
}

impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("addr", &self.addr)
            .field("credentials", &self.credentials)
            .field("limits", &self.limits)
            .field("data_dir", &self.data_dir)
            .field("console", &self.console)
            .field(
                "discard_unjournaled_bodies",
                &self.discard_unjournaled_bodies,
            )
            .field("restore_delay", &self.restore_delay)
            .finish()
    }
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            credentials: RootCredentials {
                access_key_id: DEFAULT_ACCESS_KEY_ID.to_owned(),
                secret_access_key: DEFAULT_SECRET_ACCESS_KEY.to_owned(),
            },
            limits: http::server::Limits::default(),
            data_dir: None,
            console: ConsoleAccess::default(),
            discard_unjournaled_bodies: false,
            restore_delay: std::time::Duration::ZERO,
        }
    }
}

impl EmulatorBuilder {
    /// Where to listen; the default is `127.0.0.1:0` (loopback, any free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The root credentials; the defaults are [`DEFAULT_ACCESS_KEY_ID`] and
    /// [`DEFAULT_SECRET_ACCESS_KEY`].
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.credentials = RootCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
        };
        self
    }

    /// How many connections are served at once (default 512). A connection over the limit is
    /// answered `503 SlowDown` and closed, so a flood of connections cannot exhaust file
    /// descriptors; clients retry as they do on S3's 503.
    ///
    /// ```
    /// let builder = tigris_emulator::Emulator::builder().max_connections(64);
    /// # drop(builder);
    /// ```
    pub fn max_connections(mut self, max: usize) -> Self {
        self.limits.max_connections = max.max(1);
        self
    }

    /// How long a client may take to send a request's headers (default 30 s); a connection
    /// that has not sent them in time is closed.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = tigris_emulator::Emulator::builder().header_read_timeout(Duration::from_secs(5));
    /// # drop(builder);
    /// ```
    pub fn header_read_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.limits.header_read_timeout = timeout;
        self
    }

    /// How long a connection may move no byte in either direction before it is closed
    /// (default 120 s): idle keep-alive connections and bodies that stop half-way.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = tigris_emulator::Emulator::builder().idle_timeout(Duration::from_secs(30));
    /// # drop(builder);
    /// ```
    pub fn idle_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.limits.idle_timeout = timeout;
        self
    }

    /// How many webhook events may wait for one webhook URL (default 8,192, spread over the
    /// URL's 8 delivery lanes); when a webhook falls further behind, new events are dropped,
    /// counted and logged. Events of one object key are delivered in order.
    ///
    /// ```
    /// let builder = tigris_emulator::Emulator::builder().webhook_queue_capacity(64);
    /// # drop(builder);
    /// ```
    pub fn webhook_queue_capacity(mut self, events: usize) -> Self {
        self.limits.webhook_queue = events.max(1);
        self
    }

    /// Keeps the state in `dir` (created if missing) so it survives restarts: buckets and
    /// their settings, objects with every retained version, snapshots, forks, IAM keys and
    /// policies, notification settings. Every change is on disk before it is answered. In-progress
    /// multipart uploads are not kept. Without a data directory everything is in memory.
    ///
    /// Only one emulator may have a directory open at a time.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let emu = tigris_emulator::Emulator::builder()
    ///     .data_dir("/tmp/tigris-data")
    ///     .start()
    ///     .await?;
    /// // ... write objects ...
    /// emu.shutdown().await;
    /// // A later start on the same directory sees them again.
    /// let emu = tigris_emulator::Emulator::builder()
    ///     .data_dir("/tmp/tigris-data")
    ///     .start()
    ///     .await?;
    /// # drop(emu);
    /// # Ok(()) }
    /// ```
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Who may read the console at `/_console/` (see [`Emulator::console_url`]): loopback
    /// clients only by default, every client with [`ConsoleAccess::AnyPeer`], nobody with
    /// [`ConsoleAccess::Off`]. The console is read-only and never shows a secret.
    ///
    /// ```
    /// use tigris_emulator::{ConsoleAccess, Emulator};
    /// let builder = Emulator::builder().console(ConsoleAccess::Off);
    /// # drop(builder);
    /// ```
    pub fn console(mut self, access: ConsoleAccess) -> Self {
        self.console = access;
        self
    }

    /// Lets the data directory's object bodies that no journal record names be deleted at
    /// startup (default: kept, and a missing or empty `journal.redb` beside bodies in
    /// `objects/` refuses to start, since starting would serve an empty store). Set it to start
    /// empty on purpose after the journal was lost.
    ///
    /// ```
    /// let builder = tigris_emulator::Emulator::builder()
    ///     .data_dir("/tmp/tigris-data")
    ///     .discard_unjournaled_bodies(true);
    /// # drop(builder);
    /// ```
    pub fn discard_unjournaled_bodies(mut self, discard: bool) -> Self {
        self.discard_unjournaled_bodies = discard;
        self
    }

    /// How long RestoreObject of an archive-tier (GLACIER) object takes before its copy is
    /// readable, by the emulator's clock (default: zero, so the copy is ready at once and
    /// `x-amz-restore` reports `ongoing-request="false"`). Tigris documents about an hour; a
    /// test sets a delay and moves past it with [`Emulator::advance_clock`].
    ///
    /// ```
    /// let builder = tigris_emulator::Emulator::builder()
    ///     .restore_delay(std::time::Duration::from_secs(3600));
    /// # drop(builder);
    /// ```
    pub fn restore_delay(mut self, delay: std::time::Duration) -> Self {
        self.restore_delay = delay;
        self
    }

    /// Opens the data directory (if any), binds the listener and starts serving on the current
    /// Tokio runtime.
    ///
    /// # Errors
    /// When the data directory cannot be opened or read (the message names the file), or the
    /// address cannot be bound.
    pub async fn start(self) -> std::io::Result<Emulator> {
        let (id, secret) = (
            self.credentials.access_key_id.clone(),
            self.credentials.secret_access_key.clone(),
        );
        let mut shared = match &self.data_dir {
            Some(dir) => {
                let dir = dir.clone();
                let discard = self.discard_unjournaled_bodies;
                // Replay reads every retained body: keep that off the async workers.
                tokio::task::spawn_blocking(move || Shared::open(id, secret, &dir, discard))
                    .await
                    .map_err(std::io::Error::other)?
                    .map_err(|e| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("cannot use the data directory: {e}"),
                        )
                    })?
            }
            None => Shared::new(id, secret),
        };
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .map_err(|e| {
                shared.close();
                std::io::Error::new(e.kind(), format!("cannot listen on {}: {e}", self.addr))
            })?;
        let addr = listener.local_addr()?;
        shared.notifier.set_capacity(self.limits.webhook_queue);
        shared.console = self.console;
        shared.restore_delay = self.restore_delay;
        let shared = Arc::new(shared);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(http::server::serve(
            listener,
            Arc::clone(&shared),
            self.limits,
            stopped,
        ));
        Ok(Emulator {
            addr,
            shared,
            credentials: self.credentials,
            stop,
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server (and closes its data directory).
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    credentials: RootCredentials,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("endpoint", &self.endpoint())
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Emulator {
    /// Starts an emulator on `127.0.0.1` at a free port with the default root credentials.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start() -> std::io::Result<Self> {
        EmulatorBuilder::default().start().await
    }

    /// Options before starting: address and root credentials.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The S3 endpoint, e.g. `http://127.0.0.1:43123`. Use path-style addressing.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The console's URL, e.g. `http://127.0.0.1:43123/_console/`: read-only pages about
    /// buckets, the fork tree, each fork's changes, objects, keys and webhooks, refreshed live.
    /// `None` when it is off ([`EmulatorBuilder::console`]).
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let emu = tigris_emulator::Emulator::start().await?;
    /// println!("see it at {}", emu.console_url().unwrap());
    /// # Ok(()) }
    /// ```
    pub fn console_url(&self) -> Option<String> {
        (self.shared.console != ConsoleAccess::Off)
            .then(|| format!("{}{}/", self.endpoint(), console::PREFIX))
    }

    /// The IAM endpoint: the same listener as S3 (IAM requests are `POST /` form requests).
    pub fn iam_endpoint(&self) -> String {
        self.endpoint()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The root credentials, which may do everything.
    pub fn root_credentials(&self) -> &RootCredentials {
        &self.credentials
    }

    /// Moves the emulator's storage clock `by` ahead, as if that much time had passed: new
    /// writes, `Last-Modified`, version and snapshot times and the `Date` header read the
    /// advanced clock, and whatever expires by it (soft-deleted objects past their retention,
    /// leases judged by `Last-Modified`) does. Signatures are still judged by the real clock.
    /// The clock only goes forward; a restarted emulator starts at the real time again.
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let emu = tigris_emulator::Emulator::start().await?;
    /// let before = emu.now();
    /// emu.advance_clock(std::time::Duration::from_secs(8 * 86_400));
    /// assert!(emu.now() >= before + std::time::Duration::from_secs(8 * 86_400));
    /// # Ok(()) }
    /// ```
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.shared.clock().advance(by);
        // Soft-deleted objects and buckets whose window ended are purged now.
        if let Err(e) = self.shared.store().expire() {
            tracing::warn!(error = ?e, "cannot purge expired soft-deleted data");
        }
        // Lifecycle rules due by the new time expire or move objects now.
        if let Err(e) = self.shared.store().apply_lifecycle() {
            tracing::warn!(error = ?e, "cannot apply lifecycle rules");
        }
    }

    /// Now, by the emulator's storage clock (the wall clock plus every
    /// [`advance_clock`](Self::advance_clock)).
    pub fn now(&self) -> std::time::SystemTime {
        self.shared.clock().now()
    }

    /// Fault injection and request counters.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// How many history entries (object versions and deletions) the store keeps across all
    /// keys of all buckets. Versions no snapshot, fork point or live key can reach are freed on
    /// overwrite and delete and when snapshots or forks are deleted, so this stays flat under an
    /// overwrite loop. For tests and benchmarks; not a stable interface.
    #[doc(hidden)]
    pub fn retained_versions(&self) -> u64 {
        self.shared.store().stats().retained_versions
    }

    /// Everything the emulator holds that a workflow can create and must remove: buckets with
    /// their snapshots and objects, access keys made through IAM (not the root key), policies and
    /// attachments. For leak checks in tests and the reliability matrix; not a stable interface.
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let emu = tigris_emulator::Emulator::start().await?;
    /// assert!(emu.inventory().is_empty());
    /// # Ok(()) }
    /// ```
    #[doc(hidden)]
    pub fn inventory(&self) -> Inventory {
        let (access_keys, policies, attachments) = self.shared.iam().inventory();
        let mut inventory = Inventory {
            access_keys,
            policies,
            attachments,
            ..Inventory::default()
        };
        for (bucket, snapshots, keys) in self.shared.store().inventory() {
            inventory
                .snapshots
                .extend(snapshots.into_iter().map(|v| (bucket.clone(), v)));
            inventory
                .objects
                .extend(keys.into_iter().map(|k| (bucket.clone(), k)));
            inventory.buckets.push(bucket);
        }
        inventory.multipart_uploads = self.shared.uploads().all();
        inventory
    }

    /// Webhook events dropped because their webhook's delivery queue was full (see
    /// [`EmulatorBuilder::webhook_queue_capacity`]). For tests; not a stable interface.
    #[doc(hidden)]
    pub fn dropped_webhook_events(&self) -> u64 {
        self.shared.notifier.dropped()
    }

    /// Bytes of object data held by the retained versions (see [`Emulator::retained_versions`]).
    #[doc(hidden)]
    pub fn retained_bytes(&self) -> u64 {
        self.shared.store().stats().retained_bytes
    }

    /// Stops accepting connections, lets open ones finish their requests, and waits. With a
    /// data directory, closes it, so another emulator may open it.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            // The server task never panics on purpose; a JoinError here has nothing to clean up.
            task.await.ok();
        }
        self.shared.close();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // No receiver left means the server already stopped: nothing to do.
        self.stop.send(true).ok();
        // Requests still in flight now fail instead of being acknowledged, and the directory
        // can be opened again at once.
        self.shared.close();
    }
}

/// What [`Emulator::inventory`] lists, each sorted. Not a stable interface.
#[doc(hidden)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Bucket names (forks and restored buckets included).
    pub buckets: Vec<String>,
    /// `(bucket, version)` of every snapshot.
    pub snapshots: Vec<(String, u64)>,
    /// `(bucket, key)` of every live object a bucket holds itself (a fork's inherited objects
    /// are its parent's).
    pub objects: Vec<(String, String)>,
    /// Access key ids made through IAM; the root key is not listed.
    pub access_keys: Vec<String>,
    /// Policy ARNs.
    pub policies: Vec<String>,
    /// `(user, policy ARN)` attachments; the user is an access key id.
    pub attachments: Vec<(String, String)>,
    /// `(bucket, key, upload id)` of every multipart upload in progress.
    pub multipart_uploads: Vec<(String, String, String)>,
}

impl Inventory {
    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Keeps the README's example compiling.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_a_secret() {
        let builder = Emulator::builder().credentials("root-id", "root-secret-value");
        let mut keys = iam::tables::Keys::default();
        keys.insert("tid_X".into(), "tsec_hidden".into());
        for shown in [
            format!("{builder:?}"),
            format!("{builder:#?}"),
            format!("{:?}", builder.credentials),
            format!("{keys:?}"),
            format!("{keys:#?}"),
        ] {
            assert!(
                !shown.contains("root-secret-value") && !shown.contains("tsec_hidden"),
                "{shown}"
            );
        }
        assert!(format!("{builder:?}").contains("root-id"));
    }
}
