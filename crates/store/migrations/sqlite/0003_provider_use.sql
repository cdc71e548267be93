-- Which processes halt when a provider is down: (provider, process) for every process that uses
-- the provider through any chain of objects. Derived from inv_link and kept current in the same
-- transaction as every change (store/src/provider_use.rs), so the Verbund's provider view reads
-- one small table instead of walking 300,000 links. Not backed up: rebuilt after a restore, and
-- filled at the first start after this migration. No foreign keys: it is rebuilt, never edited.
-- Kept in step with the other backend's file of the same name.
CREATE TABLE inv_provider_use (
    provider_id BIGINT NOT NULL,
    process_id BIGINT NOT NULL,
    PRIMARY KEY (provider_id, process_id)
);
CREATE INDEX inv_provider_use_process ON inv_provider_use (process_id);
