-- What the Discord bot remembers: where each job's message is, per-server settings and
-- moderation, per-user preferences, favourites, and the per-user queue limits set by admins.

-- job_messages: the message that shows a job (its status while it waits and runs, then the
-- result), so progress and results can still be delivered after a restart.
CREATE TABLE job_messages (
    job_id              INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    guild_id            INTEGER,
    channel_id          INTEGER NOT NULL,
    message_id          INTEGER NOT NULL,
    -- Set when the result had to be posted as a new message (the interaction had expired).
    result_message_id   INTEGER
);

-- guild_settings: one row per server that changed a default.
CREATE TABLE guild_settings (
    guild_id               INTEGER PRIMARY KEY,
    -- Where appeals of blocked prompts are posted; NULL: appeals are not possible.
    moderation_channel_id  INTEGER,
    -- 1: anyone may press U/V/🔄 on anyone's grid; 0: only the job's owner.
    buttons_for_everyone   INTEGER NOT NULL DEFAULT 0 CHECK (buttons_for_everyone IN (0, 1))
);

-- banned_words: a server's blocked words, stored lowercased, matched on whole words.
CREATE TABLE banned_words (
    guild_id  INTEGER NOT NULL,
    word      TEXT    NOT NULL CHECK (word = lower(word) AND length(word) > 0),
    added_by  INTEGER NOT NULL,
    added_at  TEXT    NOT NULL,
    PRIMARY KEY (guild_id, word)
);

-- blocked_prompts: prompts refused by moderation, kept so an appeal button can name one by id.
CREATE TABLE blocked_prompts (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    prompt      TEXT    NOT NULL,
    -- The matched words, comma separated.
    matched     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    appealed_at TEXT
);

-- user_settings: /settings and /prefer suffix; a missing row means every default.
CREATE TABLE user_settings (
    user_id    INTEGER PRIMARY KEY,
    -- Default model name; NULL: the operator's default.
    model      TEXT,
    -- Default --stylize preset; NULL: --s 100.
    stylize    TEXT CHECK (stylize IN ('low', 'med', 'high', 'very_high')),
    variation  TEXT    NOT NULL DEFAULT 'subtle' CHECK (variation IN ('subtle', 'strong')),
    -- 1: results may appear in public listings (galleries, leaderboards).
    public     INTEGER NOT NULL DEFAULT 1 CHECK (public IN (0, 1)),
    -- Appended to every prompt (/prefer suffix).
    suffix     TEXT    NOT NULL DEFAULT ''
);

-- user_options: /prefer option set NAME FLAGS: "--NAME" in a prompt stands for FLAGS.
CREATE TABLE user_options (
    user_id  INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    flags    TEXT    NOT NULL,
    PRIMARY KEY (user_id, name)
);

-- favorites: ❤ on an upscaled image; pressing twice records it once.
CREATE TABLE favorites (
    user_id    INTEGER NOT NULL,
    job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL CHECK (idx >= 0),
    created_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, job_id, idx)
);

-- queue_limits: per-user limits set with /admin limits; no row: the operator's settings.
CREATE TABLE queue_limits (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    max_running  INTEGER NOT NULL CHECK (max_running >= 1),
    max_queued   INTEGER NOT NULL CHECK (max_queued >= 1),
    updated_by   INTEGER NOT NULL,
    updated_at   TEXT    NOT NULL
);
