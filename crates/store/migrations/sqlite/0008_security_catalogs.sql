-- Imported OSCAL catalogs and profiles (security level), beside the shipped ones.
-- Kept in step with ../postgres/0008_security_catalogs.sql.
-- content: the file as uploaded; resolved: the requirement set built from it (a profile resolved
-- against the shipped and earlier imported catalogs) as JSON of stadtmauer_catalog::Catalog.
-- previous_id: the earlier version of the same catalog (same uuid or title), if any.
CREATE TABLE sec_catalog (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    uuid TEXT NOT NULL,
    title TEXT NOT NULL,
    version TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    requirements INTEGER NOT NULL,
    previous TEXT,
    flagged INTEGER NOT NULL DEFAULT 0,
    content TEXT NOT NULL,
    resolved TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
