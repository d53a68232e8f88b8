"""All configuration, from environment variables (prefix ORDERREPO_) or a .env file.

The three connection settings also accept the conventional unprefixed names
(OPENSEARCH_URL / ELASTICSEARCH_URL, KAFKA_BOOTSTRAP_SERVERS): when set, every
command uses those clusters instead of the embedded local stack.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "ORDERREPO_"


def _default_home() -> Path:
    return Path.home() / ".local" / "state" / "orderrepo"


def _default_cache() -> Path:
    return Path.home() / ".cache" / "orderrepo"


class StackSettings(BaseSettings):
    """The embedded local stack (OpenSearch + Kafka started from Maven Central artifacts)."""

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}STACK_", env_file=".env", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="pid files, logs and data")
    maven_repo: Path = Field(
        default_factory=lambda: _default_cache() / "m2", description="Maven cache for the server jars"
    )
    java_home: Path | None = Field(default=None, description="force one JDK for both servers")
    opensearch_http_port: int = 19200
    opensearch_transport_port: int = 19300
    opensearch_heap: str = "768m"
    opensearch_version_java21: str = "3.8.0.0"
    opensearch_version_java17: str = "2.19.1.0"
    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    kafka_heap: str = "384m"
    kafka_version: str = "4.1.2"
    kafka_partitions: int = 3
    start_timeout_s: float = 180.0


class TieringSettings(BaseSettings):
    """Tiering by read frequency (env prefix ORDERREPO_TIER_). Days count from the order's
    last change or last read, whichever is later ("idle"), except retention (from creation).

    An open order is always hot. A closed order changed within `hot_window_days`, or read at
    least `busy_reads` times within `read_window_days`, is hot. Otherwise it goes warm after
    `warm_after_idle_days` idle and cold after `cold_after_idle_days`; a cold order read more
    than `rehydrate_after_cold_reads` times comes back to hot. `retention_days_<tier>`
    deletes (with a tombstone) an order resting in that tier once it is that old.
    """

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}TIER_", env_file=".env", extra="ignore")

    hot_window_days: int = Field(default=30, ge=0, description="a change within this keeps an order hot")
    warm_after_idle_days: int = Field(default=30, ge=0, description="idle days before hot -> warm")
    cold_after_idle_days: int = Field(default=180, ge=0, description="idle days before -> cold (Parquet)")
    read_window_days: int = Field(default=30, ge=1, description="window in which reads count as 'busy'")
    busy_reads: int = Field(default=3, ge=1, description="reads within the window that keep an order hot")
    rehydrate_after_cold_reads: int = Field(default=3, ge=0, description="cold reads after which -> hot")
    retention_days_hot: int | None = Field(default=None, ge=1, description="None = never delete from hot")
    retention_days_warm: int | None = Field(default=None, ge=1, description="None = keep warm orders")
    retention_days_cold: int | None = Field(default=2555, ge=1, description="7 years from creation")
    cold_path: str | None = Field(
        default=None, description="local directory or object-store URL for Parquet; unset = <stack home>/cold"
    )
    cold_storage_options: dict[str, str] = Field(
        default_factory=dict, description="object-store credentials/options passed to polars/pyarrow"
    )
    cold_row_group_rows: int = Field(default=64, ge=1, le=100_000, description="rows per Parquet row group")
    move_batch: int = Field(default=500, ge=1, le=10_000, description="orders per move step (and per cold part)")
    read_flush_s: float = Field(default=5.0, gt=0, description="read recorder flush interval")
    mover_metrics_port: int | None = Field(default=None, description="Prometheus port of `retention run --loop`")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    engine_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ORDERREPO_ENGINE_URL", "OPENSEARCH_URL", "ELASTICSEARCH_URL"),
        description="Search engine URL; unset = the local stack's OpenSearch",
    )
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ORDERREPO_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
        description="Kafka bootstrap servers; unset = the local stack's broker",
    )
    engine_username: str | None = None
    engine_password: str | None = None
    engine_verify_certs: bool = True
    engine_timeout_s: float = 30.0
    engine_http_compress: bool = Field(default=False, description="gzip request bodies (worth it off-box only)")

    index_prefix: str = "orderrepo"
    topic_prefix: str = "orders"
    channel_topics: dict[str, str] = Field(
        default_factory=dict, description="channel -> topic overrides, e.g. {\"web\": \"shopify-webhooks\"}"
    )
    dead_letter_topic: str | None = None
    consumer_group: str = "orderrepo-ingest"
    consumer_session_timeout_ms: int = Field(default=10_000, ge=6_000, le=300_000,
                                             description="how fast a dead worker's partitions move on")
    ingest_metrics_port: int | None = Field(
        default=None, description="Prometheus port of the ingest worker (worker i of several: port + i)"
    )
    ingest_processes: int = Field(
        default=1, ge=1, le=64,
        description="worker processes in the consumer group (one core each; up to the partition count)",
    )

    api_token_secret: str | None = Field(default=None, description="HS256 secret for API bearer tokens")
    api_max_page_size: int = Field(default=100, ge=1, le=1000)

    log_level: str = "INFO"
    log_format: str = Field(default="console", pattern="^(console|json)$")

    stack: StackSettings = Field(default_factory=StackSettings)
    tier: TieringSettings = Field(default_factory=TieringSettings)

    def resolved_engine_url(self) -> str:
        return self.engine_url or f"http://127.0.0.1:{self.stack.opensearch_http_port}"

    def resolved_kafka_servers(self) -> str:
        return self.kafka_bootstrap_servers or f"127.0.0.1:{self.stack.kafka_port}"

    def resolved_cold_path(self) -> str:
        return self.tier.cold_path or str(self.stack.home / "cold")

    def uses_external_clusters(self) -> bool:
        return self.engine_url is not None and self.kafka_bootstrap_servers is not None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
