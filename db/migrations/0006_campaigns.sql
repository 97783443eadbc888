-- Crowdfunding campaigns and the append-only pledge ledger.
-- Atelier records pledges; it moves no money. Amounts are integers in the currency's minor
-- unit (cents for USD, yen for JPY, fils for KWD).

-- campaigns: one per upcoming model version raising support. Its state may change
-- (open → funded | failed | cancelled); the money is only ever in pledge_events.
CREATE TABLE campaigns (
    id                      INTEGER PRIMARY KEY,
    version_id              INTEGER NOT NULL REFERENCES model_versions (id),
    guild_id                INTEGER NOT NULL,
    channel_id              INTEGER NOT NULL,
    -- The campaign message (progress bar, Pledge/Withdraw); NULL until it is posted.
    message_id              INTEGER,
    owner_id                INTEGER NOT NULL,  -- who created it: the version's creator or a moderator
    title                   TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    description             TEXT    NOT NULL DEFAULT '',
    currency                TEXT    NOT NULL
                            CHECK (length(currency) = 3 AND currency = upper(currency)),
    goal_minor              INTEGER NOT NULL CHECK (goal_minor > 0),
    min_pledge_minor        INTEGER NOT NULL CHECK (min_pledge_minor > 0),
    early_access_days       INTEGER NOT NULL DEFAULT 0 CHECK (early_access_days >= 0),
    backer_role_id          INTEGER,
    starts_at               TEXT    NOT NULL,
    deadline                TEXT    NOT NULL,
    state                   TEXT    NOT NULL DEFAULT 'open'
                            CHECK (state IN ('open', 'funded', 'failed', 'cancelled')),
    -- Why it left 'open' (the cancel reason, or the totals at the deadline).
    state_reason            TEXT,
    -- When it left 'open', and the total pledged at that moment (kept after voids zero it).
    settled_at              TEXT,
    settled_total_minor     INTEGER,
    -- Set once the funded/failed/cancelled announcement is posted; NULL while one is due.
    announced_at            TEXT,
    -- Set once the moderators were told the bot cannot grant the backer role.
    role_warning_at         TEXT,
    created_interaction_id  INTEGER UNIQUE,
    created_at              TEXT    NOT NULL,
    updated_at              TEXT    NOT NULL,
    CHECK (deadline > starts_at),
    CHECK (min_pledge_minor <= goal_minor),
    CHECK ((state = 'open') = (settled_at IS NULL))
);

-- At most one open or funded campaign per model version.
CREATE UNIQUE INDEX campaigns_one_live_per_version
    ON campaigns (version_id) WHERE state IN ('open', 'funded');
CREATE INDEX campaigns_open_deadline ON campaigns (state, deadline);
CREATE INDEX campaigns_guild ON campaigns (guild_id, state);

-- pledge_events: the ledger. Every pledge, change, withdrawal, void and settlement is one
-- row; a backer's pledge is the sum of their deltas, a campaign's total the sum of all.
-- Rows are never updated or deleted (the triggers below refuse it).
CREATE TABLE pledge_events (
    id              INTEGER PRIMARY KEY,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns (id),
    backer_id       INTEGER NOT NULL,
    -- 1, 2, 3, ... per (campaign, backer): two writes from the same starting point collide.
    backer_seq      INTEGER NOT NULL CHECK (backer_seq >= 1),
    kind            TEXT    NOT NULL
                    CHECK (kind IN ('pledge', 'change', 'withdraw', 'void', 'settle')),
    -- The change to the backer's pledge, and the pledge after it (both in minor units).
    delta_minor     INTEGER NOT NULL,
    amount_minor    INTEGER NOT NULL CHECK (amount_minor >= 0),
    -- 1: shown as "anonymous backer" everywhere public (the backer's latest choice counts).
    anonymous       INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1)),
    -- Idempotency: the Discord interaction that caused a backer's event, or a key naming a
    -- system event ('void:<campaign>:<backer>', 'settle:<campaign>:<backer>').
    interaction_id  INTEGER UNIQUE,
    system_key      TEXT    UNIQUE,
    actor_id        INTEGER,  -- who caused it: the backer, a moderator; NULL: the deadline
    reason          TEXT,
    created_at      TEXT    NOT NULL,
    UNIQUE (campaign_id, backer_id, backer_seq),
    CHECK ((interaction_id IS NULL) != (system_key IS NULL)),
    CHECK (kind != 'pledge' OR delta_minor > 0),
    CHECK (kind NOT IN ('withdraw', 'void') OR amount_minor = 0),
    CHECK (kind != 'settle' OR delta_minor = 0)
);

CREATE INDEX pledge_events_campaign ON pledge_events (campaign_id, backer_id, backer_seq);
CREATE INDEX pledge_events_backer ON pledge_events (backer_id);

CREATE TRIGGER pledge_events_no_update BEFORE UPDATE ON pledge_events
BEGIN
    SELECT RAISE(ABORT, 'pledge_events is an append-only ledger: rows cannot be changed');
END;

CREATE TRIGGER pledge_events_no_delete BEFORE DELETE ON pledge_events
BEGIN
    SELECT RAISE(ABORT, 'pledge_events is an append-only ledger: rows cannot be deleted');
END;

-- campaign_notices: what the bot still has to do for one backer after a campaign settled:
-- tell them it failed or was cancelled ('void'), or grant the backer role ('role').
-- Written in the transaction that settles the campaign; done_at set once done.
CREATE TABLE campaign_notices (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id),
    backer_id    INTEGER NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('void', 'role')),
    done_at      TEXT,
    -- What happened: 'sent', 'granted', 'dm closed', 'no permission', ...
    outcome      TEXT,
    PRIMARY KEY (campaign_id, backer_id, kind)
);

CREATE INDEX campaign_notices_pending ON campaign_notices (done_at, campaign_id);
