"""The worker's CPU per event, split by stage: what the benchmark reports beside the total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ingest.admission import AdmittedWriter
from ingest.worker import IngestWorker
from ingest.writer import WRITE_STAGES, OrderStoreWriter
from order_domain.model import OrderChange
from tests.fakes.change_source import FakeChangeSource
from tests.fakes.dead_letter_sink import RecordingSink
from tests.unit.test_worker import TOPICS, _publish_sample
from tests.unit.timeline_kit import NAMES, NOW, MemoryStore


@dataclass
class _Admitted:
    to_write: list[OrderChange]
    blocked: list[OrderChange] = field(default_factory=list)


class _AdmitAll:
    """Tiering with nothing warm, cold or erased: every change is written."""

    def admit(self, changes: Sequence[OrderChange]) -> _Admitted:
        return _Admitted(list(changes))


def test_the_stages_add_up_to_the_cpu_between_the_first_and_the_last_batch() -> None:
    source, store = FakeChangeSource(), MemoryStore()
    published = _publish_sample(source, orders=40, seed=5)
    writer = AdmittedWriter(OrderStoreWriter(store, NAMES, clock=lambda: NOW, sleep=lambda _: None),  # type: ignore[arg-type]
                            _AdmitAll())
    worker = IngestWorker(source=source, writer=writer, topics=TOPICS, dead_letter_sink=RecordingSink(),
                          clock=source.clock)
    while batch := source.poll(timeout_ms=0):
        worker.process(batch)

    stats = worker.stats
    assert stats.records == published and stats.orders_written > 0
    split = stats.cpu_by_stage
    assert set(split) == {"decode", "tiering gate", "other", *WRITE_STAGES}
    assert all(seconds >= 0 for seconds in split.values())
    assert split["decode"] > 0 and split["merge and timeline"] > 0 and split["order documents"] > 0
    assert abs(sum(split.values()) - (stats.cpu_at_last_batch - stats.cpu_at_first_batch)) < 1e-6
