-- Security level (Grundschutz++): target levels, answers with evidence, evidence files,
-- snapshots of the level, measures plan.
-- Kept in step with ../postgres/0004_security.sql. The catalogs themselves are shipped in the
-- binary (stadtmauer-catalog) and need no table; imported catalogs are stored as their files.

-- The Verbund's uniform target (set by the office); missing row: the Kommunale Basis.
CREATE TABLE sec_verbund_target (
    verbund_id INTEGER PRIMARY KEY REFERENCES verbund (id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A town's own, stricter target; missing row: the Verbund's.
CREATE TABLE sec_org_target (
    organisation_id INTEGER PRIMARY KEY REFERENCES organisation (id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One answer per town, requirement and object (object_id 0: the organisation as a whole).
-- evidence: JSON list of stadtmauer_assessment::evidence::EvidenceItem.
CREATE TABLE sec_answer (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    requirement_id TEXT NOT NULL,
    object_id INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    reason TEXT,
    note TEXT,
    responsible TEXT,
    assessed_on TEXT NOT NULL,
    review_by TEXT,
    evidence TEXT NOT NULL DEFAULT '[]',
    needs_review INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    UNIQUE (organisation_id, requirement_id, object_id)
);
CREATE INDEX sec_answer_org ON sec_answer (organisation_id);

-- Uploaded evidence, content base64-encoded (portable through the backup format).
CREATE TABLE sec_evidence_file (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    content TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (organisation_id, sha256)
);

-- A town's level when an assessment was finished: per-practice counts as JSON
-- (stadtmauer_assessment::snapshot::PracticeAggregate list), so heatmaps never read answers.
CREATE TABLE sec_snapshot (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    taken_on TEXT NOT NULL,
    target TEXT NOT NULL,
    practices TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sec_snapshot_org ON sec_snapshot (organisation_id, taken_on);

-- Measures (Realisierungsplan). organisation_id is the town, or the office for a shared measure;
-- sec_measure_town holds each participating town's status.
CREATE TABLE sec_measure (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT,
    requirement_id TEXT,
    objects TEXT NOT NULL DEFAULT '[]',
    owner TEXT,
    deadline TEXT,
    priority TEXT NOT NULL,
    cost_eur INTEGER,
    effort_tenths INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE sec_measure_town (
    id INTEGER PRIMARY KEY,
    measure_id INTEGER NOT NULL REFERENCES sec_measure (id) ON DELETE CASCADE,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (measure_id, organisation_id)
);
CREATE INDEX sec_measure_town_org ON sec_measure_town (organisation_id);

