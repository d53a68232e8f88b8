"""Modules imported on first use, for the heavy columnar libraries (pyarrow, polars).

Why: the ingest worker builds the mover (its write gate brings warm and cold orders back on a late
change) and so imports the cold store, but it touches Parquet only on such a change; importing
polars and pyarrow up front cost every worker about 63 MB of RSS and 0.6 s of start-up. A
`deferred("pyarrow")` stands in for the module: the first attribute read imports it and copies
the module's namespace into the stand-in, so later reads are plain attribute lookups.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class DeferredModule(ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)

    def __getattr__(self, attribute: str) -> Any:
        # only reached for names not yet in this stand-in's namespace
        module = importlib.import_module(self.__name__)
        self.__dict__.update({k: v for k, v in vars(module).items() if k not in ("__name__", "__spec__")})
        try:
            return vars(module)[attribute]
        except KeyError:
            return getattr(module, attribute)  # a lazily computed attribute of the module itself


def deferred(name: str) -> Any:
    """A stand-in for `import <name>` that imports on the first attribute read."""
    return DeferredModule(name)
