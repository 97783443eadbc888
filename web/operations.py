"""What operators and orchestrators ask the web server: ``/healthz`` and ``/metrics``.

``/healthz`` answers 200 when the event loop, the database and the worker pool all answer,
503 otherwise, with a JSON body naming each check and what is wrong; it is what the
container's ``HEALTHCHECK`` calls. ``/metrics`` is the Prometheus text format, written by
the official ``prometheus_client`` from a registry of the app's own (no global registry):
the pool's figures are read from ``WorkerPool.metrics()`` at each scrape, and the web's
request counts and latencies are counted by :func:`request_metrics_middleware`.

Wired in ``bot/`` (the resources are built there and passed in) by :func:`operations`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from db.database import Database
from inference.pool.metrics import PoolMetrics

#: How long the database and the loop may take to answer a health check.
HEALTH_TIMEOUT_S = 2.0
#: Request latency buckets (seconds): the pages aim at well under 50 ms.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class PoolLike(Protocol):
    """What the operations endpoints read from the worker pool."""

    def metrics(self) -> PoolMetrics: ...


@dataclass(frozen=True)
class HealthSources:
    """What ``/healthz`` checks. ``pool`` is None where there is none (``atelier web``
    serves pages alone): then the workers are not checked."""

    db: Database
    pool: PoolLike | None = None
    timeout_s: float = HEALTH_TIMEOUT_S


async def health(sources: HealthSources) -> tuple[bool, dict[str, object]]:
    """Whether every check is ``ok``, and the body ``/healthz`` answers with: each check's
    state (``ok`` or what is wrong) and, with a pool, each device's worker and the Ray
    cluster's state (if it has one)."""
    checks = {
        "loop": await _loop_answers(sources.timeout_s),
        "database": await _database_answers(sources.db, sources.timeout_s),
    }
    body: dict[str, object] = {"checks": checks}
    if sources.pool is not None:
        metrics = sources.pool.metrics()
        checks["workers"] = _workers(metrics)
        body["devices"] = {d.device: "ok" if d.alive else "stopped" for d in metrics.devices}
        if metrics.cluster is not None:
            # Not a check: local workers carry on without the cluster (``workers`` says if
            # none can run jobs at all).
            body["cluster"] = {
                "address": metrics.cluster.address,
                "state": metrics.cluster.note or "ok",
                "reachable": metrics.cluster.reachable,
                "remote_workers": metrics.cluster.remote_workers,
            }
    healthy = all(state == "ok" for state in checks.values())
    return healthy, {"status": "ok" if healthy else "unhealthy", **body}


async def _loop_answers(timeout_s: float) -> str:
    """How long a callback handed to the loop waits before it runs: the loop's lag, which
    blocking work on the loop (or too much of it) makes long."""
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[float] = loop.create_future()
    started = time.perf_counter()

    def run() -> None:
        if not answered.done():  # it timed out meanwhile
            answered.set_result(time.perf_counter())

    loop.call_soon(run)
    try:
        ran = await asyncio.wait_for(answered, timeout_s)
    except TimeoutError:
        return f"did not answer within {timeout_s:g} s"
    lag = ran - started
    return "ok" if lag < timeout_s else f"late by {lag:.1f} s"


async def _database_answers(db: Database, timeout_s: float) -> str:
    try:
        await asyncio.wait_for(db.fetchone("SELECT 1"), timeout_s)
    except TimeoutError:
        return f"did not answer within {timeout_s:g} s"
    except Exception as exc:  # a closed or broken database: say what, do not crash the check
        return f"{type(exc).__name__}: {exc}"
    return "ok"


def _workers(metrics: PoolMetrics) -> str:
    if not metrics.accepting:
        return "not taking jobs (stopped or not started)"
    if not any(d.alive for d in metrics.devices):
        return "no worker is running"
    return "ok"


def operations_routes(
    sources: HealthSources, registry: CollectorRegistry | None
) -> list[web.RouteDef]:
    """``GET /healthz``, and ``GET /metrics`` unless ``registry`` is None (metrics turned
    off: the path then answers 404 like any unknown one)."""

    async def healthz(request: web.Request) -> web.Response:
        healthy, body = await health(sources)
        return web.json_response(
            body,
            status=200 if healthy else 503,
            headers={"Cache-Control": "no-store"},
        )

    routes = [web.get("/healthz", healthz, allow_head=True)]
    if registry is not None:

        async def metrics(request: web.Request) -> web.Response:
            body = generate_latest(registry)
            return web.Response(
                body=body,
                headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
            )

        routes.append(web.get("/metrics", metrics))
    return routes


def metrics_registry(pool: PoolLike | None) -> CollectorRegistry:
    """A registry of the app's own, with the pool's figures when there is a pool."""
    registry = CollectorRegistry(auto_describe=True)
    if pool is not None:
        registry.register(PoolCollector(pool))
    return registry


class PoolCollector(Collector):
    """The pool's live figures, read at each scrape."""

    def __init__(self, pool: PoolLike) -> None:
        self._pool = pool

    def describe(self) -> Iterable[Metric]:
        return []  # collected live: nothing to describe before the first scrape

    def collect(self) -> Iterator[Metric]:
        m = self._pool.metrics()
        queued = GaugeMetricFamily(
            "atelier_pool_queue_depth", "Jobs waiting, per queue lane.", labels=["lane"]
        )
        for lane, depth in m.queue_depth.items():
            queued.add_metric([lane], depth)
        yield queued
        yield GaugeMetricFamily(
            "atelier_pool_running_jobs", "Jobs being generated now.", value=m.running_jobs
        )
        yield GaugeMetricFamily(
            "atelier_pool_images_per_second",
            "Images finished per second over the last minute.",
            value=m.images_per_second,
        )
        yield CounterMetricFamily(
            "atelier_pool_images", "Images made since the pool started.", value=m.images_total
        )
        yield GaugeMetricFamily(
            "atelier_pool_accepting", "1 while the pool takes new jobs.", value=int(m.accepting)
        )
        if m.mean_wait_seconds is not None:
            yield GaugeMetricFamily(
                "atelier_pool_recent_wait_seconds",
                "Mean time in the queue of the last 100 jobs that started.",
                value=m.mean_wait_seconds,
            )
        waits = CounterMetricFamily(
            "atelier_pool_wait_seconds",
            "Time jobs waited in the queue before starting, since the pool started.",
        )
        waits.add_metric([], m.wait_seconds_total)
        yield waits
        yield CounterMetricFamily(
            "atelier_pool_started_jobs",
            "Jobs that left the queue for a worker since the pool started.",
            value=m.waits_total,
        )
        yield from _device_metrics(m)
        if m.cluster is not None:
            yield GaugeMetricFamily(
                "atelier_cluster_reachable",
                "1 while the Ray cluster of the remote workers answers.",
                value=int(m.cluster.reachable),
            )
            yield GaugeMetricFamily(
                "atelier_cluster_remote_workers",
                "Remote workers up and taking batches.",
                value=m.cluster.remote_workers,
            )


def _device_metrics(m: PoolMetrics) -> Iterator[Metric]:
    labels = ["device"]
    utilisation = GaugeMetricFamily(
        "atelier_device_utilisation",
        "Share of the last minute the device spent running batches (0 to 1).",
        labels=labels,
    )
    busy = GaugeMetricFamily("atelier_device_busy", "1 while a batch runs.", labels=labels)
    up = GaugeMetricFamily("atelier_device_worker_up", "1 while its worker runs.", labels=labels)
    gpu = CounterMetricFamily(
        "atelier_device_gpu_seconds",
        "Device time spent on jobs that ended since the pool started.",
        labels=labels,
    )
    restarts = CounterMetricFamily(
        "atelier_device_worker_restarts",
        "Worker threads replaced after a crash or a hang.",
        labels=labels,
    )
    loaded = GaugeMetricFamily(
        "atelier_device_models_loaded", "Models kept loaded on the device.", labels=labels
    )
    for d in m.devices:
        utilisation.add_metric([d.device], d.utilisation)
        busy.add_metric([d.device], int(d.busy))
        up.add_metric([d.device], int(d.alive))
        gpu.add_metric([d.device], d.gpu_seconds)
        restarts.add_metric([d.device], d.restarts)
        loaded.add_metric([d.device], len(d.models))
    yield from (utilisation, busy, up, gpu, restarts, loaded)


def request_metrics_middleware(registry: CollectorRegistry) -> Middleware:
    """Counts every request by route, method (GET, HEAD or other) and status, and times it,
    into ``registry``.
    The route is the pattern (``/jobs/{public_id}``), never the path asked for, so ids do
    not become labels."""
    requests = Counter(
        "atelier_web_requests",
        "Web requests answered.",
        ["route", "method", "status"],
        registry=registry,
    )
    latency = Histogram(
        "atelier_web_request_seconds",
        "Time to answer a web request.",
        ["route"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )

    @web.middleware
    async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            route = _route_of(request)
            requests.labels(route, _method_label(request.method), str(status)).inc()
            latency.labels(route).observe(time.perf_counter() - started)

    return timed


#: Methods counted by name; any other (a client may send any token) is "other", so a
#: scanner cannot grow the label set without bound.
_COUNTED_METHODS = frozenset({"GET", "HEAD"})


def _method_label(method: str) -> str:
    return method if method in _COUNTED_METHODS else "other"


def _route_of(request: web.Request) -> str:
    info = request.match_info
    if info.http_exception is not None or info.route.resource is None:
        return "unmatched"
    return info.route.resource.canonical


def operations(
    sources: HealthSources, *, metrics: bool
) -> tuple[list[web.RouteDef], list[Middleware]]:
    """The routes and middlewares to add to the web app: ``/healthz`` always; ``/metrics``
    and the request counting only with ``metrics`` (``ATELIER_WEB_METRICS``)."""
    if not metrics:
        return operations_routes(sources, None), []
    registry = metrics_registry(sources.pool)
    return operations_routes(sources, registry), [request_metrics_middleware(registry)]
