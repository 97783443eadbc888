-- A server may name a moderator role: its members run contests and the model registry
-- without needing the Manage Server permission.
ALTER TABLE guild_settings ADD COLUMN moderator_role_id INTEGER;
