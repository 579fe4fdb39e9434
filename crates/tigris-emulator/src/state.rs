//! State shared by every part of the emulator: the store, the key table, faults, notifications.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use std::sync::atomic::{AtomicU64, Ordering};

use crate::auth::RequestTag;
use crate::faults::{Faults, InjectedFailure};
use crate::iam::Iam;
use crate::multipart::Uploads;
use crate::notify::Notifier;
use crate::store::{Bucket, Store, StoreError};

/// Access keys the emulator accepts, with their secrets.
#[derive(Default)]
pub(crate) struct Keys {
    secrets: HashMap<String, String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Ids only: secrets never reach logs.
        f.debug_set().entries(self.secrets.keys()).finish()
    }
}

impl Keys {
    pub(crate) fn insert(&mut self, id: String, secret: String) {
        self.secrets.insert(id, secret);
    }

    pub(crate) fn remove(&mut self, id: &str) {
        self.secrets.remove(id);
    }

    pub(crate) fn secret(&self, id: &str) -> Option<&str> {
        self.secrets.get(id).map(String::as_str)
    }
}

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
        Self {
            store: Mutex::new(Store::default()),
            keys: Mutex::new(keys),
            iam: Mutex::new(Iam::default()),
            uploads: Mutex::new(Uploads::default()),
            after: Mutex::new(HashMap::new()),
            tags: AtomicU64::new(0),
            root_access_key,
            faults: Faults::default(),
            notifier: Notifier::default(),
        }
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
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

    pub(crate) fn take_after(&self, tag: RequestTag) -> Option<InjectedFailure> {
        lock(&self.after).remove(&tag)
    }

    pub(crate) fn uploads(&self) -> MutexGuard<'_, Uploads> {
        lock(&self.uploads)
    }

    pub(crate) fn store_mut_bucket(
        &self,
        name: &str,
        f: impl FnOnce(&mut Bucket),
    ) -> Result<(), StoreError> {
        self.store().with_bucket_mut(name, f)
    }
}
