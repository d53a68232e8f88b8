"""The cold Parquet store on a local directory: layout, sort order, row groups, rewrites, caches
(rows that are not made of events are kept as JSON text by the codec: see test_tier_cold_codec)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from adapters.cold_rows import ColdRow
from adapters.cold_store import ColdStore, month_of_part
from retention.cold_codec import TypedOrderCodec


def _rows(n: int) -> list[ColdRow]:
    return [ColdRow(order_id=f"o{i:03d}", customer_key=f"customer:c{(i * 7) % 5}", placed_at=f"2025-03-{1 + i % 28:02d}",
                    document={"order_id": f"o{i:03d}", "lines": [{"sku": f"S{i}"}]},
                    timeline=[{"entry_id": f"o{i:03d}-e1", "kind": "created"}]) for i in range(n)]


@pytest.fixture
def store(tmp_path: Path) -> ColdStore:
    return ColdStore(str(tmp_path), codec=TypedOrderCodec(), row_group_rows=4)


def test_a_part_is_sorted_by_customer_and_split_into_small_row_groups(store: ColdStore, tmp_path: Path) -> None:
    written = store.write_part("2025.03", _rows(10))
    assert written is not None and written.rows == 10 and written.bytes > 0
    assert month_of_part(written.path) == "2025.03" and written.path.startswith("orders/2025.03/part-")
    part = pq.ParquetFile(tmp_path / written.path)
    assert part.metadata.num_row_groups == 3
    assert part.metadata.row_group(0).column(0).compression == "ZSTD"
    keys = part.read(columns=["customer_key", "order_id"]).to_pylist()
    assert keys == sorted(keys, key=lambda r: (r["customer_key"], r["order_id"]))
    assert sorted(written.row_groups.values()) == [0] * 4 + [1] * 4 + [2] * 2
    assert list(tmp_path.rglob("*.tmp")) == []


def test_one_order_is_read_from_the_row_group_the_write_reported(store: ColdStore) -> None:
    written = store.write_part("2025.03", _rows(10))
    assert written is not None
    for order_id, group in written.row_groups.items():
        row = store.read(written.path, group, [order_id])[order_id]
        assert row.document["order_id"] == order_id and row.timeline[0]["entry_id"] == f"{order_id}-e1"
    assert store.read(written.path, 0, ["absent"]) == {}


def test_rewrite_keeps_only_the_named_orders_in_a_new_part(store: ColdStore) -> None:
    written = store.write_part("2025.03", _rows(10))
    assert written is not None
    kept = store.rewrite_keeping(written.path, {"o001", "o004"})
    assert kept is not None and kept.path != written.path and set(kept.row_groups) == {"o001", "o004"}
    assert [r.order_id for r in store.read_all(kept.path)] == sorted(
        ["o001", "o004"], key=lambda i: (f"customer:c{(int(i[1:]) * 7) % 5}", i))
    store.delete(written.path)
    assert store.parts() == [kept.path]
    assert store.rewrite_keeping(kept.path, set()) is None


def test_reads_are_cached_until_forgotten(store: ColdStore) -> None:
    written = store.write_part("2025.04", _rows(3))
    assert written is not None
    store.read(written.path, 0, ["o000"])
    assert (written.path, 0) in store._groups
    store.forget_cache()
    assert not store._groups and not store._parts and not store._rows


def test_opening_the_newest_parts_stays_within_the_part_cache_and_spares_a_later_read_the_open(
        tmp_path: Path) -> None:
    store = ColdStore(str(tmp_path), codec=TypedOrderCodec(), row_group_rows=4, cache_parts=2)
    written = [store.write_part(month, _rows(3)) for month in ("2025.01", "2025.03", "2025.02")]
    newest, middle = written[1], written[2]
    assert newest is not None and middle is not None
    assert store.open_newest() == [newest.path, middle.path]  # newest month first, at most the 2 the cache holds
    assert list(store._parts) == [newest.path, middle.path]
    assert store.open_newest(limit=1) == [newest.path]
    opened = store._parts[newest.path]
    assert store.read(newest.path, 0, ["o001"])["o001"].order_id == "o001"
    assert store._parts[newest.path] is opened  # the read used the footer opened at start
    store.delete(middle.path)
    assert store.open_newest() == sorted((p.path for p in (newest, written[0]) if p), reverse=True)


def test_decoded_rows_answer_without_io_and_stay_within_their_bound(tmp_path: Path) -> None:
    store = ColdStore(str(tmp_path), codec=TypedOrderCodec(), row_group_rows=4, cache_row_groups=1, cache_rows=2)
    written = store.write_part("2025.04", _rows(6))
    assert written is not None
    assert store.cached(written.path, ["o000"]) is None  # never read: the caller must go to the file
    first = store.read(written.path, written.row_groups["o000"], ["o000"])
    assert store.cached(written.path, ["o000"]) == first
    for order in ("o001", "o002"):
        store.read(written.path, written.row_groups[order], [order])
    assert len(store._rows) == 2 and len(store._groups) == 1
    assert store.cached(written.path, ["o000"]) is None  # the oldest row left the cache
    assert store.cached(written.path, ["o001", "o002"]) is not None
    assert store.cached(written.path, ["o001", "o000"]) is None  # all or nothing


def test_counting_rows_does_not_keep_the_footer(store: ColdStore) -> None:
    written = [store.write_part("2025.04", _rows(3)) for _ in range(3)]
    assert [store.row_count(part.path) for part in written if part is not None] == [3, 3, 3]
    assert not store._parts


def test_empty_input_writes_nothing(store: ColdStore) -> None:
    assert store.write_part("2025.03", []) is None
    assert store.parts() == []


def test_merging_parts_keeps_the_named_orders_of_all_of_them_sorted_in_one_part(store: ColdStore) -> None:
    rows = _rows(12)
    first, second = store.write_part("2025.03", rows[:5]), store.write_part("2025.03", rows[5:])
    assert first is not None and second is not None
    keep = {r.order_id for r in rows} - {"o002", "o007"}
    merged = store.merge_parts([first.path, second.path], keep)
    assert merged is not None and merged.rows == 10 and set(merged.row_groups) == keep
    assert month_of_part(merged.path) == "2025.03"
    expected = sorted([r for r in rows if r.order_id in keep], key=lambda r: (r.customer_key, r.order_id))
    assert [(r.order_id, r.document, r.timeline) for r in store.read_all(merged.path)] == [
        (r.order_id, r.document, r.timeline) for r in expected]
    assert sorted(store.parts()) == sorted([first.path, second.path, merged.path])  # old parts: the caller's to delete


class _CountingCodec(TypedOrderCodec):
    """The typed codec, counting the records it decodes."""

    def __init__(self) -> None:
        self.decoded: list[str] = []

    def decode(self, record: dict[str, Any]) -> ColdRow:
        self.decoded.append(record["order_id"])
        return super().decode(record)


def test_a_read_decodes_only_the_codec_read_columns_and_only_the_wanted_rows(tmp_path: Path) -> None:
    codec = _CountingCodec()
    store = ColdStore(str(tmp_path), codec=codec, row_group_rows=8)
    rows = _rows(8)
    written = store.write_part("2025.03", rows)
    assert written is not None and set(written.row_groups.values()) == {0}
    wanted = ["o005", "o001", "absent", "o005", "o003"]
    found = store.read(written.path, 0, wanted)
    assert set(found) == {"o001", "o003", "o005"}
    assert sorted(codec.decoded) == ["o001", "o003", "o005"]  # each wanted row once, no other row
    by_id = {row.order_id: row for row in rows}
    assert all((row.document, row.timeline) == (by_id[i].document, by_id[i].timeline) for i, row in found.items())
    assert sorted(store._groups[(written.path, 0)].table.column_names) == sorted(TypedOrderCodec.read_columns)
    assert set(store.read(written.path, 0, ["o001", "o006"])) == {"o001", "o006"}
    assert sorted(codec.decoded) == ["o001", "o003", "o005", "o006"]  # the cached row is not decoded again


@pytest.mark.parametrize("threads", [1, 4])
def test_a_page_reads_the_row_groups_of_several_parts_at_once(tmp_path: Path, threads: int) -> None:
    store = ColdStore(str(tmp_path), codec=TypedOrderCodec(), row_group_rows=4, read_threads=threads)
    march, april = store.write_part("2025.03", _rows(10)), store.write_part("2025.04", _rows(6))
    assert march is not None and april is not None
    wanted: dict[tuple[str, int], list[str]] = {}
    for part, ids in ((march, ["o001", "o004", "o009"]), (april, ["o002", "o005"])):
        for order_id in ids:
            wanted.setdefault((part.path, part.row_groups[order_id]), []).append(order_id)
    assert len(wanted) >= 3  # three row groups or more, in two parts
    wanted[next(iter(wanted))].append("absent")
    found = store.read_groups(wanted)
    assert sorted(found) == ["o001", "o002", "o004", "o005", "o009"]
    assert {i: row.document["lines"][0]["sku"] for i, row in found.items()} == {
        "o001": "S1", "o002": "S2", "o004": "S4", "o005": "S5", "o009": "S9"}
    assert {key[0] for key in store._groups} == {march.path, april.path}
    assert store.read_groups({}) == {}
