//! The emergency handbook (Notfallhandbuch) of one town, generated from its data: alarm chain,
//! crisis team, external contacts, the first 24 hours, the restart order and the manual
//! procedure of every process.
//!
//! [`Handbook`] is a plain document model that any renderer can walk (the PDF is rendered
//! elsewhere); [`render_html`] writes ONE self-contained HTML file that opens from a USB stick
//! without a server or network: inline CSS (with print rules), an inline search script that
//! filters and highlights, and nothing hidden without JavaScript so Ctrl+F always works. The
//! content between two markers is hashed with SHA-256; the hash is printed in the file, so a
//! printed or copied handbook can be checked against the one the town released
//! ([`verify_html`]).

use crate::bia::{Bia, Criticality};
use crate::labels::{label, Lang};
use crate::restart::RestartPlan;
use crate::span::Span;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stadtmauer_core::ObjectId;
use stadtmauer_inventory::ObjectKind;
use std::collections::HashMap;
use std::fmt::Write as _;
use time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneKind {
    Mobile,
    Private,
    /// A line through the town's own telephone system (fails with it).
    Office,
    Satellite,
    Radio,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    pub number: String,
    pub kind: PhoneKind,
}

impl Phone {
    /// Works when the town's phone system is encrypted or switched off.
    pub fn independent(&self) -> bool {
        self.kind != PhoneKind::Office
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub function: Option<String>,
    pub phones: Vec<Phone>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrisisRole {
    pub role: String,
    pub member: Person,
    pub deputy: Option<Person>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmStep {
    pub trigger: String,
    pub notify: String,
    pub phone: Option<String>,
    /// Escalate to the next step when nobody answers within this time.
    pub escalate_after: Option<Span>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    StateCert,
    Bsi,
    PoliceZac,
    DataProtection,
    Insurer,
    IncidentResponse,
    ItProvider,
    Other,
}

impl ContactKind {
    /// Every kind a handbook should have (all but `Other`).
    pub const REQUIRED: [ContactKind; 7] = [
        ContactKind::StateCert,
        ContactKind::Bsi,
        ContactKind::PoliceZac,
        ContactKind::DataProtection,
        ContactKind::Insurer,
        ContactKind::IncidentResponse,
        ContactKind::ItProvider,
    ];
    pub fn label_key(self) -> &'static str {
        match self {
            ContactKind::StateCert => "contact.state_cert",
            ContactKind::Bsi => "contact.bsi",
            ContactKind::PoliceZac => "contact.police_zac",
            ContactKind::DataProtection => "contact.data_protection",
            ContactKind::Insurer => "contact.insurer",
            ContactKind::IncidentResponse => "contact.incident_response",
            ContactKind::ItProvider => "contact.it_provider",
            ContactKind::Other => "contact.other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalContact {
    pub kind: ContactKind,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// Hours after the alarm in which the task is due, e.g. (0, 1).
    pub from_hour: u32,
    pub to_hour: u32,
    pub task: String,
    pub who: Option<String>,
}

/// The built-in first-24-hours checklist in the handbook's language.
pub fn default_first_24h(lang: Lang) -> Vec<ChecklistItem> {
    [
        (0, 1, "c24.isolate"),
        (0, 1, "c24.alarm"),
        (0, 2, "c24.backups"),
        (0, 2, "c24.evidence"),
        (1, 4, "c24.report"),
        (1, 4, "c24.insurer"),
        (1, 4, "c24.ir"),
        (2, 8, "c24.manual"),
        (4, 12, "c24.accounts"),
        (4, 24, "c24.dpa"),
        (4, 24, "c24.communicate"),
        (0, 24, "c24.log"),
    ]
    .into_iter()
    .map(|(from_hour, to_hour, key)| ChecklistItem {
        from_hour,
        to_hour,
        task: label(lang, key).to_string(),
        who: None,
    })
    .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartRow {
    pub order: u32,
    pub wave: u32,
    pub name: String,
    pub kind: ObjectKind,
    pub start: Span,
    pub back: Span,
    pub team: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryRow {
    pub process: String,
    pub back: Span,
    pub mta: Option<Span>,
    pub beyond_mta: bool,
    pub missed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureSection {
    pub process: String,
    pub criticality: Criticality,
    pub mta: Span,
    pub rto: Span,
    pub summary: Option<String>,
    /// (who, what)
    pub steps: Vec<(String, String)>,
    pub materials: Option<String>,
    pub sustainable_for: Option<Span>,
}

/// The document model. Sections appear in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handbook {
    pub lang: Lang,
    pub town: String,
    pub version: String,
    pub date: Date,
    pub alarm_chain: Vec<AlarmStep>,
    pub crisis_team: Vec<CrisisRole>,
    pub external: Vec<ExternalContact>,
    pub first_24h: Vec<ChecklistItem>,
    pub restart: Vec<RestartRow>,
    pub recovery: Vec<RecoveryRow>,
    pub procedures: Vec<ProcedureSection>,
}

/// A gap the handbook itself reveals; shown at its top and to the coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum HandbookWarning {
    NoDeputy {
        role: String,
    },
    /// Neither member nor deputy can be reached without the town's phone system.
    NoIndependentPhone {
        role: String,
    },
    MissingContact {
        kind: ContactKind,
    },
    NoProcedure {
        process: String,
    },
}

/// The restart order (objects that need work, in plan order) and the processes' recovery.
pub fn restart_rows(plan: &RestartPlan) -> (Vec<RestartRow>, Vec<RecoveryRow>) {
    let rows = plan
        .steps
        .iter()
        .filter(|s| s.team.is_some() || s.back > s.start)
        .enumerate()
        .map(|(i, s)| RestartRow {
            order: i as u32 + 1,
            wave: s.wave,
            name: s.name.clone(),
            kind: s.kind,
            start: s.start,
            back: s.back,
            team: s.team,
        })
        .collect();
    let recovery = plan
        .processes
        .iter()
        .map(|p| RecoveryRow {
            process: p.name.clone(),
            back: p.back,
            mta: p.mta,
            beyond_mta: p.within_mta == Some(false),
            missed: p.missed.iter().map(|m| m.description.clone()).collect(),
        })
        .collect();
    (rows, recovery)
}

/// Manual procedures of the processes with a BIA, most critical first, then by MTA and name.
pub fn procedure_sections(
    bias: &[Bia],
    names: &HashMap<ObjectId, String>,
) -> Vec<ProcedureSection> {
    let mut out: Vec<ProcedureSection> = bias
        .iter()
        .map(|b| ProcedureSection {
            process: names
                .get(&b.process)
                .cloned()
                .unwrap_or_else(|| format!("#{}", b.process)),
            criticality: b.criticality,
            mta: b.mta,
            rto: b.rto,
            summary: b.procedure.summary.clone(),
            steps: b
                .procedure
                .steps
                .iter()
                .map(|s| (s.who.clone(), s.what.clone()))
                .collect(),
            materials: b.procedure.materials.clone(),
            sustainable_for: b.procedure.sustainable_for,
        })
        .collect();
    out.sort_by(|a, b| {
        b.criticality
            .cmp(&a.criticality)
            .then(a.mta.cmp(&b.mta))
            .then(a.process.cmp(&b.process))
    });
    out
}

impl Handbook {
    pub fn warnings(&self) -> Vec<HandbookWarning> {
        let mut w = Vec::new();
        for r in &self.crisis_team {
            if r.deputy.is_none() {
                w.push(HandbookWarning::NoDeputy {
                    role: r.role.clone(),
                });
            }
            let reachable = std::iter::once(&r.member)
                .chain(r.deputy.as_ref())
                .any(|p| p.phones.iter().any(Phone::independent));
            if !reachable {
                w.push(HandbookWarning::NoIndependentPhone {
                    role: r.role.clone(),
                });
            }
        }
        for kind in ContactKind::REQUIRED {
            if !self.external.iter().any(|c| c.kind == kind) {
                w.push(HandbookWarning::MissingContact { kind });
            }
        }
        for p in &self.procedures {
            if p.summary.is_none() && p.steps.is_empty() {
                w.push(HandbookWarning::NoProcedure {
                    process: p.process.clone(),
                });
            }
        }
        w
    }
}

pub use stadtmauer_core::markup::escape;

const CONTENT_START: &str = "<!--content-start-->";
const CONTENT_END: &str = "<!--content-end-->";

const CSS: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#111}\
h1{font-size:1.6rem;margin:.2rem 0}h2{border-bottom:2px solid #333;margin-top:2rem}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #999;padding:.25rem .4rem;text-align:left;vertical-align:top}\
th{background:#eee}.meta{color:#444;font-size:.9rem}.warn{background:#fff3cd;border:1px solid #b58900;padding:.5rem 1rem}\
.bad{color:#a00;font-weight:bold}.phone{white-space:nowrap}#search{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #ccc}\
#q{font-size:1rem;padding:.3rem;width:60%}mark{background:#ff0}.hidden{display:none}code{word-break:break-all}\
@media print{#search,nav{display:none}h2{page-break-before:always}h2.first{page-break-before:avoid}tr,li{page-break-inside:avoid}body{max-width:none;font-size:11pt}}";

// Filters every `.i` element (list item or table row) by the query and highlights the matches;
// restores the original markup first, so repeated searches never nest marks.
const SCRIPT: &str = r#"(function(){var s=document.getElementById('search');s.hidden=false;var q=document.getElementById('q');
var main=document.querySelector('main');var orig=main.innerHTML;
function mark(n,t){if(n.nodeType===3){var v=n.nodeValue,l=v.toLowerCase(),i=l.indexOf(t);if(i<0)return;var f=document.createDocumentFragment(),p=0;
while(i>=0){f.appendChild(document.createTextNode(v.slice(p,i)));var m=document.createElement('mark');m.textContent=v.slice(i,i+t.length);f.appendChild(m);p=i+t.length;i=l.indexOf(t,p);}
f.appendChild(document.createTextNode(v.slice(p)));n.parentNode.replaceChild(f,n);}else if(n.nodeType===1&&n.tagName!=='SCRIPT'){Array.prototype.slice.call(n.childNodes).forEach(function(c){mark(c,t);});}}
q.addEventListener('input',function(){main.innerHTML=orig;var t=q.value.trim().toLowerCase();if(!t)return;
main.querySelectorAll('.i').forEach(function(e){if(e.textContent.toLowerCase().indexOf(t)<0){e.classList.add('hidden');}else{mark(e,t);}});
main.querySelectorAll('section').forEach(function(sec){if(!sec.querySelector('.i:not(.hidden)')&&sec.textContent.toLowerCase().indexOf(t)<0)sec.classList.add('hidden');});});})();"#;

struct W {
    out: String,
    lang: Lang,
}

impl W {
    fn l(&self, key: &str) -> String {
        escape(label(self.lang, key))
    }
    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }
    fn text(&mut self, s: &str) {
        self.out.push_str(&escape(s));
    }
    fn opt(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.text(s),
            None => {
                let none = self.l("none");
                self.raw(&none);
            }
        }
    }
    fn head_row(&mut self, keys: &[&str]) {
        self.raw("<thead><tr>");
        for k in keys {
            let l = self.l(k);
            let _ = write!(self.out, "<th>{l}</th>");
        }
        self.raw("</tr></thead>");
    }
    fn section(&mut self, id: &str, key: &str, first: bool) {
        let l = self.l(key);
        let class = if first { " class=\"first\"" } else { "" };
        let _ = write!(self.out, "<section id=\"{id}\"><h2{class}>{l}</h2>");
    }
    fn person(&mut self, p: &Person) {
        self.raw("<strong>");
        self.text(&p.name);
        self.raw("</strong>");
        if let Some(f) = &p.function {
            self.raw(" (");
            self.text(f);
            self.raw(")");
        }
        for ph in &p.phones {
            let (cls, key) = if ph.independent() {
                ("phone", "independent")
            } else {
                ("phone bad", "depends_pbx")
            };
            let title = self.l(key);
            let _ = write!(self.out, "<br><span class=\"{cls}\" title=\"{title}\">☎ ");
            self.text(&ph.number);
            self.raw("</span>");
            if !ph.independent() {
                let _ = write!(self.out, " <small>({title})</small>");
            }
        }
        if let Some(e) = &p.email {
            self.raw("<br>");
            self.text(e);
        }
    }
}

fn body(h: &Handbook) -> String {
    let mut w = W {
        out: String::with_capacity(64 * 1024),
        lang: h.lang,
    };
    let warnings = h.warnings();
    if !warnings.is_empty() {
        let l = w.l("warnings");
        let _ = write!(w.out, "<div class=\"warn\"><strong>{l}</strong><ul>");
        for x in &warnings {
            w.raw("<li class=\"i\">");
            match x {
                HandbookWarning::NoDeputy { role } => {
                    let l = w.l("warn.no_deputy");
                    w.raw(&l);
                    w.raw(" ");
                    w.text(role);
                }
                HandbookWarning::NoIndependentPhone { role } => {
                    let l = w.l("warn.no_independent_phone");
                    w.raw(&l);
                    w.raw(" ");
                    w.text(role);
                }
                HandbookWarning::MissingContact { kind } => {
                    let (a, b) = (w.l("warn.missing_contact"), w.l(kind.label_key()));
                    let _ = write!(w.out, "{a} {b}");
                }
                HandbookWarning::NoProcedure { process } => {
                    let l = w.l("warn.no_procedure");
                    w.raw(&l);
                    w.raw(" ");
                    w.text(process);
                }
            }
            w.raw("</li>");
        }
        w.raw("</ul></div>");
    }

    w.section("alarm", "alarm", true);
    w.raw("<table>");
    w.head_row(&["step", "trigger", "notify", "phone", "escalate_after"]);
    w.raw("<tbody>");
    for (i, a) in h.alarm_chain.iter().enumerate() {
        let _ = write!(w.out, "<tr class=\"i\"><td>{}</td><td>", i + 1);
        w.text(&a.trigger);
        w.raw("</td><td>");
        w.text(&a.notify);
        w.raw("</td><td class=\"phone\">");
        w.opt(a.phone.as_deref());
        w.raw("</td><td>");
        w.opt(a.escalate_after.map(|s| s.to_string()).as_deref());
        w.raw("</td></tr>");
    }
    w.raw("</tbody></table></section>");

    w.section("crisis-team", "crisis_team", false);
    w.raw("<table>");
    w.head_row(&["role", "member", "deputy"]);
    w.raw("<tbody>");
    for r in &h.crisis_team {
        w.raw("<tr class=\"i\"><td>");
        w.text(&r.role);
        w.raw("</td><td>");
        w.person(&r.member);
        w.raw("</td><td>");
        match &r.deputy {
            Some(d) => w.person(d),
            None => {
                let l = w.l("no_deputy");
                let _ = write!(w.out, "<span class=\"bad\">{l}</span>");
            }
        }
        w.raw("</td></tr>");
    }
    w.raw("</tbody></table></section>");

    w.section("external", "external", false);
    w.raw("<table>");
    w.head_row(&["kind", "name", "phone", "email", "reference"]);
    w.raw("<tbody>");
    let mut ext: Vec<&ExternalContact> = h.external.iter().collect();
    ext.sort_by_key(|c| c.kind);
    for c in ext {
        let k = w.l(c.kind.label_key());
        let _ = write!(w.out, "<tr class=\"i\"><td>{k}</td><td>");
        w.text(&c.name);
        w.raw("</td><td class=\"phone\">");
        w.opt(c.phone.as_deref());
        w.raw("</td><td>");
        w.opt(c.email.as_deref());
        w.raw("</td><td>");
        w.opt(c.reference.as_deref());
        w.raw("</td></tr>");
    }
    w.raw("</tbody></table></section>");

    w.section("first-24h", "first_24h", false);
    w.raw("<table>");
    w.head_row(&["when", "task", "who", "done"]);
    w.raw("<tbody>");
    for c in &h.first_24h {
        let _ = write!(
            w.out,
            "<tr class=\"i\"><td>{}–{} h</td><td>",
            c.from_hour, c.to_hour
        );
        w.text(&c.task);
        w.raw("</td><td>");
        w.opt(c.who.as_deref());
        w.raw("</td><td>☐</td></tr>");
    }
    w.raw("</tbody></table></section>");

    w.section("restart", "restart", false);
    w.raw("<table>");
    w.head_row(&["step", "wave", "object", "kind", "start", "back", "team"]);
    w.raw("<tbody>");
    for r in &h.restart {
        let kind = w.l(&format!("kind.{}", r.kind.as_str()));
        let _ = write!(
            w.out,
            "<tr class=\"i\"><td>{}</td><td>{}</td><td>",
            r.order, r.wave
        );
        w.text(&r.name);
        let team = r
            .team
            .map(|t| (t + 1).to_string())
            .unwrap_or_else(|| w.l("none"));
        let _ = write!(
            w.out,
            "</td><td>{kind}</td><td>{}</td><td>{}</td><td>{team}</td></tr>",
            r.start, r.back
        );
    }
    w.raw("</tbody></table>");
    let l = w.l("recovery");
    let _ = write!(w.out, "<h3>{l}</h3><table>");
    w.head_row(&["process", "back", "mta", "missed"]);
    w.raw("<tbody>");
    for r in &h.recovery {
        w.raw("<tr class=\"i\"><td>");
        w.text(&r.process);
        let _ = write!(w.out, "</td><td>{}", r.back);
        if r.beyond_mta {
            let l = w.l("beyond_mta");
            let _ = write!(w.out, " <span class=\"bad\">({l})</span>");
        }
        w.raw("</td><td>");
        w.opt(r.mta.map(|s| s.to_string()).as_deref());
        w.raw("</td><td>");
        if r.missed.is_empty() {
            let l = w.l("none");
            w.raw(&l);
        } else {
            w.raw("<span class=\"bad\">");
            let joined = r.missed.join("; ");
            w.text(&joined);
            w.raw("</span>");
        }
        w.raw("</td></tr>");
    }
    w.raw("</tbody></table></section>");

    w.section("procedures", "procedures", false);
    for p in &h.procedures {
        w.raw("<article class=\"i\"><h3>");
        w.text(&p.process);
        let (ck, ml, rl) = (
            w.l(&format!("crit.{}", p.criticality.as_str())),
            w.l("mta"),
            w.l("rto"),
        );
        let cl = w.l("criticality");
        let _ = write!(
            w.out,
            "</h3><p class=\"meta\">{cl}: {ck} · {ml}: {} · {rl}: {}",
            p.mta, p.rto
        );
        if let Some(s) = p.sustainable_for {
            let l = w.l("sustainable");
            let _ = write!(w.out, " · {l}: {s}");
        }
        w.raw("</p>");
        if p.summary.is_none() && p.steps.is_empty() {
            let l = w.l("no_procedure");
            let _ = write!(w.out, "<p class=\"bad\">{l}</p>");
        }
        if let Some(s) = &p.summary {
            w.raw("<p>");
            w.text(s);
            w.raw("</p>");
        }
        if !p.steps.is_empty() {
            w.raw("<table>");
            w.head_row(&["who", "task"]);
            w.raw("<tbody>");
            for (who, what) in &p.steps {
                w.raw("<tr><td>");
                w.text(who);
                w.raw("</td><td>");
                w.text(what);
                w.raw("</td></tr>");
            }
            w.raw("</tbody></table>");
        }
        if let Some(m) = &p.materials {
            let l = w.l("materials");
            let _ = write!(w.out, "<p><strong>{l}:</strong> ");
            w.text(m);
            w.raw("</p>");
        }
        w.raw("</article>");
    }
    w.raw("</section>");
    w.out
}

/// SHA-256 (hex) of the handbook's content as [`render_html`] writes it between its markers.
pub fn content_checksum(h: &Handbook) -> String {
    hex::encode(Sha256::digest(body(h).as_bytes()))
}

/// The whole handbook as one self-contained HTML file.
pub fn render_html(h: &Handbook) -> String {
    let content = body(h);
    let sum = hex::encode(Sha256::digest(content.as_bytes()));
    let l = |k| escape(label(h.lang, k));
    let mut out = String::with_capacity(content.len() + 8 * 1024);
    let title = format!("{} {}", l("title"), escape(&h.town));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta name=\"content-sha256\" content=\"{sum}\"><title>{title}</title><style>{CSS}</style></head><body>\
<header><h1>{title}</h1><p class=\"meta\">{vl}: {version} · {dl}: {date} · {cl}: <code>{sum}</code></p></header>\
<div id=\"search\" hidden><label for=\"q\">{sl}</label> <input id=\"q\" type=\"search\" autocomplete=\"off\"> <small>{sh}</small></div>\
<nav><strong>{contents}</strong><ol>",
        lang = h.lang.code(),
        vl = l("version"),
        version = escape(&h.version),
        dl = l("date"),
        date = h.date,
        cl = l("checksum"),
        sl = l("search"),
        sh = l("search_hint"),
        contents = l("contents"),
    );
    for (id, key) in [
        ("alarm", "alarm"),
        ("crisis-team", "crisis_team"),
        ("external", "external"),
        ("first-24h", "first_24h"),
        ("restart", "restart"),
        ("procedures", "procedures"),
    ] {
        let _ = write!(out, "<li><a href=\"#{id}\">{}</a></li>", l(key));
    }
    out.push_str("</ol></nav><main>");
    out.push_str(CONTENT_START);
    out.push_str(&content);
    out.push_str(CONTENT_END);
    let _ = writeln!(
        out,
        "</main><footer class=\"meta\"><p>{title} · {}: {} · {}: {} · SHA-256: <code>{sum}</code></p></footer><script>{SCRIPT}</script></body></html>",
        l("version"),
        escape(&h.version),
        l("date"),
        h.date
    );
    out
}

/// Recomputes the checksum of a rendered handbook and compares it with the one it states.
pub fn verify_html(html: &str) -> bool {
    let content = html
        .split_once(CONTENT_START)
        .and_then(|(_, rest)| rest.split_once(CONTENT_END))
        .map(|(c, _)| c);
    let stated = html
        .split_once("<meta name=\"content-sha256\" content=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(s, _)| s);
    match (content, stated) {
        (Some(c), Some(s)) => hex::encode(Sha256::digest(c.as_bytes())) == s,
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use crate::fixture::*;
    use crate::restart::PlanOptions;
    use crate::scenario::{self, Scenario};
    use time::macros::{date, datetime};

    fn person(name: &str, phones: &[(&str, PhoneKind)]) -> Person {
        Person {
            name: name.into(),
            function: Some("Hauptamt".into()),
            phones: phones
                .iter()
                .map(|(n, k)| Phone {
                    number: (*n).into(),
                    kind: *k,
                })
                .collect(),
            email: None,
        }
    }

    pub fn handbook(lang: Lang) -> Handbook {
        let r = scenario::run(
            &graph(),
            &bias(),
            &Scenario::TotalOutage,
            PlanOptions {
                teams: 1,
                outage_start: datetime!(2026-11-29 12:00),
            },
        )
        .unwrap();
        let (restart, recovery) = restart_rows(&r.plan);
        let names: HashMap<ObjectId, String> =
            graph().nodes.into_iter().map(|n| (n.id, n.name)).collect();
        Handbook {
            lang,
            town: "Gemeinde <Birkenau> & Co".into(),
            version: "3".into(),
            date: date!(2026 - 11 - 28),
            alarm_chain: vec![AlarmStep {
                trigger: "Erpresserschreiben auf einem Bildschirm".into(),
                notify: "IT-Leitung".into(),
                phone: Some("0170 1234567".into()),
                escalate_after: Some(Span::minutes(15)),
            }],
            crisis_team: vec![
                CrisisRole {
                    role: "Leitung Krisenstab".into(),
                    member: person("Anna Beispiel", &[("0170 1111111", PhoneKind::Mobile)]),
                    deputy: Some(person("Bernd Muster", &[("-221", PhoneKind::Office)])),
                },
                CrisisRole {
                    role: "Kommunikation".into(),
                    member: person("Carla Probe", &[("-222", PhoneKind::Office)]),
                    deputy: None,
                },
            ],
            external: vec![
                ExternalContact {
                    kind: ContactKind::PoliceZac,
                    name: "LKA ZAC".into(),
                    phone: Some("0711 000".into()),
                    email: None,
                    reference: None,
                },
                ExternalContact {
                    kind: ContactKind::StateCert,
                    name: "CERT Land".into(),
                    phone: None,
                    email: Some("cert@land.example".into()),
                    reference: None,
                },
            ],
            first_24h: default_first_24h(lang),
            restart,
            recovery,
            procedures: procedure_sections(&bias(), &names),
        }
    }

    #[test]
    fn warnings_name_the_gaps() {
        let w = handbook(Lang::De).warnings();
        assert_eq!(
            w[0],
            HandbookWarning::NoDeputy {
                role: "Kommunikation".into()
            }
        );
        assert_eq!(
            w[1],
            HandbookWarning::NoIndependentPhone {
                role: "Kommunikation".into()
            }
        );
        let missing: Vec<_> = w
            .iter()
            .filter_map(|x| match x {
                HandbookWarning::MissingContact { kind } => Some(*kind),
                _ => None,
            })
            .collect();
        assert_eq!(
            missing,
            vec![
                ContactKind::Bsi,
                ContactKind::DataProtection,
                ContactKind::Insurer,
                ContactKind::IncidentResponse,
                ContactKind::ItProvider
            ]
        );
        assert_eq!(w.len(), 7);
    }

    #[test]
    fn html_is_self_contained_escaped_and_checksummed() {
        for lang in [Lang::De, Lang::En] {
            let h = handbook(lang);
            let html = render_html(&h);
            assert!(verify_html(&html));
            assert!(html.contains(&content_checksum(&h)));
            // Nothing from outside: no links, scripts or styles by URL.
            for bad in ["src=", "http://", "https://", "<link", "@import", "url("] {
                assert!(!html.contains(bad), "{bad} in {lang:?}");
            }
            assert!(html.contains("Gemeinde &lt;Birkenau&gt; &amp; Co"));
            assert!(html.contains("Auszahlung per Barscheck &lt;Notfall&gt;"));
            assert!(html.contains("Ordner &quot;Notbetrieb&quot; im Tresor"));
            assert!(!html.contains("<Birkenau>"));
            // Every label key was translated.
            for (key, _, _) in crate::labels::LABELS {
                assert!(!html.contains(&format!(">{key}<")), "untranslated {key}");
            }
            assert!(
                !html.contains("kind.") && !html.contains("crit.") && !html.contains("contact.")
            );
            // The restart order is there, and the missed payment run.
            let fin = html.find("Finanzserver").unwrap();
            let files = html.find("Fileserver").unwrap();
            assert!(html.find("Core-Switch").unwrap() < fin && fin < files);
            assert!(html.contains("Leistungen zum 1. des Monats"));
            // Search box only appears with JavaScript; print rules are there.
            assert!(html.contains("<div id=\"search\" hidden>") && html.contains("@media print"));
        }
        let de = render_html(&handbook(Lang::De));
        assert!(
            de.contains("Notfallhandbuch")
                && de.contains("Die ersten 24 Stunden")
                && de.contains("fällt mit ihr aus")
        );
        let en = render_html(&handbook(Lang::En));
        assert!(en.contains("Emergency handbook") && en.contains("Restart order"));
    }

    #[test]
    fn tampering_is_detected() {
        let html = render_html(&handbook(Lang::De));
        assert!(!verify_html(&html.replacen(
            "0170 1111111",
            "0170 9999999",
            1
        )));
        assert!(!verify_html("<html></html>"));
    }

    #[test]
    fn escape_covers_attribute_quotes() {
        assert_eq!(
            escape("<a href='x' title=\"y\">&</a>"),
            "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
