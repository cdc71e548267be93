-- Business continuity and ransomware readiness (stadtmauer-continuity): BIA per process, the
-- backup register, checklist answers and handbook contacts per town, handbook exports,
-- exercises and the measures their findings became.
-- Kept in step with ../postgres/0006_continuity.sql. Validated domain values are stored as JSON
-- (stadtmauer_continuity types); verdicts, restart order and score are derived on request.

-- One BIA per process (stadtmauer_continuity::bia::Bia as JSON).
CREATE TABLE bcm_bia (
    process_id INTEGER PRIMARY KEY REFERENCES inv_object (id) ON DELETE CASCADE,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX bcm_bia_org ON bcm_bia (organisation_id);

-- The backup register (stadtmauer_continuity::backup::Backup as JSON).
CREATE TABLE bcm_backup (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX bcm_backup_org ON bcm_backup (organisation_id);

-- Per town: checklist answers and handbook contacts (JSON); data_revision: counts the writes
-- that change the handbook's content (an export records the revision it was made from).
CREATE TABLE bcm_town (
    organisation_id INTEGER PRIMARY KEY REFERENCES organisation (id) ON DELETE CASCADE,
    checklist TEXT NOT NULL,
    contacts TEXT NOT NULL,
    data_revision INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Every handbook download (HTML or PDF) with its version and checksum.
CREATE TABLE bcm_export (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    data_revision INTEGER NOT NULL,
    format TEXT NOT NULL,
    checksum TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX bcm_export_org ON bcm_export (organisation_id);

-- Emergency exercises (plan, results, findings as JSON).
CREATE TABLE bcm_exercise (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX bcm_exercise_org ON bcm_exercise (organisation_id);

-- Measures from exercise findings.
CREATE TABLE bcm_measure (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    exercise_id INTEGER,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX bcm_measure_org ON bcm_measure (organisation_id);
