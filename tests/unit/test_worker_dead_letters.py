"""Dead-letter records: the current view of the topic, filters, size limits and their settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adapters.bus_records import ConsumedRecord, parse_coordinates
from ingest.dead_letter import DeadLetter, LetterBounds, latest_letters, matching, original_matches
from ingest.topics import TopicMap
from settings import Settings


def _letter(offset: int, *, reason: str = "malformed_json", kind: str = "dead_letter",
            channel: str = "web") -> DeadLetter:
    return DeadLetter(reason=reason, detail="d", location=None, source_topic="o.web", partition=1, offset=offset,
                      timestamp_ms=None, key=b"k", original=b"{", kind=kind, channel=channel)


def _on_topic(items: list[tuple[bytes, bytes | None, int]]) -> list[ConsumedRecord]:
    return [ConsumedRecord(topic="o.dead-letter", partition=0, offset=i, key=key, value=value, timestamp_ms=ts)
            for i, (key, value, ts) in enumerate(items)]


def test_the_current_view_keeps_the_latest_record_per_key_drops_resolved_ones_and_puts_the_newest_first() -> None:
    a, b, c = _letter(1), _letter(2, reason="invalid_type"), _letter(3, kind="ignored", reason="test_notification")
    topic = _on_topic([
        (a.record_key(), a.value(), 10), (b.record_key(), b.value(), 20), (a.record_key(), a.value(), 30),
        (c.record_key(), c.value(), 40), (b.record_key(), None, 50),  # b was replayed: its tombstone resolves it
    ])

    current = latest_letters(topic)

    assert [(x["offset"], x["kind"]) for x in current] == [(3, "ignored"), (1, "dead_letter")]
    assert [x["offset"] for x in matching(current)] == [1]
    assert [x["offset"] for x in matching(current, kind=None, reason="test_notification")] == [3]
    assert matching(current, kind=None, channel="app") == []


def test_an_original_is_embedded_only_when_it_fits_and_its_hash_identifies_it() -> None:
    letter = DeadLetter.of(ConsumedRecord(topic="o.store", partition=0, offset=7, key=None, value=b"<x>" * 1000),
                           reason="malformed_xml", detail="e" * 10_000)
    roomy, tight = LetterBounds(embed_max_bytes=3000), LetterBounds(embed_max_bytes=2999, detail_chars=50)

    embedded, pointed = DeadLetter.parse(letter.value(roomy)), DeadLetter.parse(letter.value(tight))

    assert embedded["original"] == b"<x>" * 1000 and embedded["detail"] == "e" * 2000
    assert (pointed["original"], pointed["original_embedded"], pointed["detail"]) == (None, False, "e" * 50)
    assert original_matches(pointed, b"<x>" * 1000) and not original_matches(pointed, b"<x>" * 999)
    squeezed = LetterBounds(embed_max_bytes=3000, record_max_bytes=3500)  # embedding would break the record limit
    assert DeadLetter.parse(letter.value(squeezed))["original_embedded"] is False
    assert letter.record_key() == b"o.store/0/7" and parse_coordinates("o.store/0/7") == ("o.store", 0, 7)


def test_the_dead_letter_topic_is_compacted_and_the_embed_bound_must_fit_a_request() -> None:
    topics = TopicMap.build("o")
    assert topics.topic_configs() == {"o.dead-letter": {"cleanup.policy": "compact"}}
    assert Settings(dead_letter_embed_max_bytes=700_000, kafka_max_request_bytes=1_048_576)
    with pytest.raises(ValidationError, match="ORDERREPO_DEAD_LETTER_EMBED_MAX_BYTES"):
        Settings(dead_letter_embed_max_bytes=800_000, kafka_max_request_bytes=1_048_576)
    with pytest.raises(ValueError, match="topic/partition/offset"):
        parse_coordinates("o.web/x/1")
