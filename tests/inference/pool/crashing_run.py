"""A bot process for the restart test: it queues jobs, lets two finish, says ``ready`` and
waits to be killed (SIGKILL, no chance to clean up) in the middle of the next one.

Run as ``python -m tests.inference.pool.crashing_run DB MODEL_DIR IMAGES_DIR JOBS``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from inference.library_logs import quiet_library_logs

quiet_library_logs()

from db.database import Database  # noqa: E402 (after quieting the libraries)
from inference.backend import DiffusersBackend  # noqa: E402
from inference.models import ModelRef  # noqa: E402
from inference.pool.config import PoolConfig, UserLimits  # noqa: E402
from inference.pool.pool import WorkerPool  # noqa: E402
from inference.pool.worker import Backend  # noqa: E402
from tests.helpers.pool import NamedModels, Script, ScriptedBackend, job  # noqa: E402

#: Slow enough that the kill lands mid-job.
STEP_DELAY = 0.1


async def main(database: Path, model_dir: str, images_dir: Path, jobs: int) -> None:
    script = Script(step_delay=STEP_DELAY)

    def load(model: ModelRef, device: str, make_room: object) -> Backend:
        return ScriptedBackend(DiffusersBackend.load(model, device), script)

    async with await Database.open(database) as db:
        pool = WorkerPool(
            db,
            NamedModels(ModelRef("tiny", model_dir)),
            PoolConfig(devices=("cpu",), limits=UserLimits(max_queued=100)),
            images_dir,
            backend_factory=load,
        )
        await pool.start()
        handles = [await pool.submit(job(f"job {n}"), owner_id=1 + n % 2) for n in range(jobs)]
        for handle in handles[:2]:
            await handle.result()
        print("ready", flush=True)
        await asyncio.sleep(3600)


if __name__ == "__main__":
    db_path, model, images, count = sys.argv[1:]
    asyncio.run(main(Path(db_path), model, Path(images), int(count)))
