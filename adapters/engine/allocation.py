"""Where hot and warm indices may live on a multi-node cluster: index settings read from the
cluster's own description of its nodes (adapter, pure: no I/O here).

Two mechanisms, chosen per engine by its dialect (`dialects.py`):
- a custom node attribute (OpenSearch; Elasticsearch without data tiers): nodes started
  with `node.attr.temp: warm` hold warm indices (`index.routing.allocation.require.temp`),
  and hot indices stay off them (`...exclude.temp`), so hot shards sit on the other nodes;
- data tiers (Elasticsearch 7.10+ with dedicated warm nodes: the `data_warm` role without the
  generic `data` role, which a default node has beside every tier role): warm indices prefer
  the warm tier and fall back to hot (`index.routing.allocation.include._tier_preference:
  data_warm,data_hot`); hot indices keep Elasticsearch's own default (the content tier).
Neither is chosen unless the cluster has such nodes, so a single node (or any cluster
without warm nodes) gets no allocation setting at all and every shard stays assignable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WARM_TIER_PREFERENCE = "data_warm,data_hot"


@dataclass(frozen=True)
class NodeAttribute:
    """The `name=value` that marks warm nodes (e.g. `temp=warm`)."""

    name: str
    value: str

    @staticmethod
    def parse(text: str | None) -> NodeAttribute | None:
        """`"temp=warm"` -> NodeAttribute; empty or None -> None (attribute allocation off)."""
        if not text:
            return None
        name, equals, value = text.partition("=")
        if not (name and equals and value):
            raise ValueError(f"a warm node attribute is written name=value (temp=warm), not {text!r}")
        return NodeAttribute(name.strip(), value.strip())


@dataclass(frozen=True)
class TierAllocation:
    """Index settings that place hot and warm indices; empty dicts = the engine decides."""

    hot: dict[str, str] = field(default_factory=dict)
    warm: dict[str, str] = field(default_factory=dict)
    mechanism: str = "none"  # none | node-attribute | data-tiers


NO_ALLOCATION = TierAllocation()


def _nodes(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return list((answer.get("nodes") or {}).values())


def by_attribute(answer: dict[str, Any], attribute: NodeAttribute | None) -> TierAllocation:
    """Warm indices require the attribute, hot ones exclude it: only if some node carries it."""
    if attribute is None:
        return NO_ALLOCATION
    if not any((node.get("attributes") or {}).get(attribute.name) == attribute.value for node in _nodes(answer)):
        return NO_ALLOCATION
    prefix = "index.routing.allocation"
    return TierAllocation(hot={f"{prefix}.exclude.{attribute.name}": attribute.value},
                          warm={f"{prefix}.require.{attribute.name}": attribute.value}, mechanism="node-attribute")


def _dedicated_warm(node: dict[str, Any]) -> bool:
    roles = node.get("roles") or []
    return "data_warm" in roles and "data" not in roles


def by_data_tier(answer: dict[str, Any], attribute: NodeAttribute | None) -> TierAllocation:
    """Tier preference where some node is a dedicated warm-tier node; otherwise the attribute rule."""
    if any(_dedicated_warm(node) for node in _nodes(answer)):
        return TierAllocation(warm={"index.routing.allocation.include._tier_preference": WARM_TIER_PREFERENCE},
                              mechanism="data-tiers")
    return by_attribute(answer, attribute)
