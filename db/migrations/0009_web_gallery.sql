-- The web studio: which servers show their work on the web, an unguessable id per job for
-- its page and image addresses, and the names members go by (the web has no Discord to ask).

-- 1: the server's work may appear on the web (/admin gallery on); 0 (the default): nothing
-- of it does. gallery_name: the server's name when the gallery was turned on, for the pages.
ALTER TABLE guild_settings ADD COLUMN gallery INTEGER NOT NULL DEFAULT 0
    CHECK (gallery IN (0, 1));
ALTER TABLE guild_settings ADD COLUMN gallery_name TEXT;

-- public_id: 32 random hex digits (128 bits) naming a job on the web, so a job cannot be
-- found by counting its number. Old jobs get one here; new ones from the trigger, whatever
-- code inserts them.
ALTER TABLE jobs ADD COLUMN public_id TEXT;
UPDATE jobs SET public_id = lower(hex(randomblob(16))) WHERE public_id IS NULL;
CREATE UNIQUE INDEX jobs_public_id ON jobs (public_id);
CREATE TRIGGER jobs_public_id_on_insert AFTER INSERT ON jobs WHEN NEW.public_id IS NULL
BEGIN
    UPDATE jobs SET public_id = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;

-- member_names: the display name the bot last saw a member use (recorded when they use the
-- bot), shown on the web pages instead of a Discord mention.
CREATE TABLE member_names (
    user_id     INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    updated_at  TEXT    NOT NULL
);
