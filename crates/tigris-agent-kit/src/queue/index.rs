//! The queue's index object: what is queued, held, retried and dead, and the pure state
//! transitions one group commit applies to it. No I/O here: the committer in the parent module
//! reads the index, applies a group of operations with [`Index::apply`], and writes it back
//! with `If-Match`.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

/// The index format's version.
const VERSION: u32 = 1;
/// Registered batch keys remembered so that a retried push is not queued twice.
const RECENT_BATCHES: usize = 4096;
/// Slack added to a claim's TTL before it counts as lapsed: the committers' clocks come from
/// the server's `Date` header (whole seconds), read at either end of a request.
pub(crate) const EXPIRY_SLACK_MS: u64 = 2_000;

/// A task's place: its batch object and its index in the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Slot {
    #[serde(rename = "b")]
    pub(crate) batch: String,
    #[serde(rename = "i")]
    pub(crate) idx: u32,
}

/// A batch whose tasks are not all handed out yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BatchRef {
    pub(crate) key: String,
    /// Tasks in the batch.
    pub(crate) n: u32,
    /// The first task not handed out yet.
    pub(crate) next: u32,
    /// A batch of one task whose id is the batch's key ([`TaskQueue::push_with_id`]); the
    /// tasks of other batches are `{key}.{n}`.
    ///
    /// [`TaskQueue::push_with_id`]: super::TaskQueue::push_with_id
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) single: bool,
}

impl BatchRef {
    pub(crate) fn id(&self, idx: u32) -> String {
        task_id(&self.key, idx, self.single)
    }
}

/// The id of task `idx` of batch `key`.
pub(crate) fn task_id(key: &str, idx: u32, single: bool) -> String {
    if single {
        key.to_owned()
    } else {
        format!("{key}.{idx}")
    }
}

/// A task queued again after a failure or a lapsed claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Retry {
    pub(crate) id: String,
    pub(crate) slot: Slot,
    /// Claims so far.
    pub(crate) attempts: u32,
    pub(crate) owner: String,
    pub(crate) error: String,
}

/// A claim held by an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Held {
    pub(crate) slot: Slot,
    pub(crate) owner: String,
    /// Unique per claim: a completion, failure or renewal must present it.
    pub(crate) token: String,
    /// 1 for the first claim.
    pub(crate) attempt: u32,
    /// Server time (ms since the epoch, as the committer estimated it) of the claim or its
    /// last renewal.
    pub(crate) at_ms: u64,
    pub(crate) ttl_ms: u64,
    /// The claimant whose failed or lapsed claim this one follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) previous: Option<String>,
}

/// A task that reached its maximum attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Dead {
    pub(crate) slot: Slot,
    pub(crate) attempts: u32,
    pub(crate) owner: String,
    pub(crate) error: String,
    /// Server time (ms) it died.
    pub(crate) at_ms: u64,
}

/// The index object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Index {
    pub(crate) v: u32,
    /// A token per write: tells a committer whose response was lost whether its write landed.
    pub(crate) commit: String,
    /// Tasks ever queued (re-queued dead letters are not counted again).
    pub(crate) pushed: u64,
    /// Tasks completed.
    pub(crate) done: u64,
    /// Batches with tasks not handed out yet, in push order.
    pub(crate) batches: VecDeque<BatchRef>,
    /// Tasks to hand out again, before the batches' tasks.
    pub(crate) retry: VecDeque<Retry>,
    /// Claims held, by task id.
    pub(crate) held: BTreeMap<String, Held>,
    /// Dead letters, by task id.
    pub(crate) dead: BTreeMap<String, Dead>,
    /// Recently registered batch keys.
    pub(crate) recent: VecDeque<String>,
}

impl Index {
    pub(crate) fn empty() -> Self {
        Self {
            v: VERSION,
            commit: String::new(),
            pushed: 0,
            done: 0,
            batches: VecDeque::new(),
            retry: VecDeque::new(),
            held: BTreeMap::new(),
            dead: BTreeMap::new(),
            recent: VecDeque::new(),
        }
    }

    pub(crate) fn decode(body: &[u8]) -> Option<Self> {
        let index: Self = serde_json::from_slice(body).ok()?;
        (index.v == VERSION).then_some(index)
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Tasks queued and not held: in batches, not handed out, plus retries.
    pub(crate) fn queued(&self) -> u64 {
        let fresh: u64 = self
            .batches
            .iter()
            .map(|b| u64::from(b.n.saturating_sub(b.next)))
            .sum();
        fresh + self.retry.len() as u64
    }

    /// Where task `id` is queued, if it is: in a batch not handed out yet, or retried.
    pub(crate) fn queued_slot(&self, id: &str) -> Option<(Slot, u32)> {
        if let Some(r) = self.retry.iter().find(|r| r.id == id) {
            return Some((r.slot.clone(), r.attempts));
        }
        let (key, idx, single) = parse_id(id);
        self.batches
            .iter()
            .find(|b| b.key == key && b.single == single && idx >= b.next && idx < b.n)
            .map(|b| {
                (
                    Slot {
                        batch: b.key.clone(),
                        idx,
                    },
                    0,
                )
            })
    }

    /// Applies `ops` in order at server time `now_ms`, answering each. Lapsed claims are
    /// queued again (or dead-lettered) first.
    pub(crate) fn apply(&mut self, ops: &[Op], now_ms: u64, max_attempts: u32) -> Vec<Outcome> {
        self.expire(now_ms, max_attempts);
        ops.iter()
            .map(|op| self.apply_one(op, now_ms, max_attempts))
            .collect()
    }

    fn expire(&mut self, now_ms: u64, max_attempts: u32) {
        let lapsed: Vec<String> = self
            .held
            .iter()
            .filter(|(_, h)| now_ms >= h.at_ms + h.ttl_ms + EXPIRY_SLACK_MS)
            .map(|(id, _)| id.clone())
            .collect();
        for id in lapsed {
            if let Some(held) = self.held.remove(&id) {
                let error = format!("the claim of {} lapsed", held.owner);
                self.requeue_or_bury(id, held, error, now_ms, max_attempts);
            }
        }
    }

    fn requeue_or_bury(
        &mut self,
        id: String,
        held: Held,
        error: String,
        now_ms: u64,
        max_attempts: u32,
    ) -> bool {
        if held.attempt >= max_attempts {
            self.dead.insert(
                id,
                Dead {
                    slot: held.slot,
                    attempts: held.attempt,
                    owner: held.owner,
                    error,
                    at_ms: now_ms,
                },
            );
            true
        } else {
            self.retry.push_back(Retry {
                id,
                slot: held.slot,
                attempts: held.attempt,
                owner: held.owner,
                error,
            });
            false
        }
    }

    fn apply_one(&mut self, op: &Op, now_ms: u64, max_attempts: u32) -> Outcome {
        match op {
            Op::Register { key, n, single } => {
                if self.recent.iter().any(|k| k == key) {
                    return Outcome::Registered(false);
                }
                self.recent.push_back(key.clone());
                while self.recent.len() > RECENT_BATCHES {
                    self.recent.pop_front();
                }
                self.pushed += u64::from(*n);
                self.batches.push_back(BatchRef {
                    key: key.clone(),
                    n: *n,
                    next: 0,
                    single: *single,
                });
                Outcome::Registered(true)
            }
            Op::Claim { owner, ttl_ms } => {
                let next = if let Some(retry) = self.retry.pop_front() {
                    Some((retry.id, retry.slot, retry.attempts + 1, Some(retry.owner)))
                } else {
                    self.take_fresh()
                };
                let Some((id, slot, attempt, previous)) = next else {
                    return Outcome::Nothing;
                };
                let held = Held {
                    slot,
                    owner: owner.clone(),
                    token: crate::cas::new_token(),
                    attempt,
                    at_ms: now_ms,
                    ttl_ms: *ttl_ms,
                    previous,
                };
                self.held.insert(id.clone(), held.clone());
                Outcome::Claimed(id, held)
            }
            Op::Renew { id, token } => match self.held.get_mut(id) {
                Some(h) if &h.token == token => {
                    h.at_ms = now_ms;
                    Outcome::Ok(now_ms)
                }
                _ => Outcome::Lost(self.holder(id)),
            },
            Op::Complete { id, token } => match self.held.get(id) {
                Some(h) if &h.token == token => {
                    self.held.remove(id);
                    self.done += 1;
                    Outcome::Ok(now_ms)
                }
                _ => Outcome::Lost(self.holder(id)),
            },
            Op::Fail { id, token, error } => match self.held.remove(id) {
                Some(held) if &held.token == token => {
                    let buried =
                        self.requeue_or_bury(id.clone(), held, error.clone(), now_ms, max_attempts);
                    Outcome::Failed { buried }
                }
                Some(other) => {
                    let holder = Some(other.owner.clone());
                    self.held.insert(id.clone(), other);
                    Outcome::Lost(holder)
                }
                None => Outcome::Lost(None),
            },
            Op::Requeue { id } => match self.dead.remove(id) {
                Some(dead) => {
                    self.retry.push_back(Retry {
                        id: id.clone(),
                        slot: dead.slot,
                        attempts: 0,
                        owner: dead.owner,
                        error: dead.error,
                    });
                    Outcome::Ok(now_ms)
                }
                None => Outcome::NotDead,
            },
        }
    }

    fn take_fresh(&mut self) -> Option<(String, Slot, u32, Option<String>)> {
        loop {
            let batch = self.batches.front_mut()?;
            let idx = batch.next;
            if idx < batch.n {
                let id = batch.id(idx);
                let key = batch.key.clone();
                batch.next += 1;
                if batch.next >= batch.n {
                    self.batches.pop_front();
                }
                return Some((id, Slot { batch: key, idx }, 1, None));
            }
            self.batches.pop_front();
        }
    }

    fn holder(&self, id: &str) -> Option<String> {
        self.held.get(id).map(|h| h.owner.clone())
    }
}

/// The batch key, index and kind of a task id: `{key}.{n}` with `n` a number is task `n`
/// of batch `key`; anything else is the one task of batch `id` (pushed with an id).
pub(crate) fn parse_id(id: &str) -> (&str, u32, bool) {
    match id.rsplit_once('.') {
        Some((key, n))
            if !key.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) =>
        {
            match n.parse() {
                Ok(idx) => (key, idx, false),
                Err(_) => (id, 0, true),
            }
        }
        _ => (id, 0, true),
    }
}

/// One operation of a group commit.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// Queue the tasks of a batch object already written.
    Register {
        key: String,
        n: u32,
        single: bool,
    },
    Claim {
        owner: String,
        ttl_ms: u64,
    },
    Renew {
        id: String,
        token: String,
    },
    Complete {
        id: String,
        token: String,
    },
    Fail {
        id: String,
        token: String,
        error: String,
    },
    /// Queue a dead letter again, with its attempts reset.
    Requeue {
        id: String,
    },
}

/// What one operation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Registered(bool),
    Claimed(String, Held),
    /// Nothing claimable.
    Nothing,
    /// Renewed or completed or re-queued, at this server time.
    Ok(u64),
    /// Failed: queued again, or dead-lettered (`buried`).
    Failed {
        buried: bool,
    },
    /// The claim is not this claimant's any more; its holder now, if any.
    Lost(Option<String>),
    /// No dead letter with that id.
    NotDead,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register(index: &mut Index, key: &str, n: u32) {
        let out = index.apply(
            &[Op::Register {
                key: key.into(),
                n,
                single: false,
            }],
            0,
            3,
        );
        assert_eq!(out, vec![Outcome::Registered(true)]);
    }

    fn claim(index: &mut Index, now: u64) -> Option<(String, Held)> {
        let op = Op::Claim {
            owner: "a".into(),
            ttl_ms: 1_000,
        };
        match index.apply(&[op], now, 3).pop() {
            Some(Outcome::Claimed(id, held)) => Some((id, held)),
            _ => None,
        }
    }

    #[test]
    fn tasks_are_handed_out_in_push_order() {
        let mut index = Index::empty();
        register(&mut index, "b1", 2);
        register(&mut index, "b2", 1);
        let ids: Vec<_> = (0..3).map(|_| claim(&mut index, 0).unwrap().0).collect();
        assert_eq!(ids, ["b1.0", "b1.1", "b2.0"]);
        assert!(claim(&mut index, 0).is_none());
        assert!(
            index.batches.is_empty(),
            "handed-out batches leave the index"
        );
    }

    #[test]
    fn a_batch_registered_twice_is_queued_once() {
        let mut index = Index::empty();
        register(&mut index, "b1", 2);
        let again = index.apply(
            &[Op::Register {
                key: "b1".into(),
                n: 2,
                single: false,
            }],
            0,
            3,
        );
        assert_eq!(again, vec![Outcome::Registered(false)]);
        assert_eq!(index.pushed, 2);
    }

    #[test]
    fn a_completion_with_a_stale_token_is_refused() {
        let mut index = Index::empty();
        register(&mut index, "b", 1);
        let (id, first) = claim(&mut index, 0).unwrap();
        // Lapses: the next claim takes it over with attempt 2.
        let (again, second) = claim(&mut index, 10_000).unwrap();
        assert_eq!((again.as_str(), second.attempt), (id.as_str(), 2));
        let stale = Op::Complete {
            id: id.clone(),
            token: first.token,
        };
        assert_eq!(
            index.apply(&[stale], 10_000, 3),
            vec![Outcome::Lost(Some("a".into()))]
        );
        let fresh = Op::Complete {
            id,
            token: second.token,
        };
        assert_eq!(index.apply(&[fresh], 10_000, 3), vec![Outcome::Ok(10_000)]);
        assert_eq!(index.done, 1);
        assert!(index.held.is_empty());
    }

    #[test]
    fn a_task_failed_max_attempts_times_is_dead_and_can_be_requeued() {
        let mut index = Index::empty();
        register(&mut index, "b", 1);
        for attempt in 1..=3 {
            let (id, held) = claim(&mut index, 0).unwrap();
            assert_eq!(held.attempt, attempt);
            let fail = Op::Fail {
                id,
                token: held.token,
                error: format!("boom {attempt}"),
            };
            let buried = attempt == 3;
            assert_eq!(index.apply(&[fail], 0, 3), vec![Outcome::Failed { buried }]);
        }
        assert!(claim(&mut index, 0).is_none());
        assert_eq!(index.dead["b.0"].error, "boom 3");
        let requeue = Op::Requeue { id: "b.0".into() };
        assert_eq!(index.apply(&[requeue], 0, 3), vec![Outcome::Ok(0)]);
        assert_eq!(claim(&mut index, 0).unwrap().1.attempt, 1);
    }

    #[test]
    fn the_index_reads_back_what_it_wrote() {
        let mut index = Index::empty();
        register(&mut index, "b", 2);
        claim(&mut index, 5).unwrap();
        assert_eq!(Index::decode(&index.encode()), Some(index));
    }
}
