"""Pure pieces of the move protocol: batching by target and month, and the journal's read-back check."""

from __future__ import annotations

from order_domain.tier_policy import Tier
from retention.journal import COPY, Step, _took_effect
from retention.mover import Decision, _groups


def _decision(order: str, month: str, target: Tier) -> Decision:
    return Decision({"order_id": order, "created_month": month, "tier": "hot"}, target)


def test_batches_hold_one_target_and_for_warm_and_cold_one_month() -> None:
    decisions = [_decision("a", "2025.01", Tier.COLD), _decision("b", "2025.02", Tier.WARM),
                 _decision("c", "2025.01", Tier.WARM), _decision("d", "2025.01", Tier.WARM),
                 _decision("e", "2025.03", Tier.HOT), _decision("f", "2025.04", Tier.HOT)]
    batches = [(target, [d.entry["order_id"] for d in group]) for target, group in _groups(decisions, 1000)]
    assert batches == [(Tier.HOT, ["e", "f"]), (Tier.WARM, ["c", "d"]), (Tier.WARM, ["b"]), (Tier.COLD, ["a"])]


def test_batches_are_cut_at_the_batch_size() -> None:
    decisions = [_decision(str(i), "2025.01", Tier.WARM) for i in range(5)]
    assert [len(group) for _, group in _groups(decisions, 2)] == [2, 2, 1]


def test_a_step_took_effect_only_when_every_field_it_sets_reads_back() -> None:
    step = Step(3, None, {"pending": {"phase": COPY, "to_tier": "warm"}})
    assert _took_effect({"version": 3, "pending": {"phase": COPY, "to_tier": "warm"}}, step)
    assert not _took_effect({"version": 3, "pending": None}, step)
    assert not _took_effect({"version": 3, "pending": {"phase": COPY, "to_tier": "cold"}}, step)
