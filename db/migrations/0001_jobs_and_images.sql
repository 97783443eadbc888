-- Jobs and the images they produced.
-- Times are ISO-8601 UTC text with microseconds and a trailing Z
-- (2026-11-21T23:08:25.123456Z), so they sort correctly as text.

-- jobs: one row per generation request (imagine, reroll, variation, upscale),
-- from queued to a final status, with what it cost in GPU time.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL
                  CHECK (kind IN ('imagine', 'reroll', 'variation', 'upscale')),
    -- A Discord user id; 0 means the local command line.
    owner_id      INTEGER NOT NULL,
    prompt        TEXT    NOT NULL,
    -- Generation parameters as a JSON object (steps, guidance, size, ...).
    params        TEXT    NOT NULL
                  CHECK (json_valid(params) AND json_type(params) = 'object'),
    model         TEXT    NOT NULL,
    -- Reroll/variation/upscale: which job, and which of its four images, it came from.
    parent_job_id INTEGER REFERENCES jobs (id),
    parent_index  INTEGER CHECK (parent_index BETWEEN 0 AND 3),
    status        TEXT    NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    error         TEXT,
    created_at    TEXT    NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    -- The device that ran it, e.g. 'cuda:0'.
    device        TEXT,
    gpu_seconds   REAL    NOT NULL DEFAULT 0 CHECK (gpu_seconds >= 0),
    CHECK ((parent_job_id IS NULL) = (parent_index IS NULL))
);

-- The queue: unfinished jobs in order.
CREATE INDEX jobs_status_id ON jobs (status, id);
-- A user's history and usage over time.
CREATE INDEX jobs_owner_created ON jobs (owner_id, created_at);
-- Children of a job (its rerolls, variations, upscales).
CREATE INDEX jobs_parent ON jobs (parent_job_id);

-- images: the files a finished job produced, numbered 0..n-1 within the job.
CREATE TABLE images (
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL CHECK (idx >= 0),
    -- Where the PNG was written.
    path   TEXT    NOT NULL,
    seed   INTEGER NOT NULL CHECK (seed BETWEEN 0 AND 4294967295),
    width  INTEGER NOT NULL CHECK (width > 0),
    height INTEGER NOT NULL CHECK (height > 0),
    PRIMARY KEY (job_id, idx)
);
