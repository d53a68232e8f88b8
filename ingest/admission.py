"""The write path with tiering in front: admit the batch, then merge what may be written.

`AdmittedWriter` wraps the order store writer: tiering (`WriteAdmission`) first brings every
warm or cold order the batch touches back to hot, so a late change (a return eleven months
later) merges into the order's full history exactly like a change to a hot order, and blocks
the changes of erased or expired orders, whose tombstones outlive the engines' own delete
guards. Blocked changes come back as rejected with the reason `tombstoned`, which the worker
records as *ignored* (a replay after an erasure is expected, not an error). An admission that
fails (the engine is away, an order is mid-move) is a transient failure: the worker backs off
and retries the batch, it never dead-letters it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from adapters.search_engine import EngineError
from ingest.ports import WriteAdmission
from ingest.write_guard import ChangeWriter
from ingest.writer import TransientWriteFailure, WriteOutcome
from order_domain.model import OrderChange

TOMBSTONED = "tombstoned"


class AdmittedWriter:
    def __init__(self, writer: ChangeWriter, admission: WriteAdmission) -> None:
        self.writer = writer
        self.admission = admission
        self._gate_cpu = 0.0

    @property
    def cpu_by_stage(self) -> dict[str, float]:
        """The inner writer's CPU split by stage (`OrderStoreWriter.cpu_by_stage`) and the gate's own."""
        return {**getattr(self.writer, "cpu_by_stage", {}), "tiering gate": self._gate_cpu}

    def write(self, changes: Sequence[OrderChange]) -> WriteOutcome:
        began = time.process_time()
        try:
            admitted = self.admission.admit(changes)
        except EngineError:
            raise
        except Exception as error:  # noqa: BLE001 - an order mid-move: retry the batch later, never drop it
            raise TransientWriteFailure(f"tiering could not admit the batch yet: {error}") from error
        finally:
            self._gate_cpu += time.process_time() - began
        outcome = self.writer.write(admitted.to_write) if admitted.to_write else WriteOutcome()
        for change in admitted.blocked:
            outcome.rejected[change.event_id] = f"{TOMBSTONED}: order {change.order_id} was erased or expired"
        return outcome
