"""`rebuild` over fakes: what it asks of the engine, when it builds the replaying worker, and that it closes it."""

from __future__ import annotations

from typing import Any

from adapters.bus_records import Partition
from index_templates import FAMILIES, IndexNames
from ingest.rebuild import rebuild
from ingest.topics import TopicMap
from ingest.worker import IngestWorker
from sample_traffic import generate
from tests.fakes.change_source import FakeChangeSource
from tests.fakes.change_writer import InMemoryWriter

NAMES = IndexNames("r")


class AliasBook:
    """The engine's aliases and indices, as a rebuild sees them."""

    def __init__(self, versions: dict[str, list[str]]) -> None:
        self.aliases: dict[str, set[str]] = {}
        for family, indices in versions.items():
            for index in indices:
                self.aliases.setdefault(NAMES.read_alias(family), set()).add(index)
            self.aliases.setdefault(NAMES.write_alias(family), set()).add(indices[-1])
        self.created: list[str] = []
        self.deleted: list[str] = []

    def aliases_of(self, alias: str) -> list[str]:
        return sorted(self.aliases.get(alias, set()))

    def create_index(self, index: str, body: dict[str, Any] | None = None) -> None:
        self.created.append(index)

    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        for action in actions:
            (verb, target), = action.items()
            members = self.aliases.setdefault(target["alias"], set())
            (members.discard if verb == "remove" else members.add)(target["index"])

    def refresh(self, index: str) -> None:
        pass

    def delete_index(self, index: str) -> None:
        self.deleted.append(index)


def _book(version: int) -> AliasBook:
    return AliasBook({family: [NAMES.version(family, version)] for family in FAMILIES})


def _no_worker(version: str) -> IngestWorker:
    raise AssertionError(f"a replaying worker was built for {version} with nothing to replay")


def test_with_nothing_to_replay_no_worker_is_built_so_no_consumer_or_producer_leaks() -> None:
    built: list[str] = []
    book = _book(1)

    def never(version: str) -> IngestWorker:
        built.append(version)
        raise AssertionError("a worker was built with nothing to replay")

    report = rebuild(book, NAMES, end_offsets=lambda: {Partition("r.web", 0): 0}, replay_worker=never)

    assert built == [] and report.records == 0
    assert book.aliases_of(NAMES.orders) == [report.new["orders"]] == [NAMES.version("orders", 2)]


def test_the_replaying_worker_reads_up_to_the_end_offsets_and_is_closed() -> None:
    source, topics = FakeChangeSource(), TopicMap.build("r")
    for message in generate(orders=10, seed=2):
        source.append(topics.by_channel[message.channel], message.value, key=message.key)
    workers: list[IngestWorker] = []

    def replay_worker(version: str) -> IngestWorker:
        workers.append(IngestWorker(source=source, writer=InMemoryWriter(), topics=topics, dead_letter_sink=None,
                                    clock=source.clock))
        return workers[-1]

    report = rebuild(_book(1), NAMES, end_offsets=lambda: source.end_offsets(source.assignment()),
                     replay_worker=replay_worker)

    assert report.records == sum(len(log) for log in source.logs.values()) and source.closed
    assert len(workers) == 1


def test_the_current_version_is_the_highest_by_number_not_by_name() -> None:
    book = AliasBook({"orders": [NAMES.version("orders", 9), NAMES.version("orders", 10)],
                      "order-events": [NAMES.version("order-events", 10)]})

    report = rebuild(book, NAMES, end_offsets=dict, replay_worker=_no_worker, drop_old=True)

    assert report.old["orders"] == NAMES.version("orders", 10) and report.new["orders"] == NAMES.version("orders", 11)
    assert book.deleted == [NAMES.version("orders", 10), NAMES.version("order-events", 10)]
