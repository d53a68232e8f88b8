"""The write path's door into tiering: check a batch of changes before it is planned.

`WriteGate.admit(changes)` gathers what the pure `order_domain.tier_policy.write_guard`
needs (locator tiers, tombstoned order ids, erased customer key hashes), rehydrates every
warm/cold order the batch touches (so a late change merges into the order's full history
in hot, exactly like a change to a hot order) and returns the changes to write and the
ones blocked by a tombstone (the worker reports those as ignored, with the reason).
Wire it into the ingest writer before `plan_writes`, and send `locator.sync_action` for
every order document written to hot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from adapters.search_engine import EngineError

from order_domain.identity import identity_keys
from order_domain.model import CustomerIdentity, OrderChange
from order_domain.tier_policy import ChangeFacts, Tier, WriteVerdict, write_guard
from retention.mover import Mover
from retention.tombstones import Tombstones, key_hash


@dataclass
class Admission:
    to_write: list[OrderChange] = field(default_factory=list)
    blocked: list[OrderChange] = field(default_factory=list)  # tombstoned: erased or expired
    rehydrated: set[str] = field(default_factory=set)


def change_facts(change: OrderChange) -> ChangeFacts:
    return ChangeFacts(order_id=change.order_id, occurred_at=change.occurred_at,
                       customer_key_hashes=customer_key_hashes(change.customer))


@lru_cache(maxsize=8_192)  # asked for every change the gate admits; an order's events repeat their customer
def customer_key_hashes(customer: CustomerIdentity | None) -> tuple[str, ...]:
    """The tombstone form of a customer's identity keys, worked out once per distinct (frozen) customer."""
    return tuple(key_hash(key) for key in identity_keys(customer))


def found_documents(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The found documents of an `_mget` answer. A document of an index that does not exist (yet) is
    simply not there, as the per-index read answered before; any other per-document error is the
    engine failing, so the batch is retried (back-off), never admitted on a partial view."""
    failed = next((doc for doc in docs if "error" in doc and not _missing_index(doc["error"])), None)
    if failed is not None:
        raise EngineError(500, f"mget {failed.get('_index')}/{failed.get('_id')}: {str(failed['error'])[:500]}")
    return [doc for doc in docs if doc.get("found")]


def _missing_index(error: Any) -> bool:
    return isinstance(error, dict) and error.get("type") == "index_not_found_exception"


class NotRehydrated(RuntimeError):
    """An order could not be brought back to hot (a concurrent move): retry the batch later."""


class WriteGate:
    def __init__(self, mover: Mover) -> None:
        self.mover = mover

    def verdicts(self, changes: Sequence[OrderChange]) -> dict[str, WriteVerdict]:
        facts = [change_facts(c) for c in changes]
        order_ids = sorted({f.order_id for f in facts})
        tiers, tombstoned, erased = self._lookup(order_ids, {h for f in facts for h in f.customer_key_hashes})
        return write_guard(facts, tiers=tiers, tombstoned_orders=tombstoned, erased_customers=erased)

    def _lookup(self, order_ids: list[str],
                key_hashes: set[str]) -> tuple[dict[str, Tier], set[str], dict[str, datetime]]:
        """Locator tiers, tombstoned orders and erased customer keys in ONE real-time `_mget` across
        both indices (it runs for every batch; three requests were three engine rounds). Answers
        come in the order asked, so they are split by position (the names are aliases)."""
        asked = [{"_index": self.mover.locator.names.locator, "_id": i} for i in order_ids]
        asked += self.mover.tombstones.wanted(order_ids, key_hashes)
        docs = self.mover.engine.request("POST", "/_mget", body={"docs": asked})["docs"] if asked else []
        located, tombstones = found_documents(docs[:len(order_ids)]), found_documents(docs[len(order_ids):])
        tombstoned, erased = Tombstones.found(tombstones)
        return {doc["_id"]: Tier(doc["_source"]["tier"]) for doc in located}, tombstoned, erased

    def admit(self, changes: Sequence[OrderChange]) -> Admission:
        verdicts = self.verdicts(changes)
        wanted = {i for i, v in verdicts.items() if v is WriteVerdict.NEEDS_REHYDRATION}
        rehydrated = self.mover.rehydrate(wanted, reason="late_change") if wanted else set()
        if wanted - rehydrated:
            raise NotRehydrated(f"{len(wanted - rehydrated)} orders are still outside hot; retry the batch")
        admission = Admission(rehydrated=rehydrated)
        for change in changes:
            blocked = verdicts[change.order_id] is WriteVerdict.BLOCKED
            (admission.blocked if blocked else admission.to_write).append(change)
        return admission
