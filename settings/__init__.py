"""All configuration, from environment variables (prefix ORDERREPO_) or a .env file.

The three connection settings also accept the conventional unprefixed names
(OPENSEARCH_URL / ELASTICSEARCH_URL, KAFKA_BOOTSTRAP_SERVERS): when set, every
command uses those clusters instead of the embedded local stack.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
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
    # `stack up --cluster hot-warm`: three OpenSearch nodes (hot-1, hot-2, warm-1), node i on port + i
    opensearch_cluster_http_port: int = 19210
    opensearch_cluster_transport_port: int = 19310
    opensearch_cluster_heap: str = "256m"
    elasticsearch_http_port: int = 19201  # `stack up --engine elasticsearch`: beside OpenSearch, not instead
    elasticsearch_transport_port: int = 19301
    elasticsearch_heap: str = "512m"
    elasticsearch_version: str = "7.10.2.0"  # the codelibs runner's version: Elasticsearch 7.10.2
    # `stack up --engine elasticsearch8`: Elastic's core-only 8.x build, run as a non-root service user
    elasticsearch8_http_port: int = 19202
    elasticsearch8_transport_port: int = 19302
    elasticsearch8_heap: str = "512m"
    elasticsearch8_version: str = "8.19.21"
    elasticsearch8_user: str = Field(default="orderrepo-es", description="runs the node when we are root "
                                     "(created with useradd --system if missing); ignored when not root")
    elasticsearch8_dir: Path | None = Field(default=None, description="the node's files; unset = <home>/elasticsearch8, "
                                            "or /var/lib/orderrepo-es/<id of home> when root (the user cannot enter /root)")
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
    than `rehydrate_after_cold_reads` times comes back to hot. The API applies these two upward
    moves as soon as the reads arrive (about a second after the read that makes the order due;
    for warm orders unless `promote_warm_on_read` is off), the mover's pass the rest.
    `retention_days_<tier>` deletes (with a tombstone) an order resting in that tier once it is that old.
    """

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}TIER_", env_file=".env", extra="ignore")

    hot_window_days: int = Field(default=30, ge=0, description="a change within this keeps an order hot")
    warm_after_idle_days: int = Field(default=30, ge=0, description="idle days before hot -> warm")
    cold_after_idle_days: int = Field(default=300, ge=0, description="idle days before -> cold (Parquet)")
    read_window_days: int = Field(default=30, ge=1, description="window in which reads count as 'busy'")
    busy_reads: int = Field(default=3, ge=1, description="reads within the window that keep an order hot")
    rehydrate_after_cold_reads: int = Field(default=1, ge=0, description="cold reads after which -> hot")
    retention_days_hot: int | None = Field(default=None, ge=1, description="None = never delete from hot")
    retention_days_warm: int | None = Field(default=None, ge=1, description="None = keep warm orders")
    retention_days_cold: int | None = Field(default=2555, ge=1, description="7 years from creation")
    cold_path: str | None = Field(
        default=None, description="local directory or object-store URL for Parquet; unset = <stack home>/cold"
    )
    cold_storage_options: dict[str, str] = Field(
        default_factory=dict, description="object-store credentials/options passed to polars/pyarrow"
    )
    cold_row_group_rows: int = Field(default=1024, ge=1, le=100_000, description="rows per Parquet row group")
    move_batch: int = Field(default=500, ge=1, le=10_000, description="orders per move step (and per cold part)")
    read_flush_s: float = Field(default=5.0, gt=0, description="read recorder flush interval")
    promote_warm_on_read: bool = Field(
        default=True, description="the API moves a warm order to hot as soon as its reads make it busy "
                                  "(false: it waits for the next mover pass)")
    mover_metrics_port: int | None = Field(default=None, description="Prometheus port of `retention run --loop`")
    warm_allocation_attribute: str = Field(
        default="temp=warm", pattern=r"^([A-Za-z0-9_.-]+=[A-Za-z0-9_.-]+)?$",
        description="node attribute=value of warm nodes: warm indices go there, hot ones stay off them, "
                    "when some node has it (empty = off; Elasticsearch data tiers take precedence)",
    )


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
    engine_start_wait_s: float = Field(default=300.0, ge=0, description="an ingest worker started while the engine "
                                       "is down waits this long for it (capped backoff) before it gives up")
    engine_http_compress: bool = Field(default=False, description="gzip request bodies (worth it off-box only)")
    engine_api_client: Literal["lean", "library"] = Field(
        default="lean", description="the query API's engine client: lean (aiohttp + orjson) or the client library's")

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
    ingest_remembered_orders: int = Field(
        default=5_000, ge=0, le=1_000_000,
        description="orders each worker keeps as written (merge state + guard, ~8 KiB each) instead of reading "
                    "them back on their next change; 0 reads every order back (the worker's memory bound)",
    )

    # --- the ingest worker's consumer (adapters/kafka_bus.py): memory per batch and freshness ---
    # A poll hands the worker at most ingest_max_poll_records records; the batch, its decoded changes
    # and its bulk bodies are the worker's largest transient memory (~25 KiB per record at peak), and
    # a smaller batch is written (and visible) sooner. The fetch sizes bound the bytes the client
    # buffers ahead of the worker; a record larger than them is still fetched (alone).
    ingest_max_poll_records: int = Field(default=500, ge=1, le=100_000,
                                         description="records per worker batch (memory and latency bound)")
    ingest_fetch_max_bytes: int = Field(default=8 * 1024 * 1024, ge=64 * 1024,
                                        description="bytes one fetch response may carry (all partitions)")
    ingest_max_partition_fetch_bytes: int = Field(default=1024 * 1024, ge=16 * 1024,
                                                  description="bytes one fetch may carry per partition")
    # Python's cyclic collector ran 8-13 % of the worker's CPU path at its default first-generation
    # threshold (700 allocations): each batch allocates hundreds of thousands of short-lived objects.
    # The worker freezes what it holds after start-up (modules, settings, clients) and collects the
    # youngest generation every ingest_gc_threshold allocations (0 keeps Python's defaults).
    ingest_gc_threshold: int = Field(default=20_000, ge=0, le=1_000_000,
                                     description="allocations between young-generation collections in a "
                                                 "worker (0 = Python's default)")
    ingest_fetch_max_wait_ms: int = Field(default=500, ge=0, le=10_000,
                                          description="how long the broker holds a fetch when there is nothing "
                                                      "new (new records answer it at once)")
    # The refresh is the largest single share of produce-to-searchable lag (uniform in 0..interval), but on a
    # node the writers saturate 500ms raised the p99 (more refresh and merge work per document): README, "Freshness".
    hot_refresh_interval: str = Field(
        default="1s", pattern=r"^\d+(ms|s)$",
        description="how often the hot order and timeline indices make new writes searchable (the engine's "
                    "refresh; shorter = fresher reads, more indexing work); applied by `templates install` and "
                    "at worker start")
    # Worker-driven visibility (ingest/visibility.py): right after a batch of at most
    # ingest_refresh_after_write_max_records records is committed, the worker asks the engine to refresh
    # the hot indices, at most once per ingest_refresh_after_write_ms; a larger batch (the worker is
    # behind) leaves it to the periodic refresh. 0 = off.
    ingest_refresh_after_write_ms: int = Field(
        default=0, ge=0, le=60_000,
        description="least ms between two refreshes a worker asks after writing a small batch (0 = only the "
                    "periodic refresh)")
    ingest_refresh_after_write_max_records: int = Field(
        default=250, ge=1, le=100_000, description="a batch larger than this asks no refresh (the worker is behind)")
    ingest_trace_batches: int = Field(default=0, ge=0, le=1_000_000,
                                      description="keep the timings of this many recent batches and write them "
                                                  "beside the health file on stop (freshness analysis; 0 = off)")

    # --- dead letters and the ingest worker's producer (ingest/dead_letter.py) ---
    # A dead-letter or ignored record embeds the original message only up to
    # dead_letter_embed_max_bytes; a larger original is pointed to by its source
    # topic/partition/offset (`orderrepo dlq replay` fetches it from there). Every
    # record stays below kafka_max_request_bytes, the producer's max_request_size,
    # which must not exceed the broker's message.max.bytes (~1 MiB by default).
    dead_letter_embed_max_bytes: int = Field(default=512 * 1024, ge=0, le=64 * 1024 * 1024,
                                             description="embed originals up to this size in dead-letter records")
    dead_letter_excerpt_bytes: int = Field(default=2048, ge=0, le=64 * 1024,
                                           description="bytes of the original shown as an excerpt")
    kafka_max_request_bytes: int = Field(default=1_048_576, ge=128 * 1024,
                                         description="producer max_request_size (<= the broker's message.max.bytes)")

    pos_default_tz: str | None = Field(
        default=None, description="IANA time zone for POSLog timestamps without a UTC offset (unset: such are rejected)"
    )
    pos_store_tz: dict[str, str] = Field(
        default_factory=dict, description="per-store IANA time zone, e.g. {\"0042\": \"America/New_York\"}"
    )
    store_locations: list[str] = Field(
        default_factory=list, description="channel location ids that are stores (Shopify location_id, Amazon source id)"
    )
    api_max_page_size: int = Field(default=100, ge=1, le=1000)
    api_workers: int = Field(default=1, ge=1, le=64, description="API worker processes `orderrepo api` starts "
                             "(each with its own engine pool, rate buckets and audit queue); one core each")

    # --- Deployment mode (query API read path) ---------------------------------------------
    # ORDERREPO_ENV: `development` (default) and `demo` accept the generated local token secret;
    # `production` refuses to start the API unless ORDERREPO_API_TOKEN_SECRET is set to a
    # secret of its own (not the generated development secret, at least 32 characters).
    env: Literal["production", "development", "demo"] = Field(
        default="development", description="deployment mode; production refuses unsafe defaults"
    )

    # --- Query API security (query_api/auth.py, pseudonyms.py, security.py, audit.py) ------------
    # Tokens. Shared-secret mode (demo, CLI tokens): HS256 with ORDERREPO_API_TOKEN_SECRET (unset and
    # no OIDC = a random development secret kept in the stack home). OIDC mode (production): RS256/
    # ES256 tokens of an OpenID Connect provider, keys from its JWKS URL. Both modes may be on at once
    # (OIDC + a configured secret); each token is checked only against the keys of its own mode.
    api_token_secret: str | None = Field(default=None, min_length=32, description="HS256 secret for API bearer tokens")
    api_token_issuer: str = Field(default="orderrepo", description="`iss` required in shared-secret tokens")
    api_token_audience: str = Field(default="orderrepo-api", description="`aud` required in every token")
    api_token_max_lifetime_s: int = Field(default=86_400, ge=60, le=30 * 86_400,
                                          description="longest accepted exp - iat (seconds)")
    api_token_leeway_s: int = Field(default=30, ge=0, le=300, description="issuer clock ahead of ours: iat/nbf")
    api_oidc_issuer: str | None = Field(default=None, description="`iss` of the OIDC provider's tokens")
    api_oidc_audience: str | None = Field(default=None, description="`aud` of OIDC tokens (default: the above)")
    api_oidc_jwks_url: str | None = Field(default=None, description="the provider's JWKS; set = OIDC mode on")
    api_jwks_cache_s: float = Field(default=3600.0, ge=10, description="JWKS kept this long before a refetch")
    api_jwks_min_refresh_s: float = Field(default=30.0, ge=0,
                                          description="at most one refetch per interval on an unknown `kid`")
    # Analyst pseudonyms: HMAC-SHA256 under this secret, prefixed with the key version (`p1_...`).
    # Rotating = new secret + version + 1: every pseudonym changes, exports made before do not join
    # exports made after. Unset = a random development secret kept in the stack home.
    api_pseudonym_secret: str | None = Field(default=None, min_length=32, description="HMAC key of analyst pseudonyms")
    api_pseudonym_key_version: int = Field(default=1, ge=1, le=9999, description="bump on every rotation")
    # Input limits (413 / 414) and rate limits (429 + Retry-After); 0 turns a rate limit off.
    api_max_header_bytes: int = Field(default=8192, ge=1024, description="all request headers together")
    api_max_body_bytes: int = Field(default=65_536, ge=0, description="request body")
    api_max_query_chars: int = Field(default=2048, ge=64, description="query string (after ?)")
    api_rate_per_token: float = Field(default=50.0, ge=0, description="sustained requests/second per token")
    api_burst_per_token: int = Field(default=100, ge=1, description="bucket size per token")
    api_rate_per_client: float = Field(default=100.0, ge=0, description="requests/second per client address")
    api_burst_per_client: int = Field(default=200, ge=1, description="bucket size per client address")
    api_rate_buckets: int = Field(default=100_000, ge=100, description="buckets kept in memory (LRU)")
    # CORS for storefront pages: off unless origins are listed (e.g. ["https://shop.example.com"]).
    api_cors_origins: list[str] = Field(default_factory=list, description="allowed browser origins")
    # CSR audit: every CSR read lands in <prefix>-audit, kept this many days (`orderrepo audit purge`).
    api_audit_retention_days: int = Field(default=400, ge=1, le=3650, description="audit entries kept")
    api_audit_flush_s: float = Field(default=1.0, gt=0, le=60, description="audit batches leave this often")
    api_audit_batch: int = Field(default=500, ge=1, le=10_000, description="... or at this many entries")
    api_audit_queue: int = Field(default=100_000, ge=100, description="entries waiting before reads wait")

    log_level: str = "INFO"
    log_format: str = Field(default="console", pattern="^(console|json)$")

    stack: StackSettings = Field(default_factory=StackSettings)
    tier: TieringSettings = Field(default_factory=TieringSettings)

    @model_validator(mode="after")
    def _dead_letters_fit_a_request(self) -> Settings:
        # base64 grows an embedded original by 4/3; 64 KiB leaves room for the excerpt and the other fields
        if self.dead_letter_embed_max_bytes * 4 // 3 + 64 * 1024 > self.kafka_max_request_bytes:
            raise ValueError(
                f"ORDERREPO_DEAD_LETTER_EMBED_MAX_BYTES={self.dead_letter_embed_max_bytes} does not fit a Kafka "
                f"request of ORDERREPO_KAFKA_MAX_REQUEST_BYTES={self.kafka_max_request_bytes} once encoded; "
                "lower the first or raise the second (and the broker's message.max.bytes)")
        return self

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
