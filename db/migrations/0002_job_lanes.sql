-- The queue lane each job waits in, so a restart puts it back where it was:
-- 'priority' (backers during early access) is served before 'standard' (everyone).
ALTER TABLE jobs ADD COLUMN lane TEXT NOT NULL DEFAULT 'standard'
    CHECK (lane IN ('priority', 'standard'));
