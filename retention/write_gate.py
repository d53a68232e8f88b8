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

from order_domain.identity import identity_keys
from order_domain.model import OrderChange
from order_domain.tier_policy import ChangeFacts, Tier, WriteVerdict, write_guard
from retention.mover import Mover
from retention.tombstones import key_hash


@dataclass
class Admission:
    to_write: list[OrderChange] = field(default_factory=list)
    blocked: list[OrderChange] = field(default_factory=list)  # tombstoned: erased or expired
    rehydrated: set[str] = field(default_factory=set)


def change_facts(change: OrderChange) -> ChangeFacts:
    return ChangeFacts(order_id=change.order_id, occurred_at=change.occurred_at,
                       customer_key_hashes=tuple(key_hash(k) for k in identity_keys(change.customer)))


class NotRehydrated(RuntimeError):
    """An order could not be brought back to hot (a concurrent move): retry the batch later."""


class WriteGate:
    def __init__(self, mover: Mover) -> None:
        self.mover = mover

    def verdicts(self, changes: Sequence[OrderChange]) -> dict[str, WriteVerdict]:
        facts = [change_facts(c) for c in changes]
        order_ids = {f.order_id for f in facts}
        tiers = {i: Tier(h["_source"]["tier"]) for i, h in self.mover.locator.get(order_ids).items()}
        tombstoned, erased = self.mover.tombstones.lookup(order_ids, {h for f in facts for h in f.customer_key_hashes})
        return write_guard(facts, tiers=tiers, tombstoned_orders=tombstoned, erased_customers=erased)

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
