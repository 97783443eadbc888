-- LoRAs in the registry, recommended settings per version, file hashes, and each job's LoRAs.

-- A model is a whole checkpoint (what --model names) or a LoRA (what <lora:name:weight>
-- in a prompt names); all its versions are of its kind.
ALTER TABLE models ADD COLUMN kind TEXT NOT NULL DEFAULT 'checkpoint'
    CHECK (kind IN ('checkpoint', 'lora'));

-- For a LoRA on the hub: the file inside the repository the source names.
ALTER TABLE model_versions ADD COLUMN weight_name TEXT;
-- Words that call up a LoRA's style, comma-separated, as its creator gives them.
ALTER TABLE model_versions ADD COLUMN trigger_words TEXT NOT NULL DEFAULT '';
-- The weight of <lora:name> without a weight.
ALTER TABLE model_versions ADD COLUMN default_weight REAL NOT NULL DEFAULT 1.0
    CHECK (default_weight BETWEEN -2 AND 2);
-- The settings the creator recommends: {"steps", "sampler", "cfg", "negative_prompt",
-- "weight_min", "weight_max"}, each optional.
ALTER TABLE model_versions ADD COLUMN recommended TEXT NOT NULL DEFAULT '{}'
    CHECK (json_valid(recommended) AND json_type(recommended) = 'object');
-- SHA-256 of the weights file (hex), computed once; NULL for folders and hub sources.
ALTER TABLE model_versions ADD COLUMN sha256 TEXT
    CHECK (sha256 IS NULL OR length(sha256) = 64);

-- job_loras: the LoRA versions a job ran with (by the version's key, as jobs.model stores
-- its checkpoint), in the order the prompt gave them; what the boards credit per LoRA.
CREATE TABLE job_loras (
    job_id      INTEGER NOT NULL REFERENCES jobs (id),
    position    INTEGER NOT NULL CHECK (position >= 0),
    version_key TEXT    NOT NULL,
    weight      REAL    NOT NULL CHECK (weight BETWEEN -2 AND 2),
    PRIMARY KEY (job_id, position),
    UNIQUE (job_id, version_key)  -- a prompt names a LoRA once
);

CREATE INDEX job_loras_version ON job_loras (version_key);
