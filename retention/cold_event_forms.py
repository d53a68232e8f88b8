"""How a cold event's id and source version are stored: only what the row does not already say
(pure functions, no I/O; `retention.cold_codec` applies them to every stored event).

Channel event ids repeat what the row and the event hold: the order id (`poslog:<order>:<hash>`,
`edi-gateway:<order>:v<version>`) and the source version. Stored whole, these prefixes were the
largest part of a cold order (~40 of its 57 bytes of ids, after zstd). So an id is stored as
its *form*, the id with the order id replaced by `{o}` and a trailing `:v<source version>` by
`:v{v}`, cut after its last `:` (`poslog:{o}:`, `edi-gateway:{o}:v{v}`, `shopify:`: a handful of
values per channel, which zstd packs to nearly nothing), and its *rest*, what follows the form
(the random hash; empty when the whole id is derivable). Sources that version an order by the
event's time (`source_version` = `occurred_at` in epoch milliseconds) store a flag instead of
the number.

Guarantee: `event_id(*id_form(i, o, v), o, v) == i` for every id; an id the rules cannot give
back exactly (one holding `{`, one with neither `:` nor the order id, any id the check in
`id_form` refuses) is stored whole, with no form. The same holds for `source_version`
(`version_from_time` is set only when the number is exactly the instant's milliseconds).
Parts written before these forms (no `id_form`, no `version_from_time`: whole ids and
versions) read the same way: a missing form means "stored whole".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

ORDER, VERSION = "{o}", "{v}"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def event_id(form: str | None, rest: str, order_id: str, version: int | None) -> str:
    """The event id stored as `form` and `rest` (`form` None: `rest` is the whole id)."""
    if form is None:
        return rest
    return form.replace(VERSION, str(version)).replace(ORDER, order_id) + rest


def id_form(event_id_: str, order_id: str, version: int | None) -> tuple[str | None, str]:
    """(form, rest) of an event id, or (None, the id) when it is stored whole."""
    if "{" in event_id_:
        return None, event_id_
    form = event_id_.replace(order_id, ORDER, 1) if order_id else event_id_
    suffix = f":v{version}"
    if version is not None and form.endswith(suffix):
        form, rest = form[: -len(suffix)] + f":v{VERSION}", ""
    else:
        head, colon, rest = form.rpartition(":")
        form, rest = (head + colon, rest) if ORDER not in rest else (form, "")  # `<…>:link:<order>`: all form
    if not form or event_id(form, rest, order_id, version) != event_id_:
        return None, event_id_
    return form, rest


def milliseconds(instant: datetime) -> int:
    """An instant as whole milliseconds since the Unix epoch (floor)."""
    return (instant - _EPOCH) // _MILLISECOND


def version_form(version: int | None, occurred_at: datetime) -> tuple[bool, int | None]:
    """(version_from_time, the version to store): the number is dropped when it is exactly the
    event's instant in epoch milliseconds."""
    if version is not None and version == milliseconds(occurred_at):
        return True, None
    return False, version


def source_version(from_time: bool, stored: int | None, occurred_at: datetime) -> int | None:
    """The source version `version_form` was given."""
    return milliseconds(occurred_at) if from_time else stored
