//! The task queue on the emulator: claims are conditional writes, a lapsed claim is claimed
//! again with a higher attempt count, a completion by a claimant that lost its claim is
//! refused, and under agent kills and injected faults every task completes exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tigris_agent_kit::{AgentKit, ErrorKind, TaskQueue};
use tigris_emulator::Fault;

mod common;
use common::Env;

const TTL: Duration = Duration::from_secs(10);
const LAPSE: Duration = Duration::from_secs(12);

async fn env(bucket: &str) -> Env {
    let env = Env::start().await;
    env.s3.create_bucket().bucket(bucket).send().await.unwrap();
    env
}

fn queue(kit: &AgentKit, bucket: &str, owner: &str) -> TaskQueue {
    kit.task_queue(bucket, "jobs")
        .ttl(TTL)
        .owner(owner)
        .open()
        .unwrap()
}

/// The state and attempt lines of every claim object, by task id.
async fn claims(env: &Env, bucket: &str) -> HashMap<String, (String, String)> {
    let listed = env
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix("jobs/claims/")
        .send()
        .await
        .unwrap();
    let reads = listed.contents().iter().map(|object| async move {
        let key = object.key().unwrap();
        let body = env.get(bucket, key).await.unwrap();
        let line = |name: &str| {
            body.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap()
                .to_owned()
        };
        (
            key.trim_start_matches("jobs/claims/").to_owned(),
            (line("state: "), line("attempt: ")),
        )
    });
    futures::future::join_all(reads).await.into_iter().collect()
}

/// The state of every claim object, by task id.
async fn claim_states(env: &Env, bucket: &str) -> HashMap<String, String> {
    claims(env, bucket)
        .await
        .into_iter()
        .map(|(id, (state, _))| (id, state))
        .collect()
}

#[tokio::test]
async fn push_claim_complete_and_the_status_counts() {
    let env = env("queue").await;
    let producer = queue(&env.kit, "queue", "producer");
    let id = producer.push(b"generated".to_vec()).await.unwrap();
    producer.push_with_id("t-1", b"one".to_vec()).await.unwrap();
    // The same push again (a retried push) is fine; another payload under the id is not.
    producer.push_with_id("t-1", b"one".to_vec()).await.unwrap();
    let err = producer
        .push_with_id("t-1", b"two".to_vec())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let status = producer.status().await.unwrap();
    assert_eq!((status.tasks, status.unclaimed, status.done), (2, 2, 0));

    let agent = queue(&env.kit, "queue", "agent-1");
    let first = agent.claim().await.unwrap().unwrap();
    assert_eq!(first.attempt(), 1);
    let second = agent.claim().await.unwrap().unwrap();
    assert_ne!(first.id(), second.id());
    assert!(agent.claim().await.unwrap().is_none(), "both are held");
    let mut ids = vec![first.id().to_owned(), second.id().to_owned()];
    ids.sort();
    let mut expected = vec![id, "t-1".to_owned()];
    expected.sort();
    assert_eq!(ids, expected);
    let payload = if first.id() == "t-1" {
        first.payload()
    } else {
        second.payload()
    };
    assert_eq!(payload, b"one");
    let status = agent.status().await.unwrap();
    assert_eq!((status.claimed, status.unclaimed), (2, 0));
    first.complete().await.unwrap();
    second.complete().await.unwrap();
    let status = agent.status().await.unwrap();
    assert!(status.is_drained(), "{status:?}");
    assert!(agent.claim().await.unwrap().is_none());
    // Done is terminal: even long after, nothing is claimable.
    env.emu.advance_clock(LAPSE);
    assert!(agent.claim().await.unwrap().is_none());
    assert!(
        claim_states(&env, "queue")
            .await
            .values()
            .all(|s| s == "done")
    );
}

#[tokio::test]
async fn a_lapsed_claim_is_claimed_again_and_the_old_completion_is_refused() {
    let env = env("queue").await;
    let a = queue(&env.kit, "queue", "a");
    let b = queue(&env.kit, "queue", "b");
    a.push_with_id("t", b"x".to_vec()).await.unwrap();
    let mut held = a.claim().await.unwrap().unwrap();
    held.renew().await.unwrap();
    assert!(b.claim().await.unwrap().is_none(), "held and renewed");
    env.emu.advance_clock(LAPSE);
    let retaken = b.claim().await.unwrap().unwrap();
    assert_eq!(retaken.attempt(), 2);
    assert_eq!(retaken.previous_owner(), Some("a"));
    let refused = held.complete().await.unwrap_err();
    assert!(refused.is_lease_lost(), "{refused}");
    assert_eq!(refused.lease_holder(), Some("b"));
    retaken.complete().await.unwrap();
    assert_eq!(claim_states(&env, "queue").await["t"], "done");
    assert!(
        env.get("queue", "jobs/claims/t")
            .await
            .unwrap()
            .contains("owner: b")
    );
}

#[tokio::test]
async fn a_failed_task_is_claimable_at_once_with_the_attempt_counted() {
    let env = env("queue").await;
    let a = queue(&env.kit, "queue", "a");
    a.push_with_id("t", b"x".to_vec()).await.unwrap();
    let task = a.claim().await.unwrap().unwrap();
    task.fail("out of memory").await.unwrap();
    assert!(
        env.get("queue", "jobs/claims/t")
            .await
            .unwrap()
            .contains("note: out of memory")
    );
    let again = queue(&env.kit, "queue", "b")
        .claim()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempt(), 2);
    again.complete().await.unwrap();
    assert!(a.status().await.unwrap().is_drained());
}

/// Runs `agents` agents draining `queue`; agent `i < killed` dies holding its first claim.
/// Returns the ids each successful completion reported.
async fn drain(env: &Env, bucket: &str, agents: usize, killed: usize) -> Vec<String> {
    let completed = Arc::new(Mutex::new(Vec::new()));
    let all = Arc::clone(&completed);
    let run = |round: usize| {
        let completed = Arc::clone(&all);
        (0..agents).map(move |i| {
            let kit = env.kit.clone();
            let completed = Arc::clone(&completed);
            let bucket = bucket.to_owned();
            async move {
                let q = queue(&kit, &bucket, &format!("agent-{round}-{i}"));
                loop {
                    match q.claim().await {
                        Ok(Some(task)) if round == 0 && i < killed => {
                            // Killed mid-task: the claim is dropped and lapses.
                            drop(task);
                            return;
                        }
                        Ok(Some(task)) => {
                            let id = task.id().to_owned();
                            match task.complete().await {
                                Ok(()) => completed.lock().unwrap().push(id),
                                Err(e) => assert!(e.is_lease_lost(), "{e}"),
                            }
                        }
                        Ok(None) => return,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        })
    };
    futures::future::join_all(run(0)).await;
    // The killed agents' claims lapse by the server's clock; the survivors drain the rest.
    env.emu.advance_clock(LAPSE);
    futures::future::join_all(run(1)).await;
    std::mem::take(&mut *completed.lock().unwrap())
}

#[tokio::test]
async fn eight_agents_with_a_kill_complete_every_task_exactly_once() {
    let env = env("queue").await;
    let producer = queue(&env.kit, "queue", "producer");
    let pushes = (0..100).map(|i| {
        let producer = &producer;
        async move {
            producer
                .push_with_id(&format!("t-{i:03}"), format!("{i}").into_bytes())
                .await
        }
    });
    for pushed in futures::future::join_all(pushes).await {
        pushed.unwrap();
    }
    let completed = drain(&env, "queue", 8, 1).await;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &completed {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(counts.len(), 100, "no task lost");
    assert!(counts.values().all(|&n| n == 1), "no task completed twice");
    let states = claims(&env, "queue").await;
    assert_eq!(states.len(), 100);
    assert!(states.values().all(|(s, _)| s == "done"));
    // The killed agent's task ran twice: attempt 2 is on its claim.
    let second_attempts = states
        .values()
        .filter(|(_, attempt)| attempt == "2")
        .count();
    assert_eq!(
        second_attempts, 1,
        "exactly the killed agent's task was claimed twice"
    );
    assert!(producer.status().await.unwrap().is_drained());
}

/// A fault at every request position of claim, renew and complete, before applying (a 500)
/// and after (a lost response): no task is completed twice, none is lost.
#[tokio::test]
async fn faults_at_every_request_never_double_complete_or_lose_a_task() {
    let env = Env::start().await;
    let mut case = 0;
    for (operation, positions) in [
        ("PutObject", 12),
        ("GetObject", 8),
        ("ListObjectsV2", 6),
        ("DeleteObject", 2),
    ] {
        for after in [false, true] {
            for skip in 0..positions {
                case += 1;
                let bucket = format!("faults-{case}");
                env.s3.create_bucket().bucket(&bucket).send().await.unwrap();
                let producer = queue(&env.kit, &bucket, "producer");
                for i in 0..3 {
                    producer
                        .push_with_id(&format!("t-{i}"), b"x".to_vec())
                        .await
                        .unwrap();
                }
                let mut fault = Fault::on(operation).bucket(&bucket).skip(skip);
                if after {
                    fault = fault.after_apply();
                }
                env.emu.faults().inject(fault);
                let q = queue(&env.kit, &bucket, "agent");
                let mut completions: HashMap<String, usize> = HashMap::new();
                for _round in 0..20 {
                    match q.claim().await {
                        Err(e) => assert!(e.kind() == ErrorKind::Transient, "{e}"),
                        Ok(None) => {
                            if q.status().await.is_ok_and(|s| s.is_drained()) {
                                break;
                            }
                            // Whatever an error left held lapses.
                            env.emu.advance_clock(LAPSE);
                        }
                        Ok(Some(mut task)) => {
                            if let Err(e) = task.renew().await {
                                assert!(!e.is_lease_lost(), "{e}");
                                continue;
                            }
                            let id = task.id().to_owned();
                            match task.complete().await {
                                Ok(()) => *completions.entry(id).or_default() += 1,
                                Err(e) => assert!(!e.is_lease_lost(), "{e}"),
                            }
                        }
                    }
                }
                env.emu.faults().clear();
                let label = format!("{operation} skip {skip} after {after}");
                assert_eq!(
                    completions.len(),
                    3,
                    "{label}: no task lost: {completions:?}"
                );
                assert!(
                    completions.values().all(|&n| n == 1),
                    "{label}: {completions:?}"
                );
                let states = claim_states(&env, &bucket).await;
                assert!(states.values().all(|s| s == "done"), "{label}: {states:?}");
            }
        }
    }
}
