-- Answering the council: the security programme a town records (profile, figures per year,
-- audits/tests/advice/trainings/drills and their findings). Kept in step with ../postgres/0007_council.sql.
-- Dates are ISO text (JJJJ-MM-TT); flags 0/1; coverage and kinds as text codes; NULL = not recorded.

CREATE TABLE cnc_profile (
    organisation_id INTEGER PRIMARY KEY REFERENCES organisation (id) ON DELETE CASCADE,
    isb_appointed INTEGER,
    isb_deputy INTEGER,
    team_size INTEGER,
    qualifications TEXT,
    standard TEXT,
    guideline_adopted_by TEXT,
    guideline_adopted_on TEXT,
    guideline_review_on TEXT,
    emergency_plan INTEGER,
    emergency_offices TEXT,
    phone_fallback INTEGER,
    hours_without_it INTEGER,
    mfa_remote TEXT,
    mfa_email TEXT,
    mfa_admin TEXT,
    insurance INTEGER,
    insurer TEXT,
    insurance_sum INTEGER,
    updated_at INTEGER NOT NULL
);

CREATE TABLE cnc_year (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    year INTEGER NOT NULL,
    budget INTEGER,
    spent INTEGER,
    incidents INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX cnc_year_org ON cnc_year (organisation_id, year);

CREATE TABLE cnc_event (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    held_on TEXT NOT NULL,
    party TEXT NOT NULL,
    topic TEXT,
    result TEXT,
    participants INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX cnc_event_org ON cnc_event (organisation_id, held_on);

CREATE TABLE cnc_finding (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL REFERENCES cnc_event (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX cnc_finding_org ON cnc_finding (organisation_id);
