"""Ground truth for fault drills, computed with polars from the messages as produced. Pure.

Independent of the project's merge on purpose (a bug there must not hide by also
being in the reference): the messages are decoded by the channel decoders (how the
formats are read), and the README's documented merge rules are applied here, in
polars, from scratch:
- the orders that exist are the order ids of every decoded change (heartbeats too
  carry an id, but create nothing);
- an order's status is the highest-ranked status any of its events reported, in the
  documented lifecycle order below (cancelled outranks everything), lifted to what its
  lines imply (README "Order status never contradicts its lines"): a line's status is the
  highest-ranked one reported for it;
- a line's quantity is the last writer's, "last" by (occurred_at, source_version,
  event_id).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from ingest.decoders import ChannelDecodeError, IgnoredPayload, decode
from ingest.topics import CHANNEL_FORMATS
from sample_traffic import TrafficMessage

DOCUMENTED_STATUS_ORDER = (
    "pending", "confirmed", "in_progress", "ready_for_pickup", "partially_shipped", "shipped", "delivered",
    "completed", "partially_returned", "returned", "cancelled",
)
_RANK = {status: rank for rank, status in enumerate(DOCUMENTED_STATUS_ORDER)}
DOCUMENTED_LINE_ORDER = ("open", "allocated", "picked", "shipped", "delivered", "picked_up", "returned", "cancelled")
_LINE_RANK = {status: rank for rank, status in enumerate(DOCUMENTED_LINE_ORDER)}


def implied_by_lines(lines: set[str]) -> str | None:
    """The README's table, row by row: what a set of line statuses says about the order."""
    live = lines - {"cancelled"}
    if lines and not live:
        return "cancelled"
    if live and live == {"returned"}:
        return "returned"
    if "returned" in live:
        return "partially_returned"
    if live and live <= {"delivered", "picked_up"}:
        return "delivered" if "delivered" in live else "completed"
    if live and live <= {"shipped", "delivered", "picked_up"}:
        return "shipped"
    if live & {"shipped", "delivered", "picked_up"}:
        return "partially_shipped"
    return "in_progress" if live & {"allocated", "picked"} else None


def order_status(reported: str, lines: set[str]) -> str:
    implied = implied_by_lines(lines)
    if implied is None:
        return reported
    if reported == "cancelled" and lines & {"shipped", "delivered", "picked_up", "returned"}:
        return implied  # nothing is cancelled once it went out: the lines answer
    return max(reported, implied, key=_RANK.__getitem__)


@dataclass(frozen=True)
class GroundTruth:
    orders: pl.DataFrame  # order_id, status
    lines: pl.DataFrame  # order_id, line_id, quantity
    messages: int
    refused: int  # decoder refused or ignored: these must be on the dead-letter topic or ignored


def change_rows(messages: Iterable[TrafficMessage]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int, int]:
    events: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    count = refused = 0
    for message in messages:
        count += 1
        try:
            changes = decode(CHANNEL_FORMATS[message.channel], message.value)
        except (ChannelDecodeError, IgnoredPayload):
            refused += 1
            continue
        for change in changes:
            if change.kind.value == "heartbeat":
                continue
            stamp = (change.occurred_at.isoformat(), change.source_version or 0, change.event_id)
            events.append({"order_id": change.order_id, "status": change.status.value if change.status else None})
            lines.extend({"order_id": change.order_id, "line_id": line.line_id, "quantity": line.quantity,
                          "status": line.status.value if line.status else None,
                          "at": stamp[0], "version": stamp[1], "event_id": stamp[2]}
                         for line in change.lines)
    return events, lines, count, refused


def ground_truth(messages: Iterable[TrafficMessage]) -> GroundTruth:
    events, lines, count, refused = change_rows(messages)
    event_frame = pl.DataFrame(events, schema={"order_id": pl.Utf8, "status": pl.Utf8})
    orders = (
        event_frame.with_columns(pl.col("status").replace_strict(_RANK, default=None, return_dtype=pl.Int32)
                                 .alias("rank"))
        .group_by("order_id").agg(pl.col("rank").max())
        .with_columns(pl.col("rank").replace_strict({v: k for k, v in _RANK.items()}, default="pending",
                                                    return_dtype=pl.Utf8).alias("status"))
        .select("order_id", "status").sort("order_id")
    )
    line_frame = pl.DataFrame(lines, schema={"order_id": pl.Utf8, "line_id": pl.Utf8, "quantity": pl.Int64,
                                             "status": pl.Utf8, "at": pl.Utf8, "version": pl.Int64,
                                             "event_id": pl.Utf8})
    last_lines = (line_frame.filter(pl.col("quantity").is_not_null()).sort("at", "version", "event_id")
                  .group_by("order_id", "line_id").agg(pl.col("quantity").last()).sort("order_id", "line_id"))
    line_status = (line_frame.filter(pl.col("status").is_not_null())
                   .with_columns(pl.col("status").replace_strict(_LINE_RANK, return_dtype=pl.Int32).alias("rank"))
                   .group_by("order_id", "line_id").agg(pl.col("status").sort_by("rank").last())
                   .group_by("order_id").agg(pl.col("status").alias("line_statuses")))
    lifted = orders.join(line_status, on="order_id", how="left").map_rows(
        lambda row: (row[0], order_status(row[1], set(row[2] or []))), return_dtype=None)
    lifted.columns = ["order_id", "status"]
    return GroundTruth(orders=lifted.sort("order_id"), lines=last_lines, messages=count, refused=refused)


@dataclass(frozen=True)
class Verdict:
    checked_orders: int
    lost: list[str]
    doubled: list[str]
    regressed: list[str]  # status or a line quantity differs from the ground truth
    unexpected: list[str]

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.regressed or self.unexpected)


def judge(truth: GroundTruth, stored: pl.DataFrame, stored_lines: pl.DataFrame) -> Verdict:
    """`stored`: one row per stored copy (order_id, status), across every tier and index;
    `stored_lines`: order_id, line_id, quantity of the answering copy."""
    copies = stored.group_by("order_id").len()
    expected_ids = set(truth.orders["order_id"].to_list())
    stored_ids = set(copies["order_id"].to_list())
    doubled = sorted(copies.filter(pl.col("len") > 1)["order_id"].to_list())
    status_diff = truth.orders.join(stored.unique("order_id"), on="order_id", how="inner", suffix="_stored") \
        .filter(pl.col("status") != pl.col("status_stored"))["order_id"].to_list()
    line_diff = truth.lines.join(stored_lines, on=["order_id", "line_id"], how="left", suffix="_stored") \
        .filter(pl.col("quantity_stored").is_null() | (pl.col("quantity") != pl.col("quantity_stored")))
    regressed = sorted(set(status_diff) | (set(line_diff["order_id"].to_list()) & stored_ids))
    return Verdict(checked_orders=len(expected_ids), lost=sorted(expected_ids - stored_ids), doubled=doubled,
                   regressed=regressed, unexpected=sorted(stored_ids - expected_ids))
