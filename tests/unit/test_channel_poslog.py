"""POSLog adapter: store sales and returns, cross-channel return links, hostile XML."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from ingest.decoders import poslog
from ingest.decoders.reader import ChannelDecodeError, IgnoredPayload
from order_domain.model import (
    ChangeKind,
    Channel,
    FulfillmentType,
    LineStatus,
    OrderReference,
    OrderStatus,
    ReferenceKind,
)
from tests.unit.channel_helpers import FIXTURES, decodes_or_rejects

NS = poslog.NS


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def edited(name: str, old: str, new: str) -> bytes:
    text = load(name).decode()
    assert old in text
    return text.replace(old, new, 1).encode()


def test_sale_maps_receipt_lines_tender_customer_and_totals() -> None:
    [change] = poslog.decode(load("poslog_sale.xml"))
    assert change.order_id == "pos-0042-03-1187-20260305"
    assert (change.channel, change.kind, change.status) == (Channel.STORE, ChangeKind.CREATED, OrderStatus.COMPLETED)
    assert change.references == (OrderReference(kind=ReferenceKind.POS_RECEIPT, value="0042-03-1187"),)
    assert (change.store_id, change.currency, change.actor) == ("0042", "USD", "cashier-17")
    assert change.occurred_at.isoformat() == "2026-03-05T19:04:55+00:00"
    assert change.placed_at is not None and change.placed_at.isoformat() == "2026-03-05T19:02:10+00:00"
    lines = {line.line_id: line for line in change.lines}
    assert (lines["1"].sku, lines["1"].quantity, lines["1"].unit_price) == ("TEE-BLK-M", 2, Decimal("17.00"))
    assert (lines["2"].quantity, lines["2"].unit_price) == (1, Decimal("6.00"))  # weighed goods
    assert lines["3"].status is LineStatus.CANCELLED  # voided line
    assert {lines[i].status for i in ("1", "2")} == {LineStatus.PICKED_UP}
    assert {line.fulfillment_type for line in change.lines} == {FulfillmentType.CARRY_OUT}
    [payment] = change.payments
    assert (payment.brand, payment.last4, payment.captured) == ("Visa", "1111", Decimal("42.52"))
    assert change.customer is not None and change.customer.loyalty_id == "LOY-555-0102"
    assert change.totals is not None and (change.totals.total, change.totals.tax) == (Decimal("42.52"), Decimal("2.52"))
    assert change.event_id.startswith("poslog:pos-0042-03-1187-20260305:")


def test_unmasked_card_number_keeps_only_last_four() -> None:
    payload = edited("poslog_sale.xml", "************1111", "4111111111111111")
    [change] = poslog.decode(payload)
    assert change.payments[0].last4 == "1111"
    assert "4111111111111111" not in change.model_dump_json()


def test_return_of_web_order_emits_a_change_for_the_web_order() -> None:
    own, link = poslog.decode(load("poslog_return_web.xml"))
    assert own.order_id == "pos-0042-01-2210-20260312"
    assert (own.status, own.kind) == (OrderStatus.RETURNED, ChangeKind.RETURN)
    assert own.payments[0].refunded == Decimal("20.74")
    assert (link.order_id, link.channel, link.status) == ("web-4501", Channel.STORE, OrderStatus.PARTIALLY_RETURNED)
    assert link.store_id is None  # never overwrites the web order's own store
    [ret] = link.returns
    assert (ret.return_id, ret.channel, ret.store_id) == ("pos-0042-01-2210-20260312", Channel.STORE, "0042")
    assert (ret.line_ids, ret.refund_amount) == (("11001",), Decimal("19.00"))
    assert link.lines[0].status is LineStatus.RETURNED
    assert OrderReference(kind=ReferenceKind.POS_RECEIPT, value="0042-01-2210") in link.references
    assert link.customer is not None and link.customer.model_dump(exclude_none=True) == {"loyalty_id": "LOY-555-0102"}
    assert link.event_id != own.event_id


def test_transaction_level_link_to_another_store_sale_and_control_transactions_skipped() -> None:
    changes = poslog.decode(load("poslog_return_store.xml"))
    assert [change.order_id for change in changes] == ["pos-0042-01-2300-20260313", "pos-0042-03-1187-20260305"]
    assert changes[1].returns[0].refund_amount == Decimal("17.00")


def test_resent_receipt_has_the_same_event_id_and_a_corrected_one_does_not() -> None:
    first = poslog.decode(load("poslog_sale.xml"))[0].event_id
    assert poslog.decode(load("poslog_sale.xml"))[0].event_id == first
    assert poslog.decode(edited("poslog_sale.xml", "42.52</Total>", "42.53</Total>"))[0].event_id != first


def test_training_transactions_are_ignored_with_a_reason() -> None:
    with pytest.raises(IgnoredPayload) as caught:
        poslog.decode(edited("poslog_sale.xml", "<Transaction>", '<Transaction TrainingModeFlag="true">'))
    assert caught.value.reason == "training_transaction"


def test_negative_sale_quantity_is_a_returned_line() -> None:
    [change] = poslog.decode(edited("poslog_sale.xml", "<Quantity>2</Quantity>", "<Quantity>-2</Quantity>"))
    line = {line.line_id: line for line in change.lines}["1"]
    assert (line.status, line.quantity) == (LineStatus.RETURNED, 2)
    assert change.status is OrderStatus.PARTIALLY_RETURNED


@pytest.mark.parametrize("name", ["poslog_billion_laughs.xml", "poslog_external_entity.xml"])
def test_hostile_xml_is_rejected_fast(name: str) -> None:
    wide = load(name).decode().replace('"1.0"?>', '"1.0" encoding="UTF-16"?>')
    for payload in (load(name), wide.encode("utf-16"), wide.encode("utf-16-le")):
        with pytest.raises(ChannelDecodeError) as caught:
            poslog.decode(payload)
        assert caught.value.reason == "hostile_xml"  # refused before any entity is expanded


@pytest.mark.parametrize(
    ("old", "new", "reason", "location"),
    [
        ("<Quantity>2</Quantity>", "<Quantity>2000001</Quantity>", "invalid_value",
         "/POSLog/Transaction/RetailTransaction/LineItem[1]/Sale/Quantity"),
        ("<EndDateTime>2026-03-05T14:04:55-05:00</EndDateTime>", "<EndDateTime>2026-03-05T14:04:55</EndDateTime>",
         "invalid_timestamp", "/POSLog/Transaction/EndDateTime"),
        ("<RetailStoreID>0042</RetailStoreID>", "", "missing_field", "/POSLog/Transaction/RetailStoreID"),
        ("<RetailStoreID>0042</RetailStoreID>", "<RetailStoreID>00 42</RetailStoreID>", "invalid_value",
         "/POSLog/Transaction/RetailStoreID"),
        ("<BusinessDayDate>2026-03-05</BusinessDayDate>", "<BusinessDayDate>2026-02-30</BusinessDayDate>",
         "invalid_timestamp", "/POSLog/Transaction/BusinessDayDate"),
        ("<ItemID>TEE-BLK-M</ItemID>", "", "missing_field",
         "/POSLog/Transaction/RetailTransaction/LineItem[1]/Sale/ItemID"),
        ("<Amount>42.52</Amount>", "<Amount>lots</Amount>", "invalid_value",
         "/POSLog/Transaction/RetailTransaction/LineItem[4]/Tender/Amount"),
        ("</POSLog>", "", "malformed_xml", "/"),
        ("<POSLog ", "<POSLogs ", "malformed_xml", "/"),
    ],
)
def test_bad_documents_fail_with_reason_and_xpath(old: str, new: str, reason: str, location: str) -> None:
    with pytest.raises(ChannelDecodeError) as caught:
        poslog.decode(edited("poslog_sale.xml", old, new))
    assert (caught.value.source, caught.value.reason, caught.value.location) == ("poslog", reason, location)




@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_channel_decode_error(payload: bytes) -> None:
    decodes_or_rejects(poslog.decode, payload)


TEXTS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20) | st.sampled_from(
    ["1", "-1", "0.5", "1e9", "2026-03-05", "2026-03-05T10:00:00Z", "web-1", "", " "]
)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_fixture_with_one_element_changed_only_raises_channel_decode_error(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["poslog_sale.xml", "poslog_return_web.xml", "poslog_return_store.xml"]))
    root = etree.fromstring(load(name))
    elements = list(root.iter())
    element = data.draw(st.sampled_from(elements))
    action = data.draw(st.sampled_from(["text", "remove", "duplicate", "attribute"]))
    if action == "text":
        element.text = data.draw(TEXTS)
    elif action == "remove" and element.getparent() is not None:
        element.getparent().remove(element)
    elif action == "duplicate" and element.getparent() is not None:
        element.getparent().append(etree.fromstring(etree.tostring(element)))
    else:
        element.set(data.draw(st.sampled_from(["VoidFlag", "TypeCode", "TotalType", "CancelFlag"])), data.draw(TEXTS))
    decodes_or_rejects(poslog.decode, etree.tostring(root))
