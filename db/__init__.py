"""SQLite storage for Atelier: connections, numbered migrations and repository functions."""

from db.database import Database, Params
from db.jobs import (
    LOCAL_OWNER_ID,
    ImageRecord,
    JobKind,
    JobNotFoundError,
    JobRecord,
    JobStateError,
    JobStatus,
    Lane,
    get_job,
    insert_images,
    insert_job,
    list_images,
    mark_finished,
    mark_running,
    requeue,
    unfinished_jobs,
)
from db.migrate import Migration, MigrationError, Migrations
from db.times import from_db_time, to_db_time

__all__ = [
    "LOCAL_OWNER_ID",
    "Database",
    "ImageRecord",
    "JobKind",
    "JobNotFoundError",
    "JobRecord",
    "JobStateError",
    "JobStatus",
    "Lane",
    "Migration",
    "MigrationError",
    "Migrations",
    "Params",
    "from_db_time",
    "get_job",
    "insert_images",
    "insert_job",
    "list_images",
    "mark_finished",
    "mark_running",
    "requeue",
    "to_db_time",
    "unfinished_jobs",
]
