-- Shared data gets an owner: a Verbund (seen by its members, changed by its office officers) or,
-- with verbund_id NULL, the installation (seen by everyone, changed by administrators).
-- Kept in step with ../postgres/0011_shared_owner.sql. Rows from before this migration belong to
-- the installation.

-- Users' product aliases of the update watch: a pattern is unique per owner.
ALTER TABLE upd_alias ADD COLUMN verbund_id INTEGER REFERENCES verbund (id) ON DELETE CASCADE;
DROP INDEX upd_alias_pattern;
CREATE UNIQUE INDEX upd_alias_owner_pattern ON upd_alias (COALESCE(verbund_id, 0), pattern);

-- Imported catalogs, profiles and mapping collections: a file is unique per owner, so two
-- Verbünde may import the same standard without learning of each other. SQLite cannot drop a
-- column's UNIQUE, hence the copy.
CREATE TABLE sec_catalog_owned (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    uuid TEXT NOT NULL,
    title TEXT NOT NULL,
    version TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    requirements INTEGER NOT NULL,
    previous TEXT,
    flagged INTEGER NOT NULL DEFAULT 0,
    content TEXT NOT NULL,
    resolved TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    verbund_id INTEGER REFERENCES verbund (id) ON DELETE CASCADE
);
INSERT INTO sec_catalog_owned (id, kind, uuid, title, version, file_name, sha256, requirements,
    previous, flagged, content, resolved, created_at, verbund_id)
SELECT id, kind, uuid, title, version, file_name, sha256, requirements, previous, flagged,
    content, resolved, created_at, NULL FROM sec_catalog;
DROP TABLE sec_catalog;
ALTER TABLE sec_catalog_owned RENAME TO sec_catalog;
CREATE UNIQUE INDEX sec_catalog_owner_sha256 ON sec_catalog (COALESCE(verbund_id, 0), sha256);
