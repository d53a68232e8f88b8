"""The move journal kept in each locator entry, changed only through version-guarded steps.

One move of an order from tier A to tier B is four recorded steps:
  1. intent   pending = {phase: copy, from A@loc, to B@loc'}   (only if version == v, no pending)
  2. copy     the order + timeline are written to B (idempotent)
  3. flip     tier = B, location = loc', version = v+1,
              pending = {phase: cleanup, ...}                    (only if version == v, phase copy)
  4. cleanup  the copy in A is deleted, then pending = None      (only if version == v+1, phase cleanup)
Readers trust only `tier`/`location`, which change in one atomic document update (3), so at
every instant exactly one tier answers. A crash leaves `pending` behind and `resume`
decides: phase copy -> roll back (delete B's partial copy; A still answers), phase
cleanup -> finish (delete A's stale copy). Each step is a scripted update that checks the
entry's own `version` and phase in the engine, so concurrent read counting (which never
touches `version`) does not disturb it, and a stale mover's step becomes a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.search_engine import SearchEngine
from retention.storage import TierNames

COPY = "copy"
CLEANUP = "cleanup"

_GUARDED_SET = """
def p = ctx._source.pending;
boolean phaseOk = params.phase == null ? p == null : (p != null && p.phase == params.phase);
if (((Number) ctx._source.version).longValue() == ((Number) params.version).longValue() && phaseOk) {
  for (e in params.doc.entrySet()) { ctx._source[e.getKey()] = e.getValue() }
} else { ctx.op = 'none' }
"""


@dataclass(frozen=True)
class Step:
    """Set `doc` on the entry only if it is at `version` with the given pending `phase` (None: none)."""

    version: int
    phase: str | None
    doc: dict[str, Any]


def apply_steps(engine: SearchEngine, names: TierNames, steps: Mapping[str, Step]) -> dict[str, dict[str, Any]]:
    """Apply guarded steps; returns the entries (source) on which the step took effect."""
    if not steps:
        return {}
    actions = [
        {"_op_type": "update", "_index": names.locator, "_id": order_id, "retry_on_conflict": 5,
         "script": {"source": _GUARDED_SET, "lang": "painless",
                    "params": {"version": step.version, "phase": step.phase, "doc": step.doc}}}
        for order_id, step in steps.items()
    ]
    for _ in engine.bulk(actions):
        pass  # verified below by reading back (realtime, no refresh): a guarded no-op and a lost answer look alike
    after = engine.mget(names.locator, sorted(steps))
    return {order_id: hit["_source"] for order_id, hit in after.items()
            if _took_effect(hit["_source"], steps[order_id])}


def _took_effect(entry: Mapping[str, Any], step: Step) -> bool:
    return all(entry.get(name) == value for name, value in step.doc.items())


def pending_of(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    return entry.get("pending") or None
