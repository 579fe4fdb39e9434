use super::*;

fn obj(s: &str) -> Option<Object> {
    Some(Object::new(
        Bytes::copy_from_slice(s.as_bytes()),
        None,
        Vec::new(),
    ))
}

fn read(store: &Store, bucket: &str, key: &str, version: u64) -> Option<String> {
    store
        .get(bucket, key, version)
        .ok()
        .map(|o| String::from_utf8(o.data.to_vec()).unwrap())
}

fn keys(store: &Store, bucket: &str, version: u64) -> Vec<String> {
    let q = ListQuery {
        max_keys: 1000,
        version,
        ..ListQuery::default()
    };
    store
        .list(bucket, &q)
        .unwrap()
        .objects
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

#[test]
fn snapshot_reads_see_the_state_at_the_snapshot() {
    let mut s = Store::default();
    s.create_bucket("b", true).unwrap();
    s.write("b", "k", obj("v1")).unwrap();
    let snap = s.snapshot("b", None).unwrap();
    s.write("b", "k", obj("v2")).unwrap();
    s.write("b", "new", obj("x")).unwrap();
    assert_eq!(read(&s, "b", "k", snap).as_deref(), Some("v1"));
    assert_eq!(read(&s, "b", "k", LIVE).as_deref(), Some("v2"));
    assert_eq!(keys(&s, "b", snap), ["k"]);
    assert_eq!(keys(&s, "b", LIVE), ["k", "new"]);
}

#[test]
fn fork_sees_parent_as_of_fork_and_writes_stay_apart() {
    let mut s = Store::default();
    s.create_bucket("p", true).unwrap();
    s.write("p", "a", obj("1")).unwrap();
    s.fork_bucket("f", "p", None).unwrap();
    s.write("p", "later", obj("2")).unwrap();
    s.write("f", "mine", obj("3")).unwrap();
    s.write("f", "a", None).unwrap();
    assert_eq!(keys(&s, "f", LIVE), ["mine"]);
    assert_eq!(keys(&s, "p", LIVE), ["a", "later"]);
    assert_eq!(read(&s, "p", "a", LIVE).as_deref(), Some("1"));
}

#[test]
fn fork_of_a_fork_resolves_through_the_chain() {
    let mut s = Store::default();
    s.create_bucket("p", true).unwrap();
    s.write("p", "a", obj("p")).unwrap();
    let snap = s.snapshot("p", None).unwrap();
    s.write("p", "a", obj("p2")).unwrap();
    s.fork_bucket("f1", "p", Some(snap)).unwrap();
    s.write("f1", "b", obj("f1")).unwrap();
    s.fork_bucket("f2", "f1", None).unwrap();
    s.write("f1", "c", obj("late")).unwrap();
    assert_eq!(read(&s, "f2", "a", LIVE).as_deref(), Some("p"));
    assert_eq!(keys(&s, "f2", LIVE), ["a", "b"]);
}

#[test]
fn buckets_with_forks_cannot_be_deleted_until_the_forks_are() {
    let mut s = Store::default();
    s.create_bucket("p", true).unwrap();
    s.fork_bucket("f", "p", None).unwrap();
    assert_eq!(
        s.delete_bucket("p", true, None),
        Err(StoreError::BucketHasForks("p".into()))
    );
    s.delete_bucket("f", false, None).unwrap();
    s.delete_bucket("p", false, None).unwrap();
}

#[test]
fn a_fork_of_a_non_empty_parent_is_not_empty() {
    let mut s = Store::default();
    s.create_bucket("p", true).unwrap();
    s.write("p", "a", obj("1")).unwrap();
    s.fork_bucket("f", "p", None).unwrap();
    assert_eq!(
        s.delete_bucket("f", false, None),
        Err(StoreError::BucketNotEmpty("f".into()))
    );
    s.delete_bucket("f", true, None).unwrap();
}

#[test]
fn listing_pages_with_delimiter_and_markers() {
    let mut s = Store::default();
    s.create_bucket("b", false).unwrap();
    for k in ["a/1", "a/2", "b", "c/1", "d"] {
        s.write("b", k, obj(k)).unwrap();
    }
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let q = ListQuery {
            delimiter: Some("/"),
            after: after.as_deref(),
            max_keys: 1,
            version: LIVE,
            ..ListQuery::default()
        };
        let page = s.list("b", &q).unwrap();
        seen.extend(page.common_prefixes.iter().cloned());
        seen.extend(page.objects.iter().map(|(k, _)| k.clone()));
        if !page.is_truncated {
            break;
        }
        after = page.next_marker;
    }
    assert_eq!(seen, ["a/", "b", "c/", "d"]);
}

#[test]
fn regular_buckets_keep_no_history_and_refuse_snapshots() {
    let mut s = Store::default();
    s.create_bucket("r", false).unwrap();
    s.write("r", "k", obj("1")).unwrap();
    s.write("r", "k", obj("2")).unwrap();
    assert_eq!(s.bucket("r").unwrap().objects["k"].len(), 1);
    assert_eq!(
        s.snapshot("r", None),
        Err(StoreError::NotSnapshotEnabled("r".into()))
    );
    assert!(matches!(
        s.fork_bucket("f", "r", None),
        Err(StoreError::NotSnapshotEnabled(_))
    ));
}

fn retained(s: &Store) -> u64 {
    s.stats().retained_versions
}

#[test]
fn overwrites_without_snapshots_keep_one_version() {
    let mut s = Store::default();
    s.create_bucket("b", true).unwrap();
    for i in 0..1000 {
        s.write("b", "k", obj(&i.to_string())).unwrap();
    }
    assert_eq!(retained(&s), 1);
    s.write("b", "k", None).unwrap();
    assert_eq!(
        retained(&s),
        0,
        "a deletion with nothing beneath it is dropped"
    );
}

#[test]
fn snapshots_pin_what_they_read_until_deleted() {
    let mut s = Store::default();
    s.create_bucket("b", true).unwrap();
    s.write("b", "k", obj("v1")).unwrap();
    let snap = s.snapshot("b", None).unwrap();
    for i in 0..100 {
        s.write("b", "k", obj(&i.to_string())).unwrap();
    }
    assert_eq!(retained(&s), 2);
    assert_eq!(read(&s, "b", "k", snap).as_deref(), Some("v1"));
    assert_eq!(read(&s, "b", "k", LIVE).as_deref(), Some("99"));
    s.write("b", "k", None).unwrap();
    assert_eq!(retained(&s), 2, "the snapshot's version and the deletion");
    assert_eq!(read(&s, "b", "k", snap).as_deref(), Some("v1"));
    s.delete_snapshot("b", snap).unwrap();
    assert_eq!(retained(&s), 0);
}

#[test]
fn fork_points_pin_the_parent_until_the_fork_is_deleted() {
    let mut s = Store::default();
    s.create_bucket("p", true).unwrap();
    s.write("p", "k", obj("base")).unwrap();
    s.fork_bucket("f1", "p", None).unwrap();
    let f1_snap = s.snapshot("f1", None).unwrap();
    s.fork_bucket("f2", "f1", Some(f1_snap)).unwrap();
    for i in 0..50 {
        s.write("p", "k", obj(&i.to_string())).unwrap();
        s.write("f1", "k", obj(&format!("f{i}"))).unwrap();
    }
    // p: base (f1's fork point) + newest; f1: newest only (its snapshot saw nothing of
    // its own, reading through to p).
    assert_eq!(retained(&s), 3);
    assert_eq!(read(&s, "f2", "k", LIVE).as_deref(), Some("base"));
    assert_eq!(read(&s, "f1", "k", f1_snap).as_deref(), Some("base"));
    s.delete_bucket("f2", true, None).unwrap();
    assert_eq!(retained(&s), 3, "f1 itself still forks from base");
    s.delete_bucket("f1", true, None).unwrap();
    assert_eq!(retained(&s), 1);
    assert_eq!(read(&s, "p", "k", LIVE).as_deref(), Some("49"));
}

#[test]
fn a_fork_keeps_its_deletions_so_parent_keys_stay_hidden() {
    let mut s = Store::default();
    s.create_bucket("p", true).unwrap();
    s.write("p", "k", obj("1")).unwrap();
    s.fork_bucket("f", "p", None).unwrap();
    s.write("f", "k", obj("mine")).unwrap();
    s.write("f", "k", None).unwrap();
    assert_eq!(read(&s, "f", "k", LIVE), None);
    assert_eq!(read(&s, "p", "k", LIVE).as_deref(), Some("1"));
}

#[test]
fn replaying_the_journal_rebuilds_the_same_store_and_keeps_only_retained_bodies() {
    use crate::store::persist::Record;
    let dir = tempfile::tempdir().unwrap();
    let (journal, _) = Journal::open(dir.path(), false).unwrap();
    let journal = Arc::new(journal);
    let mut s = Store::default();
    s.set_journal(Arc::clone(&journal));
    s.create_bucket("p", true).unwrap();
    s.write("p", "k", obj("base")).unwrap();
    s.fork_bucket("f1", "p", None).unwrap();
    let snap = s.snapshot("f1", Some("named".into())).unwrap();
    s.fork_bucket("f2", "f1", Some(snap)).unwrap();
    for i in 0..20 {
        s.write("p", "k", obj(&i.to_string())).unwrap();
        s.write("f1", "k", obj(&format!("f{i}"))).unwrap();
    }
    s.delete_bucket("f2", true, None).unwrap();
    s.write("f1", "gone", obj("x")).unwrap();
    s.delete_if_present("f1", "gone").unwrap();
    journal.close();

    let (journal, records) = Journal::open(dir.path(), false).unwrap();
    let mut r = Store::default();
    for record in records {
        if let Record::Store(change) = record {
            r.apply(change).unwrap();
        }
    }
    r.load_bodies(|v, size| journal.read_body(v, size)).unwrap();
    assert_eq!(r.stats(), s.stats());
    assert_eq!(r.body_versions(), s.body_versions());
    let files = std::fs::read_dir(dir.path().join("objects"))
        .unwrap()
        .count();
    assert_eq!(files, s.body_versions().len(), "freed bodies were deleted");
    for (bucket, key, version) in [
        ("p", "k", LIVE),
        ("f1", "k", LIVE),
        ("f1", "k", snap),
        ("f1", "gone", LIVE),
    ] {
        assert_eq!(
            read(&r, bucket, key, version),
            read(&s, bucket, key, version)
        );
    }
    assert_eq!(r.snapshots("f1").unwrap()[0].name.as_deref(), Some("named"));
    assert!(r.bucket("f2").is_err());
    assert!(r.next_version() > snap);
}

#[test]
fn merge_writes_the_forks_puts_overwrites_and_deletes_into_the_parent() {
    let mut s = Store::default();
    s.create_bucket("p", true).unwrap();
    s.write("p", "keep", obj("p")).unwrap();
    s.write("p", "over", obj("old")).unwrap();
    s.write("p", "gone", obj("x")).unwrap();
    s.fork_bucket("f", "p", None).unwrap();
    s.write("f", "new", obj("n")).unwrap();
    s.write("f", "over", obj("mine")).unwrap();
    s.write("f", "gone", None).unwrap();
    s.write("f", "never", obj("1")).unwrap();
    s.write("f", "never", None).unwrap();
    let before = s.snapshot("p", None).unwrap();
    let snap = s.merge_fork("f", "p").unwrap();
    assert_eq!(keys(&s, "p", LIVE), ["keep", "new", "over"]);
    assert_eq!(read(&s, "p", "over", LIVE).as_deref(), Some("mine"));
    assert_eq!(keys(&s, "p", snap), ["keep", "new", "over"]);
    assert_eq!(keys(&s, "p", before), ["gone", "keep", "over"]);
    assert!(s.snapshots("p").unwrap().iter().any(|e| e.version == snap));
}

#[test]
fn a_second_merge_applies_only_what_the_fork_changed_since_the_first() {
    let mut s = Store::default();
    s.create_bucket("p", true).unwrap();
    s.fork_bucket("f", "p", None).unwrap();
    s.write("f", "a", obj("f1")).unwrap();
    s.merge_fork("f", "p").unwrap();
    s.write("p", "a", obj("parent later")).unwrap();
    s.write("f", "b", obj("f2")).unwrap();
    s.merge_fork("f", "p").unwrap();
    assert_eq!(read(&s, "p", "a", LIVE).as_deref(), Some("parent later"));
    assert_eq!(read(&s, "p", "b", LIVE).as_deref(), Some("f2"));
}

#[test]
fn merge_goes_only_into_the_direct_parent() {
    let mut s = Store::default();
    s.create_bucket("p", true).unwrap();
    s.fork_bucket("f1", "p", None).unwrap();
    s.fork_bucket("f2", "f1", None).unwrap();
    s.create_bucket("other", true).unwrap();
    for (fork, into) in [("f2", "p"), ("f1", "other"), ("p", "f1")] {
        assert!(matches!(
            s.merge_fork(fork, into),
            Err(StoreError::Invalid(_))
        ));
    }
    s.merge_fork("f2", "f1").unwrap();
}

#[test]
fn rebase_moves_the_base_to_the_parents_present_and_keeps_the_forks_writes() {
    let mut s = Store::default();
    s.create_bucket("p", true).unwrap();
    s.write("p", "shared", obj("old")).unwrap();
    s.fork_bucket("f", "p", None).unwrap();
    let old = s.snapshot("f", None).unwrap();
    s.write("f", "mine", obj("m")).unwrap();
    s.write("f", "both", obj("fork")).unwrap();
    s.write("p", "shared", obj("new")).unwrap();
    s.write("p", "both", obj("parent")).unwrap();
    s.write("p", "later", obj("l")).unwrap();
    let base = s.rebase_fork("f").unwrap();
    assert_eq!(s.bucket("f").unwrap().fork.as_ref().unwrap().version, base);
    assert_eq!(keys(&s, "f", LIVE), ["both", "later", "mine", "shared"]);
    assert_eq!(read(&s, "f", "shared", LIVE).as_deref(), Some("new"));
    assert_eq!(read(&s, "f", "both", LIVE).as_deref(), Some("fork"));
    // The fork's snapshot from before still reads the old base.
    assert_eq!(keys(&s, "f", old), ["shared"]);
    assert_eq!(read(&s, "f", "shared", old).as_deref(), Some("old"));
    s.write("p", "shared", obj("newer")).unwrap();
    assert_eq!(read(&s, "f", "shared", LIVE).as_deref(), Some("new"));
}

#[test]
fn a_rebase_unpins_the_old_base_when_nothing_reads_it() {
    let mut s = Store::default();
    s.create_bucket("p", true).unwrap();
    s.write("p", "k", obj("base")).unwrap();
    s.fork_bucket("f", "p", None).unwrap();
    s.write("p", "k", obj("now")).unwrap();
    assert_eq!(retained(&s), 2);
    s.rebase_fork("f").unwrap();
    assert_eq!(retained(&s), 1);
    assert!(matches!(s.rebase_fork("p"), Err(StoreError::Invalid(_))));
}

#[test]
fn merges_and_rebases_replay_from_the_journal() {
    use crate::store::persist::Record;
    let dir = tempfile::tempdir().unwrap();
    let (journal, _) = Journal::open(dir.path(), false).unwrap();
    let journal = Arc::new(journal);
    let mut s = Store::default();
    s.set_journal(Arc::clone(&journal));
    s.create_bucket("p", true).unwrap();
    s.write("p", "a", obj("p")).unwrap();
    s.write("p", "b", obj("p")).unwrap();
    s.fork_bucket("f", "p", None).unwrap();
    let old = s.snapshot("f", None).unwrap();
    s.write("f", "a", obj("fork")).unwrap();
    s.write("f", "b", None).unwrap();
    let snap = s.merge_fork("f", "p").unwrap();
    s.write("p", "c", obj("c")).unwrap();
    s.rebase_fork("f").unwrap();
    // The fork's objects are freed once merged copies exist elsewhere.
    s.delete_bucket("f", true, None).unwrap();
    s.fork_bucket("f2", "p", Some(snap)).unwrap();
    journal.close();

    let (journal, records) = Journal::open(dir.path(), false).unwrap();
    let mut r = Store::default();
    for record in records {
        if let Record::Store(change) = record {
            r.apply(change).unwrap();
        }
    }
    r.load_bodies(|v, size| journal.read_body(v, size)).unwrap();
    assert_eq!(r.stats(), s.stats());
    assert_eq!(keys(&r, "p", LIVE), ["a", "c"]);
    assert_eq!(read(&r, "p", "a", LIVE).as_deref(), Some("fork"));
    assert_eq!(keys(&r, "f2", LIVE), ["a"]);
    assert!(old < snap);
}

#[test]
fn rebased_forks_with_snapshots_survive_compaction() {
    let mut s = Store::default();
    s.create_bucket("p", true).unwrap();
    s.write("p", "k", obj("old")).unwrap();
    s.fork_bucket("f", "p", None).unwrap();
    let old = s.snapshot("f", None).unwrap();
    s.write("p", "k", obj("new")).unwrap();
    s.rebase_fork("f").unwrap();
    let mut r = Store::default();
    for change in s.checkpoint() {
        r.apply(change).unwrap();
    }
    // Bodies are not in a checkpoint; compare what each version resolves to instead.
    let etag = |st: &Store, v| st.get("f", "k", v).unwrap().etag.clone();
    assert_eq!(etag(&r, old), etag(&s, old));
    assert_eq!(etag(&r, LIVE), etag(&s, LIVE));
    assert_ne!(etag(&r, old), etag(&r, LIVE));
}

/// How many records the journal in `dir` holds.
fn records(dir: &std::path::Path) -> usize {
    let (journal, records) = Journal::open(dir, false).unwrap();
    journal.close();
    records.len()
}

#[test]
fn a_rename_is_one_journal_record() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _) = Journal::open(dir.path(), false).unwrap();
    let journal = Arc::new(journal);
    let mut s = Store::default();
    s.set_journal(Arc::clone(&journal));
    s.create_bucket("b", false).unwrap();
    s.set_soft_delete("b", Some(7)).unwrap();
    s.write("b", "from", obj("x")).unwrap();
    journal.close();
    let before = records(dir.path());
    let (journal, _) = Journal::open(dir.path(), false).unwrap();
    s.set_journal(Arc::new(journal));
    s.rename("b", "from", "to", obj("x").unwrap()).unwrap();
    s.journal.as_ref().unwrap().close();
    assert_eq!(records(dir.path()), before + 1, "a rename is one record");
    assert_eq!(read(&s, "b", "from", LIVE), None);
}

#[test]
fn a_soft_delete_restore_is_one_journal_record() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _) = Journal::open(dir.path(), false).unwrap();
    let mut s = Store::default();
    s.set_journal(Arc::new(journal));
    s.create_bucket("b", false).unwrap();
    s.set_soft_delete("b", Some(7)).unwrap();
    s.write("b", "to", obj("x")).unwrap();
    s.journal.as_ref().unwrap().close();
    let (journal, _) = Journal::open(dir.path(), false).unwrap();
    s.set_journal(Arc::new(journal));
    assert!(s.delete_if_present("b", "to").unwrap());
    s.journal.as_ref().unwrap().close();
    let deleted = records(dir.path());
    let (journal, _) = Journal::open(dir.path(), false).unwrap();
    s.set_journal(Arc::new(journal));
    s.restore_deleted("b", "to", None).unwrap();
    s.journal.as_ref().unwrap().close();
    assert_eq!(records(dir.path()), deleted + 1, "a restore is one record");
    assert_eq!(read(&s, "b", "to", LIVE).as_deref(), Some("x"));
}

#[test]
fn versions_are_strictly_increasing() {
    let mut s = Store::default();
    let a = s.next_version();
    let b = s.next_version();
    assert!(b > a);
}
