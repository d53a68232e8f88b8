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
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kafka.structs import TopicPartition

from adapters.kafka_bus import end_offsets
from adapters.search_engine import SearchEngine
from index_templates import FAMILIES, IndexNames, version_number
from ingest.worker import IngestWorker
from orderrepo.bootstrap import build_worker, index_names, prepare_storage, topic_map
from settings import Settings


@dataclass(frozen=True)
class RebuildReport:
    old: dict[str, str]
    new: dict[str, str]
    records: int
    seconds: float


def next_versions(engine: SearchEngine, names: IndexNames) -> tuple[dict[str, str], dict[str, str]]:
    old = {family: engine.aliases_of(names.read_alias(family))[-1] for family in FAMILIES}
    new = {family: names.version(family, version_number(old[family]) + 1) for family in FAMILIES}
    return old, new


def _caught_up(worker: IngestWorker, targets: dict[TopicPartition, int]) -> bool:
    assigned = worker.consumer.assignment()
    return all(tp in assigned and worker.consumer.position(tp) >= end for tp, end in targets.items())


def rebuild(settings: Settings, engine: SearchEngine, *, drop_old: bool = False,
            progress: Callable[[int], None] | None = None) -> RebuildReport:
    started = time.monotonic()
    names = index_names(settings)
    prepare_storage(settings, engine)
    old, new = next_versions(engine, names)
    for index in new.values():
        engine.create_index(index)
    engine.update_aliases([action for family in FAMILIES for action in (
        {"remove": {"index": old[family], "alias": names.write_alias(family)}},
        {"add": {"index": new[family], "alias": names.write_alias(family), "is_write_index": True}},
    )])
    targets = {tp: end for tp, end in end_offsets(settings.resolved_kafka_servers(),
                                                  topic_map(settings).source_topics()).items() if end > 0}
    worker = build_worker(settings, engine, group_id=f"{settings.consumer_group}-rebuild-{new['orders']}",
                          dead_letters=False)

    def after_batch(stats: object) -> None:
        if progress:
            progress(worker.stats.records)
        if _caught_up(worker, targets):
            worker.stopping.set()

    if targets:
        worker.run(on_batch=after_batch)
    engine.refresh(new["orders"])
    engine.update_aliases([action for family in FAMILIES for action in (
        {"remove": {"index": old[family], "alias": names.read_alias(family)}},
        {"add": {"index": new[family], "alias": names.read_alias(family)}},
    )])
    if drop_old:
        for index in old.values():
            engine.delete_index(index)
    return RebuildReport(old=old, new=new, records=worker.stats.records, seconds=time.monotonic() - started)
