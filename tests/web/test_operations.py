"""``/healthz`` and ``/metrics`` served by aiohttp on 127.0.0.1, over a real database and a
worker pool on the tiny model: healthy and unhealthy answers, the pool's figures and the
web's request counts in Prometheus text (read back with prometheus_client's own parser),
and ``/metrics`` refused when turned off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from db.database import Database
from inference.models import ModelRef
from inference.pool.metrics import ClusterMetrics, DeviceMetrics, PoolMetrics
from inference.pool.pool import WorkerPool
from tests.helpers.pool import NamedModels, PoolMaker, Script, job
from web.operations import (
    HealthSources,
    metrics_registry,
    operations_routes,
    request_metrics_middleware,
)


@pytest.fixture
async def pool(db: Database, tiny_model_dir: Path, tmp_path: Path) -> AsyncIterator[WorkerPool]:
    maker = PoolMaker(
        db=db,
        models=NamedModels(ModelRef("tiny", str(tiny_model_dir))),
        images_dir=tmp_path / "images",
        script=Script(),
    )
    started = await maker()
    yield started
    await started.shutdown(grace_seconds=5)


async def _client(
    sources: HealthSources, registry: CollectorRegistry | None
) -> TestClient[web.Request, web.Application]:
    counting = [] if registry is None else [request_metrics_middleware(registry)]
    app = web.Application(middlewares=counting)
    app.add_routes(operations_routes(sources, registry))

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=request.match_info["public_id"])

    app.add_routes([web.get("/jobs/{public_id}", page)])
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_healthz_answers_200_when_loop_database_and_workers_answer(
    db: Database, pool: WorkerPool
) -> None:
    client = await _client(HealthSources(db, pool), None)
    try:
        response = await client.get("/healthz")
        assert response.status == 200
        body = await response.json()
    finally:
        await client.close()
    assert body == {
        "status": "ok",
        "checks": {"loop": "ok", "database": "ok", "workers": "ok"},
        "devices": {"cpu": "ok"},
    }


async def test_healthz_answers_503_naming_a_closed_database(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "closed.db")
    await db.close()
    client = await _client(HealthSources(db), None)
    try:
        response = await client.get("/healthz")
        body = await response.json()
    finally:
        await client.close()
    assert response.status == 503
    assert body["status"] == "unhealthy"
    assert body["checks"]["loop"] == "ok"
    assert "closed" in body["checks"]["database"]
    assert "workers" not in body["checks"]  # no pool here: `atelier web` serves pages alone


async def test_healthz_answers_503_when_the_pool_has_stopped(
    db: Database, pool: WorkerPool
) -> None:
    await pool.shutdown(grace_seconds=5)
    client = await _client(HealthSources(db, pool), None)
    try:
        response = await client.get("/healthz")
        body = await response.json()
    finally:
        await client.close()
    assert response.status == 503
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["workers"].startswith("not taking jobs")
    assert body["devices"] == {"cpu": "stopped"}


async def test_metrics_carry_the_pools_figures_and_the_requests(
    db: Database, pool: WorkerPool
) -> None:
    await (await pool.submit(job("a lighthouse"), owner_id=1)).result()
    registry = metrics_registry(pool)
    client = await _client(HealthSources(db, pool), registry)
    try:
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/jobs/5f2a")).status == 200
        assert (await client.get("/jobs/77c1")).status == 200
        assert (await client.get("/no/such/page")).status == 404
        for method in ("POST", "PUT", "PROPFIND", "OPTIONS"):
            await client.request(method, "/jobs/5f2a")
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        samples = _samples(await response.text())
    finally:
        await client.close()
    cpu = (("device", "cpu"),)
    assert samples[("atelier_pool_images_total", ())] == 4
    assert samples[("atelier_pool_started_jobs_total", ())] == 1
    assert samples[("atelier_pool_queue_depth", (("lane", "priority"),))] == 0
    assert samples[("atelier_pool_queue_depth", (("lane", "standard"),))] == 0
    assert samples[("atelier_pool_running_jobs", ())] == 0
    assert samples[("atelier_pool_images_per_second", ())] > 0
    assert samples[("atelier_pool_wait_seconds_total", ())] >= 0
    assert samples[("atelier_pool_accepting", ())] == 1
    assert samples[("atelier_device_gpu_seconds_total", cpu)] > 0
    assert 0 < samples[("atelier_device_utilisation", cpu)] <= 1
    assert samples[("atelier_device_worker_up", cpu)] == 1
    assert samples[("atelier_device_models_loaded", cpu)] == 1

    def requests(route: str, status: str) -> float:
        labels = (("method", "GET"), ("route", route), ("status", status))
        return samples.get(("atelier_web_requests_total", labels), 0)

    # Routes by pattern: two job pages are one series, not one per id.
    assert requests("/jobs/{public_id}", "200") == 2
    assert requests("/healthz", "200") == 1
    assert requests("unmatched", "404") == 1
    # Methods other than GET and HEAD share one label (the parser passes dozens of them).
    methods = {
        dict(labels)["method"] for name, labels in samples if name == "atelier_web_requests_total"
    }
    assert methods == {"GET", "other"}
    others = sum(
        value
        for (name, labels), value in samples.items()
        if name == "atelier_web_requests_total" and dict(labels)["method"] == "other"
    )
    assert others == 4
    timed = samples[("atelier_web_request_seconds_count", (("route", "/jobs/{public_id}"),))]
    assert timed == 2


async def test_metrics_turned_off_answer_404(db: Database, pool: WorkerPool) -> None:
    client = await _client(HealthSources(db, pool), None)
    try:
        assert (await client.get("/metrics")).status == 404
        assert (await client.get("/healthz")).status == 200
    finally:
        await client.close()


async def test_two_apps_keep_their_own_metrics(db: Database, pool: WorkerPool) -> None:
    """No global registry: each app built in the same process counts only its requests."""
    first, second = metrics_registry(pool), metrics_registry(None)
    clients = [await _client(HealthSources(db), r) for r in (first, second)]
    try:
        await clients[0].get("/healthz")
        text = await (await clients[1].get("/metrics")).text()
    finally:
        for client in clients:
            await client.close()
    names = {name for name, _ in _samples(text)}
    assert "atelier_pool_images_total" not in names
    assert not any(name == "atelier_web_requests_total" for name in names)


class _PoolWithoutCluster:
    """A pool whose Ray cluster cannot be reached, beside a local worker that runs."""

    def metrics(self) -> PoolMetrics:
        return PoolMetrics(
            queue_depth={"priority": 0, "standard": 2},
            running_jobs=1,
            images_per_second=0.0,
            mean_wait_seconds=None,
            devices=(DeviceMetrics("cpu", busy=True, utilisation=1.0, models=(), restarts=0),),
            cluster=ClusterMetrics(
                address="10.0.0.5:6379",
                reachable=False,
                remote_workers=0,
                note="the Ray cluster at 10.0.0.5:6379 is unreachable since …",
            ),
        )


async def test_an_unreachable_cluster_beside_a_running_local_worker_is_shown_not_unhealthy(
    db: Database,
) -> None:
    pool = _PoolWithoutCluster()
    client = await _client(HealthSources(db, pool), metrics_registry(pool))
    try:
        response = await client.get("/healthz")
        body = await response.json()
        samples = _samples(await (await client.get("/metrics")).text())
    finally:
        await client.close()
    assert response.status == 200  # jobs still run on the local worker
    assert body["cluster"] == {
        "address": "10.0.0.5:6379",
        "state": "the Ray cluster at 10.0.0.5:6379 is unreachable since …",
        "reachable": False,
        "remote_workers": 0,
    }
    assert samples[("atelier_cluster_reachable", ())] == 0
    assert samples[("atelier_cluster_remote_workers", ())] == 0
