"""Tiering settings: environment variables (ORDERREPO_TIER_*) reach the policy thresholds."""

from __future__ import annotations

import pytest

from order_domain.tier_policy import Tier
from retention.config import thresholds_from
from settings import Settings, TieringSettings


def test_defaults_are_the_documented_policy() -> None:
    thresholds = thresholds_from(TieringSettings())
    assert (thresholds.hot_window_days, thresholds.warm_after_idle_days, thresholds.cold_after_idle_days) == (30, 30, 300)
    assert (thresholds.busy_reads, thresholds.read_window_days, thresholds.rehydrate_after_cold_reads) == (3, 30, 1)
    assert [thresholds.retention_for(t) for t in (Tier.HOT, Tier.WARM, Tier.COLD)] == [None, None, 2555]
    assert TieringSettings().promote_warm_on_read is True


def test_warm_promotion_on_read_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERREPO_TIER_PROMOTE_WARM_ON_READ", "false")
    assert Settings().tier.promote_warm_on_read is False


def test_environment_overrides_reach_the_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERREPO_TIER_COLD_AFTER_IDLE_DAYS", "90")
    monkeypatch.setenv("ORDERREPO_TIER_RETENTION_DAYS_WARM", "400")
    monkeypatch.setenv("ORDERREPO_TIER_COLD_PATH", "s3://bucket/orders")
    settings = Settings()
    thresholds = thresholds_from(settings.tier)
    assert thresholds.cold_after_idle_days == 90 and thresholds.retention_for(Tier.WARM) == 400
    assert settings.resolved_cold_path() == "s3://bucket/orders"


def test_the_cold_path_defaults_under_the_stack_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDERREPO_TIER_COLD_PATH", raising=False)
    settings = Settings()
    assert settings.resolved_cold_path() == str(settings.stack.home / "cold")


def test_inconsistent_thresholds_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERREPO_TIER_WARM_AFTER_IDLE_DAYS", "400")
    with pytest.raises(ValueError, match="cold_after_idle_days"):
        thresholds_from(Settings().tier)
