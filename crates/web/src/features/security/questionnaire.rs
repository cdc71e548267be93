//! The guided questionnaire for small towns: one plain-language question per screen (ja / nein /
//! weiß nicht), "what this means" help, every reply saved at once, so leaving and coming back
//! resumes at the first unanswered question; progress is shown throughout. It writes the same
//! answer records as the expert form (weiß nicht → offen), through the same store method.
//!
//! The questions are the town's organisation-wide requirements of its target level (those about
//! single objects belong in the expert form), quick wins first (by effort level, then id).

use crate::auth::CurrentUser;
use crate::features::security::catalog::{library, unavailable, Library};
use crate::features::security::town::{today, town_requirements, TargetReqs};
use crate::features::{done, fail, render};
use crate::i18n::Tr;
use crate::view::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use stadtmauer_assessment::questionnaire::{Question, Reply, Session, Text};
use stadtmauer_assessment::Answer;
use stadtmauer_catalog::catalog::Requirement;
use stadtmauer_core::org::Organisation;
use stadtmauer_core::{Access, DomainError, OrgId};

/// The questions of a town, in order, with the requirement behind each.
fn questions(
    lib: &Library,
    set: &TargetReqs,
    objects: &[stadtmauer_inventory::model::Object],
) -> Vec<Requirement> {
    let mut reqs: Vec<Requirement> = town_requirements(lib, set, objects)
        .into_iter()
        .filter(|t| t.objects.is_empty())
        .map(|t| t.req.clone())
        .collect();
    reqs.sort_by(|a, b| {
        (a.effort_level.unwrap_or(3), &a.id).cmp(&(b.effort_level.unwrap_or(3), &b.id))
    });
    reqs
}

fn question_of(r: &Requirement) -> Question {
    Question {
        requirement_id: r.id.clone(),
        text: Text::Plain(r.title.clone()),
        help: Some(Text::Plain(r.statement_text())),
    }
}

#[derive(Template)]
#[template(path = "security/questionnaire.html")]
pub struct QuestionnairePage {
    pub c: Chrome,
    pub org: Organisation,
    pub can_write: bool,
    pub index: usize,
    pub percent: usize,
    pub requirement_id: String,
    pub question: String,
    pub help: Vec<String>,
    pub guidance: Vec<String>,
    pub current: Option<&'static str>,
    pub back: Option<usize>,
    pub finished: bool,
    pub progress_text: String,
    pub number_text: String,
    pub attribution: &'static str,
}

#[derive(Deserialize, Default)]
pub struct QQuery {
    /// Show this question (for "back"); otherwise the first unanswered one.
    pub q: Option<usize>,
    pub msg: Option<String>,
}

struct Loaded {
    org: Organisation,
    reqs: Vec<Requirement>,
    answers: Vec<Answer>,
}

async fn load(state: &AppState, me: &CurrentUser, org: OrgId) -> Result<Loaded, DomainError> {
    let lib = library().ok_or(DomainError::NotFound)?;
    let o = state.store.organisation(&me.scope, org).await?;
    let set = TargetReqs::load(state, &me.scope, org).await?;
    let objects = state.store.objects(&me.scope, org, None, false).await?;
    let answers = state
        .store
        .answers(&me.scope, org)
        .await?
        .into_iter()
        .map(|s| s.answer)
        .collect();
    Ok(Loaded {
        org: o,
        reqs: questions(lib, &set, &objects),
        answers,
    })
}

fn paragraphs(s: &str) -> Vec<String> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn show(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<QQuery>,
) -> Response {
    if library().is_none() {
        return unavailable(tr);
    }
    let org = OrgId(id);
    let l = match load(&state, &me, org).await {
        Ok(l) => l,
        Err(e) => return fail(tr, e),
    };
    let mut session = Session::resume(l.reqs.iter().map(question_of).collect(), &l.answers);
    if let Some(i) = q.q {
        session.go_to(i);
    }
    let progress = session.progress();
    let index = session.position().unwrap_or(0);
    let req = session.position().and_then(|p| l.reqs.get(p));
    let percent = (progress.answered * 100)
        .checked_div(progress.total)
        .unwrap_or(100);
    let page = QuestionnairePage {
        c: Chrome::new(tr, &me, tr.s("sec.q.title"), "organisations").with_flash(q.msg.as_deref()),
        org: l.org,
        can_write: me.scope.may(org, Access::WriteTechnical),
        index,
        percent,
        requirement_id: req.map(|r| r.id.clone()).unwrap_or_default(),
        question: req.map(|r| r.title.clone()).unwrap_or_default(),
        help: req
            .map(|r| paragraphs(&r.statement_text()))
            .unwrap_or_default(),
        guidance: req
            .and_then(|r| r.guidance.as_deref())
            .map(paragraphs)
            .unwrap_or_default(),
        current: session.current_reply().map(|s| match s {
            stadtmauer_assessment::Status::Ja => "ja",
            stadtmauer_assessment::Status::Nein => "nein",
            _ => "weiss_nicht",
        }),
        back: index.checked_sub(1).filter(|_| !session.is_finished()),
        finished: session.is_finished(),
        attribution: stadtmauer_catalog::ATTRIBUTION,
        number_text: tr.f(
            "sec.q.number",
            &[
                ("n", &(index + 1).to_string()),
                ("total", &progress.total.to_string()),
            ],
        ),
        progress_text: tr.f(
            "sec.q.progress",
            &[
                ("answered", &progress.answered.to_string()),
                ("total", &progress.total.to_string()),
                ("unknown", &progress.unknown.to_string()),
            ],
        ),
    };
    render(page)
}

#[derive(Deserialize, Default)]
pub struct ReplyForm {
    pub q: Option<usize>,
    pub requirement_id: Option<String>,
    pub reply: Option<String>,
}

pub async fn reply(
    State(state): State<AppState>,
    tr: Tr,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ReplyForm>,
) -> Response {
    let org = OrgId(id);
    if let Err(e) = me.scope.require(org, Access::WriteTechnical) {
        return fail(tr, e);
    }
    let l = match load(&state, &me, org).await {
        Ok(l) => l,
        Err(e) => return fail(tr, e),
    };
    let Some(reply) = f.reply.as_deref().and_then(Reply::parse) else {
        return fail(tr, DomainError::field("reply", "err.choose_one"));
    };
    let mut session = Session::resume(l.reqs.iter().map(question_of).collect(), &l.answers);
    // The question the form was showing; its requirement id guards against a stale position.
    let Some(i) = f.q.filter(|i| {
        l.reqs.get(*i).map(|r| r.id.as_str()) == f.requirement_id.as_deref().map(str::trim)
    }) else {
        return fail(tr, DomainError::field("reply", "err.choose_one"));
    };
    session.go_to(i);
    let Some(answer) = session.answer(reply, today(), Some(me.user.display_name.clone())) else {
        return fail(tr, DomainError::NotFound);
    };
    match state.store.save_answer(&me.scope, org, &answer).await {
        Ok(_) => done(
            &format!("/organisations/{id}/security/questionnaire"),
            "msg.saved",
        ),
        Err(e) => fail(tr, e),
    }
}
