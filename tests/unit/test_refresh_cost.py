"""The refresh-cost bench's pure parts: bulk bodies prepared before the clock starts, medians of alternated rounds."""

from __future__ import annotations

import orjson

from bench.refresh_cost import bulk_bodies, medians


def test_bulk_bodies_hold_size_actions_each_in_order_with_the_last_one_short() -> None:
    docs = [(f"o{n}", {"order_id": f"o{n}", "n": n}) for n in range(5)]

    bodies = bulk_bodies("idx-v1", docs, 2)

    assert len(bodies) == 3
    lines = [orjson.loads(line) for body in bodies for line in body.splitlines()]
    assert lines[0::2] == [{"index": {"_index": "idx-v1", "_id": f"o{n}"}} for n in range(5)]
    assert lines[1::2] == [doc for _, doc in docs]
    assert [body.count(b"\n") for body in bodies] == [4, 4, 2]


def test_medians_take_each_figure_across_rounds() -> None:
    runs = [{"refreshes": 10, "indexing_us_per_doc": 80.0}, {"refreshes": 12, "indexing_us_per_doc": 95.5},
            {"refreshes": 11, "indexing_us_per_doc": 70.0}]

    assert medians(runs) == {"refreshes": 11, "indexing_us_per_doc": 80.0}
