//! The guided mode for small towns without ISMS staff: one plain-language question per screen,
//! answered ja / nein / weiß nicht, with a "what this means" help text, saved after every answer
//! and resumable. It writes the same [`Answer`] records as the expert form (weiß nicht → offen),
//! so scoring, snapshots and the measures plan need nothing special.
//!
//! [`Session`] is a small state machine over a list of questions; the web layer rebuilds it from
//! the stored answers on every request ([`Session::resume`]) plus the position it keeps in the form.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::answer::{Answer, Status};
use crate::requirement::RequirementRef;

/// A text shown to the user: an i18n key, or text that came with the data (e.g. a Verbund's own
/// question set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Text {
    Key(String),
    Plain(String),
}

/// One question of the questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Question {
    pub requirement_id: String,
    pub text: Text,
    /// "What this means".
    pub help: Option<Text>,
}

impl Question {
    /// The default question of a requirement: i18n keys `q.<id>.text` and `q.<id>.help`.
    pub fn for_requirement(r: &RequirementRef) -> Question {
        Question {
            requirement_id: r.id.clone(),
            text: Text::Key(format!("q.{}.text", r.id)),
            help: Some(Text::Key(format!("q.{}.help", r.id))),
        }
    }
}

/// The three answers the questionnaire offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Ja,
    Nein,
    WeissNicht,
}

impl Reply {
    pub fn as_str(self) -> &'static str {
        match self {
            Reply::Ja => "ja",
            Reply::Nein => "nein",
            Reply::WeissNicht => "weiss_nicht",
        }
    }
    pub fn parse(s: &str) -> Option<Reply> {
        match s.trim().to_lowercase().replace(['-', ' '], "_").as_str() {
            "ja" | "yes" => Some(Reply::Ja),
            "nein" | "no" => Some(Reply::Nein),
            "weiss_nicht" | "weiß_nicht" | "unknown" | "dont_know" | "?" => {
                Some(Reply::WeissNicht)
            }
            _ => None,
        }
    }
    pub fn label_key(self) -> &'static str {
        match self {
            Reply::Ja => "asm.reply.ja",
            Reply::Nein => "asm.reply.nein",
            Reply::WeissNicht => "asm.reply.weiss_nicht",
        }
    }
    pub fn status(self) -> Status {
        match self {
            Reply::Ja => Status::Ja,
            Reply::Nein => Status::Nein,
            Reply::WeissNicht => Status::Offen,
        }
    }
}

/// How far the questionnaire is: `answered` of `total` have a record, `unknown` of those are
/// "weiß nicht" (offen) and worth asking someone about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub answered: usize,
    pub unknown: usize,
    pub total: usize,
}

/// A questionnaire session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    questions: Vec<Question>,
    /// The status recorded for each question, if any.
    recorded: Vec<Option<Status>>,
    /// The question shown; `None` when every question has an answer.
    position: Option<usize>,
    /// Questions shown before, for "back".
    history: Vec<usize>,
}

impl Session {
    /// Starts or resumes: a question counts as answered when a town-wide answer for its
    /// requirement is stored (per-object answers belong to the expert form). Shows the first
    /// unanswered question.
    pub fn resume(questions: Vec<Question>, stored: &[Answer]) -> Session {
        let recorded = questions
            .iter()
            .map(|q| {
                stored
                    .iter()
                    .filter(|a| a.object_id.is_none() && a.requirement_id == q.requirement_id)
                    .max_by_key(|a| a.assessed_on)
                    .map(|a| a.status)
            })
            .collect();
        let mut s = Session {
            questions,
            recorded,
            position: None,
            history: Vec::new(),
        };
        s.position = s.next_unanswered(0);
        s
    }

    /// Jumps to a question (e.g. the position the form sent back); `false` if out of range.
    pub fn go_to(&mut self, index: usize) -> bool {
        if index >= self.questions.len() {
            return false;
        }
        if let Some(p) = self.position.filter(|p| *p != index) {
            self.history.push(p);
        }
        self.position = Some(index);
        true
    }

    pub fn current(&self) -> Option<&Question> {
        self.position.and_then(|p| self.questions.get(p))
    }

    pub fn position(&self) -> Option<usize> {
        self.position
    }

    /// What is recorded for the current question, to preselect it after "back".
    pub fn current_reply(&self) -> Option<Status> {
        self.position
            .and_then(|p| self.recorded.get(p).copied().flatten())
    }

    /// Records the reply to the current question and moves to the next unanswered one. Returns
    /// the record to store, or `None` when there is no current question.
    pub fn answer(
        &mut self,
        reply: Reply,
        on: Date,
        responsible: Option<String>,
    ) -> Option<Answer> {
        let p = self.position?;
        let q = self.questions.get(p)?;
        let answer = Answer {
            requirement_id: q.requirement_id.clone(),
            object_id: None,
            status: reply.status(),
            reason: None,
            note: None,
            responsible,
            assessed_on: on,
            review_by: None,
            evidence: Vec::new(),
        };
        if let Some(slot) = self.recorded.get_mut(p) {
            *slot = Some(answer.status);
        }
        self.history.push(p);
        self.position = self.next_unanswered(p + 1);
        Some(answer)
    }

    /// Leaves the current question unanswered and shows the next unanswered one (coming back to
    /// skipped ones after the end). Stays put if it is the only one left.
    pub fn skip(&mut self) {
        if let Some(p) = self.position {
            if let Some(next) = self.next_unanswered_except(p + 1, p) {
                self.history.push(p);
                self.position = Some(next);
            }
        }
    }

    /// Shows the question shown before; `false` at the start.
    pub fn back(&mut self) -> bool {
        match self.history.pop() {
            Some(p) => {
                self.position = Some(p);
                true
            }
            None => false,
        }
    }

    pub fn is_finished(&self) -> bool {
        self.position.is_none()
    }

    pub fn progress(&self) -> Progress {
        Progress {
            answered: self.recorded.iter().filter(|r| r.is_some()).count(),
            unknown: self
                .recorded
                .iter()
                .filter(|r| **r == Some(Status::Offen))
                .count(),
            total: self.questions.len(),
        }
    }

    fn next_unanswered(&self, from: usize) -> Option<usize> {
        self.next_unanswered_except(from, usize::MAX)
    }

    /// The first unanswered question at or after `from`, wrapping around, other than `except`.
    fn next_unanswered_except(&self, from: usize, except: usize) -> Option<usize> {
        let n = self.questions.len();
        (0..n)
            .map(|k| (from + k) % n)
            .find(|&i| i != except && self.recorded.get(i).is_some_and(Option::is_none))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::date::parse_date;
    use crate::requirement::SecLevel;

    fn questions(n: usize) -> Vec<Question> {
        (0..n)
            .map(|i| {
                Question::for_requirement(&RequirementRef {
                    id: format!("R{i}"),
                    practice: "P".into(),
                    sec_level: SecLevel::NormalSdT,
                    effort_level: 1,
                    recurring: None,
                })
            })
            .collect()
    }

    fn on() -> Date {
        parse_date("2026-11-27").unwrap()
    }

    #[test]
    fn walk_skip_back_resume() {
        let mut s = Session::resume(questions(4), &[]);
        assert_eq!(s.current().unwrap().text, Text::Key("q.R0.text".into()));
        let a0 = s.answer(Reply::Ja, on(), Some("Kämmerei".into())).unwrap();
        assert_eq!((a0.requirement_id.as_str(), a0.status), ("R0", Status::Ja));
        s.skip(); // R1 skipped
        assert_eq!(s.position(), Some(2));
        let a2 = s.answer(Reply::WeissNicht, on(), None).unwrap();
        assert_eq!(a2.status, Status::Offen);
        assert_eq!(s.position(), Some(3));
        assert!(s.back());
        assert_eq!(
            (s.position(), s.current_reply()),
            (Some(2), Some(Status::Offen))
        );
        let a2b = s.answer(Reply::Nein, on(), None).unwrap();
        assert_eq!(a2b.status, Status::Nein);
        // Next unanswered after R2 is R3.
        assert_eq!(s.position(), Some(3));
        let a3 = s.answer(Reply::Ja, on(), None).unwrap();
        // Wraps around to the skipped R1.
        assert_eq!(s.position(), Some(1));
        assert_eq!(
            s.progress(),
            Progress {
                answered: 3,
                unknown: 0,
                total: 4
            }
        );
        s.skip(); // only one left: stays
        assert_eq!(s.position(), Some(1));

        // Save and resume from the stored records: starts at the skipped question.
        let stored = [a0, a2, a2b, a3];
        let mut r = Session::resume(questions(4), &stored);
        assert_eq!(r.position(), Some(1));
        assert_eq!(r.progress().answered, 3);
        r.answer(Reply::Nein, on(), None);
        assert!(r.is_finished());
        assert!(r.current().is_none());
        assert!(r.answer(Reply::Ja, on(), None).is_none());
        assert!(r.back());
        assert_eq!(r.position(), Some(1));
    }

    #[test]
    fn resume_uses_latest_town_wide_answer() {
        let mut later = Session::resume(questions(1), &[])
            .answer(Reply::WeissNicht, on(), None)
            .unwrap();
        later.assessed_on = parse_date("2026-12-01").unwrap();
        let earlier = Session::resume(questions(1), &[])
            .answer(Reply::Ja, on(), None)
            .unwrap();
        let s = Session::resume(questions(1), &[later, earlier]);
        assert_eq!(
            s.progress(),
            Progress {
                answered: 1,
                unknown: 1,
                total: 1
            }
        );
        let empty = Session::resume(vec![], &[]);
        assert!(empty.is_finished());
    }

    #[test]
    fn replies() {
        for (s, r) in [
            ("ja", Reply::Ja),
            ("Nein", Reply::Nein),
            ("weiß nicht", Reply::WeissNicht),
            ("weiss_nicht", Reply::WeissNicht),
        ] {
            assert_eq!(Reply::parse(s), Some(r));
        }
        assert_eq!(Reply::parse("teilweise"), None);
    }
}
