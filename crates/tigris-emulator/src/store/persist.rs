//! Durable state for `--data-dir`: a journal of changes in redb, object bodies as files.
//!
//! A data directory holds `journal.redb`, one table mapping a sequence number to a JSON
//! [`Record`], and `objects/`, one file per stored object body named by the version it was
//! written at. Every change is committed (redb's immediate durability: fsync before the commit
//! returns) before the request that made it is answered; a body is written to a temporary file,
//! fsynced, renamed into place and the directory fsynced, all before its journal record.
//!
//! Records are committed by one thread, the committer, with group commit: it takes every record
//! queued since its last commit, fsyncs `objects/` once if any of them placed a body there, and
//! writes them all in one transaction (one fsync), then tells each writer. So writes in flight
//! share their fsyncs instead of waiting for each other's, and each is still on disk before it
//! is answered. A writer waits either blocking ([`Journal::append`]) or, for the PUT path, as a
//! future ([`Ticket::durable`]) that holds no thread.
//!
//! At startup the journal is replayed into the in-memory structures, then compacted: one
//! transaction replaces it with the records that rebuild the state as it now is (buckets,
//! snapshots, retained versions, IAM, notification settings), and bodies no retained version
//! references are deleted. So versions freed while running leave the disk at the next start.
//! Snapshots and forks are single records: persisting them copies nothing.

use std::collections::HashSet;
use std::collections::VecDeque;
use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::store::Change;

const JOURNAL: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("journal");
const JOURNAL_FILE: &str = "journal.redb";
const OBJECTS_DIR: &str = "objects";

/// One journal entry.
#[derive(Debug, Deserialize)]
pub(crate) enum Record {
    /// A change to buckets, snapshots or objects.
    Store(Change),
    /// The whole IAM state (keys, policies, attachments), as journals written before IAM
    /// changes were records of their own hold it: it replaces whatever IAM state came before.
    Iam(IamDump),
    /// One IAM change, applied to the state before it.
    IamChange(IamChange),
    /// A `PATCH /{bucket}` settings body that was applied.
    Notify { bucket: String, body: String },
}

/// [`Record`] by reference, for writing: the same externally tagged JSON.
#[derive(Serialize)]
pub(crate) enum RecordRef<'a> {
    Store(&'a Change),
    IamChange(&'a IamChange),
    Notify { bucket: &'a str, body: &'a str },
}

/// One IAM change as the journal records it; [`crate::iam::tables::Iam::apply`] applies it,
/// live and at replay.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum IamChange {
    /// A key made (its secret included); `counter` is the id generator's state after it.
    CreateAccessKey {
        key: KeyDump,
        counter: u64,
    },
    DeleteAccessKey {
        id: String,
    },
    CreatePolicy {
        policy: PolicyDump,
        counter: u64,
    },
    DeletePolicy {
        arn: String,
    },
    AttachUserPolicy {
        user: String,
        arn: String,
    },
    DetachUserPolicy {
        user: String,
        arn: String,
    },
    /// Tigris's `UpdateAccessKeyWithBucketsRole`: the key's bucket roles, replaced whole.
    SetBucketRoles {
        id: String,
        roles: Vec<(String, String)>,
    },
    /// Tigris's `RotateAccessKey`: the key's new secret.
    RotateAccessKey {
        id: String,
        secret: SecretText,
    },
}

/// A secret in a journal record: written as is, never shown by `Debug`.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct SecretText(pub(crate) String);

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

/// What the IAM module keeps, in a form that survives a restart.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct IamDump {
    pub(crate) keys: Vec<KeyDump>,
    pub(crate) policies: Vec<PolicyDump>,
    pub(crate) attachments: Vec<(String, Vec<String>)>,
    pub(crate) counter: u64,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct KeyDump {
    pub(crate) id: String,
    pub(crate) secret: String,
    /// Nanoseconds since the Unix epoch.
    pub(crate) created: u64,
    /// The name given to Tigris's `CreateAccessKeyWithBucketsRole`; none for `CreateAccessKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// `(bucket, role)` pairs: Tigris's bucket roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) roles: Vec<(String, String)>,
}

impl fmt::Debug for KeyDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyDump")
            .field("id", &self.id)
            .field("secret", &"** redacted **")
            .field("name", &self.name)
            .field("roles", &self.roles)
            .finish()
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PolicyDump {
    pub(crate) arn: String,
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) path: String,
    pub(crate) description: Option<String>,
    /// Nanoseconds since the Unix epoch.
    pub(crate) created: u64,
    /// The policy document as it was submitted.
    pub(crate) document: String,
}

/// Why the data directory could not be read or written; the message names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PersistError(String);

impl PersistError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PersistError {}

/// Opens the journal database; called at start and again to recover after a failed write.
type Opener = Box<dyn Fn() -> Result<Database, PersistError> + Send + Sync>;

/// The journal database's state.
enum Db {
    Open(Database),
    /// A write failed; redb refuses every later one on this handle, so the next append reopens
    /// the file first (which recovers it to its last committed transaction).
    Broken,
    /// Closed by a shutdown, so a restart in the same process can reopen the file.
    Closed,
}

/// The open data directory: its files, and the committer that writes the journal.
pub(crate) struct Journal {
    disk: Arc<Disk>,
    committer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// The data directory's files and the queue of records waiting for the committer.
pub(crate) struct Disk {
    dir: PathBuf,
    db: Mutex<Db>,
    open_db: Opener,
    /// Whether body files no journal record names may be deleted (the caller asked for it).
    discard_unjournaled: bool,
    queue: Mutex<Queue>,
    /// Signalled when records are queued (or the journal closes): wakes the committer.
    work: Condvar,
    /// Signalled when a batch is resolved: wakes blocking writers.
    resolved: Condvar,
    /// Names of staged body files, unique within the process.
    staged: AtomicU64,
}

/// Records waiting for the committer.
#[derive(Default)]
struct Queue {
    items: VecDeque<Queued>,
    shut: bool,
}

/// One record waiting for the committer.
struct Queued {
    value: Vec<u8>,
    /// It names a body placed by [`Journal::place_body`], whose directory entry the committer
    /// fsyncs before the record.
    placed_body: bool,
    outcome: Arc<OnceLock<Result<(), PersistError>>>,
    wake: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Where the committer puts a record's result: set once, when its batch is committed or failed.
pub(crate) type Outcome = Arc<OnceLock<Result<(), PersistError>>>;

/// A record handed to the committer; says when it is on disk (or could not be written).
#[derive(Debug)]
pub(crate) struct Ticket {
    outcome: Outcome,
    wake: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Ticket {
    /// The commit's result, once the committer resolved it.
    pub(crate) fn outcome(&self) -> Option<&Result<(), PersistError>> {
        self.outcome.get()
    }

    /// A handle on the result, for whoever applies the change once it is on disk.
    pub(crate) fn handle(&self) -> Outcome {
        Arc::clone(&self.outcome)
    }

    /// Waits, without holding a thread, until the record is on disk or failed.
    pub(crate) async fn durable(&mut self) -> Result<(), PersistError> {
        if let Some(wake) = self.wake.take() {
            // A dropped sender means the committer is gone; the outcome says why, or is unset.
            wake.await.ok();
        }
        self.outcome()
            .cloned()
            .unwrap_or_else(|| Err(PersistError::new("the journal's committer stopped")))
    }
}

/// A body written and fsynced under a temporary name, not yet part of the store; deleted if
/// dropped before [`Journal::place_body`] names it.
#[derive(Debug)]
pub(crate) struct StagedBody {
    path: PathBuf,
    placed: bool,
}

impl Drop for StagedBody {
    fn drop(&mut self) {
        if !self.placed {
            fs::remove_file(&self.path).ok();
        }
    }
}

impl std::ops::Deref for Journal {
    type Target = Disk;

    fn deref(&self) -> &Disk {
        &self.disk
    }
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal").field("dir", &self.dir).finish()
    }
}

impl fmt::Debug for Disk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disk").field("dir", &self.dir).finish()
    }
}

fn io_error(what: &Path, e: impl fmt::Display) -> PersistError {
    PersistError(format!("{}: {e}", what.display()))
}

/// What to do about a journal redb cannot read, for the error message.
const CORRUPT_HINT: &str = "the journal file is damaged; restore journal.redb (and objects/) \
     from a backup, or move the data directory away to start empty";

/// Runs `f`, turning a panic inside redb (which it raises on some damaged pages) into an error
/// that names `file`.
fn guarded<T>(file: &Path, f: impl FnOnce() -> Result<T, PersistError>) -> Result<T, PersistError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(io_error(
            file,
            format!("cannot read the journal ({what}): {CORRUPT_HINT}"),
        ))
    })
}

/// Body files in `objects` (temporary files of unfinished writes excluded).
fn body_files(objects: &Path) -> Result<usize, PersistError> {
    let mut n = 0;
    for entry in fs::read_dir(objects).map_err(|e| io_error(objects, e))? {
        let entry = entry.map_err(|e| io_error(objects, e))?;
        if !entry.file_name().to_string_lossy().ends_with(".tmp") {
            n += 1;
        }
    }
    Ok(n)
}

impl Journal {
    /// Opens (creating if needed) the data directory and reads its journal in order.
    ///
    /// A journal that is missing or holds no record while `objects/` holds bodies is an error
    /// (starting would serve an empty store and then delete every body), unless
    /// `discard_unjournaled` says to start anyway.
    pub(crate) fn open(
        dir: &Path,
        discard_unjournaled: bool,
    ) -> Result<(Self, Vec<Record>), PersistError> {
        let file = dir.join(JOURNAL_FILE);
        let opener_file = file.clone();
        Self::open_with(
            dir,
            discard_unjournaled,
            Box::new(move || Database::create(&opener_file).map_err(|e| io_error(&opener_file, e))),
        )
    }

    /// [`Journal::open`] with the database opened by `open_db`.
    fn open_with(
        dir: &Path,
        discard_unjournaled: bool,
        open_db: Opener,
    ) -> Result<(Self, Vec<Record>), PersistError> {
        let objects = dir.join(OBJECTS_DIR);
        fs::create_dir_all(&objects).map_err(|e| io_error(&objects, e))?;
        let file = dir.join(JOURNAL_FILE);
        let bodies = body_files(&objects)?;
        let orphaned = |state: &str| {
            PersistError(format!(
                "{}: {bodies} object bodies in {} but {state}, so nothing says which objects \
                 they belong to; refusing to start (an empty start would delete them). Restore \
                 journal.redb from a backup, or move objects/ away; to start empty and delete \
                 the bodies, pass --discard-unjournaled-bodies \
                 (EmulatorBuilder::discard_unjournaled_bodies)",
                dir.display(),
                objects.display(),
            ))
        };
        if bodies > 0 && !discard_unjournaled && !file.exists() {
            return Err(orphaned("journal.redb is missing"));
        }
        let db = guarded(&file, &open_db)?;
        let records = guarded(&file, || {
            let mut records = Vec::new();
            let txn = db.begin_read().map_err(|e| io_error(&file, e))?;
            match txn.open_table(JOURNAL) {
                Ok(table) => {
                    for row in table.iter().map_err(|e| io_error(&file, e))? {
                        let (seq, value) = row.map_err(|e| io_error(&file, e))?;
                        let record = serde_json::from_slice(value.value()).map_err(|e| {
                            io_error(
                                &file,
                                format!(
                                    "journal record {} is unreadable: {e}: {CORRUPT_HINT}",
                                    seq.value()
                                ),
                            )
                        })?;
                        records.push(record);
                    }
                }
                Err(redb::TableError::TableDoesNotExist(_)) => {}
                Err(e) => return Err(io_error(&file, e)),
            }
            Ok(records)
        })?;
        if bodies > 0 && !discard_unjournaled && records.is_empty() {
            return Err(orphaned("journal.redb holds no record"));
        }
        let disk = Arc::new(Disk {
            dir: dir.to_owned(),
            db: Mutex::new(Db::Open(db)),
            open_db,
            discard_unjournaled,
            queue: Mutex::new(Queue::default()),
            work: Condvar::new(),
            resolved: Condvar::new(),
            staged: AtomicU64::new(0),
        });
        let committer = {
            let disk = Arc::clone(&disk);
            std::thread::Builder::new()
                .name("tigris-journal".into())
                .spawn(move || disk.commit_loop())
                .map_err(|e| {
                    io_error(&file, format!("cannot start the journal's committer: {e}"))
                })?
        };
        let journal = Self {
            disk,
            committer: Mutex::new(Some(committer)),
        };
        Ok((journal, records))
    }

    /// Hands `record` to the committer; [`Ticket::durable`] says when it is on disk.
    /// `placed_body`: the record names a body placed with [`Journal::place_body`].
    pub(crate) fn submit(
        &self,
        record: &RecordRef<'_>,
        placed_body: bool,
    ) -> Result<Ticket, PersistError> {
        let value = serde_json::to_vec(record).map_err(|e| io_error(&self.file(), e))?;
        Ok(self.enqueue(value, placed_body, true))
    }

    /// Appends one record and returns once it is on disk: committed by the committer with
    /// whatever else is queued, the caller's thread blocked meanwhile.
    pub(crate) fn append(&self, record: &RecordRef<'_>) -> Result<(), PersistError> {
        let value = serde_json::to_vec(record).map_err(|e| io_error(&self.file(), e))?;
        let ticket = self.enqueue(value, false, false);
        self.wait(&ticket)
    }

    /// Blocks until `ticket` is resolved; answers its outcome.
    pub(crate) fn wait(&self, ticket: &Ticket) -> Result<(), PersistError> {
        self.wait_for(&ticket.outcome);
        ticket
            .outcome()
            .cloned()
            .unwrap_or_else(|| Err(PersistError::new("the journal's committer stopped")))
    }

    /// Writes `data` to a new temporary file in `objects/` and fsyncs it, outside any lock;
    /// [`Journal::place_body`] then names it as a version's body.
    pub(crate) fn stage_body(&self, data: &[u8]) -> Result<StagedBody, PersistError> {
        let n = self.staged.fetch_add(1, Ordering::Relaxed);
        let path = self
            .dir
            .join(OBJECTS_DIR)
            .join(format!("staged-{}-{n}.tmp", std::process::id()));
        let staged = StagedBody {
            path,
            placed: false,
        };
        let write = || -> io::Result<()> {
            let mut f = fs::File::create(&staged.path)?;
            f.write_all(data)?;
            f.sync_all()
        };
        write().map_err(|e| io_error(&staged.path, e))?;
        Ok(staged)
    }

    /// Names a staged body as the body of `version` (a rename: no fsync; the committer fsyncs
    /// the directory before the record that names it, which is submitted with `placed_body`).
    pub(crate) fn place_body(
        &self,
        mut staged: StagedBody,
        version: u64,
    ) -> Result<(), PersistError> {
        let path = self.body_path(version);
        fs::rename(&staged.path, &path).map_err(|e| io_error(&path, e))?;
        staged.placed = true;
        Ok(())
    }

    /// Closes the database file and stops the committer; later appends fail.
    pub(crate) fn close(&self) {
        self.disk.close();
        let committer = self
            .committer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(committer) = committer
            && committer.thread().id() != std::thread::current().id()
        {
            committer.join().ok();
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.close();
    }
}

impl Disk {
    /// Queues one record for the committer.
    fn enqueue(&self, value: Vec<u8>, placed_body: bool, wake: bool) -> Ticket {
        let outcome = Arc::new(OnceLock::new());
        let (tx, rx) = if wake {
            let (tx, rx) = tokio::sync::oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.shut {
            outcome
                .set(Err(io_error(&self.file(), "the emulator has shut down")))
                .ok();
        } else {
            queue.items.push_back(Queued {
                value,
                placed_body,
                outcome: Arc::clone(&outcome),
                wake: tx,
            });
            self.work.notify_one();
        }
        Ticket { outcome, wake: rx }
    }

    /// Blocks until the committer resolved `outcome`.
    pub(crate) fn wait_for(&self, outcome: &Outcome) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        while outcome.get().is_none() {
            queue = self
                .resolved
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// The committer: takes everything queued, commits it as one transaction (one fsync, and
    /// one fsync of `objects/` before it when a record names a placed body), then resolves each
    /// record. Ends once the journal is closed and the queue is empty.
    fn commit_loop(&self) {
        loop {
            let batch: Vec<Queued> = {
                let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                while queue.items.is_empty() && !queue.shut {
                    queue = self
                        .work
                        .wait(queue)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                if queue.items.is_empty() {
                    return;
                }
                queue.items.drain(..).collect()
            };
            let result = self.commit(&batch);
            for item in &batch {
                item.outcome.set(result.clone()).ok();
            }
            {
                // Under the lock, so a waiter cannot miss the signal between its check and wait.
                let _queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                self.resolved.notify_all();
            }
            for item in batch {
                if let Some(wake) = item.wake {
                    wake.send(()).ok();
                }
            }
        }
    }

    /// Writes `batch` to the journal in one durable transaction, in order.
    fn commit(&self, batch: &[Queued]) -> Result<(), PersistError> {
        if batch.iter().any(|q| q.placed_body) {
            let objects = self.dir.join(OBJECTS_DIR);
            fs::File::open(&objects)
                .and_then(|d| d.sync_all())
                .map_err(|e| io_error(&objects, e))?;
        }
        let file = self.file();
        self.write_txn(|txn| {
            let mut table = txn.open_table(JOURNAL).map_err(|e| io_error(&file, e))?;
            let first = table
                .last()
                .map_err(|e| io_error(&file, e))?
                .map_or(0, |(seq, _)| seq.value() + 1);
            for (seq, item) in (first..).zip(batch) {
                table
                    .insert(seq, item.value.as_slice())
                    .map_err(|e| io_error(&file, e))?;
            }
            Ok(())
        })
    }

    fn file(&self) -> PathBuf {
        self.dir.join(JOURNAL_FILE)
    }

    fn body_path(&self, version: u64) -> PathBuf {
        self.dir.join(OBJECTS_DIR).join(format!("{version:020}"))
    }

    /// Runs `f` in one write transaction and commits it durably. After a failed write the
    /// database is reopened before the next one, so one error (a full disk since freed, say)
    /// does not fail every later write.
    fn write_txn(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<(), PersistError>,
    ) -> Result<(), PersistError> {
        let file = self.file();
        let mut guard = self.db.lock().unwrap_or_else(PoisonError::into_inner);
        if matches!(*guard, Db::Broken) {
            // Drop the failed handle first: it holds the file's lock.
            *guard = Db::Closed;
            *guard = Db::Open(guarded(&file, &self.open_db)?);
            tracing::info!(file = %file.display(), "journal reopened after a failed write");
        }
        let Db::Open(db) = &*guard else {
            return Err(io_error(&file, "the emulator has shut down"));
        };
        let result = guarded(&file, || {
            let txn = db.begin_write().map_err(|e| io_error(&file, e))?;
            f(&txn)?;
            txn.commit().map_err(|e| io_error(&file, e))
        });
        if result.is_err() {
            *guard = Db::Broken;
        }
        result
    }

    /// Stores the body of the object written at `version`, durably, before its record is.
    pub(crate) fn write_body(&self, version: u64, data: &[u8]) -> Result<(), PersistError> {
        let path = self.body_path(version);
        let tmp = path.with_extension("tmp");
        let write = || -> io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(data)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            fs::File::open(self.dir.join(OBJECTS_DIR))?.sync_all()
        };
        write().map_err(|e| io_error(&path, e))
    }

    /// Reads the body of the object written at `version`; it must be `size` bytes.
    pub(crate) fn read_body(&self, version: u64, size: u64) -> Result<Bytes, PersistError> {
        let path = self.body_path(version);
        let data = fs::read(&path).map_err(|e| io_error(&path, e))?;
        if data.len() as u64 != size {
            return Err(io_error(
                &path,
                format!("expected {size} bytes, found {}", data.len()),
            ));
        }
        Ok(Bytes::from(data))
    }

    /// Deletes the body of a freed version (one already gone is fine).
    pub(crate) fn remove_body(&self, version: u64) -> Result<(), PersistError> {
        let path = self.body_path(version);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(&path, e)),
            _ => Ok(()),
        }
    }

    /// Replaces the journal with `records` in one transaction and shrinks the file to what
    /// they take, then deletes the body files no retained version (`bodies`) reads: those of
    /// versions the replayed journal named (`named`: freed since) and unfinished writes. A body
    /// no record named is kept (and reported) unless the caller asked to discard such bodies.
    pub(crate) fn compact(
        &self,
        records: &[RecordRef<'_>],
        bodies: &HashSet<u64>,
        named: &HashSet<u64>,
    ) -> Result<(), PersistError> {
        let file = self.file();
        self.write_txn(|txn| {
            txn.delete_table(JOURNAL).map_err(|e| io_error(&file, e))?;
            let mut table = txn.open_table(JOURNAL).map_err(|e| io_error(&file, e))?;
            for (seq, record) in (0u64..).zip(records) {
                let value = serde_json::to_vec(record).map_err(|e| io_error(&file, e))?;
                table
                    .insert(seq, value.as_slice())
                    .map_err(|e| io_error(&file, e))?;
            }
            Ok(())
        })?;
        {
            let mut guard = self.db.lock().unwrap_or_else(PoisonError::into_inner);
            if let Db::Open(db) = &mut *guard {
                // Freed pages are given back to the file system; a failure only keeps them.
                let shrunk = guarded(&file, || {
                    // Each pass moves pages towards the start; the file ends where they do.
                    while db.compact().map_err(|e| io_error(&file, e))? {}
                    Ok(())
                });
                if let Err(e) = shrunk {
                    tracing::warn!(error = %e, "cannot shrink the journal file");
                }
            }
        }
        let objects = self.dir.join(OBJECTS_DIR);
        let mut kept = 0usize;
        for entry in fs::read_dir(&objects).map_err(|e| io_error(&objects, e))? {
            let entry = entry.map_err(|e| io_error(&objects, e))?;
            let name = entry.file_name();
            let version = name.to_str().and_then(|n| n.parse::<u64>().ok());
            let remove = match version {
                Some(v) if bodies.contains(&v) => false,
                Some(v) => named.contains(&v) || self.discard_unjournaled,
                // Temporary files of writes cut short; anything else is not ours.
                None => name.to_string_lossy().ends_with(".tmp"),
            };
            if remove {
                let path = entry.path();
                fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
            } else if version.is_some_and(|v| !bodies.contains(&v)) {
                kept += 1;
            }
        }
        if kept > 0 {
            tracing::warn!(
                dir = %objects.display(),
                kept,
                "body files no journal record names (a write cut short by a crash before its \
                 record, or records lost) are kept; --discard-unjournaled-bodies deletes them"
            );
        }
        Ok(())
    }

    /// Closes the database file; later appends fail, and the committer ends once it resolved
    /// what was queued (as failed: the file is closed).
    fn close(&self) {
        *self.db.lock().unwrap_or_else(PoisonError::into_inner) = Db::Closed;
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .shut = true;
        self.work.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_reads_back_what_was_appended_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, records) = Journal::open(dir.path(), false).unwrap();
        assert!(records.is_empty());
        for bucket in ["a", "b"] {
            let record = RecordRef::Notify { bucket, body: "{}" };
            journal.append(&record).unwrap();
        }
        journal.close();
        let (_journal, records) = Journal::open(dir.path(), false).unwrap();
        let buckets: Vec<_> = records
            .iter()
            .map(|r| match r {
                Record::Notify { bucket, .. } => bucket.as_str(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(buckets, ["a", "b"]);
    }

    #[test]
    fn a_garbage_journal_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(JOURNAL_FILE), b"not a database at all").unwrap();
        let err = Journal::open(dir.path(), false).unwrap_err();
        assert!(err.to_string().contains(JOURNAL_FILE), "{err}");
    }

    /// Storage that fails every write and sync while `failing` is set, as a full disk does.
    #[derive(Debug, Clone)]
    struct FlakyDisk {
        inner: Arc<redb::backends::InMemoryBackend>,
        failing: Arc<std::sync::atomic::AtomicBool>,
    }

    impl FlakyDisk {
        fn check(&self) -> io::Result<()> {
            if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
                Err(io::Error::other("no space left on device"))
            } else {
                Ok(())
            }
        }
    }

    impl redb::StorageBackend for FlakyDisk {
        fn len(&self) -> io::Result<u64> {
            redb::StorageBackend::len(&*self.inner)
        }
        fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
            redb::StorageBackend::read(&*self.inner, offset, out)
        }
        fn set_len(&self, len: u64) -> io::Result<()> {
            self.check()?;
            redb::StorageBackend::set_len(&*self.inner, len)
        }
        fn sync_data(&self) -> io::Result<()> {
            self.check()?;
            redb::StorageBackend::sync_data(&*self.inner)
        }
        fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
            self.check()?;
            redb::StorageBackend::write(&*self.inner, offset, data)
        }
    }

    use std::sync::Arc;

    fn notify(bucket: &str) -> RecordRef<'_> {
        RecordRef::Notify { bucket, body: "{}" }
    }

    #[test]
    fn after_a_failed_write_the_journal_recovers_once_the_disk_does() {
        let dir = tempfile::tempdir().unwrap();
        let disk = FlakyDisk {
            inner: Arc::new(redb::backends::InMemoryBackend::new()),
            failing: Arc::default(),
        };
        let opener = disk.clone();
        let (journal, _) = Journal::open_with(
            dir.path(),
            false,
            Box::new(move || {
                redb::Builder::new()
                    .create_with_backend(opener.clone())
                    .map_err(|e| PersistError::new(e.to_string()))
            }),
        )
        .unwrap();
        journal.append(&notify("before")).unwrap();
        disk.failing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(journal.append(&notify("lost")).is_err());
        disk.failing
            .store(false, std::sync::atomic::Ordering::SeqCst);
        journal.append(&notify("after")).unwrap();
        let guard = journal.db.lock().unwrap();
        let Db::Open(db) = &*guard else {
            panic!("the journal is open")
        };
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(JOURNAL).unwrap();
        let buckets: Vec<String> = table
            .iter()
            .unwrap()
            .map(|row| {
                let (_, value) = row.unwrap();
                match serde_json::from_slice(value.value()).unwrap() {
                    Record::Notify { bucket, .. } => bucket,
                    other => panic!("unexpected {other:?}"),
                }
            })
            .collect();
        assert_eq!(buckets, ["before", "after"]);
    }

    #[test]
    fn a_damaged_journal_page_is_an_error_naming_the_file_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (journal, _) = Journal::open(dir.path(), false).unwrap();
            for i in 0..20 {
                journal.append(&notify(&format!("bucket-{i}"))).unwrap();
            }
            journal.close();
        }
        let file = dir.path().join(JOURNAL_FILE);
        let pristine = fs::read(&file).unwrap();
        let mut refused = 0;
        let pages = pristine.len() / 4096;
        // Up to 24 pages spread over the file: the header, the tree pages, the free space.
        for page in (0..pages).step_by(pages.div_ceil(24).max(1)) {
            let mut damaged = pristine.clone();
            for b in &mut damaged[page * 4096 + 64..page * 4096 + 128] {
                *b = 0xA5;
            }
            fs::write(&file, &damaged).unwrap();
            let opened = std::panic::catch_unwind(|| Journal::open(dir.path(), false).map(|_| ()));
            let Ok(opened) = opened else {
                panic!("page {page}: opening the damaged journal panicked");
            };
            if let Err(e) = opened {
                assert!(e.to_string().contains(JOURNAL_FILE), "page {page}: {e}");
                refused += 1;
            }
        }
        assert!(refused > 0, "some damage is detected");
    }

    #[test]
    fn compaction_deletes_unreferenced_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = Journal::open(dir.path(), false).unwrap();
        journal.write_body(1, b"kept").unwrap();
        journal.write_body(2, b"freed").unwrap();
        journal
            .compact(&[], &HashSet::from([1]), &HashSet::from([2]))
            .unwrap();
        assert_eq!(
            journal.read_body(1, 4).unwrap(),
            Bytes::from_static(b"kept")
        );
        assert!(journal.read_body(2, 5).is_err());
    }
}
