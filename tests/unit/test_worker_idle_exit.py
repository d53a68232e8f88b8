"""`--idle-exit` with more workers than partitions: a member that never gets a partition still stops."""

from __future__ import annotations

import time
from typing import Any

from ingest.worker import IngestWorker


class GroupWithoutPartitionsForUs:
    """What a consumer sees when the group has more members than partitions: never an assignment."""

    def poll(self, timeout_ms: int) -> dict[Any, Any]:
        time.sleep(0.01)
        return {}

    def assignment(self) -> set[Any]:
        return set()

    def close(self, autocommit: bool) -> None:
        pass


class IdleProducer:
    def flush(self, timeout: float) -> None:
        pass


def test_an_unassigned_member_stops_after_idle_exit_plus_the_rebalance_grace() -> None:
    worker = IngestWorker(consumer=GroupWithoutPartitionsForUs(), producer=IdleProducer(),  # type: ignore[arg-type]
                          writer=None, topics=None, rebalance_grace_s=0.3)  # type: ignore[arg-type]
    started = time.monotonic()
    worker.run(idle_exit_s=0.2)
    assert 0.5 <= time.monotonic() - started < 5
