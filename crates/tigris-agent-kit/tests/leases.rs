//! Leases on the emulator: mutual exclusion by conditional writes, expiry judged by the
//! server's clock (advanced with `advance_clock`, never slept for), lost leases refused, and
//! lost responses read back.

use std::time::Duration;

use tigris_agent_kit::{ErrorKind, Leftover};
use tigris_emulator::Fault;

mod common;
use common::Env;

const TTL: Duration = Duration::from_secs(10);
/// Past the TTL by the server's clock, whole-second rounding included.
const LAPSE: Duration = Duration::from_secs(12);

async fn env() -> Env {
    let env = Env::start().await;
    env.s3.create_bucket().bucket("fleet").send().await.unwrap();
    env
}

#[tokio::test]
async fn one_holder_at_a_time_and_release_frees_it() {
    let env = env().await;
    let a = env
        .kit
        .lease()
        .bucket("fleet")
        .key("leases/leader")
        .ttl(TTL)
        .owner("agent-a")
        .acquire()
        .await
        .unwrap();
    assert_eq!(a.owner(), "agent-a");
    assert!(a.valid_for() > Duration::from_secs(9));
    assert!(a.previous_owner().is_none());
    let err = env
        .kit
        .lease()
        .bucket("fleet")
        .key("leases/leader")
        .owner("agent-b")
        .acquire()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.lease_holder(), Some("agent-a"));
    assert!(err.to_string().contains("has not lapsed"), "{err}");
    // Not lapsed a second before the TTL (by the server's clock).
    env.emu.advance_clock(Duration::from_secs(9));
    let err = env
        .kit
        .lease()
        .bucket("fleet")
        .key("leases/leader")
        .acquire()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    a.release().await.unwrap();
    assert_eq!(
        env.get("fleet", "leases/leader").await,
        None,
        "the object is gone"
    );
    let b = env
        .kit
        .lease()
        .bucket("fleet")
        .key("leases/leader")
        .owner("agent-b")
        .acquire()
        .await
        .unwrap();
    b.release().await.unwrap();
}

#[tokio::test]
async fn a_lapsed_lease_is_taken_over_and_its_old_holder_learns_it_on_renew() {
    let env = env().await;
    let mut a = env
        .kit
        .lease()
        .bucket("fleet")
        .key("l")
        .ttl(TTL)
        .owner("a")
        .acquire()
        .await
        .unwrap();
    a.renew().await.unwrap();
    env.emu.advance_clock(LAPSE);
    let b = env
        .kit
        .lease()
        .bucket("fleet")
        .key("l")
        .ttl(TTL)
        .owner("b")
        .acquire()
        .await
        .unwrap();
    assert_eq!(b.previous_owner(), Some("a"));
    let lost = a.renew().await.unwrap_err();
    assert!(lost.is_lease_lost(), "{lost}");
    assert_eq!(lost.kind(), ErrorKind::PreconditionFailed);
    assert_eq!(lost.lease_holder(), Some("b"));
    assert!(lost.leftovers().is_empty());
    // The old holder's release leaves the new holder's lease alone.
    let refused = a.release().await.unwrap_err();
    assert!(refused.is_lease_lost(), "{refused}");
    assert!(env.get("fleet", "l").await.unwrap().contains("owner: b"));
    // A renewed lease is not lapsed: renewing restarts the TTL on the server's clock.
    let mut b = b;
    env.emu.advance_clock(Duration::from_secs(8));
    b.renew().await.unwrap();
    env.emu.advance_clock(Duration::from_secs(8));
    let err = env
        .kit
        .lease()
        .bucket("fleet")
        .key("l")
        .owner("c")
        .acquire()
        .await
        .unwrap_err();
    assert_eq!(err.lease_holder(), Some("b"));
}

#[tokio::test]
async fn of_many_challengers_of_a_lapsed_lease_exactly_one_wins() {
    let env = env().await;
    let _dead = env
        .kit
        .lease()
        .bucket("fleet")
        .key("l")
        .ttl(TTL)
        .owner("dead")
        .acquire()
        .await
        .unwrap();
    env.emu.advance_clock(LAPSE);
    let attempts = (0..16).map(|i| {
        let kit = env.kit.clone();
        tokio::spawn(async move {
            kit.lease()
                .bucket("fleet")
                .key("l")
                .ttl(TTL)
                .owner(format!("c{i}"))
                .acquire()
                .await
        })
    });
    let results = futures::future::join_all(attempts).await;
    let winners: Vec<_> = results
        .into_iter()
        .map(|r| r.unwrap())
        .filter_map(|r| match r {
            Ok(lease) => Some(lease),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
                None
            }
        })
        .collect();
    assert_eq!(winners.len(), 1);
    let body = env.get("fleet", "l").await.unwrap();
    assert!(
        body.contains(&format!("owner: {}", winners[0].owner())),
        "{body}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let env = env().await;
    let before = env.requests();
    for (bucket, key, ttl, owner) in [
        ("Bad_Bucket", "l", TTL, "a"),
        ("fleet", "", TTL, "a"),
        ("fleet", "l", Duration::from_millis(500), "a"),
        ("fleet", "l", Duration::from_secs(2 * 86_400), "a"),
        ("fleet", "l", TTL, ""),
        ("fleet", "l", TTL, "a\nb"),
    ] {
        let err = env
            .kit
            .lease()
            .bucket(bucket)
            .key(key)
            .ttl(ttl)
            .owner(owner)
            .acquire()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    let queue = env
        .kit
        .task_queue()
        .bucket("fleet")
        .prefix("q")
        .open()
        .unwrap();
    let err = queue.push_with_id("a/b", b"x".to_vec()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.requests(), before, "no request was sent");
}

#[tokio::test]
async fn a_lost_acquire_response_is_read_back_as_held() {
    let env = env().await;
    env.emu
        .faults()
        .inject(Fault::on("PutObject").bucket("fleet").after_apply());
    let mut lease = env
        .kit
        .lease()
        .bucket("fleet")
        .key("l")
        .owner("a")
        .acquire()
        .await
        .unwrap();
    assert!(env.get("fleet", "l").await.unwrap().contains("owner: a"));
    // The ETag it adopted is the one on the server: renewing works.
    lease.renew().await.unwrap();
    // A lost renew response: still held, at the new ETag.
    env.emu
        .faults()
        .inject(Fault::on("PutObject").bucket("fleet").after_apply());
    lease.renew().await.unwrap();
    // A renew refused before it is applied: an error, and still held at the old ETag.
    env.emu
        .faults()
        .inject(Fault::on("PutObject").bucket("fleet"));
    let err = lease.renew().await.unwrap_err();
    assert!(!err.is_lease_lost(), "{err}");
    assert_eq!(err.kind(), ErrorKind::Transient);
    lease.renew().await.unwrap();
    // A lost delete response: the release is read back as done.
    env.emu
        .faults()
        .inject(Fault::on("DeleteObject").bucket("fleet").after_apply());
    lease.release().await.unwrap();
    assert_eq!(env.get("fleet", "l").await, None);
}

#[tokio::test]
async fn a_release_that_fails_names_the_lease_object_left_behind() {
    let env = env().await;
    let lease = env
        .kit
        .lease()
        .bucket("fleet")
        .key("leases/x")
        .owner("a")
        .acquire()
        .await
        .unwrap();
    // The delete fails before applying and the read-back fails too.
    env.emu
        .faults()
        .inject(Fault::on("DeleteObject").bucket("fleet"));
    env.emu
        .faults()
        .inject(Fault::on("GetObject").bucket("fleet"));
    let err = lease.release().await.unwrap_err();
    assert_eq!(
        err.leftovers(),
        &[Leftover::Lease {
            bucket: "fleet".parse().unwrap(),
            key: "leases/x".into()
        }]
    );
    assert!(
        err.to_string()
            .contains("left behind: lease object leases/x in bucket fleet"),
        "{err}"
    );
    assert!(env.get("fleet", "leases/x").await.is_some());
}

#[tokio::test]
async fn a_guard_renews_and_reports_the_loss() {
    let env = env().await;
    let lease = env
        .kit
        .lease()
        .bucket("fleet")
        .key("l")
        .ttl(TTL)
        .owner("a")
        .acquire()
        .await
        .unwrap();
    let first = lease.etag().to_owned();
    let guard = lease.guard(Duration::from_millis(20));
    assert!(guard.is_held());
    // Take it over: lapse it by the server's clock until a challenger wins between renewals.
    let mut taken = None;
    for _ in 0..200 {
        env.emu.advance_clock(LAPSE);
        match env
            .kit
            .lease()
            .bucket("fleet")
            .key("l")
            .ttl(TTL)
            .owner("b")
            .acquire()
            .await
        {
            Ok(lease) => {
                taken = Some(lease);
                break;
            }
            Err(e) => assert_eq!(e.lease_holder(), Some("a"), "{e}"),
        }
    }
    let taken = taken.expect("a challenger won once the lease lapsed");
    assert_ne!(taken.etag(), first);
    let lost = guard.lost().await;
    assert!(lost.is_lease_lost(), "{lost}");
    assert_eq!(lost.lease_holder(), Some("b"));
    assert!(!guard.is_held());
    assert!(guard.release().await.unwrap_err().is_lease_lost());
    taken.release().await.unwrap();
}
