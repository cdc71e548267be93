-- The Informationsverbund: objects, dependencies, installed software, derived Schutzbedarf.
-- Kept in step with ../postgres/0002_inventory.sql.

CREATE TABLE inv_object (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisation (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    owner TEXT,
    status TEXT NOT NULL,
    data_personal INTEGER NOT NULL DEFAULT 0,
    data_special INTEGER NOT NULL DEFAULT 0,
    data_classified INTEGER NOT NULL DEFAULT 0,
    vendor TEXT,
    product TEXT,
    version TEXT,
    operating_model TEXT,
    vendor_country TEXT,
    system_type TEXT,
    item_count INTEGER,
    contract TEXT,
    contact TEXT,
    shared INTEGER NOT NULL DEFAULT 0,
    own_c INTEGER,
    own_i INTEGER,
    own_a INTEGER,
    ovr_c INTEGER,
    ovr_i INTEGER,
    ovr_a INTEGER,
    ovr_reason TEXT,
    eff_c INTEGER NOT NULL DEFAULT 1,
    eff_i INTEGER NOT NULL DEFAULT 1,
    eff_a INTEGER NOT NULL DEFAULT 1,
    via_c INTEGER,
    via_i INTEGER,
    via_a INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX inv_object_name ON inv_object (organisation_id, kind, name);
CREATE INDEX inv_object_kind ON inv_object (kind, shared);

CREATE TABLE inv_link (
    id INTEGER PRIMARY KEY,
    from_id INTEGER NOT NULL REFERENCES inv_object (id),
    to_id INTEGER NOT NULL REFERENCES inv_object (id),
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX inv_link_pair ON inv_link (from_id, to_id);
-- (to_id, from_id) covers the walks upstream without touching the table.
CREATE INDEX inv_link_to ON inv_link (to_id, from_id);

CREATE TABLE inv_software (
    id INTEGER PRIMARY KEY,
    object_id INTEGER NOT NULL REFERENCES inv_object (id),
    product TEXT NOT NULL,
    version TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX inv_software_object ON inv_software (object_id);
