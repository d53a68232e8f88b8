"""Channel adapters: decode each channel's native payload into canonical `OrderChange` events.

Every adapter is a pure function ``decode(payload: bytes, options) -> list[OrderChange]``
with exactly three outcomes: the changes the message carries; `IgnoredPayload`
(a well-formed document that carries no order: a POSLog control transaction, a
Shopify test notification), with a reason slug; or `ChannelDecodeError` (reason
slug + location) for anything it cannot accept, so the ingest worker can
dead-letter it and carry on. Every adapter is wrapped by `reader.shielded`, so
no other exception escapes, whatever the bytes. `ADAPTERS` maps the source name
(the Kafka topic's channel format) to its adapter; `DecoderOptions` carries the
retailer's configuration (store time zones, store locations) in, so decoders
never read settings themselves.
"""

from __future__ import annotations

from typing import Final, Protocol

from ingest.decoders import amazon_sp, canonical, poslog, shopify
from ingest.decoders.options import DEFAULT_OPTIONS, DecoderOptions
from ingest.decoders.reader import ChannelDecodeError, IgnoredPayload
from order_domain.model import OrderChange


class ChannelAdapter(Protocol):
    def __call__(self, payload: bytes, options: DecoderOptions = ..., /) -> list[OrderChange]: ...


ADAPTERS: Final[dict[str, ChannelAdapter]] = {
    shopify.SOURCE: shopify.decode,
    amazon_sp.SOURCE: amazon_sp.decode,
    poslog.SOURCE: poslog.decode,
    canonical.SOURCE: canonical.decode,
}


def decode(source: str, payload: bytes, options: DecoderOptions = DEFAULT_OPTIONS) -> list[OrderChange]:
    """Decode `payload` with the adapter registered for `source`."""
    adapter = ADAPTERS.get(source)
    if adapter is None:
        raise ChannelDecodeError(source, "unknown_source", "source", f"no channel adapter named {source!r}")
    return adapter(payload, options)


__all__ = [
    "ADAPTERS",
    "DEFAULT_OPTIONS",
    "ChannelAdapter",
    "ChannelDecodeError",
    "DecoderOptions",
    "IgnoredPayload",
    "decode",
]
