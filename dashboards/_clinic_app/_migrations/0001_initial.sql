-- Schema version 1 of a clinic's database (clinic.sqlite3): patients, visits, the tests of a visit, the
-- content-hashed files they point to, each test's key numbers, and the cached before/after reports.
-- Applied by dashboards/_clinic_app/_schema.py inside one transaction, which then sets PRAGMA user_version = 1.

CREATE TABLE patients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pseudonym TEXT NOT NULL UNIQUE COLLATE NOCASE,
    birth_year INTEGER,
    sex TEXT CHECK (sex IN ('female', 'male', 'other')),
    height_m REAL,
    mass_kg REAL,
    notes TEXT NOT NULL DEFAULT '',
    archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at TEXT NOT NULL
);

CREATE TABLE visits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients (id) ON DELETE RESTRICT,
    visit_date TEXT NOT NULL,             -- ISO date, YYYY-MM-DD
    footwear TEXT NOT NULL DEFAULT '',
    orthosis TEXT NOT NULL DEFAULT '',    -- '' = none
    pain_scores TEXT NOT NULL DEFAULT '{}',  -- JSON object: name -> 0..10
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX visits_by_patient ON visits (patient_id, visit_date);

-- every file the clinic keeps: files/<sha256[:2]>/<sha256><suffix>, never overwritten
CREATE TABLE files (
    sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    suffix TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    kind TEXT NOT NULL,                   -- recording | original | report | compare_report
    added_at TEXT NOT NULL
);

-- AUTOINCREMENT: a test id is never reused, as captures/<id>.parquet is named by it
CREATE TABLE tests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    visit_id INTEGER NOT NULL REFERENCES visits (id) ON DELETE RESTRICT,
    test TEXT NOT NULL CHECK (test IN ('free_walk', '10mwt', '6mwt', 'tug', 'balance')),
    source TEXT NOT NULL CHECK (source IN ('insole', 'moticon', 'orphe', 'emulated', 'import')),
    status TEXT NOT NULL CHECK (status IN ('capturing', 'done', 'failed')),
    reason TEXT NOT NULL DEFAULT '',
    recording_sha256 TEXT REFERENCES files (sha256),
    original_sha256 TEXT REFERENCES files (sha256),
    original_name TEXT NOT NULL DEFAULT '',
    report_sha256 TEXT REFERENCES files (sha256),
    fmt TEXT NOT NULL DEFAULT '',
    layout TEXT NOT NULL DEFAULT '',
    inputs TEXT NOT NULL DEFAULT '{}',    -- JSON: what the clinician entered for the test (walkway, pace, ...)
    result TEXT,                          -- JSON: the clinic test's result (insole.clinic), when it has one
    summary TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tests_by_visit ON tests (visit_id);
CREATE INDEX tests_by_status ON tests (status);

CREATE TABLE measures (
    test_id INTEGER NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,            -- the order the report shows them in
    name TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    value REAL NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    reference TEXT NOT NULL DEFAULT '',
    mdc95 REAL,
    mdc_source TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (test_id, name)
);

-- before/after reports, cached by the two recordings they compare
CREATE TABLE compare_reports (
    baseline_sha256 TEXT NOT NULL REFERENCES files (sha256),
    followup_sha256 TEXT NOT NULL REFERENCES files (sha256),
    report_sha256 TEXT NOT NULL REFERENCES files (sha256),
    created_at TEXT NOT NULL,
    PRIMARY KEY (baseline_sha256, followup_sha256)
);
