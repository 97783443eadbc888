-- /prefer remix on|off: while on, V1–V4, Vary, Zoom Out, Pan and 🔄 first open a form
-- with the prompt and its parameters to edit. Off by default, as on Midjourney.
ALTER TABLE user_settings ADD COLUMN remix INTEGER NOT NULL DEFAULT 0 CHECK (remix IN (0, 1));
