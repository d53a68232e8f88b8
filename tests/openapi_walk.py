"""Test kit: every GET operation of the API's published OpenAPI document, as a request to send.

Enumerating the document (not a hand list) means a new endpoint is covered by every test that
walks it; an endpoint with a required parameter this kit cannot fill fails loudly instead of
being skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBES = frozenset({"/healthz", "/readyz"})


class UnfilledParameter(LookupError):
    pass


@dataclass(frozen=True)
class Operation:
    template: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    paged: bool = False
    binary: bool = False  # answers a file (Parquet), not JSON


def operations(spec: dict[str, Any], values: dict[str, str], *, probes: bool = False) -> list[Operation]:
    """One request per GET operation; `values` fills path parameters and required query parameters
    by name (optional ones are left out)."""
    found: list[Operation] = []
    for template, methods in sorted(spec["paths"].items()):
        if "get" not in methods or (template in PROBES and not probes):
            continue
        parameters = methods["get"].get("parameters", [])
        path, query = template, {}
        for parameter in parameters:
            name, where = parameter["name"], parameter["in"]
            if where == "path" or parameter.get("required"):
                if name not in values:
                    raise UnfilledParameter(f"{template}: no value for required parameter {name!r}")
                if where == "path":
                    path = path.replace("{" + name + "}", values[name])
                else:
                    query[name] = values[name]
        answer = methods["get"]["responses"]["200"].get("content", {})
        found.append(Operation(template, path, query, paged=any(p["name"] == "cursor" for p in parameters),
                               binary="application/json" not in answer))
    return found
