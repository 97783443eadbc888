-- Running counts for the creators and models boards, so no board scans every ❤ or image
-- (measured with `python -m bench.community`: the all-time boards took ~1 s and ~0.36 s).
-- Triggers keep them in the transaction of every write that changes them, whatever code
-- writes; `contests.leaderboards` reads them. Each is filled here from the existing rows.
--
-- What the boards count (the rules of `contests.leaderboards`):
-- * creators: per server and creator, the distinct (fan, origin image) pairs among the ❤
--   on upscales posted in the server, the origin being the image of the first job up the
--   parent links that is not an upscale (`contests.provenance`); the creator's own ❤ and
--   the command line's (owner 0) images do not count;
-- * models: per server, images of finished jobs posted in it, by model and by the time
--   the job was made (coalesce(finished_at, created_at)).
-- Members who hide their results are left out when a board is read, not here.

-- A job's kind, owner and parent never change (the boards' counts rely on it).
CREATE TRIGGER jobs_lineage_is_fixed BEFORE UPDATE OF kind, owner_id, parent_job_id, parent_index
ON jobs
WHEN OLD.kind IS NOT NEW.kind OR OLD.owner_id IS NOT NEW.owner_id
    OR OLD.parent_job_id IS NOT NEW.parent_job_id OR OLD.parent_index IS NOT NEW.parent_index
BEGIN
    SELECT RAISE(ABORT, 'a job''s kind, owner and parent never change');
END;

-- upscale_origins: for each upscale with a parent, the image it enlarges in the end.
CREATE TABLE upscale_origins (
    job_id         INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    origin_job_id  INTEGER NOT NULL,
    origin_idx     INTEGER NOT NULL
);

WITH RECURSIVE walk (job_id, at_id, at_idx) AS (
    SELECT id, parent_job_id, parent_index FROM jobs
    WHERE kind = 'upscale' AND parent_job_id IS NOT NULL
    UNION
    SELECT w.job_id, p.parent_job_id, p.parent_index
    FROM walk w JOIN jobs p ON p.id = w.at_id
    WHERE p.kind = 'upscale' AND p.parent_job_id IS NOT NULL
)
INSERT INTO upscale_origins (job_id, origin_job_id, origin_idx)
SELECT w.job_id, w.at_id, w.at_idx FROM walk w JOIN jobs o ON o.id = w.at_id
WHERE o.kind != 'upscale' OR o.parent_job_id IS NULL;

-- The parent's origin, or the parent itself when it is where the walk ends. A parent that
-- is an upscale without an origin (a broken chain) gives none.
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

-- favorite_credits: one row per ❤ that counts on a creators board: on an upscale posted in
-- a server, for the creator of its origin image, not given by that creator.
CREATE TABLE favorite_credits (
    fan_id         INTEGER NOT NULL,
    job_id         INTEGER NOT NULL,
    idx            INTEGER NOT NULL,
    guild_id       INTEGER NOT NULL,
    owner_id       INTEGER NOT NULL,
    origin_job_id  INTEGER NOT NULL,
    origin_idx     INTEGER NOT NULL,
    created_at     TEXT    NOT NULL,
    PRIMARY KEY (job_id, idx, fan_id)
);
-- The week's and month's boards: a range of one server's ❤, covering.
CREATE INDEX favorite_credits_given ON favorite_credits (
    guild_id, created_at, owner_id, fan_id, origin_job_id, origin_idx
);
-- Whether a fan's ❤ on another upscale of the same image already counts.
CREATE INDEX favorite_credits_pair ON favorite_credits (
    guild_id, origin_job_id, origin_idx, fan_id
);

-- creator_hearts: per server and creator, the distinct (fan, origin image) pairs above.
CREATE TABLE creator_hearts (
    guild_id  INTEGER NOT NULL,
    owner_id  INTEGER NOT NULL,
    hearts    INTEGER NOT NULL CHECK (hearts >= 0),
    PRIMARY KEY (guild_id, owner_id)
);

-- The credit of the ❤ (fan_id, job_id, idx), when it counts; the statement is repeated in
-- each trigger below that (re)credits a ❤.
INSERT INTO favorite_credits
SELECT f.user_id, f.job_id, f.idx, m.guild_id, o.owner_id, o.id,
       coalesce(u.origin_idx, f.idx), f.created_at
FROM favorites f JOIN jobs j ON j.id = f.job_id JOIN job_messages m ON m.job_id = j.id
LEFT JOIN upscale_origins u ON u.job_id = j.id
JOIN jobs o ON o.id = coalesce(u.origin_job_id, j.id)
WHERE j.kind = 'upscale' AND m.guild_id IS NOT NULL AND o.owner_id != 0
AND o.owner_id != f.user_id AND (u.job_id IS NOT NULL OR j.parent_job_id IS NULL);

INSERT INTO creator_hearts (guild_id, owner_id, hearts)
SELECT guild_id, owner_id, count(*) FROM (
    SELECT DISTINCT guild_id, owner_id, fan_id, origin_job_id, origin_idx FROM favorite_credits
) GROUP BY guild_id, owner_id;

CREATE TRIGGER favorite_credits_count AFTER INSERT ON favorite_credits
WHEN NOT EXISTS (
    SELECT 1 FROM favorite_credits c
    WHERE c.guild_id = NEW.guild_id AND c.origin_job_id = NEW.origin_job_id
    AND c.origin_idx = NEW.origin_idx AND c.fan_id = NEW.fan_id
    AND (c.job_id != NEW.job_id OR c.idx != NEW.idx)
)
BEGIN
    INSERT INTO creator_hearts (guild_id, owner_id, hearts)
    VALUES (NEW.guild_id, NEW.owner_id, 1)
    ON CONFLICT (guild_id, owner_id) DO UPDATE SET hearts = hearts + 1;
END;

CREATE TRIGGER favorite_credits_uncount AFTER DELETE ON favorite_credits
WHEN NOT EXISTS (
    SELECT 1 FROM favorite_credits c
    WHERE c.guild_id = OLD.guild_id AND c.origin_job_id = OLD.origin_job_id
    AND c.origin_idx = OLD.origin_idx AND c.fan_id = OLD.fan_id
)
BEGIN
    UPDATE creator_hearts SET hearts = hearts - 1
    WHERE guild_id = OLD.guild_id AND owner_id = OLD.owner_id;
    DELETE FROM creator_hearts
    WHERE guild_id = OLD.guild_id AND owner_id = OLD.owner_id AND hearts = 0;
END;

CREATE TRIGGER favorites_credit AFTER INSERT ON favorites
BEGIN
    INSERT INTO favorite_credits
    SELECT NEW.user_id, NEW.job_id, NEW.idx, m.guild_id, o.owner_id, o.id,
           coalesce(u.origin_idx, NEW.idx), NEW.created_at
    FROM jobs j JOIN job_messages m ON m.job_id = j.id
    LEFT JOIN upscale_origins u ON u.job_id = j.id
    JOIN jobs o ON o.id = coalesce(u.origin_job_id, j.id)
    WHERE j.id = NEW.job_id AND j.kind = 'upscale' AND m.guild_id IS NOT NULL
    AND o.owner_id != 0 AND o.owner_id != NEW.user_id
    AND (u.job_id IS NOT NULL OR j.parent_job_id IS NULL);
END;

CREATE TRIGGER favorites_uncredit AFTER DELETE ON favorites
BEGIN
    DELETE FROM favorite_credits
    WHERE fan_id = OLD.user_id AND job_id = OLD.job_id AND idx = OLD.idx;
END;

CREATE TRIGGER favorites_recredit AFTER UPDATE ON favorites
BEGIN
    DELETE FROM favorite_credits
    WHERE fan_id = OLD.user_id AND job_id = OLD.job_id AND idx = OLD.idx;
    INSERT INTO favorite_credits
    SELECT NEW.user_id, NEW.job_id, NEW.idx, m.guild_id, o.owner_id, o.id,
           coalesce(u.origin_idx, NEW.idx), NEW.created_at
    FROM jobs j JOIN job_messages m ON m.job_id = j.id
    LEFT JOIN upscale_origins u ON u.job_id = j.id
    JOIN jobs o ON o.id = coalesce(u.origin_job_id, j.id)
    WHERE j.id = NEW.job_id AND j.kind = 'upscale' AND m.guild_id IS NOT NULL
    AND o.owner_id != 0 AND o.owner_id != NEW.user_id
    AND (u.job_id IS NOT NULL OR j.parent_job_id IS NULL);
END;

-- board_job_images: per finished job posted in a server, its images (the models board's
-- unit): when it was made, by whom, with which model.
CREATE TABLE board_job_images (
    job_id    INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    guild_id  INTEGER NOT NULL,
    made_at   TEXT    NOT NULL,
    model     TEXT    NOT NULL,
    owner_id  INTEGER NOT NULL,
    images    INTEGER NOT NULL CHECK (images > 0)
);
-- The edges of a window (part of a day), covering.
CREATE INDEX board_job_images_made ON board_job_images (guild_id, made_at, model, images);
-- What members who hide their results made, to take out of the day totals.
CREATE INDEX board_job_images_owner ON board_job_images (
    guild_id, owner_id, made_at, model, images
);

-- model_image_days: per server, UTC day (the made_at's first ten characters) and model,
-- the images of board_job_images: a year is a few thousand rows.
CREATE TABLE model_image_days (
    guild_id  INTEGER NOT NULL,
    day       TEXT    NOT NULL,
    model     TEXT    NOT NULL,
    images    INTEGER NOT NULL CHECK (images >= 0),
    PRIMARY KEY (guild_id, day, model)
);

INSERT INTO board_job_images
SELECT j.id, m.guild_id, coalesce(j.finished_at, j.created_at), j.model, j.owner_id, n.images
FROM jobs j JOIN job_messages m ON m.job_id = j.id
JOIN (SELECT job_id, count(*) AS images FROM images GROUP BY job_id) n ON n.job_id = j.id
WHERE j.status = 'done' AND m.guild_id IS NOT NULL;

INSERT INTO model_image_days (guild_id, day, model, images)
SELECT guild_id, substr(made_at, 1, 10), model, sum(images) FROM board_job_images
GROUP BY guild_id, substr(made_at, 1, 10), model;

CREATE TRIGGER board_job_images_count AFTER INSERT ON board_job_images
BEGIN
    INSERT INTO model_image_days (guild_id, day, model, images)
    VALUES (NEW.guild_id, substr(NEW.made_at, 1, 10), NEW.model, NEW.images)
    ON CONFLICT (guild_id, day, model) DO UPDATE SET images = images + NEW.images;
END;

CREATE TRIGGER board_job_images_uncount AFTER DELETE ON board_job_images
BEGIN
    UPDATE model_image_days SET images = images - OLD.images
    WHERE guild_id = OLD.guild_id AND day = substr(OLD.made_at, 1, 10) AND model = OLD.model;
    DELETE FROM model_image_days
    WHERE guild_id = OLD.guild_id AND day = substr(OLD.made_at, 1, 10) AND model = OLD.model
    AND images = 0;
END;

-- Recount one job's images (and recredit its ❤) whenever what they depend on changes:
-- its images, its status or times or model, the server it was posted in.
CREATE TRIGGER images_added_recount AFTER INSERT ON images
BEGIN
    DELETE FROM board_job_images WHERE job_id = NEW.job_id;
    INSERT INTO board_job_images
    SELECT j.id, m.guild_id, coalesce(j.finished_at, j.created_at), j.model, j.owner_id,
           (SELECT count(*) FROM images i WHERE i.job_id = j.id)
    FROM jobs j JOIN job_messages m ON m.job_id = j.id
    WHERE j.id = NEW.job_id AND j.status = 'done' AND m.guild_id IS NOT NULL;
END;

CREATE TRIGGER images_removed_recount AFTER DELETE ON images
BEGIN
    DELETE FROM board_job_images WHERE job_id = OLD.job_id;
    INSERT INTO board_job_images
    SELECT j.id, m.guild_id, coalesce(j.finished_at, j.created_at), j.model, j.owner_id,
           (SELECT count(*) FROM images i WHERE i.job_id = j.id)
    FROM jobs j JOIN job_messages m ON m.job_id = j.id
    WHERE j.id = OLD.job_id AND j.status = 'done' AND m.guild_id IS NOT NULL
    AND EXISTS (SELECT 1 FROM images i WHERE i.job_id = j.id);
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

CREATE TRIGGER job_messages_added_recount AFTER INSERT ON job_messages
BEGIN
    DELETE FROM board_job_images WHERE job_id = NEW.job_id;
    INSERT INTO board_job_images
    SELECT j.id, m.guild_id, coalesce(j.finished_at, j.created_at), j.model, j.owner_id,
           (SELECT count(*) FROM images i WHERE i.job_id = j.id)
    FROM jobs j JOIN job_messages m ON m.job_id = j.id
    WHERE j.id = NEW.job_id AND j.status = 'done' AND m.guild_id IS NOT NULL
    AND EXISTS (SELECT 1 FROM images i WHERE i.job_id = j.id);
    DELETE FROM favorite_credits WHERE job_id = NEW.job_id;
    INSERT INTO favorite_credits
    SELECT f.user_id, f.job_id, f.idx, m.guild_id, o.owner_id, o.id,
           coalesce(u.origin_idx, f.idx), f.created_at
    FROM favorites f JOIN jobs j ON j.id = f.job_id JOIN job_messages m ON m.job_id = j.id
    LEFT JOIN upscale_origins u ON u.job_id = j.id
    JOIN jobs o ON o.id = coalesce(u.origin_job_id, j.id)
    WHERE f.job_id = NEW.job_id AND j.kind = 'upscale' AND m.guild_id IS NOT NULL
    AND o.owner_id != 0 AND o.owner_id != f.user_id
    AND (u.job_id IS NOT NULL OR j.parent_job_id IS NULL);
END;

CREATE TRIGGER job_messages_moved_recount AFTER UPDATE OF guild_id, job_id ON job_messages
WHEN OLD.guild_id IS NOT NEW.guild_id OR OLD.job_id IS NOT NEW.job_id
BEGIN
    DELETE FROM board_job_images WHERE job_id IN (OLD.job_id, NEW.job_id);
    INSERT INTO board_job_images
    SELECT j.id, m.guild_id, coalesce(j.finished_at, j.created_at), j.model, j.owner_id,
           (SELECT count(*) FROM images i WHERE i.job_id = j.id)
    FROM jobs j JOIN job_messages m ON m.job_id = j.id
    WHERE j.id IN (OLD.job_id, NEW.job_id) AND j.status = 'done' AND m.guild_id IS NOT NULL
    AND EXISTS (SELECT 1 FROM images i WHERE i.job_id = j.id);
    DELETE FROM favorite_credits WHERE job_id IN (OLD.job_id, NEW.job_id);
    INSERT INTO favorite_credits
    SELECT f.user_id, f.job_id, f.idx, m.guild_id, o.owner_id, o.id,
           coalesce(u.origin_idx, f.idx), f.created_at
    FROM favorites f JOIN jobs j ON j.id = f.job_id JOIN job_messages m ON m.job_id = j.id
    LEFT JOIN upscale_origins u ON u.job_id = j.id
    JOIN jobs o ON o.id = coalesce(u.origin_job_id, j.id)
    WHERE f.job_id IN (OLD.job_id, NEW.job_id) AND j.kind = 'upscale'
    AND m.guild_id IS NOT NULL AND o.owner_id != 0 AND o.owner_id != f.user_id
    AND (u.job_id IS NOT NULL OR j.parent_job_id IS NULL);
END;

CREATE TRIGGER job_messages_removed_recount AFTER DELETE ON job_messages
BEGIN
    DELETE FROM board_job_images WHERE job_id = OLD.job_id;
    DELETE FROM favorite_credits WHERE job_id = OLD.job_id;
END;

-- model_images: images of every job (any server, the command line's too), per model as
-- jobs store it lowercased: the models page's "images made" (`registry.versions`).
CREATE TABLE model_images (
    model   TEXT    PRIMARY KEY,
    images  INTEGER NOT NULL CHECK (images >= 0)
);

INSERT INTO model_images (model, images)
SELECT lower(j.model), count(*) FROM images i JOIN jobs j ON j.id = i.job_id
GROUP BY lower(j.model);

CREATE TRIGGER images_added_model_count AFTER INSERT ON images
BEGIN
    INSERT INTO model_images (model, images)
    SELECT lower(model), 1 FROM jobs WHERE id = NEW.job_id
    ON CONFLICT (model) DO UPDATE SET images = images + 1;
END;

-- When a job is deleted, its images go after it (ON DELETE CASCADE), when its row is no
-- longer there to say its model: the job's own trigger takes them off first.
CREATE TRIGGER images_removed_model_count AFTER DELETE ON images
BEGIN
    UPDATE model_images SET images = images - 1
    WHERE model = (SELECT lower(model) FROM jobs WHERE id = OLD.job_id);
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
