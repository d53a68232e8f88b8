"""Prometheus metrics of the API process: request latency per route, engine latency and errors."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
REQUEST_SECONDS = Histogram("orderrepo_api_request_seconds", "API request latency", ["route", "status"],
                            buckets=_BUCKETS)
ENGINE_SECONDS = Histogram("orderrepo_api_engine_seconds", "Engine request latency seen by the API", ["method"],
                           buckets=_BUCKETS)
ENGINE_ERRORS = Counter("orderrepo_api_engine_errors_total", "Engine requests that failed", ["status"])


_CHILDREN: dict[tuple[Any, ...], Any] = {}  # (metric, *labels) -> its child: `labels()` locks and hashes each time


def _child(metric: Histogram, *labels: str) -> Any:
    key = (id(metric), *labels)  # module-level metrics: their ids are stable
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN.setdefault(key, metric.labels(*labels))
    return child


def observe_engine(method: str, seconds: float, status: int) -> None:
    _child(ENGINE_SECONDS, method).observe(seconds)
    if status == 0 or status >= 400:
        ENGINE_ERRORS.labels(str(status)).inc()


def observe_request(route: str, status: int, seconds: float) -> None:
    """Fed by the access log middleware (query_api/access_log.py) after every request."""
    _child(REQUEST_SECONDS, route, str(status)).observe(seconds)
