//! Objects of the Informationsverbund, their dependencies, and protection levels.

use serde::{Deserialize, Serialize};
use stadtmauer_core::validate::{self, FieldErrors};
use stadtmauer_core::DomainError;

/// The kinds of objects BSI 200-2's structure analysis records.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// Geschäftsprozess / Fachaufgabe: a service to citizens or an internal task.
    Process,
    /// Anwendung / Fachverfahren.
    Application,
    /// IT-System: server, client group, network device, telephony, printer, ICS …
    System,
    /// Standort, Gebäude, Raum.
    Location,
    /// Kommunikationsverbindung (WAN line, VPN tunnel, internet uplink).
    Connection,
    /// Outside IT provider (IT-Dienstleister), possibly shared by the whole Verbund.
    Provider,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 6] = [
        ObjectKind::Process,
        ObjectKind::Application,
        ObjectKind::System,
        ObjectKind::Location,
        ObjectKind::Connection,
        ObjectKind::Provider,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Process => "process",
            ObjectKind::Application => "application",
            ObjectKind::System => "system",
            ObjectKind::Location => "location",
            ObjectKind::Connection => "connection",
            ObjectKind::Provider => "provider",
        }
    }
    pub fn parse(s: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
    pub fn label_key(self) -> &'static str {
        match self {
            ObjectKind::Process => "inv.kind.process",
            ObjectKind::Application => "inv.kind.application",
            ObjectKind::System => "inv.kind.system",
            ObjectKind::Location => "inv.kind.location",
            ObjectKind::Connection => "inv.kind.connection",
            ObjectKind::Provider => "inv.kind.provider",
        }
    }
    /// May an object of this kind depend on one of `target`'s kind? The direction is "uses":
    /// a process uses an application, which runs on a system, which stands in a room.
    pub fn may_depend_on(self, target: ObjectKind) -> bool {
        use ObjectKind::*;
        matches!(
            (self, target),
            (Process, Process | Application | Provider)
                | (Application, Application | System | Provider)
                | (System, System | Location | Connection | Provider)
                | (Connection, Location | Provider)
                | (Location, Location)
                | (Provider, Location)
        )
    }
}

/// Schutzbedarfskategorie.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Normal = 1,
    Hoch = 2,
    SehrHoch = 3,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Normal, Level::Hoch, Level::SehrHoch];
    pub fn as_i64(self) -> i64 {
        self as i64
    }
    pub fn from_i64(n: i64) -> Option<Level> {
        match n {
            1 => Some(Level::Normal),
            2 => Some(Level::Hoch),
            3 => Some(Level::SehrHoch),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Normal => "normal",
            Level::Hoch => "hoch",
            Level::SehrHoch => "sehr_hoch",
        }
    }
    /// Accepts what spreadsheets contain: "normal", "hoch", "sehr hoch", "sehr_hoch", "1"–"3",
    /// "high", "very high".
    pub fn parse(s: &str) -> Option<Level> {
        match s.trim().to_lowercase().replace(['_', '-'], " ").as_str() {
            "normal" | "1" | "n" => Some(Level::Normal),
            "hoch" | "high" | "2" | "h" => Some(Level::Hoch),
            "sehr hoch" | "very high" | "3" | "sh" => Some(Level::SehrHoch),
            _ => None,
        }
    }
    pub fn label_key(self) -> &'static str {
        match self {
            Level::Normal => "inv.level.normal",
            Level::Hoch => "inv.level.hoch",
            Level::SehrHoch => "inv.level.sehr_hoch",
        }
    }
}

/// Protection requirement in the three basic values: confidentiality, integrity, availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Protection {
    pub c: Level,
    pub i: Level,
    pub a: Level,
}

impl Protection {
    pub const NORMAL: Protection = Protection {
        c: Level::Normal,
        i: Level::Normal,
        a: Level::Normal,
    };
    pub fn get(&self, d: usize) -> Level {
        match d {
            0 => self.c,
            1 => self.i,
            _ => self.a,
        }
    }
    pub fn set(&mut self, d: usize, l: Level) {
        match d {
            0 => self.c = l,
            1 => self.i = l,
            _ => self.a = l,
        }
    }
    /// The highest of the three, for sorting and weighting.
    pub fn max(&self) -> Level {
        self.c.max(self.i).max(self.a)
    }
}

/// How an application is operated (council question: which share is run by the town itself?).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperatingModel {
    SelfHosted,
    Provider,
    Saas,
}

impl OperatingModel {
    pub const ALL: [OperatingModel; 3] = [
        OperatingModel::SelfHosted,
        OperatingModel::Provider,
        OperatingModel::Saas,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            OperatingModel::SelfHosted => "self_hosted",
            OperatingModel::Provider => "provider",
            OperatingModel::Saas => "saas",
        }
    }
    pub fn parse(s: &str) -> Option<OperatingModel> {
        match s.trim().to_lowercase().replace(['-', ' '], "_").as_str() {
            "self_hosted" | "eigenbetrieb" | "selbst" | "selbst_betrieben" | "on_premise"
            | "onprem" => Some(OperatingModel::SelfHosted),
            "provider" | "dienstleister" | "rechenzentrum" | "extern" => {
                Some(OperatingModel::Provider)
            }
            "saas" | "cloud" => Some(OperatingModel::Saas),
            _ => None,
        }
    }
    pub fn label_key(self) -> &'static str {
        match self {
            OperatingModel::SelfHosted => "inv.op.self_hosted",
            OperatingModel::Provider => "inv.op.provider",
            OperatingModel::Saas => "inv.op.saas",
        }
    }
}

/// Whether an object is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Planned,
    Active,
    Retired,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Planned, Status::Active, Status::Retired];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Active => "active",
            Status::Retired => "retired",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        match s.trim().to_lowercase().as_str() {
            "planned" | "geplant" => Some(Status::Planned),
            "active" | "aktiv" | "in betrieb" | "" => Some(Status::Active),
            "retired" | "ausgemustert" | "außer betrieb" | "ausser betrieb" => {
                Some(Status::Retired)
            }
            _ => None,
        }
    }
    pub fn label_key(self) -> &'static str {
        match self {
            Status::Planned => "inv.status.planned",
            Status::Active => "inv.status.active",
            Status::Retired => "inv.status.retired",
        }
    }
}

/// The kind-specific and common data of an object, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ObjectData {
    pub kind: ObjectKind,
    pub name: String,
    pub description: Option<String>,
    /// The person or office responsible (Verantwortliche/r).
    pub owner: Option<String>,
    pub status: Status,
    /// Processes: personal data, special categories (Art. 9 GDPR), classified information (VS-NfD).
    pub data_personal: bool,
    pub data_special: bool,
    pub data_classified: bool,
    /// Applications: vendor, product, version, operating model, vendor country.
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub operating_model: Option<OperatingModel>,
    pub vendor_country: Option<String>,
    /// Systems: type (server, client group …) and, for groups, how many.
    pub system_type: Option<String>,
    pub count: Option<i64>,
    /// Providers: contract and contact.
    pub contract: Option<String>,
    pub contact: Option<String>,
    /// Providers only: shared by every member of the Verbund (run by the office's records).
    pub shared: bool,
    /// Processes: the protection requirement set directly.
    pub own: Option<Protection>,
}

/// System types as the municipal world knows them.
pub const SYSTEM_TYPES: &[&str] = &[
    "server",
    "virtualisation",
    "client_group",
    "network",
    "security",
    "remote_access",
    "telephony",
    "printer",
    "ics",
    "mobile",
    "other",
];

/// What a form, API call or spreadsheet row submits, before validation. Everything is text.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ObjectInput {
    pub kind: String,
    pub name: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub status: Option<String>,
    pub data_personal: Option<String>,
    pub data_special: Option<String>,
    pub data_classified: Option<String>,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub operating_model: Option<String>,
    pub vendor_country: Option<String>,
    pub system_type: Option<String>,
    pub count: Option<String>,
    pub contract: Option<String>,
    pub contact: Option<String>,
    pub shared: Option<String>,
    /// Processes: Schutzbedarf for confidentiality, integrity, availability.
    pub need_c: Option<String>,
    pub need_i: Option<String>,
    pub need_a: Option<String>,
}

/// "ja", "x", "1", "true", "yes", "on" are yes; empty, "nein", "0", "false", "no" are no.
pub fn parse_flag(s: Option<&str>) -> Option<bool> {
    match s.map(|v| v.trim().to_lowercase()).as_deref() {
        None | Some("") | Some("nein") | Some("no") | Some("0") | Some("false") | Some("-") => {
            Some(false)
        }
        Some("ja") | Some("yes") | Some("x") | Some("1") | Some("true") | Some("on")
        | Some("j") | Some("y") => Some(true),
        _ => None,
    }
}

impl ObjectInput {
    pub fn validate(&self) -> Result<ObjectData, DomainError> {
        let mut e = FieldErrors::default();
        let kind = ObjectKind::parse(&self.kind);
        if kind.is_none() {
            e.add("kind", "err.choose_one");
        }
        let kind = kind.unwrap_or(ObjectKind::System);
        let name = validate::required_text(&mut e, "name", &self.name, 160);
        let description =
            validate::optional_text(&mut e, "description", self.description.as_deref(), 2000);
        let owner = validate::optional_text(&mut e, "owner", self.owner.as_deref(), 160);
        let status = match self.status.as_deref().map(Status::parse) {
            None => Status::Active,
            Some(Some(s)) => s,
            Some(None) => {
                e.add("status", "err.choose_one");
                Status::Active
            }
        };
        let mut flag = |field: &'static str, v: &Option<String>| match parse_flag(v.as_deref()) {
            Some(b) => b,
            None => {
                e.add(field, "err.yes_no");
                false
            }
        };
        let data_personal = flag("data_personal", &self.data_personal);
        let data_special = flag("data_special", &self.data_special);
        let data_classified = flag("data_classified", &self.data_classified);
        let shared = flag("shared", &self.shared);
        let text = |e: &mut FieldErrors, field: &'static str, v: &Option<String>, max| {
            validate::optional_text(e, field, v.as_deref(), max)
        };
        let vendor = text(&mut e, "vendor", &self.vendor, 120);
        let product = text(&mut e, "product", &self.product, 120);
        let version = text(&mut e, "version", &self.version, 60);
        let vendor_country = text(&mut e, "vendor_country", &self.vendor_country, 60);
        let contract = text(&mut e, "contract", &self.contract, 500);
        let contact = text(&mut e, "contact", &self.contact, 200);
        let operating_model = match self
            .operating_model
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(raw) => {
                let m = OperatingModel::parse(raw);
                if m.is_none() {
                    e.add("operating_model", "err.choose_one");
                }
                m
            }
        };
        let system_type = match self
            .system_type
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(raw) => {
                let t = raw.to_lowercase();
                if !SYSTEM_TYPES.contains(&t.as_str()) {
                    e.add("system_type", "err.choose_one");
                }
                Some(t)
            }
        };
        let count = validate::optional_count(&mut e, "count", self.count.as_deref(), 1_000_000);
        let mut level = |field: &'static str, v: &Option<String>| -> Option<Level> {
            let raw = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
            let l = Level::parse(raw);
            if l.is_none() {
                e.add(field, "err.level");
            }
            l
        };
        let (c, i, a) = (
            level("need_c", &self.need_c),
            level("need_i", &self.need_i),
            level("need_a", &self.need_a),
        );
        let own = if kind == ObjectKind::Process {
            Some(Protection {
                c: c.unwrap_or(Level::Normal),
                i: i.unwrap_or(Level::Normal),
                a: a.unwrap_or(Level::Normal),
            })
        } else {
            if c.is_some() || i.is_some() || a.is_some() {
                // Only processes carry their own requirement; other objects inherit it (or get an
                // override with a written reason).
                e.add("need_c", "err.need_only_on_processes");
            }
            None
        };
        if shared && kind != ObjectKind::Provider {
            e.add("shared", "err.shared_only_providers");
        }
        e.into_result(ObjectData {
            kind,
            name,
            description,
            owner,
            status,
            data_personal,
            data_special,
            data_classified,
            vendor,
            product,
            version,
            operating_model,
            vendor_country,
            system_type,
            count,
            contract,
            contact,
            shared,
            own,
        })
    }
}

/// A manual override of an inherited requirement (cumulation or distribution effect), which must
/// be justified in writing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Override {
    pub value: Protection,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OverrideInput {
    pub c: String,
    pub i: String,
    pub a: String,
    pub reason: String,
}

impl OverrideInput {
    pub fn validate(&self) -> Result<Override, DomainError> {
        let mut e = FieldErrors::default();
        let mut lvl = |f: &'static str, v: &str| {
            Level::parse(v).unwrap_or_else(|| {
                e.add(f, "err.level");
                Level::Normal
            })
        };
        let value = Protection {
            c: lvl("c", &self.c),
            i: lvl("i", &self.i),
            a: lvl("a", &self.a),
        };
        let reason = validate::required_text(&mut e, "reason", &self.reason, 2000);
        if e.get("reason").is_none() && reason.chars().count() < 10 {
            e.add("reason", "err.reason_too_short");
        }
        e.into_result(Override { value, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_from_spreadsheets() {
        for (s, l) in [
            ("normal", Level::Normal),
            ("Hoch", Level::Hoch),
            ("sehr hoch", Level::SehrHoch),
            ("sehr_hoch", Level::SehrHoch),
            ("3", Level::SehrHoch),
            ("very high", Level::SehrHoch),
        ] {
            assert_eq!(Level::parse(s), Some(l), "{s}");
        }
        assert_eq!(Level::parse("mittel"), None);
    }

    #[test]
    fn dependency_directions() {
        use ObjectKind::*;
        assert!(Process.may_depend_on(Application));
        assert!(Application.may_depend_on(System));
        assert!(System.may_depend_on(Location));
        assert!(System.may_depend_on(Provider));
        assert!(!Location.may_depend_on(Process));
        assert!(!System.may_depend_on(Process));
    }

    #[test]
    fn process_needs_and_field_errors() {
        let ok = ObjectInput {
            kind: "process".into(),
            name: "Einwohnermeldewesen".into(),
            need_c: Some("hoch".into()),
            data_personal: Some("ja".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(
            ok.own,
            Some(Protection {
                c: Level::Hoch,
                i: Level::Normal,
                a: Level::Normal
            })
        );
        assert!(ok.data_personal);
        let Err(DomainError::Invalid(e)) = ObjectInput {
            kind: "system".into(),
            name: "".into(),
            need_a: Some("hoch".into()),
            data_special: Some("vielleicht".into()),
            count: Some("-1".into()),
            ..Default::default()
        }
        .validate() else {
            unreachable!()
        };
        assert_eq!(e.get("name"), Some("err.required"));
        assert_eq!(e.get("need_c"), Some("err.need_only_on_processes"));
        assert_eq!(e.get("data_special"), Some("err.yes_no"));
        assert_eq!(e.get("count"), Some("err.out_of_range"));
    }

    #[test]
    fn overrides_need_a_reason() {
        let Err(DomainError::Invalid(e)) = OverrideInput {
            c: "hoch".into(),
            i: "normal".into(),
            a: "x".into(),
            reason: "weil".into(),
        }
        .validate() else {
            unreachable!()
        };
        assert_eq!(e.get("a"), Some("err.level"));
        assert_eq!(e.get("reason"), Some("err.reason_too_short"));
    }
}

/// An object as stored, with its derived requirement.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Object {
    pub id: stadtmauer_core::ObjectId,
    pub organisation_id: stadtmauer_core::OrgId,
    #[serde(flatten)]
    pub data: ObjectData,
    /// A justified manual value that replaces the inherited one.
    pub override_value: Option<Override>,
    /// The requirement after inheritance.
    pub effective: Protection,
    /// Per dimension (C, I, A), the object the effective value was inherited from.
    pub via: [Option<stadtmauer_core::ObjectId>; 3],
}

/// Enough of an object to name it in a list or a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ObjectRef {
    pub id: stadtmauer_core::ObjectId,
    pub organisation_id: stadtmauer_core::OrgId,
    pub kind: ObjectKind,
    pub name: String,
}

/// A dependency: `from` uses `to`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Link {
    pub id: stadtmauer_core::LinkId,
    pub from: ObjectRef,
    pub to: ObjectRef,
}

impl ObjectKind {
    /// Technical records (IT staff may write them); the rest is the coordinator's.
    pub fn is_technical(self) -> bool {
        matches!(
            self,
            ObjectKind::Application
                | ObjectKind::System
                | ObjectKind::Location
                | ObjectKind::Connection
        )
    }
}
