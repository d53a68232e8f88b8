"""Index templates (JSON files beside this module) and their idempotent installer.

Layout per family ("orders", "order-events"), for a prefix P:
  P-<family>-v<N>     concrete, versioned indices (templates match P-<family>-v*)
  P-<family>          read alias  -> the live version (queries go here)
  P-<family>-write    write alias -> the version the ingest worker writes to
A rebuild creates version N+1, moves the write alias, replays, then moves the read
alias atomically (see ingest/rebuild.py), so readers never see a gap.
On a cluster with warm nodes, the settings components also keep hot indices off them
(the engine's `tier_allocation().hot`); a single node gets no such setting.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from collections.abc import Mapping
from typing import Any

from adapters.search_engine import EngineError, SearchEngine

FAMILIES = ("orders", "order-events")
_VERSION = re.compile(r"-v(\d+)$")


@dataclass(frozen=True)
class IndexNames:
    prefix: str

    def read_alias(self, family: str) -> str:
        return f"{self.prefix}-{family}"

    def write_alias(self, family: str) -> str:
        return f"{self.prefix}-{family}-write"

    def version(self, family: str, number: int) -> str:
        return f"{self.prefix}-{family}-v{number}"

    @property
    def orders(self) -> str:
        return self.read_alias("orders")

    @property
    def orders_write(self) -> str:
        return self.write_alias("orders")

    @property
    def events(self) -> str:
        return self.read_alias("order-events")

    @property
    def events_write(self) -> str:
        return self.write_alias("order-events")


def load_template(relative_path: str, prefix: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(relative_path).read_text(encoding="utf-8")
    return json.loads(text.replace("{{prefix}}", prefix))


def with_index_settings(template: dict[str, Any], extra: Mapping[str, str]) -> dict[str, Any]:
    """A component template with `extra` index settings merged in (allocation on multi-node clusters)."""
    if extra:
        template.setdefault("template", {}).setdefault("settings", {}).update(extra)
    return template


def version_number(index: str) -> int:
    match = _VERSION.search(index)
    return int(match.group(1)) if match else 0


def newest_version(indices: list[str]) -> str:
    """The index with the highest parsed version (`-v10` is newer than `-v9`, whatever the spelling)."""
    return max(indices, key=lambda index: (version_number(index), index))


def install(engine: SearchEngine, names: IndexNames, *, refresh_interval: str | None = None) -> dict[str, str]:
    """Put every template, then make sure each family has a live version behind both aliases.

    `refresh_interval` (e.g. "500ms"; unset: the templates' 1s) goes into the hot families' settings
    component and onto their live versions, so a changed value holds from this install on.
    Safe to run any number of times and while workers are running.
    """
    live: dict[str, str] = {}
    hot_settings = {**engine.tier_allocation().hot, **({"refresh_interval": refresh_interval} if refresh_interval else {})}
    for family in FAMILIES:
        for part in ("settings", "mappings"):
            template = load_template(f"component/{family}@{part}.json", names.prefix)
            engine.put_component_template(
                f"{names.prefix}-{family}@{part}",
                with_index_settings(template, hot_settings if part == "settings" else {}),
            )
        engine.put_index_template(f"{names.prefix}-{family}", load_template(f"{family}.json", names.prefix))
        live[family] = ensure_live_version(engine, names, family)
    if refresh_interval:
        engine.request("PUT", f"/{','.join(live.values())}/_settings", body={"index": {"refresh_interval": refresh_interval}})
    return live


def ensure_live_version(engine: SearchEngine, names: IndexNames, family: str) -> str:
    current = engine.aliases_of(names.read_alias(family))
    if current:
        return newest_version(current)
    first = names.version(family, 1)
    if not engine.index_exists(first):
        _create_unless_raced(engine, first)
    engine.update_aliases([
        {"add": {"index": first, "alias": names.read_alias(family)}},
        {"add": {"index": first, "alias": names.write_alias(family), "is_write_index": True}},
    ])
    return first


def _create_unless_raced(engine: SearchEngine, index: str) -> None:
    """Two processes starting together (workers of one group) both see no index and both
    create it: the one that loses the race is done, not failed (found by the fault drill)."""
    try:
        engine.create_index(index)
    except EngineError as error:
        if "resource_already_exists" not in str(error):
            raise
