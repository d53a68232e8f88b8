"""Channel adapters: decode each channel's native payload into canonical `OrderChange` events.

Every adapter is a pure function ``decode(payload: bytes) -> list[OrderChange]``
that raises only `ChannelDecodeError` (reason + location) on bad input, so the
ingest worker can dead-letter it and carry on. `ADAPTERS` maps the source name
(the Kafka topic's channel format) to its adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ingest.decoders import amazon_sp, canonical, poslog, shopify
from ingest.decoders.reader import ChannelDecodeError, IgnoredPayload
from order_domain.model import OrderChange

ChannelAdapter = Callable[[bytes], list[OrderChange]]

ADAPTERS: Final[dict[str, ChannelAdapter]] = {
    shopify.SOURCE: shopify.decode,
    amazon_sp.SOURCE: amazon_sp.decode,
    poslog.SOURCE: poslog.decode,
    canonical.SOURCE: canonical.decode,
}


def decode(source: str, payload: bytes) -> list[OrderChange]:
    """Decode `payload` with the adapter registered for `source`."""
    adapter = ADAPTERS.get(source)
    if adapter is None:
        raise ChannelDecodeError(source, "unknown_source", "source", f"no channel adapter named {source!r}")
    return adapter(payload)


__all__ = ["ADAPTERS", "ChannelAdapter", "ChannelDecodeError", "IgnoredPayload", "decode"]
