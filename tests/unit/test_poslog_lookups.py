"""The POSLog readers' own child lookups answer exactly what lxml's path engine answers.

`poslog.xml.child` and `children` read child elements from an index by local name
instead of asking lxml for every lookup; this checks, on every element of every
corpus document and of a document mixing namespaces, that each answers the same
elements in the same order as ``find`` / ``findall`` with ``{*}`` steps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from ingest.decoders.poslog.xml import child, children, parse, q
from ingest.decoders.reader import ChannelDecodeError

CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "poslog"
PATHS = (
    "Transaction", "RetailTransaction", "LineItem", "Sale", "Return", "SequenceNumber", "Total", "Tender",
    "TransactionLink", "Delivery", "AddressLine", "LineItem/Tender/CreditDebit", "BusinessUnit/UnitID",
    "Name/FullName", "Token/TokenValue", "Telephone/FullTelephoneNumber", "LineItem/Sale/ItemID",
    ".//LoyaltyAccount/LoyaltyAccountID", ".//CustomerAccount/CustomerAccountID", ".//LineItem", ".//Sale/Quantity",
    "NoSuchElement", "LineItem/NoSuchElement",
)
MIXED = b"""<?xml version="1.0"?>
<POSLog xmlns:a="urn:a" xmlns:b="urn:b">
  <Transaction>
    <b:LineItem><SequenceNumber>1</SequenceNumber><b:Sale><ItemID>B1</ItemID></b:Sale></b:LineItem>
    <LineItem><a:Sale><ItemID>N1</ItemID></a:Sale><Sale><ItemID>N2</ItemID></Sale></LineItem>
    <!-- a comment between the lines -->
    <a:LineItem><Tender><CreditDebit><Token><TokenValue>t-1</TokenValue></Token></CreditDebit></Tender></a:LineItem>
    <a:LoyaltyAccount/><x:LoyaltyAccount xmlns:x="urn:x"><LoyaltyAccountID>L-2</LoyaltyAccountID></x:LoyaltyAccount>
  </Transaction>
</POSLog>"""


def _documents() -> list[tuple[str, bytes]]:
    found = [("mixed namespaces", MIXED)]
    found += [(path.name, path.read_bytes()) for path in sorted(CORPUS.glob("*.xml"))]
    return found


def _root(payload: bytes) -> etree._Element | None:
    try:
        return parse(payload)
    except ChannelDecodeError:
        return None  # a document the decoder refuses is never read by the lookups


@pytest.mark.parametrize(("name", "payload"), _documents(), ids=[name for name, _ in _documents()])
def test_lookups_answer_what_the_path_engine_answers(name: str, payload: bytes) -> None:
    root = _root(payload)
    if root is None:
        return
    compared = 0
    for element in root.iter(etree.Element):
        for path in PATHS:
            assert child(element, path) is element.find(q(path)), (name, path)
            if not path.startswith("."):
                assert children(element, path) == element.findall(q(path)), (name, path)
            compared += 1
    assert compared >= len(PATHS) * 5


def test_mixed_namespaces_are_read_by_local_name_in_document_order() -> None:
    root = parse(MIXED)
    transaction = child(root, "Transaction")
    assert transaction is not None
    items = [[sale.findtext("ItemID") for sale in children(item, "Sale")] for item in children(transaction, "LineItem")]
    assert items == [["B1"], ["N1", "N2"], []]
    assert [c.findtext("{*}Token/{*}TokenValue") for c in children(transaction, "LineItem/Tender/CreditDebit")] == ["t-1"]
    account = child(transaction, ".//LoyaltyAccount/LoyaltyAccountID")
    assert account is not None and account.text == "L-2"  # the first LoyaltyAccount that has one
    assert child(transaction, "Customer") is None
    assert children(transaction, "Customer/Name") == []


def test_every_corpus_document_is_compared() -> None:
    readable = [name for name, payload in _documents() if _root(payload) is not None]
    assert len(readable) >= 20
