-- Delivery is a job's own recorded state: "done" says the images exist, "delivered" says
-- the member was shown the outcome in Discord. A crash between the two is repaired at the
-- next start: every finished job that is not delivered is delivered then, once.
--
-- job_messages is rebuilt so that where a job will be shown (server and channel) is written
-- in the same transaction as the job itself, before any message exists: message_id becomes
-- nullable and is filled in once the status message has been posted.

CREATE TABLE job_messages_new (
    job_id              INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    guild_id            INTEGER,
    channel_id          INTEGER NOT NULL,
    -- The status message; NULL until it is posted and its id known. A restart that finds
    -- NULL looks for the job's message in the channel (by the job's button ids), and posts
    -- a new one if there is none.
    message_id          INTEGER,
    -- Set when the result had to be posted as a new message (the interaction had expired).
    result_message_id   INTEGER,
    -- The interaction that made the job (a snowflake: its time comes before any message of
    -- the job), where a restart starts looking for messages it may have posted unrecorded.
    interaction_id      INTEGER,
    -- When the job's outcome (result, failure or cancellation) was shown; NULL while it
    -- was not (yet).
    delivered_at        TEXT
);

-- Rows from before this migration: every job that had ended was delivered by then (or can
-- no longer be told apart from one that was), so none is posted again.
INSERT INTO job_messages_new
    (job_id, guild_id, channel_id, message_id, result_message_id, interaction_id, delivered_at)
SELECT m.job_id, m.guild_id, m.channel_id, m.message_id, m.result_message_id, NULL,
       CASE WHEN j.status IN ('done', 'failed', 'cancelled')
            THEN coalesce(j.finished_at, j.created_at) END
FROM job_messages m JOIN jobs j ON j.id = m.job_id;

DROP TABLE job_messages;
ALTER TABLE job_messages_new RENAME TO job_messages;

-- What a start-up must deliver: the few rows not delivered yet.
CREATE INDEX job_messages_undelivered ON job_messages (job_id) WHERE delivered_at IS NULL;
