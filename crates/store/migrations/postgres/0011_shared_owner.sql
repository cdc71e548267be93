-- Shared data gets an owner: a Verbund (seen by its members, changed by its office officers) or,
-- with verbund_id NULL, the installation (seen by everyone, changed by administrators).
-- Kept in step with ../sqlite/0011_shared_owner.sql. Rows from before this migration belong to
-- the installation.

-- Users' product aliases of the update watch: a pattern is unique per owner.
ALTER TABLE upd_alias ADD COLUMN verbund_id BIGINT REFERENCES verbund (id) ON DELETE CASCADE;
DROP INDEX upd_alias_pattern;
CREATE UNIQUE INDEX upd_alias_owner_pattern ON upd_alias (COALESCE(verbund_id, 0), pattern);

-- Imported catalogs, profiles and mapping collections: a file is unique per owner, so two
-- Verbünde may import the same standard without learning of each other.
ALTER TABLE sec_catalog ADD COLUMN verbund_id BIGINT REFERENCES verbund (id) ON DELETE CASCADE;
ALTER TABLE sec_catalog DROP CONSTRAINT sec_catalog_sha256_key;
CREATE UNIQUE INDEX sec_catalog_owner_sha256 ON sec_catalog (COALESCE(verbund_id, 0), sha256);
