-- Key material of the installation, made on first use and kept here so that every `serve`
-- process behind one load balancer, and the next start, use the same key.
-- Kept in step with ../sqlite/0010_credentials.sql.
-- name: what the key is for ('csrf': signs the pre-login CSRF cookie).
-- value: random, URL-safe base64. Not in backups: a restore makes a new one.
CREATE TABLE server_key (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
