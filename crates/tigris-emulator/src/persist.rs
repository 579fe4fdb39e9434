//! Durable state for `--data-dir`: a journal of changes in redb, object bodies as files.
//!
//! A data directory holds `journal.redb`, one table mapping a sequence number to a JSON
//! [`Record`], and `objects/`, one file per stored object body named by the version it was
//! written at. Every change is committed (redb's immediate durability: fsync before the commit
//! returns) before the request that made it is answered; a body is written to a temporary file,
//! fsynced, renamed into place and the directory fsynced, all before its journal record.
//!
//! At startup the journal is replayed into the in-memory structures, then compacted: one
//! transaction replaces it with the records that rebuild the state as it now is (buckets,
//! snapshots, retained versions, IAM, notification settings), and bodies no retained version
//! references are deleted. So versions freed while running leave the disk at the next start.
//! Snapshots and forks are single records: persisting them copies nothing.

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

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
    /// The whole IAM state (keys, policies, attachments) after a change; the last one wins.
    Iam(IamDump),
    /// A `PATCH /{bucket}` settings body that was applied.
    Notify { bucket: String, body: String },
}

/// [`Record`] by reference, for writing: the same externally tagged JSON.
#[derive(Serialize)]
pub(crate) enum RecordRef<'a> {
    Store(&'a Change),
    Iam(&'a IamDump),
    Notify { bucket: &'a str, body: &'a str },
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
}

impl fmt::Debug for KeyDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyDump")
            .field("id", &self.id)
            .field("secret", &"** redacted **")
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

/// The open data directory.
pub(crate) struct Journal {
    dir: PathBuf,
    /// `None` once closed by a shutdown, so a restart in the same process can reopen the file.
    db: Mutex<Option<Database>>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal").field("dir", &self.dir).finish()
    }
}

fn io_error(what: &Path, e: impl fmt::Display) -> PersistError {
    PersistError(format!("{}: {e}", what.display()))
}

impl Journal {
    /// Opens (creating if needed) the data directory and reads its journal in order.
    pub(crate) fn open(dir: &Path) -> Result<(Self, Vec<Record>), PersistError> {
        let objects = dir.join(OBJECTS_DIR);
        fs::create_dir_all(&objects).map_err(|e| io_error(&objects, e))?;
        let file = dir.join(JOURNAL_FILE);
        let db = Database::create(&file).map_err(|e| io_error(&file, e))?;
        let mut records = Vec::new();
        {
            let txn = db.begin_read().map_err(|e| io_error(&file, e))?;
            match txn.open_table(JOURNAL) {
                Ok(table) => {
                    for row in table.iter().map_err(|e| io_error(&file, e))? {
                        let (seq, value) = row.map_err(|e| io_error(&file, e))?;
                        let record = serde_json::from_slice(value.value()).map_err(|e| {
                            io_error(
                                &file,
                                format!("journal record {} is unreadable: {e}", seq.value()),
                            )
                        })?;
                        records.push(record);
                    }
                }
                Err(redb::TableError::TableDoesNotExist(_)) => {}
                Err(e) => return Err(io_error(&file, e)),
            }
        }
        let journal = Self {
            dir: dir.to_owned(),
            db: Mutex::new(Some(db)),
        };
        Ok((journal, records))
    }

    fn file(&self) -> PathBuf {
        self.dir.join(JOURNAL_FILE)
    }

    fn body_path(&self, version: u64) -> PathBuf {
        self.dir.join(OBJECTS_DIR).join(format!("{version:020}"))
    }

    /// Appends one record and returns once it is on disk.
    pub(crate) fn append(&self, record: &RecordRef<'_>) -> Result<(), PersistError> {
        let file = self.file();
        let value = serde_json::to_vec(record).map_err(|e| io_error(&file, e))?;
        let guard = self.db.lock().unwrap_or_else(PoisonError::into_inner);
        let db = guard
            .as_ref()
            .ok_or_else(|| io_error(&file, "the emulator has shut down"))?;
        let txn = db.begin_write().map_err(|e| io_error(&file, e))?;
        {
            let mut table = txn.open_table(JOURNAL).map_err(|e| io_error(&file, e))?;
            let next = table
                .last()
                .map_err(|e| io_error(&file, e))?
                .map_or(0, |(seq, _)| seq.value() + 1);
            table
                .insert(next, value.as_slice())
                .map_err(|e| io_error(&file, e))?;
        }
        txn.commit().map_err(|e| io_error(&file, e))
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

    /// Replaces the journal with `records` in one transaction, then deletes the bodies whose
    /// version is not in `bodies`.
    pub(crate) fn compact(
        &self,
        records: &[RecordRef<'_>],
        bodies: &HashSet<u64>,
    ) -> Result<(), PersistError> {
        let file = self.file();
        {
            let guard = self.db.lock().unwrap_or_else(PoisonError::into_inner);
            let db = guard
                .as_ref()
                .ok_or_else(|| io_error(&file, "the emulator has shut down"))?;
            let txn = db.begin_write().map_err(|e| io_error(&file, e))?;
            txn.delete_table(JOURNAL).map_err(|e| io_error(&file, e))?;
            {
                let mut table = txn.open_table(JOURNAL).map_err(|e| io_error(&file, e))?;
                for (seq, record) in (0u64..).zip(records) {
                    let value = serde_json::to_vec(record).map_err(|e| io_error(&file, e))?;
                    table
                        .insert(seq, value.as_slice())
                        .map_err(|e| io_error(&file, e))?;
                }
            }
            txn.commit().map_err(|e| io_error(&file, e))?;
        }
        let objects = self.dir.join(OBJECTS_DIR);
        for entry in fs::read_dir(&objects).map_err(|e| io_error(&objects, e))? {
            let entry = entry.map_err(|e| io_error(&objects, e))?;
            let name = entry.file_name();
            let referenced = name
                .to_str()
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|v| bodies.contains(&v));
            if !referenced {
                let path = entry.path();
                fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
            }
        }
        Ok(())
    }

    /// Closes the database file; later appends fail.
    pub(crate) fn close(&self) {
        self.db
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_reads_back_what_was_appended_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, records) = Journal::open(dir.path()).unwrap();
        assert!(records.is_empty());
        for bucket in ["a", "b"] {
            let record = RecordRef::Notify { bucket, body: "{}" };
            journal.append(&record).unwrap();
        }
        journal.close();
        let (_journal, records) = Journal::open(dir.path()).unwrap();
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
        let err = Journal::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains(JOURNAL_FILE), "{err}");
    }

    #[test]
    fn compaction_deletes_unreferenced_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = Journal::open(dir.path()).unwrap();
        journal.write_body(1, b"kept").unwrap();
        journal.write_body(2, b"freed").unwrap();
        journal.compact(&[], &HashSet::from([1])).unwrap();
        assert_eq!(
            journal.read_body(1, 4).unwrap(),
            Bytes::from_static(b"kept")
        );
        assert!(journal.read_body(2, 5).is_err());
    }
}
