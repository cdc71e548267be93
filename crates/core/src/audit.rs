//! The audit log as a hash chain: each entry's hash covers its content and the previous hash, and
//! a head record keeps the newest sequence number and hash. Editing any entry breaks its hash;
//! deleting one breaks the chain (or, for the newest, the head).

use crate::{OrgId, Timestamp, UserId};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash that precedes the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A change to record, before it gets its place in the chain.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub actor_id: Option<UserId>,
    /// Who did it, as shown later even if the user is deleted ("Anna Schmidt", "cli", "system").
    pub actor: String,
    /// The organisation the change belongs to; decides who may read the entry.
    pub organisation_id: Option<OrgId>,
    /// `create`, `update`, `delete`, `login` …
    pub action: String,
    /// `organisation`, `user`, `membership` …
    pub entity: String,
    pub entity_id: String,
    /// The record before and after, as JSON; secrets are never included.
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// An entry of the chain as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub actor: String,
    pub organisation_id: Option<OrgId>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// JSON text of the record before the change.
    pub before: Option<String>,
    /// JSON text of the record after the change.
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry: SHA-256 over the previous hash and every field, each length-prefixed so
/// that no two different entries can produce the same input.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: Timestamp,
    actor_id: Option<UserId>,
    actor: &str,
    organisation_id: Option<OrgId>,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    field(prev_hash);
    field(&seq.to_string());
    field(&at.to_string());
    field(&actor_id.map(|u| u.0.to_string()).unwrap_or_default());
    field(actor);
    field(&organisation_id.map(|o| o.0.to_string()).unwrap_or_default());
    field(action);
    field(entity);
    field(entity_id);
    field(&before.map(|b| format!("+{b}")).unwrap_or_default());
    field(&after.map(|a| format!("+{a}")).unwrap_or_default());
    hex::encode(h.finalize())
}

impl Entry {
    pub fn computed_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            self.seq,
            self.at,
            self.actor_id,
            &self.actor,
            self.organisation_id,
            &self.action,
            &self.entity,
            &self.entity_id,
            self.before.as_deref(),
            self.after.as_deref(),
        )
    }
}

/// One thing wrong with the chain, as `audit verify` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The entry's content does not match its hash: it was edited.
    Edited { seq: i64 },
    /// The entry does not point to its predecessor's hash: something between was removed or replaced.
    Broken { seq: i64 },
    /// Sequence numbers jump: entries were deleted.
    Missing { after: i64, next: i64 },
    /// The newest entry is not the one the head records: the newest entries were deleted or the head edited.
    HeadMismatch { head_seq: i64, last_seq: i64 },
    /// A head hash recorded outside the database (in the log, a backup, a note) is not in the
    /// chain: entries up to it were removed and the head rewound, or the chain replaced.
    AnchorMissing { hash: String },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Edited { seq } => write!(f, "entry {seq}: content does not match its hash (edited)"),
            Problem::Broken { seq } => write!(f, "entry {seq}: does not link to the previous entry (chain broken)"),
            Problem::Missing { after, next } => write!(f, "entries {} to {} are missing (deleted)", after + 1, next - 1),
            Problem::HeadMismatch { head_seq, last_seq } => write!(
                f,
                "the head records entry {head_seq} as the newest, the log ends at {last_seq} (newest entries deleted or head edited)"
            ),
            Problem::AnchorMissing { hash } => write!(
                f,
                "the expected head {hash} is not in the chain (entries removed and the head rewound, or the chain replaced)"
            ),
        }
    }
}

/// Incremental verifier, so that a chain of millions of entries is checked in pages.
#[derive(Debug)]
pub struct Verifier {
    prev_hash: String,
    prev_seq: i64,
    pub checked: u64,
    pub problems: Vec<Problem>,
    /// A head hash known from outside the database (`audit verify --expect`), and whether an
    /// entry with that hash was seen.
    anchor: Option<(String, bool)>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            prev_hash: GENESIS.to_string(),
            prev_seq: 0,
            checked: 0,
            problems: Vec::new(),
            anchor: None,
        }
    }
}

impl Verifier {
    /// A verifier that also requires an entry whose hash is `anchor`: truncating the chain and
    /// rewinding the head leaves a consistent chain, which only a hash kept elsewhere reveals.
    pub fn expecting(anchor: &str) -> Verifier {
        Verifier {
            anchor: Some((anchor.trim().to_ascii_lowercase(), false)),
            ..Verifier::default()
        }
    }

    pub fn feed(&mut self, e: &Entry) {
        self.checked += 1;
        if let Some((hash, seen)) = &mut self.anchor {
            if *hash == e.hash {
                *seen = true;
            }
        }
        if e.seq != self.prev_seq + 1 {
            self.problems.push(Problem::Missing {
                after: self.prev_seq,
                next: e.seq,
            });
        } else if e.prev_hash != self.prev_hash {
            self.problems.push(Problem::Broken { seq: e.seq });
        }
        if e.computed_hash() != e.hash {
            self.problems.push(Problem::Edited { seq: e.seq });
        }
        self.prev_hash = e.hash.clone();
        self.prev_seq = e.seq;
    }

    /// Compares the end of the chain with the head record and returns every problem found.
    pub fn finish(mut self, head_seq: i64, head_hash: &str) -> Vec<Problem> {
        if head_seq != self.prev_seq || head_hash != self.prev_hash {
            self.problems.push(Problem::HeadMismatch {
                head_seq,
                last_seq: self.prev_seq,
            });
        }
        if let Some((hash, false)) = self.anchor.take() {
            self.problems.push(Problem::AnchorMissing { hash });
        }
        self.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let mut e = Entry {
                    seq,
                    at: 1000 + seq,
                    actor_id: Some(UserId(1)),
                    actor: "Anna".into(),
                    organisation_id: Some(OrgId(2)),
                    action: "update".into(),
                    entity: "organisation".into(),
                    entity_id: "2".into(),
                    before: Some(format!("{{\"n\":{}}}", seq - 1)),
                    after: Some(format!("{{\"n\":{seq}}}")),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.computed_hash();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(entries: &[Entry], head: (i64, &str)) -> Vec<Problem> {
        let mut v = Verifier::default();
        entries.iter().for_each(|e| v.feed(e));
        v.finish(head.0, head.1)
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, (5, &c[4].hash)), vec![]);
        assert_eq!(verify(&[], (0, GENESIS)), vec![]);
    }

    #[test]
    fn every_kind_of_tampering_is_found() {
        let c = chain(5);
        let head = (5, c[4].hash.clone());
        // Edit any field of any entry.
        for i in 0..5 {
            for edit in 0..4 {
                let mut t = c.clone();
                match edit {
                    0 => t[i].actor = "Mallory".into(),
                    1 => t[i].after = Some("{}".into()),
                    2 => t[i].at += 1,
                    _ => t[i].organisation_id = None,
                }
                assert!(
                    verify(&t, (head.0, &head.1)).contains(&Problem::Edited { seq: i as i64 + 1 })
                );
            }
        }
        // Delete a middle entry.
        let mut t = c.clone();
        t.remove(2);
        assert!(verify(&t, (head.0, &head.1)).contains(&Problem::Missing { after: 2, next: 4 }));
        // Delete the newest.
        let mut t = c.clone();
        t.pop();
        assert!(matches!(
            verify(&t, (head.0, &head.1))[..],
            [Problem::HeadMismatch { .. }]
        ));
        // Replace an entry with a self-consistent forgery: its successor no longer links.
        let mut t = c.clone();
        t[1].actor = "Mallory".into();
        t[1].hash = t[1].computed_hash();
        assert!(verify(&t, (head.0, &head.1)).contains(&Problem::Broken { seq: 3 }));
    }

    #[test]
    fn truncation_with_a_rewound_head_is_found_only_with_an_anchor() {
        let c = chain(5);
        let anchor = c[4].hash.clone();
        // Delete the two newest entries and rewind the head: a consistent chain.
        let t = &c[..3];
        let head = (3, t[2].hash.as_str());
        assert_eq!(verify(t, head), vec![]);
        let mut v = Verifier::expecting(&anchor);
        t.iter().for_each(|e| v.feed(e));
        assert_eq!(
            v.finish(head.0, head.1),
            vec![Problem::AnchorMissing {
                hash: anchor.clone()
            }]
        );
        // The untouched chain contains the anchor, also when written in capitals.
        let mut v = Verifier::expecting(&anchor.to_uppercase());
        c.iter().for_each(|e| v.feed(e));
        assert_eq!(v.finish(5, &c[4].hash), vec![]);
        // An anchor older than the head is fine: the chain grew since.
        let mut v = Verifier::expecting(&c[1].hash);
        c.iter().for_each(|e| v.feed(e));
        assert_eq!(v.finish(5, &c[4].hash), vec![]);
    }

    #[test]
    fn null_and_empty_differ() {
        let a = entry_hash(GENESIS, 1, 1, None, "a", None, "x", "y", "1", None, None);
        let b = entry_hash(
            GENESIS,
            1,
            1,
            None,
            "a",
            None,
            "x",
            "y",
            "1",
            Some(""),
            None,
        );
        assert_ne!(a, b);
    }
}
