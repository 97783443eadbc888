-- Indexes for the community features on a server with a year of history, found and
-- measured with `python -m bench.community` (250,000 jobs, 830,000 images, 150,000 ❤).

-- One image's ❤: the count answered on every ❤ press (before: a scan of every favorite),
-- and the favorites of the week's images on the trending board. Covering, so the board
-- reads no favorites rows.
CREATE INDEX favorites_image ON favorites (job_id, idx, created_at, user_id);

-- Favorites given in a period, for the creators board's week and month (before: a scan
-- of every favorite). Covering for the same reason.
CREATE INDEX favorites_given ON favorites (created_at, job_id, user_id);

-- Finished jobs by the time they were made, as the models and trending boards select them
-- (the expression must stay the one those queries use; before: every finished job, row by
-- row). It carries the other columns those boards read, so they read no job rows at all:
-- without them, the all-time models board got slower, fetching rows in time order.
CREATE INDEX jobs_done_made_at ON jobs (
    status, coalesce(finished_at, created_at), kind, model, owner_id, finished_at, created_at
);

-- A contest's results: the hall of fame asks, per closed contest, whether it had a winner,
-- how many entries it ranked and who won (before: every result of every contest, for
-- each contest on the page).
CREATE INDEX contest_results_contest ON contest_results (contest_id, place);
