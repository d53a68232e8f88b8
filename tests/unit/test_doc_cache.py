"""The document cache's chunked, parallel, resumable build (`bench.doc_cache`, `bench.doc_chunks`)
and its compressed store (`bench.doc_store`), on local files, no server: chunks hold whole
journeys, a chunked build in several processes holds exactly the documents of the one-process
write path, an interrupted build resumes from the chunks that finished, and caches of the first
format (one file, plain JSON) still read."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import orjson
import pytest

from bench import doc_cache
from bench.direct_load import direct_load
from bench.doc_chunks import chunk_count, chunk_journeys, chunk_path, remove_stale_partials
from bench.doc_store import SqliteOrderStore, pages
from ingest.decoders import decode
from order_domain.timeline import link_changes
from orderrepo.bootstrap import decoder_options, topic_map
from settings import Settings

ORDERS, SEED = 300, 5


def _documents(rows) -> dict[tuple[str, str], dict]:
    """(index, id) -> document without `indexed_at`, the one field that depends on the clock."""
    found = {}
    for index, doc_id, source in rows:
        document = orjson.loads(source)
        document.pop("indexed_at", None)
        found[(index, doc_id)] = document
    return found


@pytest.fixture()
def reference(tmp_path: Path) -> dict[tuple[str, str], dict]:
    """What the one-process write path leaves for ORDERS orders (the build before chunks)."""
    store = SqliteOrderStore(tmp_path / "reference.sqlite")
    direct_load(Settings(index_prefix=doc_cache.CACHE_PREFIX), store, ORDERS, SEED)
    found = _documents(row for page in pages(store.db) for row in page)
    store.close()
    return found


@pytest.fixture()
def cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ORDERREPO_BENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_chunks_cut_the_orders_into_consecutive_runs_of_whole_journeys() -> None:
    seen = list(chunk_journeys(orders=1000, seed=SEED, chunk_orders=150))
    chunks = [chunk for chunk, _, _ in seen]
    assert chunks == sorted(chunks) and set(chunks) == set(range(chunk_count(1000, 150))) == set(range(7))
    assert sum(created for _, created, _ in seen) == 1000
    made = 0
    for chunk, created, _ in seen:  # a journey belongs to the chunk of the orders made before it
        assert chunk == made // 150
        made += created
    with pytest.raises(ValueError):
        next(chunk_journeys(orders=10, seed=SEED, chunk_orders=1))


def test_a_journeys_changes_and_links_name_only_orders_the_journey_itself_carries() -> None:
    """What makes chunks independent: no change of one journey touches another journey's order."""
    settings = Settings()
    topics, options = topic_map(settings), decoder_options(settings)
    linked = 0
    for _, _, messages in chunk_journeys(orders=2000, seed=SEED, chunk_orders=100):
        keys = {message.key.decode() for message in messages}
        changes = [change for message in messages
                   for change in decode(topics.format_of(topics.by_channel[message.channel]) or "",
                                        message.value, options)]
        links = [link for change in changes for link in link_changes(change)]
        assert {change.order_id for change in changes + links} <= keys
        linked += len(links)
    assert linked > 0  # the sample does link orders (replacements, exchanges)


def test_a_chunked_build_in_processes_holds_exactly_the_one_process_documents(
        cache_root: Path, reference: dict) -> None:
    result = doc_cache.build(Settings(), orders=ORDERS, seed=SEED, workers=2, chunk_orders=70, progress=False)
    assert result["built"] and result["chunks"] == 5 and result["workers"] == 2
    assert result["build"]["orders"] == ORDERS and result["build"]["chunks"] == 5
    files = doc_cache.chunk_files(result["cache"])
    assert [file.name for file in files] == [f"chunk{n:05d}.sqlite" for n in range(5)]
    assert _documents(doc_cache.rows(result["cache"])) == reference
    assert sum(result["documents"].values()) == len(reference)
    assert doc_cache.summary(result["cache"]) == {"orders": ORDERS, "documents": len(reference), **{
        key: result["build"][key] for key in ("messages", "changes")}}  # what the chunks noted, summed
    assert doc_cache.build(Settings(), orders=ORDERS, seed=SEED, progress=False)["built"] is False


def test_an_interrupted_build_resumes_from_the_chunks_that_finished(cache_root: Path, reference: dict) -> None:
    first = doc_cache.build(Settings(), orders=ORDERS, seed=SEED, workers=1, chunk_orders=70, progress=False)
    directory = Path(first["cache"])
    chunk_path(directory, 3).unlink()  # as if the build had been killed while writing chunk 3
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = directory / f"chunk00003.partial{gone.stdout.strip()}"
    stale.write_bytes(b"half a chunk")
    with pytest.raises(FileNotFoundError, match="1 chunks missing"):
        doc_cache.chunk_files(directory)
    again = doc_cache.build(Settings(), orders=ORDERS, seed=SEED, workers=2, chunk_orders=999, progress=False)
    assert again["built"] and again["workers"] == 1 and again["build"]["chunks"] == 1  # chunk 3 only
    assert again["chunks"] == 5  # the first build's layout, whatever is asked later
    assert not stale.exists()
    assert _documents(doc_cache.rows(directory)) == reference


def test_only_partials_of_processes_that_are_gone_are_removed(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead, alive = tmp_path / f"chunk00001.partial{gone.stdout.strip()}", tmp_path / "chunk00002.partial1"
    dead.write_bytes(b"x")
    alive.write_bytes(b"x")  # pid 1 is always running
    assert remove_stale_partials(tmp_path) == [dead]
    assert alive.exists() and not dead.exists()


def test_sources_are_stored_compressed_and_read_back_as_json(tmp_path: Path) -> None:
    store = SqliteOrderStore(tmp_path / "c.sqlite")
    document = {"order_id": "o1", "lines": [{"sku": f"SKU-{n}", "qty": 1} for n in range(40)]}
    list(store.bulk([{"_op_type": "create", "_index": "i", "_id": "o1", "_source": document}]))
    (stored,) = store.db.execute("SELECT source FROM docs").fetchone()
    assert orjson.loads(zlib.decompress(stored)) == document and len(stored) < len(orjson.dumps(document)) / 4
    assert store.mget("i", ["o1"])["o1"]["_source"] == document
    assert [orjson.loads(row[2]) for page in pages(store.db) for row in page] == [document]
    store.close()
    reopened = SqliteOrderStore(tmp_path / "c.sqlite")  # the file keeps saying how it stores sources
    assert reopened.mget("i", ["o1"])["o1"]["_source"] == document


def test_a_cache_of_the_first_format_is_found_and_read_as_it_is(cache_root: Path) -> None:
    name = f"orders{ORDERS}-seed{SEED}-{doc_cache.fingerprint(Settings(), seed=SEED)}.sqlite"
    cache_root.mkdir()
    db = sqlite3.connect(cache_root / name)  # one file, plain JSON sources, user_version 0
    db.execute("CREATE TABLE docs (seq INTEGER PRIMARY KEY, idx TEXT NOT NULL, id TEXT NOT NULL, "
               "source BLOB NOT NULL, UNIQUE (idx, id))")
    db.execute("INSERT INTO docs (idx, id, source) VALUES ('i', 'o1', ?)", (b'{"order_id":"o1"}',))
    db.commit()
    db.close()
    result = doc_cache.build(Settings(), orders=ORDERS, seed=SEED, progress=False)
    assert result == {"cache": str(cache_root / name), "built": False}
    assert list(doc_cache.rows(result["cache"])) == [("i", "o1", b'{"order_id":"o1"}')]
    assert doc_cache.summary(result["cache"]) == {"documents": 1}  # the first format noted nothing
