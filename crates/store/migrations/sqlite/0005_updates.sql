-- Update watch: imported feeds (the shipped snapshots are used while a kind has no row), users'
-- product aliases, persisted findings with their measure and exception, notification targets.
-- Kept in step with ../postgres/0005_updates.sql.

-- One imported feed. KEV and end-of-life: the single active row of its kind replaces the shipped
-- snapshot; CSAF: every active row adds its advisories. content: KEV JSON as sent; end-of-life
-- and CSAF: a JSON object {file name: file text}.
CREATE TABLE upd_feed (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content TEXT NOT NULL,
    counts TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    imported_at INTEGER NOT NULL,
    imported_by TEXT NOT NULL
);
CREATE INDEX upd_feed_active ON upd_feed (active, kind);

-- Users' aliases (installation-wide): product text starting with pattern is product_key.
CREATE TABLE upd_alias (
    id INTEGER PRIMARY KEY,
    pattern TEXT NOT NULL,
    product_key TEXT NOT NULL,
    cycle TEXT,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX upd_alias_pattern ON upd_alias (pattern);

-- A finding about one installation (inst: "o<object id>" for the object's own product,
-- "s<inv_software id>" for installed software). Open while resolved_at is NULL.
CREATE TABLE upd_finding (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    object_id INTEGER NOT NULL,
    inst TEXT NOT NULL,
    kind TEXT NOT NULL,
    product_key TEXT NOT NULL,
    version TEXT,
    detail TEXT NOT NULL,
    published TEXT,
    first_seen INTEGER NOT NULL,
    resolved_at INTEGER,
    latency_days INTEGER,
    owner TEXT,
    due TEXT,
    status TEXT NOT NULL DEFAULT 'open',
    exc_reason TEXT,
    exc_approver TEXT,
    exc_until TEXT,
    updated_at INTEGER NOT NULL
);
CREATE INDEX upd_finding_org ON upd_finding (organisation_id, resolved_at);
CREATE UNIQUE INDEX upd_finding_open ON upd_finding (organisation_id, inst, kind) WHERE resolved_at IS NULL;

-- Where a Verbund wants to hear about new findings of its members.
CREATE TABLE upd_notify (
    verbund_id INTEGER PRIMARY KEY REFERENCES verbund (id) ON DELETE CASCADE,
    webhook_url TEXT,
    email TEXT,
    updated_at INTEGER NOT NULL
);
