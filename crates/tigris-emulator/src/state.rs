//! State shared by every part of the emulator: the store, the key table, faults, notifications.
//!
//! The layer between the data it composes (`store/`, the IAM tables, the fault table, the
//! notifier) and the request handlers, which take it as `&Shared`: nothing here imports a
//! handler, and nothing it composes imports it (`EMULATOR_LAYERS` in `xtask/src/layers.rs`,
//! checked by `cargo xtask lint`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::Clock;
use crate::console::access::ConsoleAccess;
use crate::http::faults::{Faults, InjectedFailure, RequestTag};
use crate::iam::tables::{Iam, Keys};
use crate::notify::Notifier;
use crate::s3::shadow_state::ShadowState;
use crate::store::multipart::Uploads;
use crate::store::persist::{IamChange, Journal, PersistError, Record, RecordRef};
use crate::store::{Object, Store, StoreError};

#[derive(Debug)]
pub(crate) struct Shared {
    store: Mutex<Store>,
    keys: Mutex<Keys>,
    iam: Mutex<Iam>,
    uploads: Mutex<Uploads>,
    /// Failures to answer once the tagged request has been served.
    after: Mutex<HashMap<RequestTag, InjectedFailure>>,
    tags: AtomicU64,
    /// The root key may do everything; other keys are held to their attached policies.
    pub(crate) root_access_key: String,
    pub(crate) faults: Faults,
    pub(crate) notifier: Notifier,
    /// Storage time, shared with the store and the notifier.
    clock: Clock,
    /// The data directory, when there is one.
    journal: Option<Arc<Journal>>,
    /// Who may read the console.
    pub(crate) console: ConsoleAccess,
    /// Held while notification settings are journaled and applied.
    notify_order: Mutex<()>,
    /// The client that reaches shadow buckets, and what each bucket copied in.
    pub(crate) shadow: ShadowState,
    /// How long an archived object's restore takes (by the emulator's clock).
    pub(crate) restore_delay: std::time::Duration,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Handlers never leave the data half-written across an await or a panic point that matters;
    // keep serving rather than poisoning every later request.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(root_access_key: String, root_secret: String) -> Self {
        let mut keys = Keys::default();
        keys.insert(root_access_key.clone(), root_secret);
        let clock = Clock::default();
        let mut store = Store::default();
        store.set_clock(clock.clone());
        let mut notifier = Notifier::default();
        notifier.set_clock(clock.clone());
        Self {
            store: Mutex::new(store),
            keys: Mutex::new(keys),
            iam: Mutex::new(Iam::default()),
            uploads: Mutex::new(Uploads::default()),
            after: Mutex::new(HashMap::new()),
            tags: AtomicU64::new(0),
            root_access_key,
            faults: Faults::default(),
            notifier,
            clock,
            journal: None,
            console: ConsoleAccess::default(),
            notify_order: Mutex::new(()),
            shadow: ShadowState::default(),
            restore_delay: std::time::Duration::ZERO,
        }
    }

    /// Like [`Shared::new`], with the state kept in `data_dir`: replays its journal, compacts
    /// it, and records every later change there.
    pub(crate) fn open(
        root_access_key: String,
        root_secret: String,
        data_dir: &Path,
        discard_unjournaled: bool,
    ) -> Result<Self, PersistError> {
        let shared = Self::new(root_access_key, root_secret);
        let (journal, records) = Journal::open(data_dir, discard_unjournaled)?;
        let corrupt = |e: &dyn std::fmt::Display| {
            PersistError::new(format!(
                "{}: the journal does not replay: {e}",
                data_dir.display()
            ))
        };
        // The versions the journal records a body for: a body file it does not name is not
        // deleted unless the caller asked.
        let mut named = std::collections::HashSet::new();
        {
            let mut store = shared.store();
            for record in records {
                match record {
                    Record::Store(change) => {
                        change.body_versions(&mut named);
                        // A deleted bucket's notification settings go with it, soft deletes
                        // included, as when the deletion was live.
                        match &change {
                            crate::store::Change::DeleteBucket { name, .. } => {
                                shared.notifier.forget(name);
                            }
                            crate::store::Change::SoftDeleteBucket { id, .. } => {
                                if let Some(name) = store.name_of(*id) {
                                    shared.notifier.forget(&name);
                                }
                            }
                            _ => {}
                        }
                        store
                            .apply(change)
                            .map_err(|e| corrupt(&format!("{e:?}")))?;
                    }
                    Record::Iam(dump) => shared
                        .iam()
                        .replace_with(dump, &mut shared.keys())
                        .map_err(|e| corrupt(&e))?,
                    Record::IamChange(change) => shared
                        .iam()
                        .apply(change, &mut shared.keys())
                        .map_err(|e| corrupt(&e))?,
                    Record::Notify { bucket, body } => shared
                        .notifier
                        .apply(&bucket, body.as_bytes())
                        .map_err(|e| corrupt(&format!("{e:?}")))?,
                }
            }
            store.load_bodies(|version, size| journal.read_body(version, size))?;
        }
        let journal = Arc::new(journal);
        {
            let store = shared.store();
            let changes = store.checkpoint();
            let iam = shared.iam().checkpoint(&shared.keys());
            let notify = shared.notifier.checkpoint();
            let mut records: Vec<RecordRef<'_>> = changes.iter().map(RecordRef::Store).collect();
            records.extend(iam.iter().map(RecordRef::IamChange));
            records.extend(
                notify
                    .iter()
                    .map(|(bucket, body)| RecordRef::Notify { bucket, body }),
            );
            journal.compact(&records, &store.body_versions(), &named)?;
        }
        shared.store().set_journal(Arc::clone(&journal));
        let mut shared = shared;
        shared.journal = Some(journal);
        Ok(shared)
    }

    /// Journals one IAM change before it is applied; the caller holds the IAM lock, so the
    /// journal's order is the order changes are applied in.
    pub(crate) fn journal_iam(&self, change: &IamChange) -> Result<(), PersistError> {
        match &self.journal {
            Some(journal) => journal.append(&RecordRef::IamChange(change)),
            None => Ok(()),
        }
    }

    /// Sets `bucket`'s notification settings from a validated `PATCH /{bucket}` body: journaled
    /// first, then applied, both under one lock so concurrent PATCHes reach the journal in the
    /// order they take effect.
    pub(crate) fn set_notifications(&self, bucket: &str, body: &[u8]) -> s3s::S3Result<()> {
        let _order = lock(&self.notify_order);
        // Masked secrets and on/off switches are resolved against the stored settings
        // before journaling, so the journal replays without them.
        let body = &self.notifier.resolve_body(bucket, body)?;
        if let Some(journal) = &self.journal {
            let text = String::from_utf8_lossy(body);
            journal
                .append(&RecordRef::Notify {
                    bucket,
                    body: &text,
                })
                .map_err(|e| s3s::s3_error!(InternalError, "the data directory: {e}"))?;
        }
        self.notifier.apply(bucket, body)
    }

    /// Closes the data directory, so it can be opened again (by a restart in this process).
    pub(crate) fn close(&self) {
        if let Some(journal) = &self.journal {
            journal.close();
        }
    }

    /// The emulator's storage clock.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The store, with every PUT whose record is with the journal's committer applied first
    /// (waiting for their commit): what any change must see.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        let mut store = lock(&self.store);
        store.settle();
        store
    }

    /// The store as applied so far, without waiting for PUTs still being committed (they are
    /// not answered yet): for reads, and for the PUT path itself.
    pub(crate) fn store_applied(&self) -> MutexGuard<'_, Store> {
        let mut store = lock(&self.store);
        store.catch_up();
        store
    }

    /// The data directory's journal, when there is one.
    pub(crate) fn journal(&self) -> Option<&Arc<Journal>> {
        self.journal.as_ref()
    }

    pub(crate) fn keys(&self) -> MutexGuard<'_, Keys> {
        lock(&self.keys)
    }

    /// Lock order where both are needed: IAM first, then keys.
    pub(crate) fn iam(&self) -> MutexGuard<'_, Iam> {
        lock(&self.iam)
    }

    pub(crate) fn next_tag(&self) -> RequestTag {
        RequestTag(self.tags.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn fail_after(&self, tag: RequestTag, failure: InjectedFailure) {
        lock(&self.after).insert(tag, failure);
    }

    /// For a failure that closes the connection: marks the request in `extensions` so the
    /// server drops its connection once it has been handled (served or refused).
    pub(crate) fn drop_later(&self, extensions: &http::Extensions, failure: &InjectedFailure) {
        if failure.drop_connection
            && let Some(tag) = extensions.get::<RequestTag>().copied()
        {
            self.fail_after(tag, failure.clone());
        }
    }

    pub(crate) fn take_after(&self, tag: RequestTag) -> Option<InjectedFailure> {
        lock(&self.after).remove(&tag)
    }

    pub(crate) fn uploads(&self) -> MutexGuard<'_, Uploads> {
        lock(&self.uploads)
    }

    /// Stores `object` at `key` in `bucket` (an unconditional PUT); answers once it is applied,
    /// and, with a data directory, on disk: its body is written outside the store lock and its
    /// record shares a journal commit with the other writes in flight (group commit: see
    /// `store/group.rs`).
    pub(crate) async fn put(
        &self,
        bucket: &str,
        key: &str,
        object: Object,
    ) -> Result<u64, StoreError> {
        let Some(journal) = self.journal().cloned() else {
            return self.store().write(bucket, key, Some(object));
        };
        // Fail before writing a body a missing bucket would never use.
        self.store_applied().bucket_id(bucket)?;
        let data = object.data.clone();
        let stager = Arc::clone(&journal);
        let staged = tokio::task::spawn_blocking(move || stager.stage_body(&data))
            .await
            .map_err(|e| StoreError::Storage(format!("writing the body stopped: {e}")))?
            .map_err(|e| StoreError::Storage(e.to_string()))?;
        let (version, mut ticket) = self
            .store_applied()
            .begin_put(&journal, bucket, key, object, staged)?;
        let durable = ticket.durable().await;
        // Applied before the answer (by this lock's catch-up, or by an earlier lock holder's).
        drop(self.store_applied());
        durable.map_err(|e| StoreError::Storage(e.to_string()))?;
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LIVE;
    use bytes::Bytes;

    #[test]
    fn notification_settings_the_journal_refuses_are_not_applied() {
        let dir = tempfile::tempdir().unwrap();
        let shared = Shared::open("root".into(), "secret".into(), dir.path(), false).unwrap();
        let body =
            br#"{"object_notifications":{"enabled":true,"web_hook":"http://127.0.0.1:9/h"}}"#;
        shared.set_notifications("b", body).unwrap();
        assert!(shared.notifier.masked("b").is_some());
        shared.close();
        let off = br#"{"object_notifications":{}}"#;
        assert!(shared.set_notifications("b", off).is_err());
        assert!(
            shared.notifier.masked("b").is_some(),
            "still the journaled setting"
        );
    }

    fn open(dir: &std::path::Path) -> Arc<Shared> {
        Arc::new(
            Shared::open(
                crate::DEFAULT_ACCESS_KEY_ID.to_owned(),
                crate::DEFAULT_SECRET_ACCESS_KEY.to_owned(),
                dir,
                false,
            )
            .unwrap(),
        )
    }

    fn body_files(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir.join("objects")).unwrap().count()
    }

    #[tokio::test]
    async fn a_put_the_journal_refuses_answers_an_error_is_not_applied_and_leaves_no_body() {
        let dir = tempfile::tempdir().unwrap();
        let shared = open(dir.path());
        shared.store().create_bucket("b", false).unwrap();
        // Every later journal write fails.
        shared.close();
        let object = Object::new(Bytes::from_static(b"lost"), None, Vec::new());
        assert!(shared.put("b", "k", object).await.is_err());
        assert!(shared.store_applied().get("b", "k", LIVE).is_err());
        assert!(shared.store().get("b", "k", LIVE).is_err());
        assert_eq!(body_files(dir.path()), 0);
    }
}
