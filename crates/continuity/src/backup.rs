//! The backup register: per system or data set, how it is backed up, where the copies lie, and
//! what the last restore test showed. Validation turns form text into [`Backup`].

use crate::bia::parse_date;
use crate::span::Span;
use serde::{Deserialize, Serialize};
use stadtmauer_core::validate::{self, FieldErrors};
use stadtmauer_core::{DomainError, ObjectId};
use stadtmauer_inventory::model::parse_flag;
use time::Date;

/// Storage medium of a copy; "2 media" in 3-2-1-1-0 counts distinct values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    Disk,
    Nas,
    Tape,
    Cloud,
    Removable,
    Optical,
}

impl Medium {
    pub fn parse(s: &str) -> Option<Medium> {
        match s.trim().to_lowercase().as_str() {
            "disk" | "festplatte" | "hdd" | "ssd" | "storage" | "san" => Some(Medium::Disk),
            "nas" => Some(Medium::Nas),
            "tape" | "band" | "lto" => Some(Medium::Tape),
            "cloud" | "s3" | "objektspeicher" => Some(Medium::Cloud),
            "removable" | "usb" | "rdx" | "wechseldatenträger" => Some(Medium::Removable),
            "optical" | "dvd" | "blu-ray" | "bluray" => Some(Medium::Optical),
            _ => None,
        }
    }
}

/// One copy of the backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupCopy {
    pub medium: Medium,
    pub location: String,
    /// In another building or fire compartment than the production data.
    pub offsite: bool,
    /// Disconnected or air-gapped (a tape on the shelf, a rotated USB disk).
    pub offline: bool,
    /// Write-once / retention-locked: cannot be deleted or encrypted by an attacker with admin rights.
    pub immutable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreResult {
    Success,
    Partial,
    Failed,
}

/// A restore test: what was restored, how long it took, how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreTest {
    pub date: Date,
    pub duration: Span,
    pub result: RestoreResult,
    /// Errors found (files unreadable, checks failed); the "0" in 3-2-1-1-0.
    pub errors: u32,
    pub notes: Option<String>,
}

/// A validated register entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// The systems whose data this backup holds.
    pub systems: Vec<ObjectId>,
    pub name: String,
    /// Full, incremental, image, snapshot, replication … (free text: tools name it differently).
    pub method: Option<String>,
    pub tool: Option<String>,
    /// Interval between backups: the best RPO this backup can serve.
    pub interval: Span,
    pub retention: Option<Span>,
    pub copies: Vec<BackupCopy>,
    pub encrypted: bool,
    /// The backup server and storage use accounts outside the Windows domain.
    pub separate_credentials: bool,
    pub last_success: Option<Date>,
    /// Newest first after validation.
    pub restore_tests: Vec<RestoreTest>,
}

impl Backup {
    pub fn last_restore_test(&self) -> Option<&RestoreTest> {
        self.restore_tests.first()
    }
    /// The measured restore time: the newest test that restored something.
    pub fn measured_restore(&self) -> Option<Span> {
        self.restore_tests
            .iter()
            .find(|t| t.result != RestoreResult::Failed)
            .map(|t| t.duration)
    }
    pub fn has_offline_or_immutable(&self) -> bool {
        self.copies.iter().any(|c| c.offline || c.immutable)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CopyInput {
    pub medium: String,
    pub location: String,
    pub offsite: Option<String>,
    pub offline: Option<String>,
    pub immutable: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RestoreTestInput {
    pub date: String,
    pub duration: String,
    /// "success"/"erfolgreich", "partial"/"teilweise", "failed"/"fehlgeschlagen".
    pub result: String,
    pub errors: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct BackupInput {
    pub systems: Vec<ObjectId>,
    pub name: String,
    pub method: Option<String>,
    pub tool: Option<String>,
    pub interval: String,
    pub retention: Option<String>,
    pub copies: Vec<CopyInput>,
    pub encrypted: Option<String>,
    pub separate_credentials: Option<String>,
    pub last_success: Option<String>,
    pub restore_tests: Vec<RestoreTestInput>,
}

fn flag(e: &mut FieldErrors, field: &'static str, v: &Option<String>) -> bool {
    parse_flag(v.as_deref()).unwrap_or_else(|| {
        e.add(field, "err.yes_no");
        false
    })
}

impl BackupInput {
    /// Field errors: `systems`, `name`, `interval`, `retention`, `copies`, `copy_medium`,
    /// `copy_location`, `last_success`, `restore_date`, `restore_duration`, `restore_result`,
    /// `restore_errors`. Extra keys: `err.backup.no_system`, `err.backup.no_copy`,
    /// `err.backup.interval_zero`, `err.backup.medium`, `err.date_future`,
    /// `err.backup.failed_without_errors`.
    pub fn validate(&self, today: Date) -> Result<Backup, DomainError> {
        let mut e = FieldErrors::default();
        if self.systems.is_empty() {
            e.add("systems", "err.backup.no_system");
        }
        let name = validate::required_text(&mut e, "name", &self.name, 160);
        let method = validate::optional_text(&mut e, "method", self.method.as_deref(), 120);
        let tool = validate::optional_text(&mut e, "tool", self.tool.as_deref(), 120);
        let interval = match Span::parse(&self.interval) {
            Ok(Span(0)) => {
                e.add("interval", "err.backup.interval_zero");
                Span::ZERO
            }
            Ok(s) => s,
            Err(err) => {
                e.add("interval", err.key());
                Span::ZERO
            }
        };
        let retention = match self
            .retention
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(r) => Span::parse(r)
                .map_err(|err| e.add("retention", err.key()))
                .ok(),
        };
        if self.copies.is_empty() {
            e.add("copies", "err.backup.no_copy");
        }
        let mut copies = Vec::new();
        for c in &self.copies {
            let medium = Medium::parse(&c.medium);
            if medium.is_none() {
                e.add("copy_medium", "err.backup.medium");
            }
            let location = validate::required_text(&mut e, "copy_location", &c.location, 160);
            copies.push(BackupCopy {
                medium: medium.unwrap_or(Medium::Disk),
                location,
                offsite: flag(&mut e, "copy_offsite", &c.offsite),
                offline: flag(&mut e, "copy_offline", &c.offline),
                immutable: flag(&mut e, "copy_immutable", &c.immutable),
            });
        }
        let encrypted = flag(&mut e, "encrypted", &self.encrypted);
        let separate_credentials = flag(&mut e, "separate_credentials", &self.separate_credentials);
        let date = |e: &mut FieldErrors, field: &'static str, raw: &str| -> Option<Date> {
            match parse_date(raw) {
                Some(d) if d > today => {
                    e.add(field, "err.date_future");
                    None
                }
                Some(d) => Some(d),
                None => {
                    e.add(field, validate::date_error(raw, "err.date"));
                    None
                }
            }
        };
        let last_success = match self
            .last_success
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(raw) => date(&mut e, "last_success", raw),
        };
        let mut restore_tests = Vec::new();
        for t in &self.restore_tests {
            let d = date(&mut e, "restore_date", &t.date);
            let duration = Span::parse(&t.duration)
                .map_err(|err| e.add("restore_duration", err.key()))
                .unwrap_or_default();
            let result = match t.result.trim().to_lowercase().as_str() {
                "success" | "erfolgreich" | "ok" => Some(RestoreResult::Success),
                "partial" | "teilweise" => Some(RestoreResult::Partial),
                "failed" | "fehlgeschlagen" => Some(RestoreResult::Failed),
                _ => {
                    e.add("restore_result", "err.choose_one");
                    None
                }
            };
            let errors =
                validate::optional_count(&mut e, "restore_errors", t.errors.as_deref(), 1_000_000)
                    .unwrap_or(0) as u32;
            // A failed test with zero errors recorded would let the "0 errors" rule pass.
            if result == Some(RestoreResult::Failed)
                && errors == 0
                && t.errors.as_deref().is_some_and(|s| !s.trim().is_empty())
            {
                e.add("restore_errors", "err.backup.failed_without_errors");
            }
            let notes = validate::optional_text(&mut e, "restore_notes", t.notes.as_deref(), 2000);
            if let (Some(date), Some(result)) = (d, result) {
                restore_tests.push(RestoreTest {
                    date,
                    duration,
                    result,
                    errors: if result == RestoreResult::Failed {
                        errors.max(1)
                    } else {
                        errors
                    },
                    notes,
                });
            }
        }
        restore_tests.sort_by_key(|t| std::cmp::Reverse(t.date));
        let backup = Backup {
            systems: self.systems.clone(),
            name,
            method,
            tool,
            interval,
            retention,
            copies,
            encrypted,
            separate_credentials,
            last_success,
            restore_tests,
        };
        e.into_result(backup)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 28);

    fn good() -> BackupInput {
        BackupInput {
            systems: vec![ObjectId(7)],
            name: "Veeam Fachverfahren".into(),
            interval: "24h".into(),
            retention: Some("30d".into()),
            copies: vec![
                CopyInput {
                    medium: "NAS".into(),
                    location: "Serverraum".into(),
                    ..Default::default()
                },
                CopyInput {
                    medium: "LTO".into(),
                    location: "Tresor Bauhof".into(),
                    offsite: Some("ja".into()),
                    offline: Some("ja".into()),
                    ..Default::default()
                },
            ],
            encrypted: Some("ja".into()),
            separate_credentials: Some("nein".into()),
            last_success: Some("2026-11-27".into()),
            restore_tests: vec![
                RestoreTestInput {
                    date: "2026-03-01".into(),
                    duration: "6h".into(),
                    result: "erfolgreich".into(),
                    ..Default::default()
                },
                RestoreTestInput {
                    date: "2026-09-01".into(),
                    duration: "5h".into(),
                    result: "failed".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    fn check(input: &BackupInput, expected: Result<(), Vec<(&str, &str)>>) {
        match (input.validate(TODAY), expected) {
            (Ok(_), Ok(())) => {}
            (Err(DomainError::Invalid(errs)), Err(want)) => {
                let got: Vec<_> = errs.0.iter().map(|e| (e.field, e.message)).collect();
                assert_eq!(got, want);
            }
            (got, want) => panic!("got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn valid_entry_sorts_tests_and_measures() {
        let b = good().validate(TODAY).unwrap();
        assert_eq!(b.interval, Span::hours(24));
        assert_eq!(b.restore_tests[0].date, date!(2026 - 09 - 01));
        assert_eq!(
            b.restore_tests[0].errors, 1,
            "a failed test counts as an error"
        );
        // The failed test restored nothing: the measured time comes from the one before.
        assert_eq!(b.measured_restore(), Some(Span::hours(6)));
        assert!(b.has_offline_or_immutable());
        check(&good(), Ok(()));
    }

    #[test]
    fn invalid_entries_name_the_field() {
        let mut i = good();
        i.systems.clear();
        i.interval = "0".into();
        i.copies.clear();
        i.last_success = Some("2027-01-01".into());
        i.restore_tests = vec![RestoreTestInput {
            date: "gestern".into(),
            duration: "-1h".into(),
            result: "na ja".into(),
            ..Default::default()
        }];
        check(
            &i,
            Err(vec![
                ("systems", "err.backup.no_system"),
                ("interval", "err.backup.interval_zero"),
                ("copies", "err.backup.no_copy"),
                ("last_success", "err.date_future"),
                ("restore_date", "err.date"),
                ("restore_duration", "err.duration_negative"),
                ("restore_result", "err.choose_one"),
            ]),
        );
        let mut i = good();
        i.copies[0].medium = "Lochkarte".into();
        i.encrypted = Some("vielleicht".into());
        check(
            &i,
            Err(vec![
                ("copy_medium", "err.backup.medium"),
                ("encrypted", "err.yes_no"),
            ]),
        );
    }
}
