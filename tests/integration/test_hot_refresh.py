"""ORDERREPO_HOT_REFRESH_INTERVAL on the real engine: the live hot indices take it at install, and the
next version (a rebuild) is created with it; warm indices keep their own (no refresh)."""

from __future__ import annotations

from adapters.search_engine import SearchEngine
from index_templates import ensure_live_version
from orderrepo.bootstrap import index_names, prepare_storage
from settings import Settings


def _refresh(engine: SearchEngine, index: str) -> str:
    answer = engine.request("GET", f"/{index}/_settings/index.refresh_interval")
    return answer[index]["settings"]["index"]["refresh_interval"]


def test_the_hot_refresh_interval_reaches_the_live_versions_and_the_next_one(
    isolated: Settings, engine: SearchEngine
) -> None:
    names = index_names(isolated)
    live = [engine.aliases_of(names.orders)[0], engine.aliases_of(names.events)[0]]
    assert [_refresh(engine, index) for index in live] == ["1s", "1s"]  # the default

    prepare_storage(isolated.model_copy(update={"hot_refresh_interval": "250ms"}), engine)

    assert [_refresh(engine, index) for index in live] == ["250ms", "250ms"]
    engine.create_index(names.version("orders", 2))
    assert _refresh(engine, names.version("orders", 2)) == "250ms"
    assert ensure_live_version(engine, names, "orders") == live[0]  # the aliases did not move
