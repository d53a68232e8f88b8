"""Rebuild the projection from Kafka into a new index version, then swap the read alias.

Steps (readers keep reading the old version the whole time):
1. create version N+1 of each family (templates apply);
2. move the *write* aliases to N+1: live workers now merge into the new version
   (safe because the merge is order-free and idempotent);
3. replay every channel topic from offset 0 with a fresh consumer group into N+1,
   until the end offsets captured at the start are reached;
4. move the *read* aliases to N+1 in one atomic alias action: no read downtime.
Old versions are kept unless `drop_old` is set. Dead letters are not re-sent (the
live run already sent them); they are counted.
Wiring (which engine, topics and worker) is the caller's: `orderrepo.bootstrap`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from adapters.bus_records import Partition
from index_templates import FAMILIES, IndexNames, version_number
from ingest.worker import IngestWorker, WorkerStats


class IndexAdmin(Protocol):
    """What a rebuild needs from the engine (`adapters.search_engine.SearchEngine`)."""

    def aliases_of(self, alias: str) -> list[str]: ...

    def create_index(self, index: str, body: dict[str, Any] | None = None) -> None: ...

    def update_aliases(self, actions: list[dict[str, Any]]) -> None: ...

    def refresh(self, index: str) -> None: ...

    def delete_index(self, index: str) -> None: ...


@dataclass(frozen=True)
class RebuildReport:
    old: dict[str, str]
    new: dict[str, str]
    records: int
    seconds: float


def next_versions(engine: IndexAdmin, names: IndexNames) -> tuple[dict[str, str], dict[str, str]]:
    """The current version of each family (the highest behind its read alias) and the next one."""
    old = {family: max(engine.aliases_of(names.read_alias(family)), key=version_number) for family in FAMILIES}
    new = {family: names.version(family, version_number(old[family]) + 1) for family in FAMILIES}
    return old, new


def rebuild(
    engine: IndexAdmin, names: IndexNames, *, end_offsets: Callable[[], Mapping[Partition, int]],
    replay_worker: Callable[[str], IngestWorker], drop_old: bool = False,
    progress: Callable[[int], None] | None = None,
) -> RebuildReport:
    """Replay into new index versions and swap the read aliases.

    `end_offsets` answers the channel topics' current end offsets; it is called once the
    write aliases point at the new versions, so everything before it is replayed and
    everything after it is written there by the live workers. `replay_worker(name)`
    builds the replaying worker (a fresh consumer group named after `name`, dead letters
    counted, not re-sent); it is only built when there is something to replay, and its
    run closes its consumer and producer.
    """
    started = time.monotonic()
    old, new = next_versions(engine, names)
    for index in new.values():
        engine.create_index(index)
    engine.update_aliases([action for family in FAMILIES for action in (
        {"remove": {"index": old[family], "alias": names.write_alias(family)}},
        {"add": {"index": new[family], "alias": names.write_alias(family), "is_write_index": True}},
    )])
    targets = {partition: end for partition, end in end_offsets().items() if end > 0}
    records = _replay(replay_worker(new["orders"]), targets, progress) if targets else 0
    engine.refresh(new["orders"])
    engine.update_aliases([action for family in FAMILIES for action in (
        {"remove": {"index": old[family], "alias": names.read_alias(family)}},
        {"add": {"index": new[family], "alias": names.read_alias(family)}},
    )])
    if drop_old:
        for index in old.values():
            engine.delete_index(index)
    return RebuildReport(old=old, new=new, records=records, seconds=time.monotonic() - started)


def _replay(worker: IngestWorker, targets: dict[Partition, int], progress: Callable[[int], None] | None) -> int:
    """Run `worker` until every target partition's position reached its end offset; returns the records read."""

    def after_batch(stats: WorkerStats) -> None:
        if progress:
            progress(stats.records)
        assigned = worker.source.assignment()
        if all(p in assigned and worker.source.position(p) >= end for p, end in targets.items()):
            worker.stopping.set()

    worker.run(on_batch=after_batch)
    return worker.stats.records
