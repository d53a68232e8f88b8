"""What an engine build can do beyond its core, and how an index body fits a build that lacks it (pure).

The standard Elasticsearch and OpenSearch distributions ship modules beside the core:
analysis-common (accent folding, n-grams, the keyword tokenizer), mapper-extras
(`scaled_float`), lang-painless (scripts) and reindex (`_reindex`, `_update_by_query`,
`_delete_by_query`). Core-only builds (Elastic's integ-test-zip) have none of them.
`capabilities_from_nodes` reads them once, at connect time, from the node's module and
plugin list (by module name, or by plugin class for the embedded runners that load
modules as classpath plugins); a cluster that refuses that request (no monitor
privilege) is taken to be a standard build.

`fit_index_body` rewrites a template or index body for a build without analysis-common
or mapper-extras, so it still installs and every query still answers:
- custom analyzers and normalizers keep only the core filter (`lowercase`) and the core
  tokenizer (`standard`): no accent folding, and partial (n-gram) fields index whole words,
  so prefix and partial-digit search degrade to whole-word search;
- `scaled_float` becomes `double` (the same values; sums were doubles already).
A standard build's body is returned unchanged (the same object).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Feature(StrEnum):
    ANALYSIS = "analysis-common"  # asciifolding, edge_ngram/ngram filters, keyword tokenizer
    SCALED_FLOAT = "mapper-extras"  # the scaled_float field type
    SCRIPTS = "lang-painless"  # scripted updates
    BY_QUERY = "reindex"  # _reindex, _update_by_query, _delete_by_query


_WHAT = {
    Feature.ANALYSIS: "no accent folding, no edge n-gram prefix search",
    Feature.SCALED_FLOAT: "money fields mapped as double",
    Feature.SCRIPTS: "no painless scripts (scripted locator updates)",
    Feature.BY_QUERY: "no _reindex / _update_by_query / _delete_by_query",
}
_CLASS_HINTS = {  # a fragment of the plugin class of each module, on Elasticsearch and OpenSearch alike
    Feature.ANALYSIS: ".analysis.common.",
    Feature.SCALED_FLOAT: "MapperExtras",
    Feature.SCRIPTS: ".painless.",
    Feature.BY_QUERY: ".reindex.",
}
CORE_FILTERS = frozenset({"lowercase"})
CORE_TOKENIZER = "standard"


@dataclass(frozen=True)
class Capabilities:
    """The standard modules this build lacks; none missing = a standard build (the default)."""

    missing: frozenset[Feature] = field(default_factory=frozenset)

    def has(self, feature: Feature) -> bool:
        return feature not in self.missing

    def describe(self) -> str:
        """One line for logs, e.g. `lacks lang-painless (no painless scripts ...); reindex (...)`."""
        if not self.missing:
            return "standard modules present"
        return "lacks " + "; ".join(explain(feature) for feature in sorted(self.missing))


def explain(feature: Feature) -> str:
    """The module and what its absence costs, e.g. `reindex (no _reindex / ...)`."""
    return f"{feature} ({_WHAT[feature]})"


def capabilities_from_nodes(answer: dict[str, Any]) -> Capabilities:
    """From `GET /_nodes/_local/plugins`: a feature is there when its module or plugin is."""
    names: set[str] = set()
    for node in (answer.get("nodes") or {}).values():
        for entry in [*node.get("modules", []), *node.get("plugins", [])]:
            names.update(str(entry.get(key, "")) for key in ("name", "classname"))
    present = {feature for feature in Feature
               if feature.value in names or any(_CLASS_HINTS[feature] in name for name in names)}
    return Capabilities(missing=frozenset(set(Feature) - present))


def fit_index_body(body: dict[str, Any] | None, capabilities: Capabilities) -> dict[str, Any] | None:
    """`body` (index creation, index or component template) as this build accepts it."""
    needs_analysis = not capabilities.has(Feature.ANALYSIS)
    needs_numbers = not capabilities.has(Feature.SCALED_FLOAT)
    if body is None or not (needs_analysis or needs_numbers):
        return body
    fitted = copy.deepcopy(body)
    for part in (fitted, fitted.get("template") or {}):
        if needs_analysis and isinstance(part.get("settings"), dict):
            _core_analysis(part["settings"])
        if needs_numbers and isinstance(part.get("mappings"), dict):
            _without_scaled_float(part["mappings"])
    return fitted


def _core_analysis(settings: dict[str, Any]) -> None:
    analysis = settings.get("analysis") or (settings.get("index") or {}).get("analysis")
    if not isinstance(analysis, dict):
        return
    analysis.pop("filter", None)  # custom filters are all analysis-common types (n-grams)
    analysis.pop("tokenizer", None)
    for normalizer in (analysis.get("normalizer") or {}).values():
        normalizer["filter"] = [name for name in normalizer.get("filter", []) if name in CORE_FILTERS]
    for analyzer in (analysis.get("analyzer") or {}).values():
        if analyzer.get("type", "custom") == "custom":
            analyzer["tokenizer"] = CORE_TOKENIZER
            analyzer["filter"] = [name for name in analyzer.get("filter", []) if name in CORE_FILTERS]


def _without_scaled_float(mapping: dict[str, Any]) -> None:
    for sub_fields in ("properties", "fields"):
        for field_mapping in (mapping.get(sub_fields) or {}).values():
            if field_mapping.get("type") == "scaled_float":
                field_mapping["type"] = "double"
                field_mapping.pop("scaling_factor", None)
            _without_scaled_float(field_mapping)
