-- sortfleet ledger schema v2: the chain's hash algorithm as ledger metadata, and an
-- index from a stored event or incident to its ledger record.
-- Frozen once released: later changes go into new numbered files, never edits here.

-- Facts fixed for the life of the ledger. `hash_algorithm` (sha256 | sm3) is written in
-- the transaction that appends the first ledger record and never changes; every record
-- also names its algorithm, and verify reports a record that names another one.
CREATE TABLE ledger_meta (
    key         TEXT    PRIMARY KEY NOT NULL,
    value       TEXT    NOT NULL
) WITHOUT ROWID;

-- A v1 ledger only ever used SHA-256.
INSERT INTO ledger_meta (key, value)
    SELECT 'hash_algorithm', 'sha256' WHERE EXISTS (SELECT 1 FROM ledger);

CREATE TRIGGER ledger_meta_append_only_u BEFORE UPDATE ON ledger_meta BEGIN SELECT RAISE(ABORT, 'ledger metadata is append-only'); END;
CREATE TRIGGER ledger_meta_append_only_d BEFORE DELETE ON ledger_meta BEGIN SELECT RAISE(ABORT, 'ledger metadata is append-only'); END;

-- Incident id -> ledger record (GetIncident), event -> ledger record, and the
-- "row without a ledger record" check of verify: one index lookup instead of a scan.
CREATE INDEX ledger_record ON ledger (kind, record_ref);
