"""The tier mover: applies the policy's decisions with the journaled, crash-safe move protocol.

A pass: (1) resume every interrupted move (see `retention.journal`), (2) refresh the
locator from recent hot writes, (3) stream the locator in pages (constant memory), ask
`order_domain.tier_policy.decide_tier` for each order and move the ones that must move,
batch by batch, (4) seal the warm month indices it touched (force merge, write block)
and (5) sweep cold parts (delete unreferenced ones, rewrite those holding rows that
left). Kill it at any instant and run it again: it finishes or rolls back, and every
order stays answered by exactly one tier. Run one mover per prefix at a time.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from order_domain.tier_policy import Tier, TierThresholds, decide_tier
from retention import metrics
from retention.cold_sweep import sweep_cold
from retention.copies import OrderCopy, TierCopies
from retention.journal import CLEANUP, COPY, Step, apply_steps, pending_of
from retention.locator import Locator, facts_of
from retention.storage import seal, unsealed_warm_indices
from retention.tombstones import Tombstones
from settings.log_setup import get_logger

Progress = Callable[[int], None]
_log = get_logger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class PassReport:
    examined: int = 0
    moved: Counter[tuple[str, str]] = field(default_factory=Counter)
    conflicts: int = 0
    missing: int = 0  # entries whose source copy was not found: left where they are, logged
    resumed: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"examined": self.examined, "moved": {f"{a}->{b}": n for (a, b), n in sorted(self.moved.items())},
                "conflicts": self.conflicts, "missing": self.missing, "resumed": self.resumed,
                "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class Decision:
    entry: dict[str, Any]
    target: Tier


class Mover:
    def __init__(self, copies: TierCopies, thresholds: TierThresholds, *, batch: int = 500,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.copies = copies
        self.names = copies.names
        self.engine = copies.engine
        self.locator = Locator(copies.engine, copies.names)
        self.tombstones = Tombstones(copies.engine, copies.names)
        self.thresholds = thresholds
        self.batch = batch
        self.clock = clock
        self._touched_warm: set[str] = set()
        self._missing = 0  # of the last `move`: entries whose source copy was not found

    # -- a pass -----------------------------------------------------------------------------
    def run_pass(self, progress: Progress | None = None) -> PassReport:
        started = time.monotonic()
        report = PassReport(resumed=self.resume())
        self.locator.sync_from_hot(since=self.locator.sync_watermark())
        with self.copies.holding_writable() as held:
            for decisions in self.plan(report):
                for target, group in _groups(decisions, self.batch):
                    moved = self.move(group, target)
                    report.moved.update((str(d.entry["tier"]), str(target)) for d in group
                                        if d.entry["order_id"] in moved)
                    report.missing += self._missing
                    report.conflicts += len(group) - len(moved) - self._missing
                if progress is not None:
                    progress(len(decisions))
            self._touched_warm |= held
        self.finish()
        report.seconds = time.monotonic() - started
        metrics.PASS_SECONDS.set(report.seconds)
        return report

    def plan(self, report: PassReport | None = None) -> Iterator[list[Decision]]:
        """Per locator page, the orders that must move (streamed; a dry run stops here)."""
        now = self.clock()
        query = {"bool": {"must_not": [{"exists": {"field": "pending.phase"}}, {"term": {"tier": "deleted"}}]}}
        for page in self.locator.scan(query):
            if report is not None:
                report.examined += len(page)
            decisions = [Decision(hit["_source"], target) for hit in page
                         if (target := decide_tier(facts_of(hit["_source"]), self.thresholds, now))
                         is not Tier(hit["_source"]["tier"])]
            yield decisions

    def finish(self) -> None:
        """Seal the warm indices written to (or left writable by a crash); sweep cold parts."""
        for index in sorted(self._touched_warm | set(unsealed_warm_indices(self.engine, self.names))):
            seal(self.engine, index)
        self._touched_warm.clear()
        sweep_cold(self.engine, self.names, self.copies.cold)
        self.locator.refresh()

    # -- one batch ----------------------------------------------------------------------------
    def move(self, decisions: list[Decision], target: Tier) -> set[str]:
        """Move a batch (one target tier and, for warm/cold, one creation month); returns the
        ids that moved. Orders that changed meanwhile are left where they are."""
        started = time.monotonic()
        month = decisions[0].entry["created_month"]
        location = self._target_location(target, month)
        intents = {d.entry["order_id"]: Step(int(d.entry["version"]), None, {"pending": {
            "phase": COPY, "from_tier": d.entry["tier"], "from_location": d.entry["location"],
            "to_tier": str(target), "to_location": location, "to_row_group": None,
            "started_at": self.clock().isoformat()}}) for d in decisions}
        entries = apply_steps(self.engine, self.names, intents)
        self.locator.refresh()  # intents searchable before any copy exists: readers' one-trip rule (query_api.together)
        metrics.MOVE_CONFLICTS.labels("intent").inc(len(intents) - len(entries))
        copies = self._read_sources(entries.values())
        self._missing = self._release_missing({i: e for i, e in entries.items() if i not in copies})
        row_groups = self._write_target(target, location, copies)
        flips = {i: Step(int(e["version"]), COPY, {
            "tier": str(target), "location": location, "row_group": row_groups.get(i), "version": int(e["version"]) + 1,
            "cold_reads": 0, "pending": {**e["pending"], "phase": CLEANUP, "to_row_group": row_groups.get(i)}})
            for i, e in entries.items() if i in copies}
        flipped = apply_steps(self.engine, self.names, flips)
        self.cleanup(flipped, guards={i: c.seq for i, c in copies.items() if c.seq is not None},
                     timelines={i: [e["entry_id"] for e in c.timeline] for i, c in copies.items()})
        metrics.MOVE_SECONDS.labels(str(target)).observe(time.monotonic() - started)
        for entry in flipped.values():
            metrics.MOVES.labels(entry["pending"]["from_tier"], str(target)).inc()
        return set(flipped)

    def _release_missing(self, entries: dict[str, dict[str, Any]]) -> int:
        """Entries whose source copy is not where the locator says: close their intent at once
        (nothing was copied; the entry stays as it was) and report them, instead of leaving a
        journal for the next pass to roll back and counting them as write conflicts."""
        if entries:
            _log.warning("tier_move_source_missing", orders=len(entries), first=sorted(entries)[:5])
            metrics.MOVE_CONFLICTS.labels("source_missing").inc(len(entries))
            apply_steps(self.engine, self.names, {i: Step(int(e["version"]), COPY, {"pending": None})
                                                  for i, e in entries.items()})
        return len(entries)

    def _target_location(self, target: Tier, month: str) -> str:
        if target is Tier.HOT:
            return self.names.hot.orders
        if target is Tier.WARM:
            return self.names.warm_index("orders", month)
        if target is Tier.COLD:
            return self.copies.cold.new_part_path(month)
        return ""

    def _read_sources(self, entries: Iterable[dict[str, Any]]) -> dict[str, OrderCopy]:
        by_source: dict[tuple[str, str], dict[str, int | None]] = defaultdict(dict)
        for entry in entries:
            by_source[(entry["tier"], entry["location"])][entry["order_id"]] = entry.get("row_group")
        return {order_id: copy for (tier, location), groups in by_source.items()
                for order_id, copy in self.copies.read(Tier(tier), location, groups).items()}

    def _write_target(self, target: Tier, location: str, copies: dict[str, OrderCopy]) -> dict[str, int]:
        if not copies:
            return {}
        if target is Tier.COLD:
            part = self.copies.write_cold(location, copies.values())
            return part.row_groups if part is not None else {}
        if target is Tier.DELETED:
            self.tombstones.add_orders(list(copies), reason="expired", at=self.clock())
        else:
            self.copies.write_engine(target, location, copies.values())
            if target is Tier.WARM:
                self._touched_warm |= {location, self.copies.events_index(target, location)}
        return {}

    # -- cleanup and resume -------------------------------------------------------------------
    def cleanup(self, entries: dict[str, dict[str, Any]], *, guards: dict[str, tuple[int, int]] | None = None,
                timelines: dict[str, list[str]] | None = None) -> None:
        """Delete the stale source copies of flipped entries, then close their journal
        (`timelines`: the entry ids of the copies moved, deleted by id; else by query)."""
        by_source: dict[tuple[str, str], list[str]] = defaultdict(list)
        for order_id, entry in entries.items():
            by_source[(entry["pending"]["from_tier"], entry["pending"]["from_location"])].append(order_id)
        refused: set[str] = set()
        for (tier, location), ids in by_source.items():
            if Tier(tier) in (Tier.HOT, Tier.WARM):
                refused |= self.copies.delete_engine(Tier(tier), location, ids, guards, timelines=timelines)
        if refused:
            self._revert({i: entries[i] for i in refused})
        done = {i: e for i, e in entries.items() if i not in refused}
        gone = [i for i, e in done.items() if e["tier"] == Tier.DELETED]
        self.locator.delete(gone)
        apply_steps(self.engine, self.names, {i: Step(int(e["version"]), CLEANUP, {"pending": None})
                                              for i, e in done.items() if e["tier"] != Tier.DELETED})

    def _revert(self, entries: dict[str, dict[str, Any]]) -> None:
        """The hot source changed after it was copied (a write raced the move): hot answers
        again, and the copy just made in the target tier is cleaned up instead."""
        metrics.MOVE_CONFLICTS.labels("source_changed").inc(len(entries))
        self.tombstones.remove_orders([i for i, e in entries.items() if e["tier"] == Tier.DELETED])
        steps = {i: Step(int(e["version"]), CLEANUP, {
            "tier": e["pending"]["from_tier"], "location": e["pending"]["from_location"], "row_group": None,
            "version": int(e["version"]) + 1, "pending": {
                **e["pending"], "from_tier": e["tier"], "from_location": e["location"],
                "to_tier": e["pending"]["from_tier"], "to_location": e["pending"]["from_location"]}})
            for i, e in entries.items()}
        self.cleanup(apply_steps(self.engine, self.names, steps))

    def resume(self) -> int:
        """Finish (phase cleanup) or roll back (phase copy) every interrupted move."""
        resumed = 0
        self.locator.refresh()
        for page in self.locator.scan({"exists": {"field": "pending.phase"}}):
            entries = {hit["_id"]: hit["_source"] for hit in page}
            copying = {i: e for i, e in entries.items() if pending_of(e)["phase"] == COPY}  # type: ignore[index]
            self._roll_back(copying)
            self.cleanup({i: e for i, e in entries.items() if i not in copying})
            metrics.RESUMED.labels("rolled_back").inc(len(copying))
            metrics.RESUMED.labels("finished").inc(len(entries) - len(copying))
            resumed += len(entries)
        self.locator.refresh()
        return resumed

    def _roll_back(self, entries: dict[str, dict[str, Any]]) -> None:
        by_target: dict[tuple[str, str], list[str]] = defaultdict(list)
        for order_id, entry in entries.items():
            by_target[(entry["pending"]["to_tier"], entry["pending"]["to_location"])].append(order_id)
        for (tier, location), ids in by_target.items():
            if Tier(tier) in (Tier.HOT, Tier.WARM) and (Tier(tier) is Tier.HOT or self.engine.index_exists(location)):
                self.copies.delete_engine(Tier(tier), location, ids)  # cold: the sweep drops the rows
        apply_steps(self.engine, self.names, {i: Step(int(e["version"]), COPY, {"pending": None})
                                              for i, e in entries.items()})

    # -- rehydration --------------------------------------------------------------------------
    def rehydrate(self, order_ids: Iterable[str], *, reason: str = "read") -> set[str]:
        """Bring warm/cold orders back to hot now (late change, or read often from cold).

        Hot is written first and the locator flipped (from then on hot answers); a warm
        source copy is deleted at once, a cold row is only left behind: the flip already
        took its authority away (the locator no longer names it), and rewriting its whole
        part at zstd 19 would cost seconds on the caller's path (the API's worker, the
        ingest writer's late change). The next pass's sweep (`finish`) drops such rows,
        one rewrite per part for all the rows that left it; erasure sweeps at once."""
        hits = self.locator.get(order_ids)
        decisions = [Decision(h["_source"], Tier.HOT) for h in hits.values()
                     if h["_source"]["tier"] in (Tier.WARM, Tier.COLD) and not pending_of(h["_source"])]
        moved: set[str] = set()
        for target, group in _groups(decisions, self.batch):
            moved |= self.move(group, target)
        self.locator.refresh()
        metrics.REHYDRATIONS.labels(reason).inc(len(moved))
        return moved


def _groups(decisions: list[Decision], batch: int) -> Iterator[tuple[Tier, list[Decision]]]:
    """Batches of one target tier and one creation month (a warm index / cold part each)."""
    grouped: dict[tuple[Tier, str], list[Decision]] = defaultdict(list)
    for decision in decisions:
        month = decision.entry["created_month"] if decision.target in (Tier.WARM, Tier.COLD) else ""
        grouped[(decision.target, month)].append(decision)
    for (target, _), group in sorted(grouped.items(), key=lambda item: (item[0][0].rank, item[0][1])):
        for start in range(0, len(group), batch):
            yield target, group[start:start + batch]
