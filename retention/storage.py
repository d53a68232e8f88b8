"""Engine-side storage of the tiers: names, template installation, warm month indices.

Names for a prefix P:
  P-order-locator (alias) -> P-order-locator-vN   one entry per order (always hot)
  P-tombstones (alias)    -> P-tombstones-vN      tombstones + erasure audit
  P-orders-warm-YYYY.MM, P-order-events-warm-YYYY.MM   warm, by the order's creation month
  P-orders-warm, P-order-events-warm                   aliases over every warm month
Templates are versioned (`version` in each JSON file); a template change rolls out by a
new index version behind the alias (as `index_templates.install` does for hot), never
by mutating a live mapping. Warm months are versioned by creation: a changed warm
template applies to the month indices created after it; an existing month keeps the
mapping it was created with until it empties (its orders leave for cold or hot), and
readers query both the same way. Warm orders use a lean mapping of their own
(`orders-warm@mappings`: no n-gram subfields, text without positions or norms, the
derived `search` fields indexed but not kept in `_source`, answer-only objects stored but
not indexed); warm timelines have theirs (`order-events-warm@mappings`: only the fields
timeline reads filter or sort on are indexed or kept as doc values). Warm indices are
plain month indices: never rollover or data streams, so a late change to an order always
finds its one copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from adapters.search_engine import SearchEngine
from index_templates import IndexNames, ensure_live_version, load_template, with_index_settings

CATALOG_FAMILIES = ("order-locator", "tombstones")
WARM_FAMILIES = ("orders", "order-events")
_COMPONENTS = ("tier-catalog@settings", "order-locator@mappings", "tombstones@mappings", "tier-warm@settings",
               "orders-warm@mappings", "order-events-warm@mappings")
_COMPOSABLE = ("order-locator", "tombstones", "orders-warm", "order-events-warm")


@dataclass(frozen=True)
class TierNames:
    prefix: str

    @cached_property
    def hot(self) -> IndexNames:
        return IndexNames(self.prefix)

    @property
    def locator(self) -> str:
        return f"{self.prefix}-order-locator"

    @property
    def tombstones(self) -> str:
        return f"{self.prefix}-tombstones"

    def warm_index(self, family: str, month: str) -> str:
        return f"{self.prefix}-{family}-warm-{month}"

    def warm_alias(self, family: str) -> str:
        return f"{self.prefix}-{family}-warm"

    def month_of_warm_index(self, index: str) -> str:
        return index.rsplit("-", 1)[-1]


def install_tier_storage(engine: SearchEngine, names: TierNames) -> dict[str, str]:
    """Templates for the locator, tombstones and warm months; live versions behind aliases.

    Idempotent. Run after `index_templates.install` (warm templates compose the hot
    mappings components it installs). The always-hot catalog stays off warm nodes.
    """
    hot_allocation = engine.tier_allocation().hot
    for component in _COMPONENTS:
        template = load_template(f"component/{component}.json", names.prefix)
        engine.put_component_template(
            f"{names.prefix}-{component}",
            with_index_settings(template, hot_allocation if component == "tier-catalog@settings" else {}))
    for template in _COMPOSABLE:
        engine.put_index_template(f"{names.prefix}-{template}", load_template(f"{template}.json", names.prefix))
    return {family: ensure_live_version(engine, names.hot, family) for family in CATALOG_FAMILIES}


def ensure_warm_index(engine: SearchEngine, index: str) -> None:
    """Create the month index if missing (the warm template applies), on warm nodes if the
    cluster has them (node attribute or data tier, as the engine's dialect decides)."""
    if engine.index_exists(index):
        return
    settings = engine.tier_allocation().warm
    try:
        engine.create_index(index, {"settings": settings})
    except Exception:  # noqa: BLE001 - a concurrent mover may have created it first
        if not engine.index_exists(index):
            raise


def set_write_block(engine: SearchEngine, index: str, blocked: bool) -> None:
    engine.request("PUT", f"/{index}/_settings", body={"index.blocks.write": blocked})


@contextmanager
def writable(engine: SearchEngine, index: str) -> Iterator[None]:
    """Lift a warm index's write block for the duration; the block is restored even on error.

    A crash inside leaves it writable: `seal` at the end of the next pass restores it.
    """
    set_write_block(engine, index, False)
    try:
        yield
    finally:
        engine.refresh(index)
        set_write_block(engine, index, True)


def seal(engine: SearchEngine, index: str) -> None:
    """Refresh, force-merge to one segment (expunging deletes) and block writes. The write
    block does not stop refresh, merge or flush, so a blocked index is sealed as it is."""
    engine.refresh(index)
    engine.request("POST", f"/{index}/_forcemerge", params={"max_num_segments": 1, "request_timeout": 3600})
    engine.refresh(index)  # warm indices never refresh on their own: release the merged-away segments
    engine.request("POST", f"/{index}/_flush")
    set_write_block(engine, index, True)


def warm_indices(engine: SearchEngine, names: TierNames) -> list[str]:
    rows = engine.request("GET", f"/_cat/indices/{names.prefix}-*-warm-*", params={"format": "json", "h": "index"})
    return sorted(row["index"] for row in rows)


def unsealed_warm_indices(engine: SearchEngine, names: TierNames) -> list[str]:
    """Warm indices left writable (a mover crashed mid-move): the next pass seals them."""
    indices = warm_indices(engine, names)
    if not indices:
        return []
    answer = engine.request("GET", f"/{names.prefix}-*-warm-*/_settings/index.blocks.write")
    return sorted(
        index for index in indices
        if str(((answer.get(index) or {}).get("settings") or {}).get("index", {}).get("blocks", {}).get("write"))
        != "true"
    )
