-- The office's own requirements, added to its Verbund's uniform target (security level).
-- Kept in step with ../postgres/0009_security_own.sql.
-- code: the identifier answers are keyed by (sec_answer.requirement_id); never a catalog id.
-- target_category: a Grundschutz++ target object category, NULL for the town as a whole.
CREATE TABLE sec_own_requirement (
    id INTEGER PRIMARY KEY,
    verbund_id INTEGER NOT NULL REFERENCES verbund (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    practice TEXT NOT NULL,
    title TEXT NOT NULL,
    statement TEXT NOT NULL,
    guidance TEXT,
    sec_level TEXT NOT NULL,
    effort_level INTEGER NOT NULL,
    target_category TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (verbund_id, code)
);
