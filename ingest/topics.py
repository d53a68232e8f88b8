"""Which Kafka topic carries which channel, in which native format. Pure (settings are plain values).

One topic per channel (configurable); every message is keyed by the canonical
order id, so all events of one order share a partition and keep their order.
The dead-letter topic (`<prefix>.dead-letter`) holds both dead-letter and ignored
records (a `kind` field tells them apart); it is created compacted, keyed by the
source coordinates, so replays never duplicate its records.
"""

from __future__ import annotations

from dataclasses import dataclass

from order_domain.model import Channel
from settings import Settings

CHANNEL_FORMATS: dict[Channel, str] = {
    Channel.WEB: "shopify",
    Channel.MARKETPLACE: "amazon_sp",
    Channel.STORE: "poslog",
    Channel.APP: "canonical",
    Channel.CALL_CENTER: "canonical",
    Channel.B2B: "canonical",
}


@dataclass(frozen=True)
class TopicMap:
    by_channel: dict[Channel, str]
    dead_letter: str

    @classmethod
    def build(cls, prefix: str, overrides: dict[str, str] | None = None, dead_letter: str | None = None) -> TopicMap:
        overrides = overrides or {}
        unknown = set(overrides) - {c.value for c in Channel}
        if unknown:
            raise ValueError(f"unknown channel(s) in topic overrides: {sorted(unknown)}; "
                             f"known: {[c.value for c in Channel]}")
        by_channel = {channel: overrides.get(channel.value, f"{prefix}.{channel.value}") for channel in Channel}
        return cls(by_channel=by_channel, dead_letter=dead_letter or f"{prefix}.dead-letter")

    @classmethod
    def from_settings(cls, settings: Settings) -> TopicMap:
        """The one way to name the topics of a deployment (prefix, per-channel overrides, dead letters)."""
        return cls.build(settings.topic_prefix, settings.channel_topics, settings.dead_letter_topic)

    def source_topics(self) -> list[str]:
        return sorted(set(self.by_channel.values()))

    def channel_of(self, topic: str) -> Channel | None:
        """The channel a topic carries (the first, if an override maps several channels to one topic)."""
        return next((channel for channel, name in self.by_channel.items() if name == topic), None)

    def format_of(self, topic: str) -> str | None:
        channel = self.channel_of(topic)
        return CHANNEL_FORMATS[channel] if channel is not None else None

    def all_topics(self) -> list[str]:
        return [*self.source_topics(), self.dead_letter]

    def topic_configs(self) -> dict[str, dict[str, str]]:
        """Configuration of topics this map creates: the dead-letter topic keeps the latest record per key."""
        return {self.dead_letter: {"cleanup.policy": "compact"}}
