"""Tiering objects built from settings (`settings.TieringSettings`): one place, used by the CLI
and, once wired, by the API and the ingest worker through `orderrepo.bootstrap`."""

from __future__ import annotations

from adapters.cold_store import ColdStore
from adapters.search_engine import SearchEngine
from order_domain.tier_policy import Tier, TierThresholds
from retention.cold_codec import TypedOrderCodec
from retention.copies import TierCopies
from retention.mover import Mover
from retention.storage import TierNames
from settings import Settings, TieringSettings


def thresholds_from(tier: TieringSettings) -> TierThresholds:
    return TierThresholds(
        hot_window_days=tier.hot_window_days, warm_after_idle_days=tier.warm_after_idle_days,
        cold_after_idle_days=tier.cold_after_idle_days, read_window_days=tier.read_window_days,
        busy_reads=tier.busy_reads, rehydrate_after_cold_reads=tier.rehydrate_after_cold_reads,
        retention_days={Tier.HOT: tier.retention_days_hot, Tier.WARM: tier.retention_days_warm,
                        Tier.COLD: tier.retention_days_cold},
    )


def tier_names(settings: Settings) -> TierNames:
    return TierNames(settings.index_prefix)


def cold_store_from(settings: Settings) -> ColdStore:
    """Parts live under <cold path>/<index prefix>/ so several prefixes share one root."""
    root = f"{settings.resolved_cold_path().rstrip('/')}/{settings.index_prefix}"
    return ColdStore(root, codec=TypedOrderCodec(), storage_options=settings.tier.cold_storage_options,
                     row_group_rows=settings.tier.cold_row_group_rows)


def build_mover(settings: Settings, engine: SearchEngine, *, cold: ColdStore | None = None) -> Mover:
    copies = TierCopies(engine, tier_names(settings), cold or cold_store_from(settings))
    return Mover(copies, thresholds_from(settings.tier), batch=settings.tier.move_batch)
