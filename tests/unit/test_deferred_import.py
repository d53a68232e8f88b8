"""The columnar libraries load on first use, not when the ingest worker is built."""

from __future__ import annotations

import subprocess
import sys

from adapters.deferred_import import deferred


def test_building_a_worker_and_its_mover_does_not_load_polars_or_pyarrow() -> None:
    probe = ("import sys, orderrepo.bootstrap, ingest.worker, retention.config, query_api.cold_tier;"
             "print(sorted(m for m in ('polars', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_deferred_module_answers_like_the_module_once_used() -> None:
    import json

    stand_in = deferred("json")
    assert stand_in.dumps({"a": 1}) == json.dumps({"a": 1})
    assert stand_in.loads is json.loads and "loads" in vars(stand_in)


def test_the_codec_schema_is_built_on_first_use_and_the_same_each_time() -> None:
    from retention.cold_codec import SCHEMA, TypedOrderCodec, cold_schema

    assert SCHEMA is cold_schema() is TypedOrderCodec().schema
    assert SCHEMA.field("events").type.value_type.field("id_form").type == deferred("pyarrow").string()
