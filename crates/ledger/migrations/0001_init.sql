-- sortfleet ledger schema v1.
-- Frozen once released: later changes go into new numbered files, never edits here.
-- Times are Unix epoch milliseconds (UTC). Hashes and keys are raw bytes (BLOB).

-- Master data: depots, facilities, vehicles, collection points, as canonical JSON keyed by id.
CREATE TABLE master_data (
    kind        TEXT    NOT NULL,          -- depot | facility | vehicle | point
    id          TEXT    NOT NULL,
    body        TEXT    NOT NULL,          -- canonical JSON
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

CREATE TABLE plans (
    id          TEXT    PRIMARY KEY NOT NULL,
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE routes (
    vehicle      TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    plan_id      TEXT,
    body         TEXT    NOT NULL,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (vehicle, version)
) WITHOUT ROWID;

-- Per-vehicle outbox of messages to the in-cab terminal. head_seq survives pruning.
CREATE TABLE terminal_messages (
    vehicle     TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (vehicle, seq)
) WITHOUT ROWID;

CREATE TABLE terminal_heads (
    vehicle     TEXT    PRIMARY KEY NOT NULL,
    head_seq    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY,
    client_event_id TEXT    NOT NULL UNIQUE,
    vehicle         TEXT    NOT NULL,
    device          TEXT    NOT NULL,
    device_seq      INTEGER NOT NULL,
    occurred_at     INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    body            TEXT    NOT NULL       -- canonical JSON, hashed verbatim
);
CREATE INDEX events_vehicle_time ON events (vehicle, occurred_at);
CREATE INDEX events_time ON events (occurred_at);
CREATE INDEX events_device_seq ON events (device, device_seq);

-- Highest device_seq n such that 1..=n are all stored for the device (the acknowledgement).
CREATE TABLE device_progress (
    device      TEXT    PRIMARY KEY NOT NULL,
    contiguous  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE incidents (
    seq          INTEGER PRIMARY KEY,
    incident_id  TEXT    NOT NULL UNIQUE,
    vehicle      TEXT    NOT NULL,
    district     TEXT,
    stream       TEXT,
    rule         TEXT    NOT NULL,
    occurred_at  INTEGER NOT NULL,
    body         TEXT    NOT NULL          -- canonical JSON, hashed verbatim
);
CREATE INDEX incidents_vehicle ON incidents (vehicle, seq);
CREATE INDEX incidents_district ON incidents (district, seq);
CREATE INDEX incidents_time ON incidents (occurred_at);

CREATE TABLE incident_evidence (
    incident_seq     INTEGER NOT NULL,
    pos              INTEGER NOT NULL,
    client_event_id  TEXT    NOT NULL,
    PRIMARY KEY (incident_seq, pos)
) WITHOUT ROWID;

-- The hash chain over events and incidents.
CREATE TABLE ledger (
    seq         INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,          -- event | incident
    record_ref  INTEGER NOT NULL,          -- events.seq or incidents.seq
    algo        TEXT    NOT NULL,          -- sha256
    prev_hash   BLOB    NOT NULL,
    hash        BLOB    NOT NULL
);

CREATE TABLE checkpoints (
    seq         INTEGER PRIMARY KEY,       -- ledger seq of the head it signs
    head_hash   BLOB    NOT NULL,
    algo        TEXT    NOT NULL,          -- ed25519
    signature   BLOB    NOT NULL,
    key_id      TEXT    NOT NULL,
    public_key  BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Append-only guards: they stop application bugs, not attackers (verify stops attackers).
CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_d BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER incidents_append_only_u BEFORE UPDATE ON incidents BEGIN SELECT RAISE(ABORT, 'incidents are append-only'); END;
CREATE TRIGGER incidents_append_only_d BEFORE DELETE ON incidents BEGIN SELECT RAISE(ABORT, 'incidents are append-only'); END;
CREATE TRIGGER evidence_append_only_u BEFORE UPDATE ON incident_evidence BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER evidence_append_only_d BEFORE DELETE ON incident_evidence BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER ledger_append_only_u BEFORE UPDATE ON ledger BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER ledger_append_only_d BEFORE DELETE ON ledger BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER checkpoints_append_only_u BEFORE UPDATE ON checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_append_only_d BEFORE DELETE ON checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
