//! The handbook's fixed words in German and English. The handbook is read on paper or from a
//! USB stick, outside the web application and its i18n catalogs, so its few labels live here.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }
}

/// (key, German, English).
pub const LABELS: &[(&str, &str, &str)] = &[
    ("title", "Notfallhandbuch", "Emergency handbook"),
    ("version", "Version", "Version"),
    ("date", "Stand", "As of"),
    ("checksum", "SHA-256 des Inhalts", "SHA-256 of the content"),
    ("search", "Suchen", "Search"),
    (
        "search_hint",
        "Filtert alle Abschnitte; ohne JavaScript: Strg+F",
        "Filters every section; without JavaScript: Ctrl+F",
    ),
    ("contents", "Inhalt", "Contents"),
    (
        "alarm",
        "Alarmierung und Eskalation",
        "Alarm and escalation",
    ),
    ("crisis_team", "Krisenstab", "Crisis team"),
    ("external", "Externe Kontakte", "External contacts"),
    ("first_24h", "Die ersten 24 Stunden", "The first 24 hours"),
    ("restart", "Wiederanlaufreihenfolge", "Restart order"),
    (
        "recovery",
        "Prozesse: voraussichtlich wieder verfügbar",
        "Processes: expected back",
    ),
    (
        "procedures",
        "Notbetrieb je Prozess",
        "Manual operation per process",
    ),
    ("step", "Schritt", "Step"),
    ("trigger", "Auslöser", "Trigger"),
    ("notify", "Wer wird informiert", "Who is notified"),
    ("phone", "Telefon", "Phone"),
    ("escalate_after", "Eskalation nach", "Escalate after"),
    ("role", "Funktion", "Role"),
    ("member", "Mitglied", "Member"),
    ("deputy", "Vertretung", "Deputy"),
    ("no_deputy", "keine Vertretung benannt", "no deputy named"),
    (
        "independent",
        "unabhängig von der eigenen Telefonanlage",
        "independent of the town's phone system",
    ),
    (
        "depends_pbx",
        "über die eigene Telefonanlage – fällt mit ihr aus",
        "via the town's phone system – fails with it",
    ),
    ("kind", "Art", "Kind"),
    ("name", "Name", "Name"),
    ("email", "E-Mail", "E-mail"),
    (
        "reference",
        "Vertrags-/Aktenzeichen",
        "Contract / reference",
    ),
    ("when", "Zeitraum", "When"),
    ("task", "Aufgabe", "Task"),
    ("who", "Wer", "Who"),
    ("done", "Erledigt", "Done"),
    ("wave", "Welle", "Wave"),
    ("object", "Objekt", "Object"),
    ("start", "Beginn nach", "Starts after"),
    ("back", "Wieder verfügbar nach", "Back after"),
    ("team", "Team", "Team"),
    ("process", "Prozess", "Process"),
    ("mta", "MTA", "MTPD"),
    ("rto", "RTO", "RTO"),
    ("missed", "Verpasste Fristen", "Missed deadlines"),
    ("beyond_mta", "über der MTA", "beyond the MTPD"),
    ("criticality", "Kritikalität", "Criticality"),
    ("summary", "Vorgehen", "Approach"),
    (
        "materials",
        "Material und Ablageort",
        "Materials and where they are",
    ),
    ("sustainable", "Tragfähig für", "Sustainable for"),
    ("none", "—", "—"),
    (
        "no_procedure",
        "Kein Notbetrieb beschrieben",
        "No manual procedure described",
    ),
    (
        "warnings",
        "Lücken in diesem Handbuch",
        "Gaps in this handbook",
    ),
    ("kind.system", "IT-System", "IT system"),
    ("kind.application", "Anwendung", "Application"),
    ("kind.process", "Prozess", "Process"),
    ("kind.provider", "Dienstleister", "Provider"),
    ("kind.location", "Standort", "Location"),
    ("kind.connection", "Verbindung", "Connection"),
    ("crit.niedrig", "niedrig", "low"),
    ("crit.mittel", "mittel", "medium"),
    ("crit.hoch", "hoch", "high"),
    ("crit.sehr_hoch", "sehr hoch", "very high"),
    ("contact.state_cert", "CERT des Landes", "State CERT"),
    ("contact.bsi", "BSI", "BSI"),
    (
        "contact.police_zac",
        "Polizei – Zentrale Ansprechstelle Cybercrime (ZAC)",
        "Police cybercrime office (ZAC)",
    ),
    (
        "contact.data_protection",
        "Datenschutzaufsicht",
        "Data-protection authority",
    ),
    ("contact.insurer", "Cyberversicherung", "Cyber insurer"),
    (
        "contact.incident_response",
        "Incident-Response-Dienstleister",
        "Incident-response provider",
    ),
    ("contact.it_provider", "IT-Dienstleister", "IT provider"),
    ("contact.other", "Sonstige", "Other"),
    ("warn.no_deputy", "Keine Vertretung für", "No deputy for"),
    (
        "warn.no_independent_phone",
        "Keine Nummer unabhängig von der Telefonanlage für",
        "No number independent of the phone system for",
    ),
    (
        "warn.missing_contact",
        "Externer Kontakt fehlt:",
        "External contact missing:",
    ),
    (
        "warn.no_procedure",
        "Kein Notbetrieb beschrieben für",
        "No manual procedure for",
    ),
    // The default first-24-hours checklist (BSI "Maßnahmenkatalog Ransomware", DER.2.1).
    (
        "c24.isolate",
        "Betroffene Systeme vom Netz trennen (Netzwerkkabel ziehen, WLAN aus), NICHT ausschalten",
        "Disconnect affected systems from the network (unplug, Wi-Fi off), do NOT power them off",
    ),
    (
        "c24.alarm",
        "Krisenstab alarmieren, Alarmierungskette starten",
        "Alert the crisis team, start the alarm chain",
    ),
    (
        "c24.backups",
        "Datensicherungen vom Netz trennen und schützen; Zugangsdaten der Sicherung ändern",
        "Disconnect and protect the backups; change the backup credentials",
    ),
    (
        "c24.report",
        "Meldung an CERT des Landes und Polizei (ZAC); Anzeige erstatten",
        "Report to the state CERT and the police (ZAC); file a complaint",
    ),
    (
        "c24.insurer",
        "Versicherung informieren (Fristen der Police!)",
        "Inform the insurer (deadlines in the policy!)",
    ),
    (
        "c24.ir",
        "Incident-Response-Dienstleister beauftragen",
        "Engage the incident-response provider",
    ),
    (
        "c24.evidence",
        "Beweise sichern: Erpresserschreiben fotografieren, Logs sichern, nichts löschen",
        "Preserve evidence: photograph the ransom note, save logs, delete nothing",
    ),
    (
        "c24.accounts",
        "Administrative Konten und Domänen-Kennwörter zurücksetzen (nach Absprache mit IR)",
        "Reset administrative accounts and domain passwords (after agreeing with IR)",
    ),
    (
        "c24.manual",
        "Notbetrieb der kritischen Prozesse anlaufen lassen (Abschnitt Notbetrieb)",
        "Start manual operation of the critical processes (see manual operation)",
    ),
    (
        "c24.dpa",
        "Datenschutzverletzung prüfen; Meldung an die Aufsicht binnen 72 Stunden (Art. 33 DSGVO)",
        "Assess the personal-data breach; notify the authority within 72 hours (Art. 33 GDPR)",
    ),
    (
        "c24.communicate",
        "Mitarbeitende und Öffentlichkeit informieren (abgestimmte Sprachregelung)",
        "Inform staff and the public (agreed statement)",
    ),
    (
        "c24.log",
        "Lagetagebuch führen: jede Entscheidung mit Uhrzeit und Namen",
        "Keep a log: every decision with time and name",
    ),
];

/// The label for `key`, or the key itself when the table lacks it (a test keeps that from
/// happening in the handbook).
pub fn label(lang: Lang, key: &str) -> &str {
    LABELS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, de, en)| match lang {
            Lang::De => *de,
            Lang::En => *en,
        })
        .unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_filled() {
        let mut keys: Vec<_> = LABELS.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "duplicate label key");
        assert!(LABELS
            .iter()
            .all(|(_, de, en)| !de.is_empty() && !en.is_empty()));
        assert_eq!(label(Lang::En, "title"), "Emergency handbook");
        assert_eq!(label(Lang::De, "missing.key"), "missing.key");
    }
}
