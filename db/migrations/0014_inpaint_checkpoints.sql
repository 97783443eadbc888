-- A checkpoint version's dedicated inpainting checkpoint (a UNet that also reads the mask:
-- 9 input channels), used for Zoom Out, Pan, Make Square and Vary (Region) on that version;
-- without one those run on the version itself. Hub id, diffusers folder or single file,
-- checked like a version's source; its SHA-256 when it is one file.
ALTER TABLE model_versions ADD COLUMN inpaint_source TEXT;
ALTER TABLE model_versions ADD COLUMN inpaint_sha256 TEXT
    CHECK (inpaint_sha256 IS NULL OR length(inpaint_sha256) = 64);
