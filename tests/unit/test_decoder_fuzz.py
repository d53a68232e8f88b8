"""Property-based fuzzing of each decoder directly: only ChannelDecodeError or IgnoredPayload ever escape.

Inputs per decoder: random bytes; corpus files truncated anywhere; corpus files
with bytes flipped, inserted or deleted; deep nesting (JSON arrays/objects, XML
elements); payloads of several megabytes; odd encodings (UTF-16/32 with and
without BOM, Latin-1, invalid UTF-8); wrong JSON types in every position. Every
outcome must be one of the three a decoder may give: changes, IgnoredPayload
(with a reason), ChannelDecodeError (with reason and location).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.decoders import ADAPTERS, ChannelDecodeError, DecoderOptions, IgnoredPayload, decode
from order_domain.model import OrderChange

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "decoders"
CHANNELS = ["shopify", "amazon_sp", "poslog", "canonical"]
OPTIONS = DecoderOptions(pos_default_tz="UTC", store_locations=frozenset({"61234567"}))
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def samples(channel: str) -> list[bytes]:
    folder = CORPORA / channel
    files = sorted(p for p in folder.glob("*") if p.name != "EXPECTED.json") if folder.exists() else []
    files += sorted(FIXTURES.glob(f"{channel.split('_')[0]}_*"))
    return [p.read_bytes() for p in files]


SAMPLES = {channel: samples(channel) for channel in CHANNELS}


def outcome(channel: str, payload: bytes) -> str:
    """Decode and classify; any other exception fails the test (that is the property)."""
    try:
        changes = decode(channel, payload, OPTIONS)
    except ChannelDecodeError as error:
        assert error.reason and error.location and error.source
        return f"dead_letter:{error.reason}"
    except IgnoredPayload as ignored:
        assert ignored.reason
        return f"ignored:{ignored.reason}"
    assert all(isinstance(change, OrderChange) for change in changes)
    return "accepted"


def test_every_channel_has_an_adapter_and_samples() -> None:
    assert set(CHANNELS) == set(ADAPTERS)
    assert all(len(SAMPLES[c]) >= 2 for c in CHANNELS)


@FUZZ
@given(st.sampled_from(CHANNELS), st.binary(max_size=2000))
def test_random_bytes(channel: str, payload: bytes) -> None:
    outcome(channel, payload)


@FUZZ
@given(st.sampled_from(CHANNELS), st.data())
def test_truncated_corpus_files(channel: str, data: st.DataObject) -> None:
    sample = data.draw(st.sampled_from(SAMPLES[channel]))
    cut = data.draw(st.integers(0, len(sample)))
    outcome(channel, sample[:cut])


@FUZZ
@given(st.sampled_from(CHANNELS), st.data())
def test_mutated_corpus_files(channel: str, data: st.DataObject) -> None:
    payload = bytearray(data.draw(st.sampled_from(SAMPLES[channel])))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, max(0, len(payload) - 1)))
        action = data.draw(st.sampled_from(["flip", "insert", "delete", "digit"]))
        if action == "flip" and payload:
            payload[at] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "insert":
            payload[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del payload[at:at + data.draw(st.integers(1, 16))]
        elif payload:
            payload[at] = ord(data.draw(st.sampled_from("0-9.e\"<>&")))
    outcome(channel, bytes(payload))


JSON_SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
                | st.text(max_size=8))


@FUZZ
@given(st.sampled_from(["shopify", "amazon_sp", "canonical"]), st.data())
def test_json_values_replaced_with_wrong_types(channel: str, data: st.DataObject) -> None:
    sample = json.loads(data.draw(st.sampled_from(SAMPLES[channel])))
    replaced = _replace_one(sample, data)
    outcome(channel, json.dumps(replaced).encode())


def _replace_one(doc: object, data: st.DataObject) -> object:
    if isinstance(doc, dict) and doc:
        key = data.draw(st.sampled_from(sorted(doc)))
        dive = data.draw(st.booleans())
        return {**doc, key: _replace_one(doc[key], data) if dive else data.draw(JSON_SCALARS)}
    if isinstance(doc, list) and doc:
        at = data.draw(st.integers(0, len(doc) - 1))
        return [*doc[:at], _replace_one(doc[at], data), *doc[at + 1:]]
    containers = st.lists(JSON_SCALARS, max_size=2) | st.dictionaries(st.text(max_size=4), JSON_SCALARS, max_size=2)
    return data.draw(JSON_SCALARS | containers)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("depth", [100, 1_000, 10_000, 200_000])
def test_deep_nesting(channel: str, depth: int) -> None:
    payloads = [b"[" * depth + b"]" * depth, b'{"payload":' * depth + b"1" + b"}" * depth,
                b'{"topic":"orders/create","operation":"getOrder","payload":'
                + b'{"a":' * depth + b"1" + b"}" * (depth + 1),
                b"<POSLog><Transaction>" + b"<a>" * depth + b"</a>" * depth + b"</Transaction></POSLog>"]
    reasons = {outcome(channel, payload) for payload in payloads}
    assert all(r.startswith(("dead_letter", "ignored")) for r in reasons), reasons
    if depth >= 10_000:  # past every parser's limit: the reason says so precisely
        expected = "dead_letter:too_deeply_nested"
        xml = b"<POSLog><T>" + b"<a>" * depth + b"</a>" * depth + b"</T></POSLog>"
        assert outcome(channel, xml if channel == "poslog" else b"[" * depth + b"]" * depth) == expected


@pytest.mark.parametrize("channel", CHANNELS)
def test_several_megabyte_payloads_are_refused_or_read_never_crash(channel: str) -> None:
    sample = SAMPLES[channel][0]
    padded = [sample + b" " * 6_000_000, b"x" * 6_000_000, sample[:-1] * 3]
    big_note = json.dumps({"topic": "orders/create", "payload": {"note": "n" * 4_500_000}}).encode()
    for payload in [*padded, big_note]:
        outcome(channel, payload)
    assert outcome(channel, b"x" * 6_000_000) == "dead_letter:payload_too_large"


ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252"]


@FUZZ
@given(st.sampled_from(CHANNELS), st.sampled_from(ENCODINGS), st.data())
def test_odd_encodings(channel: str, encoding: str, data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(SAMPLES[channel])).decode("utf-8", errors="replace")
    payload = text.encode(encoding, errors="replace")
    outcome(channel, payload)
    outcome(channel, b"\xef\xbb\xbf" + text.encode("utf-8"))


@FUZZ
@given(st.data())
def test_poslog_namespaces_and_prefixes(data: st.DataObject) -> None:
    sample = SAMPLES["poslog"][0].decode("utf-8")
    uris = ["", "urn:x", "http://example.com/a b", "urn:nrf:arts:POSLog:6.0", "&amp;", "\u00e9"]
    uri = data.draw(st.sampled_from(uris))
    prefix = data.draw(st.sampled_from(["", "p", "xml", "xmlns", "1bad", "poslog"]))
    replaced = sample.replace('xmlns="http://www.nrf-arts.org/IXRetail/namespace/"',
                              f'xmlns{":" + prefix if prefix else ""}="{uri}"', 1)
    outcome("poslog", replaced.encode("utf-8"))
