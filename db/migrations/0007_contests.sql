-- Weekly contests, entries, blind votes and themes.
-- A contest goes scheduled → submissions → voting → closed (or cancelled at any point
-- before closed). Its three phase times are stored here; the bot only wakes up at them.

-- contest_rules: a server's contest rules (/contest rules); no row: every default.
CREATE TABLE contest_rules (
    guild_id          INTEGER PRIMARY KEY,
    max_entries       INTEGER NOT NULL DEFAULT 1 CHECK (max_entries BETWEEN 1 AND 10),
    -- How long someone must have been a member of the server to enter or vote.
    min_member_days   INTEGER NOT NULL DEFAULT 7 CHECK (min_member_days BETWEEN 0 AND 365),
    votes_per_member  INTEGER NOT NULL DEFAULT 3 CHECK (votes_per_member BETWEEN 1 AND 25),
    updated_by        INTEGER NOT NULL,
    updated_at        TEXT    NOT NULL
);

-- contest_themes: a server's queue of themes. Scheduled contests take the least used theme
-- (oldest first), so no theme repeats until every theme has been used.
CREATE TABLE contest_themes (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    theme         TEXT    NOT NULL CHECK (length(theme) BETWEEN 1 AND 200),
    -- The theme case-folded by Python (str.casefold, full Unicode: “Äpfel” = “äpfel”);
    -- SQLite's lower() folds ASCII only.
    folded        TEXT    NOT NULL,
    added_by      INTEGER NOT NULL,
    added_at      TEXT    NOT NULL,
    uses          INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    last_used_at  TEXT,
    -- Set while the theme is out of the queue. The row stays, so a theme added back keeps
    -- its uses and its place in the rotation instead of jumping the queue.
    removed_at    TEXT
);
CREATE UNIQUE INDEX contest_themes_guild_theme ON contest_themes (guild_id, folded);

-- contest_schedules: /contest schedule: a weekly contest in a server, opening at weekday
-- (0 = Monday) and hour (UTC). The next contest exists as a row in state 'scheduled'.
CREATE TABLE contest_schedules (
    guild_id     INTEGER PRIMARY KEY,
    channel_id   INTEGER NOT NULL,
    weekday      INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    hour         INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    submit_days  INTEGER NOT NULL CHECK (submit_days BETWEEN 1 AND 7),
    vote_days    INTEGER NOT NULL CHECK (vote_days BETWEEN 1 AND 14),
    created_by   INTEGER NOT NULL,
    created_at   TEXT    NOT NULL
);

-- contests: one row per contest. Times are ISO-8601 UTC text.
CREATE TABLE contests (
    id                  INTEGER PRIMARY KEY,
    guild_id            INTEGER NOT NULL,
    channel_id          INTEGER NOT NULL,
    -- NULL only while a scheduled contest waits to open (its theme is picked at opening).
    theme               TEXT,
    theme_id            INTEGER REFERENCES contest_themes (id) ON DELETE SET NULL,
    state               TEXT    NOT NULL
                        CHECK (state IN ('scheduled', 'submissions', 'voting', 'closed',
                                         'cancelled')),
    -- 1: opened by the server's weekly schedule.
    scheduled           INTEGER NOT NULL DEFAULT 0 CHECK (scheduled IN (0, 1)),
    -- The moderator who opened it; NULL for scheduled contests.
    created_by          INTEGER,
    created_at          TEXT    NOT NULL,
    -- The three phase times: submissions open, voting starts, voting ends.
    opens_at            TEXT    NOT NULL,
    voting_at           TEXT    NOT NULL,
    closes_at           TEXT    NOT NULL,
    -- When the 24-hour reminders were queued; reset when a deadline is extended.
    submit_reminded_at  TEXT,
    vote_reminded_at    TEXT,
    -- Seed of the anonymous voting order, drawn when voting starts.
    shuffle_seed        INTEGER,
    -- Results: SHA-256 (hex) of the ballot CSV and the number of distinct voters.
    ballot_sha256       TEXT,
    voter_count         INTEGER,
    closed_at           TEXT,
    cancelled_by        INTEGER,
    cancel_reason       TEXT,
    cancelled_at        TEXT,
    -- When moderators were told the bot may not post in the channel (told once).
    post_refused_at     TEXT,
    CHECK (opens_at < voting_at AND voting_at < closes_at),
    CHECK (state = 'scheduled' OR state = 'cancelled' OR theme IS NOT NULL),
    CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX contests_guild_state ON contests (guild_id, state);
CREATE INDEX contests_state ON contests (state);
-- At most one contest per server accepts entries, so the Submit button knows which one.
CREATE UNIQUE INDEX contests_one_open_per_guild ON contests (guild_id)
    WHERE state = 'submissions';

-- contest_extensions: every /contest extend, kept as an audit trail. The interaction id makes
-- a repeated delivery find its extension here instead of adding the time twice.
CREATE TABLE contest_extensions (
    id              INTEGER PRIMARY KEY,
    contest_id      INTEGER NOT NULL REFERENCES contests (id),
    interaction_id  INTEGER NOT NULL UNIQUE,
    extended_by     INTEGER NOT NULL,
    seconds         INTEGER NOT NULL CHECK (seconds > 0),
    -- The deadlines the extension set.
    voting_at       TEXT    NOT NULL,
    closes_at       TEXT    NOT NULL,
    created_at      TEXT    NOT NULL
);
CREATE INDEX contest_extensions_contest ON contest_extensions (contest_id);

-- contest_entries: an image a member entered. A replaced entry stays, marked 'replaced'.
CREATE TABLE contest_entries (
    id                 INTEGER PRIMARY KEY,
    contest_id         INTEGER NOT NULL REFERENCES contests (id),
    user_id            INTEGER NOT NULL,
    job_id             INTEGER NOT NULL REFERENCES jobs (id),
    image_index        INTEGER NOT NULL CHECK (image_index >= 0),
    -- The image that generated the entered pixels (contests.provenance): the entered image
    -- itself, or for an upscale the image up its parent links that it enlarges.
    origin_job_id      INTEGER NOT NULL REFERENCES jobs (id),
    origin_index       INTEGER NOT NULL CHECK (origin_index >= 0),
    status             TEXT    NOT NULL DEFAULT 'active'
                       CHECK (status IN ('active', 'replaced', 'disqualified')),
    created_at         TEXT    NOT NULL,
    -- The interaction that entered it; a repeated delivery finds it here.
    interaction_id     INTEGER UNIQUE,
    replaced_at        TEXT,
    disqualified_by    INTEGER,
    disqualify_reason  TEXT,
    disqualified_at    TEXT,
    -- Anonymous number (1..n) in the shuffled voting order, and the message showing it.
    number             INTEGER,
    vote_message_id    INTEGER,
    UNIQUE (contest_id, number)
);
CREATE INDEX contest_entries_contest ON contest_entries (contest_id, status);
CREATE INDEX contest_entries_user ON contest_entries (user_id);
-- The same image cannot be entered twice in one contest while it stands, neither as itself
-- nor as an upscale of it: entries are unique by their origin image.
CREATE UNIQUE INDEX contest_entries_one_image
    ON contest_entries (contest_id, origin_job_id, origin_index) WHERE status = 'active';

-- contest_votes: the votes that currently stand (a withdrawn vote is deleted).
CREATE TABLE contest_votes (
    contest_id  INTEGER NOT NULL REFERENCES contests (id),
    entry_id    INTEGER NOT NULL REFERENCES contest_entries (id),
    voter_id    INTEGER NOT NULL,
    cast_at     TEXT    NOT NULL,
    PRIMARY KEY (entry_id, voter_id)
);
CREATE INDEX contest_votes_voter ON contest_votes (contest_id, voter_id);

-- contest_vote_presses: every Vote press, by interaction id, with what it did; makes presses
-- idempotent and tells a double-click from a deliberate withdrawal.
CREATE TABLE contest_vote_presses (
    interaction_id  INTEGER PRIMARY KEY,
    contest_id      INTEGER NOT NULL REFERENCES contests (id),
    entry_id        INTEGER NOT NULL REFERENCES contest_entries (id),
    voter_id        INTEGER NOT NULL,
    outcome         TEXT    NOT NULL
                    CHECK (outcome IN ('cast', 'withdrawn', 'duplicate')),
    -- The receipt shown for this press, repeated verbatim if the press is delivered again.
    receipt         TEXT    NOT NULL,
    pressed_at      TEXT    NOT NULL
);
CREATE INDEX contest_vote_presses_voter ON contest_vote_presses (voter_id, entry_id, pressed_at);

-- contest_results: the final standing of every valid entry, written when the contest closes.
-- place: 1, 2 or 3 when awarded (ties share a place), else NULL (also when the contest had
-- fewer than three entries, or the entry got no votes). points: place points + 1 for entering.
CREATE TABLE contest_results (
    contest_id   INTEGER NOT NULL REFERENCES contests (id),
    entry_id     INTEGER PRIMARY KEY REFERENCES contest_entries (id),
    user_id      INTEGER NOT NULL,
    job_id       INTEGER NOT NULL REFERENCES jobs (id),
    image_index  INTEGER NOT NULL,
    -- Competition ranking by votes among valid entries (1, 1, 3, ...).
    rank         INTEGER NOT NULL CHECK (rank >= 1),
    place        INTEGER CHECK (place BETWEEN 1 AND 3),
    votes        INTEGER NOT NULL CHECK (votes >= 0),
    points       INTEGER NOT NULL CHECK (points >= 0),
    awarded_at   TEXT    NOT NULL
);
CREATE INDEX contest_results_user ON contest_results (user_id, awarded_at);
CREATE INDEX contest_results_awarded ON contest_results (awarded_at);

-- contest_announcements: what to post in a contest's channel, queued in the same transaction
-- as the phase change it announces, marked posted once Discord has it.
CREATE TABLE contest_announcements (
    id          INTEGER PRIMARY KEY,
    contest_id  INTEGER NOT NULL REFERENCES contests (id),
    kind        TEXT    NOT NULL
                CHECK (kind IN ('opening', 'submit_reminder', 'voting', 'vote_reminder',
                                'results', 'cancelled', 'extended')),
    created_at  TEXT    NOT NULL,
    posted_at   TEXT
);
CREATE INDEX contest_announcements_pending ON contest_announcements (posted_at, id);
