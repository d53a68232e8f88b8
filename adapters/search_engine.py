"""The only door to the search engine (adapter). No other module imports an engine client.

The engine is detected from the server's own answer to `GET /` (OpenSearch says
`version.distribution: opensearch`; Elasticsearch does not; core-only Elasticsearch
builds without that endpoint name themselves in a header) together with the build's
modules (`adapters/engine/capabilities.py`: templates are fitted to a build without
analysis-common or mapper-extras), and served through the
dialect that fits it (`adapters/engine/dialects.py`: opensearch-py for OpenSearch and
Elasticsearch 7.10-7.13, the official 8.x client for Elasticsearch 7.14+). Every
operation is described once (`adapters/engine/operations.py`) and sent by a sync
shell (`SearchEngine`: ingest worker, installers, tools) or an async one
(`AsyncSearchEngine`: the query API) with the same methods. Bulk writes use the
client's own bulk helper, which chunks by count and bytes and retries 429 with
capped backoff.
"""

from adapters.engine.allocation import NodeAttribute, TierAllocation
from adapters.engine.capabilities import Capabilities, Feature
from adapters.engine.dialects import dialect_for
from adapters.engine.model import (
    BulkItemResult,
    Conflict,
    EngineConfig,
    EngineError,
    EngineInfo,
    EngineKind,
    EngineUnavailable,
    NotFound,
    classify_root_answer,
)
from adapters.engine.operations import Call
from adapters.engine.shells import AsyncSearchEngine, RequestObserver, SearchEngine, detect_engine

__all__ = [
    "AsyncSearchEngine", "BulkItemResult", "Call", "Capabilities", "Conflict", "EngineConfig", "EngineError",
    "EngineInfo", "EngineKind", "EngineUnavailable", "Feature", "NodeAttribute", "NotFound", "RequestObserver",
    "SearchEngine", "TierAllocation", "classify_root_answer", "detect_engine", "dialect_for",
]
