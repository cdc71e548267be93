//! Template contexts. Every page carries a [`Chrome`]: language, the logged-in user's navigation,
//! the CSRF token for its forms, and a one-time message.

use crate::auth::CurrentUser;
use crate::i18n::{Lang, Tr};
use askama::Template;
use stadtmauer_core::audit::Entry;
use stadtmauer_core::org::{Contact, Organisation, Verbund};
use stadtmauer_core::user::{Membership, Role, User};
use stadtmauer_core::validate::FieldErrors;
use stadtmauer_core::{Access, OrgId};
use stadtmauer_store::orgs::{Dependents, OrgSummary};
use stadtmauer_store::sessions::TokenInfo;
use stadtmauer_store::users::UserWithRoles;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub struct NavUser {
    pub name: String,
    pub is_admin: bool,
    /// Shows the users and audit pages (needs read access somewhere).
    pub reads_records: bool,
}

pub struct Chrome {
    pub tr: Tr,
    pub title: String,
    pub user: Option<NavUser>,
    pub csrf: String,
    pub active: &'static str,
    /// An i18n key of a one-time confirmation ("Gespeichert.").
    pub flash: Option<&'static str>,
    /// Field errors of the form being shown again. Pages with two forms use distinct field names.
    pub errors: FieldErrors,
}

/// Messages a redirect may ask the next page to show; anything else in `?msg=` is ignored.
const FLASH: &[&str] = &[
    "msg.saved",
    "msg.created",
    "msg.deleted",
    "msg.revoked",
    "msg.password_changed",
    "msg.totp_enabled",
    "msg.totp_disabled",
    "msg.language",
];

impl Chrome {
    pub fn anonymous(tr: Tr, csrf: &str) -> Chrome {
        Chrome {
            tr,
            title: String::new(),
            user: None,
            csrf: csrf.to_string(),
            active: "",
            flash: None,
            errors: FieldErrors::default(),
        }
    }
    pub fn new(tr: Tr, me: &CurrentUser, title: impl Into<String>, active: &'static str) -> Chrome {
        Chrome {
            tr,
            title: title.into(),
            user: Some(NavUser {
                name: me.user.display_name.clone(),
                is_admin: me.scope.admin,
                reads_records: !me.scope.with(Access::Read).is_empty(),
            }),
            csrf: me.session.csrf_token.clone(),
            active,
            flash: None,
            errors: FieldErrors::default(),
        }
    }
    pub fn with_flash(mut self, msg: Option<&str>) -> Chrome {
        self.flash = msg.and_then(|m| FLASH.iter().find(|f| **f == m).copied());
        self
    }
    pub fn with_errors(mut self, errors: FieldErrors) -> Chrome {
        self.errors = errors;
        self
    }
    /// Error message of a form field, translated.
    pub fn err(&self, field: &str) -> Option<&'static str> {
        self.errors.get(field).map(|k| self.tr.s(k))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub c: Chrome,
    pub code: u16,
    pub message: &'static str,
    /// The field messages of refused input (i18n keys), when the refusal names them.
    pub details: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "platform/login.html")]
pub struct LoginPage {
    pub c: Chrome,
    pub email: String,
    pub next: String,
    pub failed: bool,
}

#[derive(Template)]
#[template(path = "platform/login_totp.html")]
pub struct TotpLoginPage {
    pub c: Chrome,
    pub failed: bool,
}

/// One Verbund's members as the dashboard shows them.
pub struct VerbundBlock {
    pub verbund: Option<Verbund>,
    pub members: Vec<OrgSummary>,
    pub inhabitants: i64,
    pub staff: i64,
    pub workstations: i64,
    pub manages: bool,
}

#[derive(Template)]
#[template(path = "platform/dashboard.html")]
pub struct DashboardPage {
    pub c: Chrome,
    pub blocks: Vec<VerbundBlock>,
    pub org_count: usize,
    pub rows: Vec<AuditRow>,
    /// The security card, rendered (and cached) by `dashboard::security_card`.
    pub security_html: Arc<str>,
}

#[derive(Template)]
#[template(path = "platform/verbuende.html")]
pub struct VerbuendePage {
    pub c: Chrome,
    pub verbuende: Vec<Verbund>,
    pub can_create: bool,
    pub name: String,
    pub office: String,
}

#[derive(Template)]
#[template(path = "platform/verbund.html")]
pub struct VerbundPage {
    pub c: Chrome,
    pub block: VerbundBlock,
}

#[derive(Template)]
#[template(path = "platform/orgs.html")]
pub struct OrgsPage {
    pub c: Chrome,
    pub orgs: Vec<(Organisation, Option<String>)>,
    pub can_create: bool,
}

#[derive(Template)]
#[template(path = "platform/org.html")]
pub struct OrgPage {
    pub c: Chrome,
    pub org: Organisation,
    pub verbund: Option<String>,
    /// The rendered contacts partial (also served alone to htmx).
    pub contacts_html: String,
    pub members: Vec<(User, Vec<Membership>)>,
    pub rows: Vec<AuditRow>,
    pub can_write: bool,
    pub can_read: bool,
    pub can_delete: bool,
}

#[derive(Template)]
#[template(path = "platform/contacts_partial.html")]
pub struct ContactsPartial {
    pub tr: Tr,
    pub csrf: String,
    pub org_id: OrgId,
    pub contacts: Vec<Contact>,
    pub can_write: bool,
    pub errors: FieldErrors,
    pub form: stadtmauer_core::org::ContactInput,
}

impl ContactsPartial {
    pub fn err(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(|k| self.tr.s(k))
    }
}

#[derive(Template)]
#[template(path = "platform/org_form.html")]
pub struct OrgFormPage {
    pub c: Chrome,
    /// `None` when creating.
    pub org_id: Option<OrgId>,
    pub form: stadtmauer_core::org::OrganisationInput,
    /// Verbünde the user may add members to (only when creating).
    pub verbuende: Vec<Verbund>,
    pub allow_no_verbund: bool,
}

impl OrgFormPage {
    pub fn kinds(&self) -> Vec<(&'static str, &str)> {
        stadtmauer_core::org::OrgKind::ALL
            .iter()
            .map(|k| (k.as_str(), self.c.tr.s(k.label_key())))
            .collect()
    }
}

#[derive(Template)]
#[template(path = "platform/org_delete.html")]
pub struct OrgDeletePage {
    pub c: Chrome,
    pub org: Organisation,
    pub dependents: Dependents,
}

#[derive(Template)]
#[template(path = "platform/users.html")]
pub struct UsersPage {
    pub c: Chrome,
    pub users: Vec<UserWithRoles>,
    pub can_create: bool,
}

/// An organisation a role can be granted in, for select boxes.
pub struct OrgChoice {
    pub id: OrgId,
    pub name: String,
}

#[derive(Template)]
#[template(path = "platform/user_new.html")]
pub struct UserNewPage {
    pub c: Chrome,
    pub form: UserNewForm,
    pub orgs: Vec<OrgChoice>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UserNewForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub organisation_id: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub valid_until: Option<String>,
}

impl UserNewPage {
    pub fn roles(&self) -> Vec<(&'static str, &str)> {
        roles(self.c.tr)
    }
}

pub fn roles(tr: Tr) -> Vec<(&'static str, &'static str)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str(), tr_static(tr, r.label_key())))
        .collect()
}

fn tr_static(tr: Tr, key: &'static str) -> &'static str {
    tr.s(key)
}

#[derive(Template)]
#[template(path = "platform/user.html")]
pub struct UserPage {
    pub c: Chrome,
    pub u: UserWithRoles,
    pub orgs: Vec<OrgChoice>,
    pub form_email: String,
    pub form_name: String,
}

impl UserPage {
    pub fn roles(&self) -> Vec<(&'static str, &str)> {
        roles(self.c.tr)
    }
}

#[derive(Template)]
#[template(path = "platform/secret_shown.html")]
pub struct SecretShownPage {
    pub c: Chrome,
    /// i18n key of the heading.
    pub heading: &'static str,
    /// i18n key of the explanation.
    pub explanation: &'static str,
    pub secret: String,
    pub back: String,
}

/// An audit entry prepared for display.
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub organisation: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// Changed fields: label, before, after (shared with the memo of prepared entries).
    pub changes: Arc<Changes>,
}

/// How much of an entry's before → after a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Detail {
    /// Every changed field in full (audit page, organisation page).
    Full,
    /// The first few changed fields, long values cut (the dashboard's "recent changes").
    Summary,
}

/// Fields the summary shows of one entry, and characters of one value.
const SUMMARY_FIELDS: usize = 4;
const SUMMARY_CHARS: usize = 80;

/// The changed fields of one entry as shown.
#[derive(Debug, Default)]
pub struct Changes {
    pub fields: Vec<(String, String, String)>,
    /// "… and 3 more fields" when the summary left some out.
    pub more: Option<String>,
}

/// Prepared changes by (entry hash, language, detail). An entry never changes once written (its
/// hash covers every field), so a prepared one is valid for good; the dashboard shows the same
/// few entries to every request until the next write, and parsing their before/after JSON anew
/// each time cost more than the rest of the page.
type Memo = HashMap<(String, Lang, Detail), Arc<Changes>>;
const MEMO_CAPACITY: usize = 2_000;

fn memo() -> &'static Mutex<Memo> {
    static MEMO: OnceLock<Mutex<Memo>> = OnceLock::new();
    MEMO.get_or_init(Default::default)
}

fn cut(mut s: String, detail: Detail) -> String {
    if detail == Detail::Summary {
        if let Some((i, _)) = s.char_indices().nth(SUMMARY_CHARS) {
            s.truncate(i);
            s.push('…');
        }
    }
    s
}

fn prepare(tr: Tr, e: &Entry, detail: Detail) -> Changes {
    let parse = |s: &Option<String>| -> serde_json::Map<String, serde_json::Value> {
        match s.as_deref().map(serde_json::from_str::<serde_json::Value>) {
            Some(Ok(serde_json::Value::Object(m))) => m,
            _ => serde_json::Map::new(),
        }
    };
    let before = parse(&e.before);
    let after = parse(&e.after);
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let show = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => "–".to_string(),
        Some(serde_json::Value::String(s)) => cut(s.clone(), detail),
        Some(other) => cut(other.to_string(), detail),
    };
    let changed: Vec<&String> = keys
        .into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    let shown = match detail {
        Detail::Full => changed.len(),
        Detail::Summary => changed.len().min(SUMMARY_FIELDS),
    };
    let fields = changed[..shown]
        .iter()
        .map(|k| (tr.field(k), show(before.get(*k)), show(after.get(*k))))
        .collect();
    let more = (changed.len() > shown).then(|| {
        tr.f(
            "audit.more_fields",
            &[("n", &tr.num((changed.len() - shown) as i64))],
        )
    });
    Changes { fields, more }
}

impl AuditRow {
    pub fn from_entry(
        tr: Tr,
        e: &Entry,
        detail: Detail,
        org_name: impl Fn(Option<OrgId>) -> String,
    ) -> AuditRow {
        let key = (e.hash.clone(), tr.lang, detail);
        let cached = memo()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        let changes = match cached {
            Some(c) => c,
            None => {
                let c = Arc::new(prepare(tr, e, detail));
                let mut m = memo().lock().unwrap_or_else(|p| p.into_inner());
                if m.len() >= MEMO_CAPACITY {
                    m.clear();
                }
                m.insert(key, c.clone());
                c
            }
        };
        let action_key = format!("audit.action.{}", e.action);
        let entity_key = format!("audit.entity.{}", e.entity);
        AuditRow {
            seq: e.seq,
            at: tr.datetime(e.at),
            actor: e.actor.clone(),
            organisation: org_name(e.organisation_id),
            action: tr.or(&action_key, &e.action).to_string(),
            entity: tr.or(&entity_key, &e.entity).to_string(),
            entity_id: e.entity_id.clone(),
            changes,
        }
    }
}

#[derive(Template)]
#[template(path = "platform/audit.html")]
pub struct AuditPage {
    pub c: Chrome,
    pub rows: Vec<AuditRow>,
    pub orgs: Vec<OrgChoice>,
    pub selected: Option<OrgId>,
    /// Link to older entries, if there are more.
    pub older: Option<String>,
}

impl AuditPage {
    pub fn is_selected(&self, id: &OrgId) -> bool {
        self.selected == Some(*id)
    }
}

#[derive(Template)]
#[template(path = "platform/account.html")]
pub struct AccountPage {
    pub c: Chrome,
    pub user: User,
    pub memberships: Vec<Membership>,
    pub tokens: Vec<TokenInfo>,
}

#[derive(Template)]
#[template(path = "platform/totp_enrol.html")]
pub struct TotpEnrolPage {
    pub c: Chrome,
    pub secret: String,
    pub qr_svg: String,
    pub failed: bool,
}
