"""SQLite storage for Atelier: connections, numbered migrations and repository functions."""

from db.database import Database, Params
from db.jobs import (
    ImageRecord,
    JobKind,
    JobNotFoundError,
    JobRecord,
    JobStateError,
    JobStatus,
    from_db_time,
    get_job,
    insert_images,
    insert_job,
    list_images,
    mark_finished,
    mark_running,
    requeue,
    to_db_time,
    unfinished_jobs,
)
from db.migrate import Migration, MigrationError, Migrations

__all__ = [
    "Database",
    "ImageRecord",
    "JobKind",
    "JobNotFoundError",
    "JobRecord",
    "JobStateError",
    "JobStatus",
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
