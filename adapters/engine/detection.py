"""Which engine, version and build answers at a URL, as a sans-I/O dialogue both shells drive (adapter core).

`detection(url)` is a generator: it yields the path to GET next and receives the
`Reply`, so the sync and async shells share every decision and only send.
- `GET /` names the engine and its version (OpenSearch adds `distribution: opensearch`).
- Elasticsearch builds without the root endpoint (its `rest-root` module is absent from
  core-only builds such as the integ-test-zip: `GET /` answers 405) still name
  themselves in the `X-Elastic-Product` header; their version comes from the node info.
- `GET /_nodes/_local/plugins` gives the build's capabilities; a refusal (no monitor
  privilege) means a standard build.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any

from adapters.engine.capabilities import capabilities_from_nodes
from adapters.engine.model import EngineInfo, EngineKind, EngineUnavailable, classify_root_answer

NODE_VERSION = "/_nodes/_local?filter_path=nodes.*.version"
NODE_PLUGINS = "/_nodes/_local/plugins?filter_path=nodes.*.modules,nodes.*.plugins"


@dataclass(frozen=True)
class Reply:
    status: int
    product: str | None  # the X-Elastic-Product header (Elasticsearch 7.14+)
    body: Any  # the decoded JSON answer; None when it was not JSON


Detection = Generator[str, Reply, EngineInfo]


def detection(url: str) -> Detection:
    """The requests that tell which engine answers at `url`, and what they mean."""
    root = yield "/"
    if root.status == 200 and isinstance(root.body, dict) and "version" in root.body:
        info = classify_root_answer(root.body, url)
    elif root.product == "Elasticsearch":
        nodes = yield NODE_VERSION
        info = EngineInfo(EngineKind.ELASTICSEARCH, _node_version(nodes), url)
    else:
        raise EngineUnavailable(503, f"cannot reach the search engine at {url}: GET / answered {root.status}")
    plugins = yield NODE_PLUGINS
    if plugins.status != 200 or not isinstance(plugins.body, dict):
        return info
    return replace(info, capabilities=capabilities_from_nodes(plugins.body))


def _node_version(reply: Reply) -> str:
    nodes = (reply.body or {}).get("nodes") if isinstance(reply.body, dict) else None
    versions = [str(node.get("version")) for node in (nodes or {}).values() if node.get("version")]
    return versions[0] if versions else "unknown"


def path_url(url: str, path: str) -> str:
    """`path` below the configured URL (which may carry a proxy prefix)."""
    return url.rstrip("/") + path if path != "/" else url
