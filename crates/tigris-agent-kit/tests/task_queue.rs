//! The task queue on the emulator: claims are group commits on one index object, a lapsed
//! claim is claimed again with a higher attempt count, a completion by a claimant that lost
//! its claim is refused, a poison task lands in the dead letters, and under agent kills and
//! injected faults every task completes exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tigris_agent_kit::{AgentKit, ErrorKind, TaskQueue, TaskState};
use tigris_emulator::Fault;

mod common;
use common::Env;

const TTL: Duration = Duration::from_secs(10);
const LAPSE: Duration = Duration::from_secs(13);

async fn env(bucket: &str) -> Env {
    let env = Env::start().await;
    env.s3.create_bucket().bucket(bucket).send().await.unwrap();
    env
}

fn queue(kit: &AgentKit, bucket: &str, owner: &str) -> TaskQueue {
    kit.task_queue()
        .bucket(bucket)
        .prefix("jobs")
        .ttl(TTL)
        .owner(owner)
        .open()
        .unwrap()
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
    // In push order.
    assert_eq!((first.id(), second.id()), (id.as_str(), "t-1"));
    assert_eq!(second.payload(), b"one");
    assert!(agent.claim().await.unwrap().is_none(), "both are held");
    let status = agent.status().await.unwrap();
    assert_eq!((status.claimed, status.unclaimed), (2, 0));
    let held = agent.task("t-1").await.unwrap().unwrap();
    assert_eq!(
        (held.state(), held.attempts(), held.claimant()),
        (TaskState::Claimed, 1, Some("agent-1"))
    );
    first.complete().await.unwrap();
    second.complete_with(b"result".to_vec()).await.unwrap();
    let status = agent.status().await.unwrap();
    assert!(status.is_drained(), "{status:?}");
    assert_eq!(status.done, 2);
    assert!(agent.claim().await.unwrap().is_none());
    // Done is terminal: even long after, nothing is claimable.
    env.emu.advance_clock(LAPSE);
    assert!(agent.claim().await.unwrap().is_none());
    let done = agent.task("t-1").await.unwrap().unwrap();
    assert_eq!(done.state(), TaskState::Done);
    assert_eq!(done.result(), Some(&b"result"[..]));
    assert_eq!(done.payload(), b"one");
    assert!(agent.task("never-pushed").await.unwrap().is_none());
}

#[tokio::test]
async fn a_batch_is_one_object_and_its_tasks_are_claimed_in_order() {
    let env = env("queue").await;
    let q = queue(&env.kit, "queue", "a");
    let ids = q
        .push_batch((0..5).map(|i| format!("p{i}").into_bytes()))
        .await
        .unwrap();
    let later = q.push_batch([b"p5".to_vec()]).await.unwrap();
    let batches = env
        .s3
        .list_objects_v2()
        .bucket("queue")
        .prefix("jobs/batches/")
        .send()
        .await
        .unwrap();
    assert_eq!(batches.contents().len(), 2, "one object per batch");
    let mut claimed = Vec::new();
    while let Some(task) = q.claim().await.unwrap() {
        claimed.push((task.id().to_owned(), task.payload().to_vec()));
        task.complete().await.unwrap();
    }
    let expected: Vec<_> = ids
        .iter()
        .chain(&later)
        .enumerate()
        .map(|(i, id)| (id.clone(), format!("p{i}").into_bytes()))
        .collect();
    assert_eq!(claimed, expected);
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
    let info = a.task("t").await.unwrap().unwrap();
    assert_eq!(
        (info.state(), info.claimant(), info.attempts()),
        (TaskState::Done, Some("b"), 2)
    );
    assert_eq!(a.status().await.unwrap().done, 1);
}

#[tokio::test]
async fn a_failed_task_is_claimable_at_once_with_the_attempt_counted() {
    let env = env("queue").await;
    let a = queue(&env.kit, "queue", "a");
    a.push_with_id("t", b"x".to_vec()).await.unwrap();
    let task = a.claim().await.unwrap().unwrap();
    task.fail("out of memory").await.unwrap();
    let info = a.task("t").await.unwrap().unwrap();
    assert_eq!(
        (info.state(), info.attempts(), info.last_error()),
        (TaskState::Queued, 1, Some("out of memory"))
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

#[tokio::test]
async fn a_poison_task_lands_in_the_dead_letters_after_its_maximum_attempts() {
    let env = env("queue").await;
    let q = env
        .kit
        .task_queue()
        .bucket("queue")
        .prefix("jobs")
        .ttl(TTL)
        .max_attempts(3)
        .open()
        .unwrap();
    q.push_with_id("poison", b"bad".to_vec()).await.unwrap();
    q.push_with_id("fine", b"good".to_vec()).await.unwrap();
    let mut ran = Vec::new();
    while let Some(task) = q.claim().await.unwrap() {
        ran.push(task.id().to_owned());
        if task.id() == "poison" {
            let reason = format!("parse error on attempt {}", task.attempt());
            task.fail(&reason).await.unwrap();
        } else {
            task.complete().await.unwrap();
        }
    }
    // A failed task is queued again ahead of the fresh ones.
    assert_eq!(ran, ["poison", "poison", "poison", "fine"]);
    let status = q.status().await.unwrap();
    assert_eq!((status.done, status.dead), (1, 1));
    assert!(status.is_drained());
    let mut pages = q.dead_letters().into_paginator().send();
    let page = pages.next().await.unwrap().unwrap();
    assert!(pages.next().await.is_none());
    let letters = page.letters();
    assert_eq!(letters.len(), 1);
    assert_eq!(
        (
            letters[0].id(),
            letters[0].attempts(),
            letters[0].last_error()
        ),
        ("poison", 3, "parse error on attempt 3")
    );
    assert_eq!(letters[0].payload(), b"bad");
    assert_eq!(
        q.task("poison").await.unwrap().unwrap().state(),
        TaskState::Dead
    );

    // Re-queued, it is claimable again with its attempts counted from 0.
    q.requeue("poison").await.unwrap();
    assert_eq!(
        q.requeue("poison").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let task = q.claim().await.unwrap().unwrap();
    assert_eq!((task.id(), task.attempt()), ("poison", 1));
    task.complete().await.unwrap();
    assert_eq!(q.status().await.unwrap().dead, 0);
}

#[tokio::test]
async fn a_task_whose_claims_keep_lapsing_is_dead_lettered() {
    let env = env("queue").await;
    let q = env
        .kit
        .task_queue()
        .bucket("queue")
        .prefix("jobs")
        .ttl(TTL)
        .max_attempts(2)
        .owner("crasher")
        .open()
        .unwrap();
    q.push_with_id("t", b"x".to_vec()).await.unwrap();
    for _ in 0..2 {
        let task = q.claim().await.unwrap().unwrap();
        drop(task);
        env.emu.advance_clock(LAPSE);
    }
    assert!(q.claim().await.unwrap().is_none());
    let mut letters = q.dead_letters().into_paginator().items().send();
    let letter = letters.next().await.unwrap().unwrap();
    assert_eq!(
        (letter.id(), letter.attempts(), letter.last_owner()),
        ("t", 2, "crasher")
    );
    assert!(
        letter.last_error().contains("lapsed"),
        "{}",
        letter.last_error()
    );
    assert!(letters.next().await.is_none());
}

#[tokio::test]
async fn dead_letters_are_listed_in_pages() {
    let env = env("queue").await;
    let q = env
        .kit
        .task_queue()
        .bucket("queue")
        .prefix("jobs")
        .ttl(TTL)
        .max_attempts(1)
        .open()
        .unwrap();
    q.push_batch((0..5).map(|i| vec![i])).await.unwrap();
    while let Some(task) = q.claim().await.unwrap() {
        task.fail("no").await.unwrap();
    }
    let mut pages = q.dead_letters().page_size(2).into_paginator().send();
    let mut sizes = Vec::new();
    while let Some(page) = pages.next().await {
        sizes.push(page.unwrap().letters().len());
    }
    assert_eq!(sizes, [2, 2, 1]);
}

#[tokio::test]
async fn a_bad_task_id_or_batch_is_refused_before_any_request() {
    let env = env("queue").await;
    let q = queue(&env.kit, "queue", "a");
    let before = env.requests();
    for id in ["", "a/b", "x.12", &"a".repeat(201)] {
        let err = q.push_with_id(id, b"x".to_vec()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{id:?}: {err}");
    }
    let err = q.push_batch(Vec::<Vec<u8>>::new()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = env
        .kit
        .task_queue()
        .bucket("queue")
        .prefix("jobs")
        .max_attempts(0)
        .open()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(env.requests(), before);
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
    producer
        .push_batch((0..100).map(|i| format!("{i}").into_bytes()))
        .await
        .unwrap();
    let completed = drain(&env, "queue", 8, 1).await;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &completed {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(counts.len(), 100, "no task lost");
    assert!(counts.values().all(|&n| n == 1), "no task completed twice");
    let mut second_attempts = 0;
    for id in counts.keys() {
        let info = producer.task(id).await.unwrap().unwrap();
        assert_eq!(info.state(), TaskState::Done);
        if info.attempts() == 2 {
            second_attempts += 1;
        }
    }
    assert_eq!(
        second_attempts, 1,
        "exactly the killed agent's task was claimed twice"
    );
    let status = producer.status().await.unwrap();
    assert!(status.is_drained());
    assert_eq!(status.done, 100);
}

#[tokio::test]
async fn agents_sharing_a_committer_claim_distinct_tasks() {
    let env = env("queue").await;
    let q = queue(&env.kit, "queue", "producer");
    q.push_batch((0..64).map(|i| vec![i])).await.unwrap();
    let agents: Vec<_> = (0..16)
        .map(|i| q.with_owner(format!("agent-{i}")).unwrap())
        .collect();
    let claims = agents.iter().map(|a| async move {
        let mut ids = Vec::new();
        while let Some(task) = a.claim().await.unwrap() {
            ids.push(task.id().to_owned());
            task.complete().await.unwrap();
        }
        ids
    });
    let mut all: Vec<String> = futures::future::join_all(claims)
        .await
        .into_iter()
        .flatten()
        .collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 64);
    assert_eq!(q.status().await.unwrap().done, 64);
}

/// A fault at every request position of push, claim, renew and complete, before applying (a
/// 500) and after (a lost response): no task is completed twice, none is lost, and an error
/// that may have left a claim held names the index.
#[tokio::test]
async fn faults_at_every_request_never_double_complete_or_lose_a_task() {
    let env = Env::start().await;
    let mut case = 0;
    for (operation, positions) in [("PutObject", 10), ("GetObject", 8)] {
        for after in [false, true] {
            for skip in 0..positions {
                case += 1;
                let bucket = format!("faults-{case}");
                env.s3.create_bucket().bucket(&bucket).send().await.unwrap();
                let producer = queue(&env.kit, &bucket, "producer");
                producer.push_batch((0..3).map(|i| vec![i])).await.unwrap();
                let mut fault = Fault::on(operation).bucket(&bucket).skip(skip);
                if after {
                    fault = fault.after_apply();
                }
                env.emu.faults().inject(fault);
                let q = queue(&env.kit, &bucket, "agent");
                let mut completions: HashMap<String, usize> = HashMap::new();
                for _round in 0..20 {
                    match q.claim().await {
                        Err(e) => assert!(
                            e.kind() == ErrorKind::Transient || !e.leftovers().is_empty(),
                            "{e}"
                        ),
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
                assert!(
                    completions.values().all(|&n| n == 1),
                    "{label}: {completions:?}"
                );
                let status = q.status().await.unwrap();
                assert!(status.is_drained(), "{label}: {status:?}");
                assert_eq!(
                    status.done, 3,
                    "{label}: no task lost, none completed twice"
                );
            }
        }
    }
}
