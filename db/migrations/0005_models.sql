-- The model registry: named models and their versions, each with a status
-- (upcoming → early_access → available → retired) and a certified mark, set by moderators of
-- the operator's home servers and shown in every server.
-- Models configured in the operator's settings are entered here at start-up.

-- models: a model's name is what members type after --model (stored lowercased).
CREATE TABLE models (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE
                CHECK (name = lower(name) AND length(name) BETWEEN 1 AND 64),
    created_by  INTEGER,          -- a Discord user id; NULL: from the operator's settings
    created_at  TEXT    NOT NULL
);

-- model_versions: one row per version of a model; --model name:version picks one.
CREATE TABLE model_versions (
    id                  INTEGER PRIMARY KEY,
    model_id            INTEGER NOT NULL REFERENCES models (id),
    version             TEXT    NOT NULL CHECK (length(version) BETWEEN 1 AND 32),
    -- What the worker pool loads: a hub id, a local folder or a single checkpoint file.
    source              TEXT    NOT NULL,
    -- Base family: 'sd1', 'sd2', 'sdxl', ... (shown to members; the loader detects its own).
    family              TEXT    NOT NULL,
    license_name        TEXT    NOT NULL DEFAULT '',
    license_url         TEXT,
    creator_id          INTEGER,  -- the Discord user who made it; NULL: unknown/operator
    description         TEXT    NOT NULL DEFAULT '',
    status              TEXT    NOT NULL DEFAULT 'upcoming'
                        CHECK (status IN ('upcoming', 'early_access', 'available', 'retired')),
    certified           INTEGER NOT NULL DEFAULT 0 CHECK (certified IN (0, 1)),
    certified_by        INTEGER,
    -- Set on release with early access: until then only backers (and moderators) use it.
    early_access_until  TEXT,
    released_at         TEXT,
    retired_at          TEXT,
    created_at          TEXT    NOT NULL,
    UNIQUE (model_id, version),
    CHECK (status != 'early_access' OR early_access_until IS NOT NULL)
);

CREATE INDEX model_versions_status ON model_versions (status, early_access_until);

-- model_announcements: a version's change of status that is announced once (it was
-- released; its early access ended). Recorded in the transaction that changes the status;
-- posted_at is set once it has been posted (or logged), so a restart posts what is still due.
CREATE TABLE model_announcements (
    id          INTEGER PRIMARY KEY,
    version_id  INTEGER NOT NULL REFERENCES model_versions (id),
    event       TEXT    NOT NULL CHECK (event IN ('released', 'available')),
    created_at  TEXT    NOT NULL,
    posted_at   TEXT,
    UNIQUE (version_id, event)
);

CREATE INDEX model_announcements_pending ON model_announcements (id) WHERE posted_at IS NULL;
