-- atelier: foreign keys off
-- Job kinds for reworking an image: 'zoom' (Zoom Out, Custom Zoom), 'pan', 'square' (Make
-- Square) and 'region' (Vary Region). Each makes a grid of new images like a variation, so
-- the boards count them as images made, and an upscale of one of their images has that
-- image as its origin (it is not an upscale).
--
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt. The first line
-- above makes `db.migrate` run this with foreign keys off (otherwise dropping `jobs` would
-- cascade into images, job_messages and the rest) and check them before it commits.
-- Dropping the table drops its indexes and triggers, so each is created again below as
-- the earlier migrations left it. The rebuild goes through a copy rather than a rename:
-- renaming a table rewrites the foreign keys and triggers of the tables that name it.

CREATE TEMP TABLE jobs_before_0013 AS SELECT * FROM jobs;
DROP TABLE jobs;

CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL
                  CHECK (kind IN ('imagine', 'reroll', 'variation', 'upscale',
                                  'zoom', 'pan', 'square', 'region')),
    -- A Discord user id; 0 means the local command line.
    owner_id      INTEGER NOT NULL,
    prompt        TEXT    NOT NULL,
    -- Generation parameters as a JSON object (steps, guidance, size, ...).
    params        TEXT    NOT NULL
                  CHECK (json_valid(params) AND json_type(params) = 'object'),
    model         TEXT    NOT NULL,
    -- Every kind but imagine: which job, and which of its images, it came from.
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
    -- 0002: the queue lane it waits in.
    lane          TEXT    NOT NULL DEFAULT 'standard'
                  CHECK (lane IN ('priority', 'standard')),
    -- 0009: the unguessable id of its web page.
    public_id     TEXT,
    CHECK ((parent_job_id IS NULL) = (parent_index IS NULL))
);

INSERT INTO jobs (
    id, kind, owner_id, prompt, params, model, parent_job_id, parent_index, status, error,
    created_at, started_at, finished_at, device, gpu_seconds, lane, public_id
)
SELECT id, kind, owner_id, prompt, params, model, parent_job_id, parent_index, status, error,
       created_at, started_at, finished_at, device, gpu_seconds, lane, public_id
FROM jobs_before_0013;
DROP TABLE jobs_before_0013;

-- 0001
CREATE INDEX jobs_status_id ON jobs (status, id);
CREATE INDEX jobs_owner_created ON jobs (owner_id, created_at);
CREATE INDEX jobs_parent ON jobs (parent_job_id);
-- 0008
CREATE INDEX jobs_done_made_at ON jobs (
    status, coalesce(finished_at, created_at), kind, model, owner_id, finished_at, created_at
);
-- 0009
CREATE UNIQUE INDEX jobs_public_id ON jobs (public_id);
CREATE TRIGGER jobs_public_id_on_insert AFTER INSERT ON jobs WHEN NEW.public_id IS NULL
BEGIN
    UPDATE jobs SET public_id = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;

-- 0011
CREATE TRIGGER jobs_lineage_is_fixed BEFORE UPDATE OF kind, owner_id, parent_job_id, parent_index
ON jobs
WHEN OLD.kind IS NOT NEW.kind OR OLD.owner_id IS NOT NEW.owner_id
    OR OLD.parent_job_id IS NOT NEW.parent_job_id OR OLD.parent_index IS NOT NEW.parent_index
BEGIN
    SELECT RAISE(ABORT, 'a job''s kind, owner and parent never change');
END;

CREATE TRIGGER upscale_origins_on_insert AFTER INSERT ON jobs
WHEN NEW.kind = 'upscale' AND NEW.parent_job_id IS NOT NULL
BEGIN
    INSERT INTO upscale_origins (job_id, origin_job_id, origin_idx)
    SELECT NEW.id, coalesce(o.origin_job_id, p.id),
           CASE WHEN o.job_id IS NULL THEN NEW.parent_index ELSE o.origin_idx END
    FROM jobs p LEFT JOIN upscale_origins o ON o.job_id = p.id
    WHERE p.id = NEW.parent_job_id
    AND (o.job_id IS NOT NULL OR p.kind != 'upscale' OR p.parent_job_id IS NULL);
END;

CREATE TRIGGER jobs_changed_recount AFTER UPDATE OF status, finished_at, created_at, model ON jobs
WHEN OLD.status IS NOT NEW.status OR OLD.finished_at IS NOT NEW.finished_at
    OR OLD.created_at IS NOT NEW.created_at OR OLD.model IS NOT NEW.model
BEGIN
    DELETE FROM board_job_images WHERE job_id = NEW.id;
    INSERT INTO board_job_images
    SELECT j.id, m.guild_id, coalesce(j.finished_at, j.created_at), j.model, j.owner_id,
           (SELECT count(*) FROM images i WHERE i.job_id = j.id)
    FROM jobs j JOIN job_messages m ON m.job_id = j.id
    WHERE j.id = NEW.id AND j.status = 'done' AND m.guild_id IS NOT NULL
    AND EXISTS (SELECT 1 FROM images i WHERE i.job_id = j.id);
END;

CREATE TRIGGER jobs_removed_model_count BEFORE DELETE ON jobs
BEGIN
    UPDATE model_images
    SET images = images - (SELECT count(*) FROM images WHERE job_id = OLD.id)
    WHERE model = lower(OLD.model);
END;

CREATE TRIGGER jobs_model_changed_count AFTER UPDATE OF model ON jobs
WHEN lower(OLD.model) IS NOT lower(NEW.model)
BEGIN
    UPDATE model_images
    SET images = images - (SELECT count(*) FROM images WHERE job_id = NEW.id)
    WHERE model = lower(OLD.model);
    INSERT INTO model_images (model, images)
    SELECT lower(NEW.model), count(*) FROM images WHERE job_id = NEW.id
    ON CONFLICT (model) DO UPDATE SET images = images + excluded.images;
END;
