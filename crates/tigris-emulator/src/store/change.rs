//! The journal's [`Change`] records and how the store applies them: every mutation is a
//! `Change`, journaled before it is applied, replayed at startup, and compacted into a
//! checkpoint of the live state.

use super::*;

/// A change to the store as the journal records it: replaying the changes in order rebuilds the
/// store. Object bodies are not in it; they are files named by the write's version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Change {
    /// The newest version handed out, so the clock never goes back across a restart.
    Clock {
        last_version: u64,
    },
    CreateBucket {
        id: u64,
        name: String,
        created: u64,
        snapshots_enabled: bool,
        fork: Option<ForkRecord>,
        /// Settings given at creation; absent in older journals and for default settings.
        #[serde(default, skip_serializing_if = "Settings::is_default")]
        settings: Settings,
    },
    /// Snapshots turned on or off for a bucket (`PATCH /{bucket}` with `type`).
    BucketType {
        bucket: u64,
        snapshots_enabled: bool,
    },
    /// A bucket's settings after a `PATCH /{bucket}` (the whole set; the last one wins).
    Settings {
        bucket: u64,
        settings: Settings,
    },
    DeleteBucket {
        id: u64,
        name: String,
    },
    Snapshot {
        bucket: u64,
        version: u64,
        name: Option<String>,
    },
    DeleteSnapshot {
        bucket: u64,
        version: u64,
    },
    /// A put or (with no object) a delete, pruned as it was when it happened.
    Write {
        bucket: u64,
        key: String,
        version: u64,
        object: Option<ObjectRecord>,
    },
    /// One retained history entry, appended as is (what compaction writes).
    Retained {
        bucket: u64,
        key: String,
        version: u64,
        object: Option<ObjectRecord>,
    },
    /// A bucket's S3 configuration (tags, CORS, ownership, public access block, policy): the
    /// whole set, the last one wins.
    BucketExtra {
        bucket: u64,
        extra: BucketExtra,
    },
    /// The lifecycle configuration as S3 XML, or none.
    Lifecycle {
        bucket: u64,
        xml: Option<String>,
    },
    /// A fork's unmerged changes written into its parent, then a snapshot of the parent. Each
    /// put's body is a file of its own (named by its new version), written before the record.
    Merge {
        fork: u64,
        parent: u64,
        writes: Vec<MergedWrite>,
        snapshot: u64,
    },
    /// A fork's base moved to `version` of its parent (the parent's present when it happened).
    Rebase {
        fork: u64,
        version: u64,
    },
    /// One version of `key` dropped from `bucket`'s own history (DeleteObject with a version
    /// id); an object version is kept as soft-deleted until `expires_at` when that is set.
    DeleteVersion {
        bucket: u64,
        key: String,
        version: u64,
        deleted_at: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<u64>,
    },
    /// A fork no longer shows the version of `key` it inherits: a deletion at `tombstone`,
    /// below the fork's own entries (see `store/versions.rs`).
    HideInherited {
        bucket: u64,
        key: String,
        tombstone: u64,
    },
    /// Soft delete turned on (with its retention in days) or off (`None`).
    SoftDeleteSetting {
        bucket: u64,
        retention_days: Option<u32>,
    },
    /// The live object of `key` (written at `version`) kept as deleted until `expires_at`, and
    /// a deletion written at `tombstone`.
    SoftDeleteObject {
        bucket: u64,
        key: String,
        version: u64,
        tombstone: u64,
        expires_at: u64,
    },
    /// One kept deleted version, as is (what compaction writes).
    DeletedRetained {
        bucket: u64,
        key: String,
        version: u64,
        deleted_at: u64,
        expires_at: u64,
        object: ObjectRecord,
    },
    /// A deleted version dropped for good (purged, or restored as a new write).
    PurgeDeleted {
        bucket: u64,
        key: String,
        version: u64,
    },
    /// A bucket deleted, but kept (with its objects) until `expires_at`.
    SoftDeleteBucket {
        id: u64,
        deleted_at: u64,
        expires_at: u64,
    },
    /// A soft-deleted bucket live again under its name.
    RestoreBucket {
        id: u64,
    },
    /// Everything soft-deleted whose window ended at or before `now` dropped for good.
    Expire {
        now: u64,
    },
    /// Changes that happen together (a rename's write and delete, a restore's write and purge),
    /// applied in order: one record, so a crash leaves all of them or none.
    Batch(Vec<Change>),
}

impl Change {
    /// Adds the versions this change records an object body for to `out`.
    pub(crate) fn body_versions(&self, out: &mut std::collections::HashSet<u64>) {
        match self {
            Change::Write {
                version,
                object: Some(_),
                ..
            }
            | Change::Retained {
                version,
                object: Some(_),
                ..
            }
            | Change::DeletedRetained { version, .. } => {
                out.insert(*version);
            }
            Change::Merge { writes, .. } => {
                out.extend(
                    writes
                        .iter()
                        .filter(|w| w.object.is_some())
                        .map(|w| w.version),
                );
            }
            Change::Batch(changes) => {
                for change in changes {
                    change.body_versions(out);
                }
            }
            _ => {}
        }
    }
}

/// One key of a merge: a put (with the object) or a delete, at its new version in the parent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MergedWrite {
    pub(super) key: String,
    pub(super) version: u64,
    pub(super) object: Option<ObjectRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ForkRecord {
    pub(super) parent: u64,
    pub(super) parent_name: String,
    pub(super) version: u64,
    /// [`ForkPoint::earlier`]; absent in journals written before rebases existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) earlier: Vec<u64>,
    /// [`ForkPoint::merged`] when it differs from `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) merged: Option<u64>,
}

/// An object without its body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ObjectRecord {
    pub(super) etag: String,
    pub(super) last_modified: u64,
    pub(super) content_type: Option<String>,
    pub(super) metadata: Vec<(String, String)>,
    pub(super) size: u64,
    /// Hex MD5 of the body when the ETag is not one (a multipart upload's); the body read back
    /// at startup is checked against it, or against the ETag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) md5: Option<String>,
    #[serde(default, skip_serializing_if = "ObjectExtra::is_default")]
    pub(super) extra: ObjectExtra,
}

impl ObjectRecord {
    pub(super) fn of(object: &Object) -> Self {
        Self {
            etag: object.etag.clone(),
            last_modified: nanos(object.last_modified),
            content_type: object.content_type.clone(),
            metadata: object.metadata.clone(),
            size: object.size(),
            md5: (!is_plain_md5(&object.etag)).then(|| md5_hex(&object.data)),
            extra: object.extra.clone(),
        }
    }

    /// The size and MD5 its body must have.
    pub(super) fn expected(&self) -> (u64, Option<String>) {
        let md5 = self
            .md5
            .clone()
            .or_else(|| is_plain_md5(&self.etag).then(|| self.etag.clone()));
        (self.size, md5)
    }

    /// The object with an empty body, filled in by [`Store::load_bodies`].
    pub(super) fn into_object(self) -> Object {
        Object {
            data: Bytes::new(),
            etag: self.etag,
            last_modified: version_time(self.last_modified),
            content_type: self.content_type,
            metadata: self.metadata,
            damaged: None,
            extra: self.extra,
        }
    }
}

pub(super) fn lifecycle_xml(
    config: &s3s::dto::BucketLifecycleConfiguration,
) -> Result<String, StoreError> {
    let mut buf = Vec::new();
    s3s::xml::Serialize::serialize(config, &mut s3s::xml::Serializer::new(&mut buf)).map_err(
        |e| StoreError::Storage(format!("cannot encode a lifecycle configuration: {e}")),
    )?;
    String::from_utf8(buf).map_err(|e| StoreError::Storage(e.to_string()))
}

pub(super) fn parse_lifecycle(
    xml: &str,
) -> Result<s3s::dto::BucketLifecycleConfiguration, StoreError> {
    <s3s::dto::BucketLifecycleConfiguration as s3s::xml::Deserialize<'_>>::deserialize(
        &mut s3s::xml::Deserializer::new(xml.as_bytes()),
    )
    .map_err(|e| StoreError::Storage(format!("unreadable lifecycle configuration: {e:?}")))
}

impl Store {
    /// Records changes in `journal` from now on.
    pub(crate) fn set_journal(&mut self, journal: std::sync::Arc<Journal>) {
        self.journal = Some(journal);
    }
    /// Writes `change` to the journal, if there is one; it is on disk when this returns.
    pub(super) fn log(&self, change: &Change) -> Result<(), StoreError> {
        match &self.journal {
            Some(journal) => journal
                .append(&RecordRef::Store(change))
                .map_err(|e| StoreError::Storage(e.to_string())),
            None => Ok(()),
        }
    }
    /// Journals `change`, then applies it.
    pub(super) fn commit(&mut self, change: Change) -> Result<(), StoreError> {
        self.log(&change)?;
        self.apply(change)
    }
    pub(super) fn level_mut(&mut self, id: u64) -> Result<&mut Bucket, StoreError> {
        self.buckets
            .get_mut(&BucketId(id))
            .ok_or_else(|| StoreError::Storage(format!("the journal names unknown bucket {id}")))
    }
    /// Applies a journaled change: the one code path for live changes and replay at startup.
    /// Errors only when a replayed journal refers to something it never created.
    pub(crate) fn apply(&mut self, change: Change) -> Result<(), StoreError> {
        match change {
            Change::Clock { last_version } => {
                self.last_version = self.last_version.max(last_version)
            }
            Change::CreateBucket {
                id,
                name,
                created,
                snapshots_enabled,
                fork,
                settings,
            } => {
                let fork = match fork {
                    Some(f) => {
                        self.level_mut(f.parent)?.children += 1;
                        self.last_version = self.last_version.max(f.version);
                        Some(ForkPoint {
                            parent: BucketId(f.parent),
                            parent_name: f.parent_name,
                            version: f.version,
                            earlier: f.earlier,
                            merged: f.merged.unwrap_or(f.version),
                        })
                    }
                    None => None,
                };
                let mut bucket = Bucket::new(name.clone(), snapshots_enabled, fork);
                bucket.created = version_time(created);
                bucket.settings = settings;
                self.next_id = self.next_id.max(id);
                self.by_name.insert(name, BucketId(id));
                self.buckets.insert(BucketId(id), bucket);
            }
            Change::Settings { bucket, settings } => {
                self.level_mut(bucket)?.settings = settings;
            }
            Change::BucketType {
                bucket,
                snapshots_enabled,
            } => {
                self.level_mut(bucket)?.snapshots_enabled = snapshots_enabled;
            }
            Change::DeleteBucket { id, .. } => self.drop_bucket(id)?,
            Change::Snapshot {
                bucket,
                version,
                name,
            } => {
                self.last_version = self.last_version.max(version);
                self.level_mut(bucket)?.snapshots.insert(version, name);
            }
            Change::DeleteSnapshot { bucket, version } => {
                self.level_mut(bucket)?.snapshots.remove(&version);
                self.collect_chain(BucketId(bucket));
            }
            Change::Write {
                bucket,
                key,
                version,
                object,
            } => {
                self.level_mut(bucket)?;
                self.last_version = self.last_version.max(version);
                if let Some(o) = &object {
                    self.replayed.insert(version, o.expected());
                }
                let object = object.map(|o| Arc::new(o.into_object()));
                self.put_entry(BucketId(bucket), &key, Entry { version, object });
            }
            Change::Retained {
                bucket,
                key,
                version,
                object,
            } => {
                self.last_version = self.last_version.max(version);
                if let Some(o) = &object {
                    self.replayed.insert(version, o.expected());
                }
                let object = object.map(|o| Arc::new(o.into_object()));
                self.level_mut(bucket)?
                    .objects
                    .entry(key)
                    .or_default()
                    .push(Entry { version, object });
            }
            Change::BucketExtra { bucket, extra } => {
                self.level_mut(bucket)?.extra = extra;
            }
            Change::Lifecycle { bucket, xml } => {
                let lifecycle = xml.as_deref().map(parse_lifecycle).transpose()?;
                self.level_mut(bucket)?.lifecycle = lifecycle;
            }
            Change::Merge {
                fork,
                parent,
                writes,
                snapshot,
            } => self.apply_merge(BucketId(fork), BucketId(parent), writes, snapshot)?,
            Change::Rebase { fork, version } => {
                self.last_version = self.last_version.max(version);
                // Without snapshots or forks of its own nothing reads the fork at an older
                // version, so its earlier bases can go.
                let needs_earlier = !self.pins(BucketId(fork)).is_empty();
                let point = self.level_mut(fork)?.fork.as_mut().ok_or_else(|| {
                    StoreError::Storage(format!("the journal rebases bucket {fork}, not a fork"))
                })?;
                if !needs_earlier {
                    point.earlier.clear();
                }
                point.earlier.push(point.version);
                point.version = version;
                let parent = point.parent;
                // The old base no longer pins the parent's history (unless a snapshot reads it).
                self.collect_chain(parent);
            }
            Change::DeleteVersion {
                bucket,
                key,
                version,
                deleted_at,
                expires_at,
            } => self.apply_delete_version(bucket, key, version, deleted_at, expires_at)?,
            Change::HideInherited {
                bucket,
                key,
                tombstone,
            } => self.apply_hide_inherited(bucket, key, tombstone)?,
            Change::Batch(changes) => {
                for change in changes {
                    self.apply(change)?;
                }
            }
            soft @ (Change::SoftDeleteSetting { .. }
            | Change::SoftDeleteObject { .. }
            | Change::DeletedRetained { .. }
            | Change::PurgeDeleted { .. }
            | Change::SoftDeleteBucket { .. }
            | Change::RestoreBucket { .. }
            | Change::Expire { .. }) => self.apply_soft(soft)?,
        }
        self.release_freed();
        Ok(())
    }
    /// Removes bucket `id` and everything it holds for good.
    pub(super) fn drop_bucket(&mut self, id: u64) -> Result<(), StoreError> {
        let bucket = self.buckets.remove(&BucketId(id)).ok_or_else(|| {
            StoreError::Storage(format!("the journal deletes unknown bucket {id}"))
        })?;
        if self.by_name.get(&bucket.name) == Some(&BucketId(id)) {
            self.by_name.remove(&bucket.name);
        }
        if self
            .deleted_buckets
            .get(&bucket.name)
            .is_some_and(|d| d.id == BucketId(id))
        {
            self.deleted_buckets.remove(&bucket.name);
        }
        self.freed.extend(
            bucket
                .objects
                .values()
                .flatten()
                .filter(|e| e.object.is_some())
                .map(|e| e.version),
        );
        for (key, versions) in &bucket.deleted {
            for d in versions {
                self.release_hold(bucket.fork.as_ref().map(|f| f.parent), key, d.version);
            }
        }
        if let Some(fork) = bucket.fork
            && let Some(parent) = self.buckets.get_mut(&fork.parent)
        {
            parent.children -= 1;
            // The fork point no longer pins the parent's history.
            self.collect_chain(fork.parent);
        }
        Ok(())
    }
    /// After a replay: reads every retained object's body (`read(version, size)`) and checks
    /// it against the MD5 recorded for it (the ETag, or the checksum a multipart object's record
    /// carries). A body that does not match is not served: reads of it answer an error.
    pub(crate) fn load_bodies<E>(
        &mut self,
        mut read: impl FnMut(u64, u64) -> Result<Bytes, E>,
    ) -> Result<(), E> {
        let replayed = std::mem::take(&mut self.replayed);
        let mut load = |version: u64, object: &mut Arc<Object>| -> Result<(), E> {
            let (size, md5) = replayed.get(&version).cloned().unwrap_or((0, None));
            let data = read(version, size)?;
            let object = Arc::make_mut(object);
            match md5 {
                Some(expected) if md5_hex(&data) != expected => {
                    tracing::error!(
                        version,
                        "an object body does not match its recorded MD5; reads of it will fail"
                    );
                    object.damaged = Some(format!(
                        "the stored body of version {version} does not match its checksum \
                         (objects/{version:020} is damaged; restore it from a backup)"
                    ));
                    object.data = Bytes::new();
                }
                _ => object.data = data,
            }
            Ok(())
        };
        for bucket in self.buckets.values_mut() {
            for entry in bucket.objects.values_mut().flatten() {
                if let Some(object) = &mut entry.object {
                    load(entry.version, object)?;
                }
            }
            for d in bucket.deleted.values_mut().flatten() {
                load(d.version, &mut d.object)?;
            }
        }
        Ok(())
    }
    /// The changes that rebuild the store as it is now, parents before their forks.
    pub(crate) fn checkpoint(&self) -> Vec<Change> {
        let mut ids: Vec<BucketId> = self.buckets.keys().copied().collect();
        ids.sort_unstable_by_key(|id| id.0);
        let mut changes = vec![Change::Clock {
            last_version: self.last_version,
        }];
        for id in ids {
            let b = &self.buckets[&id];
            changes.push(Change::CreateBucket {
                id: id.0,
                name: b.name.clone(),
                created: nanos(b.created),
                snapshots_enabled: b.snapshots_enabled,
                fork: b.fork.as_ref().map(|f| ForkRecord {
                    parent: f.parent.0,
                    parent_name: f.parent_name.clone(),
                    version: f.version,
                    earlier: f.earlier.clone(),
                    merged: (f.merged != f.version).then_some(f.merged),
                }),
                settings: b.settings.clone(),
            });
            if let Some(lifecycle) = &b.lifecycle {
                // It was encoded when it was set; failing now would be a bug in s3s.
                if let Ok(xml) = lifecycle_xml(lifecycle) {
                    changes.push(Change::Lifecycle {
                        bucket: id.0,
                        xml: Some(xml),
                    });
                }
            }
            if !b.extra.is_default() {
                changes.push(Change::BucketExtra {
                    bucket: id.0,
                    extra: b.extra.clone(),
                });
            }
            for (version, name) in &b.snapshots {
                changes.push(Change::Snapshot {
                    bucket: id.0,
                    version: *version,
                    name: name.clone(),
                });
            }
            for (key, history) in &b.objects {
                for entry in history {
                    changes.push(Change::Retained {
                        bucket: id.0,
                        key: key.clone(),
                        version: entry.version,
                        object: entry.object.as_deref().map(ObjectRecord::of),
                    });
                }
            }
            self.checkpoint_soft(id, &mut changes);
        }
        changes
    }
    /// The versions whose bodies retained entries hold (the names of the body files to keep).
    pub(crate) fn body_versions(&self) -> std::collections::HashSet<u64> {
        self.buckets
            .values()
            .flat_map(|b| b.objects.values().flatten())
            .filter(|e| e.object.is_some())
            .map(|e| e.version)
            .chain(self.held.keys().copied())
            .collect()
    }
}
