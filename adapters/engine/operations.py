"""The engine operations as pure request descriptions (sans I/O): the one source of both shells.

Each function returns a `Call`: method, path, parameters, body, how to read the
answer, and which error is an answer rather than a failure (a missing index for
`index_exists`, a missing alias for `aliases_of`). The sync and async shells
(`adapters/engine/shells.py`) only send a `Call` and await or not, so what an
operation asks and how its answer is read cannot differ between them.
Operations whose request differs by engine (point in time) live in
`adapters/engine/dialects.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from adapters.engine.model import EngineError, NotFound, by_number_in_name

T = TypeVar("T")


def _as_is(answer: Any) -> Any:
    return answer


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how to read its answer.

    `tolerate`: an error of this class is answered with `fallback` instead of raised.
    `skip`: answer `fallback` without sending anything (nothing to ask, e.g. mget of no ids).
    """

    method: str
    path: str
    params: dict[str, Any] | None = None
    body: Any = None
    read: Callable[[Any], T] = _as_is
    tolerate: type[EngineError] | None = None
    fallback: Any = None
    skip: bool = False

    @staticmethod
    def answered(value: Any) -> Call[Any]:
        """A call that sends nothing and answers `value` (an engine that needs no request for it)."""
        return Call("", "", fallback=value, skip=True)


def health() -> Call[dict[str, Any]]:
    return Call("GET", "/_cluster/health")


def index_exists(index: str) -> Call[bool]:
    # opensearch-py answers HEAD 404 with False, the official client raises: both mean no
    return Call("HEAD", f"/{index}", read=bool, tolerate=NotFound, fallback=False)


def create_index(index: str, body: dict[str, Any] | None) -> Call[None]:
    return Call("PUT", f"/{index}", body=body or {}, read=lambda _: None)


def delete_index(index: str) -> Call[None]:
    return Call("DELETE", f"/{index}", read=lambda _: None, tolerate=NotFound)


def refresh(index: str) -> Call[None]:
    return Call("POST", f"/{index}/_refresh", read=lambda _: None)


def put_component_template(name: str, body: dict[str, Any]) -> Call[None]:
    return Call("PUT", f"/_component_template/{name}", body=body, read=lambda _: None)


def put_index_template(name: str, body: dict[str, Any]) -> Call[None]:
    return Call("PUT", f"/_index_template/{name}", body=body, read=lambda _: None)


def aliases_of(alias: str) -> Call[list[str]]:
    """The indices behind an alias, oldest version first (`-v9` before `-v10`): the last is the newest."""
    return Call("GET", f"/_alias/{alias}", read=lambda answer: by_number_in_name(list(answer)),
                tolerate=NotFound, fallback=[])


def update_aliases(actions: list[dict[str, Any]]) -> Call[None]:
    return Call("POST", "/_aliases", body={"actions": actions}, read=lambda _: None)


def get(index: str, doc_id: str) -> Call[dict[str, Any] | None]:
    return Call("GET", f"/{index}/_doc/{doc_id}", tolerate=NotFound)


def mget(index: str, ids: list[str]) -> Call[dict[str, dict[str, Any]]]:
    return Call("POST", f"/{index}/_mget", body={"ids": ids}, fallback={}, skip=not ids,
                read=lambda answer: {doc["_id"]: doc for doc in answer["docs"] if doc.get("found")})


def search(index: str, body: dict[str, Any], params: dict[str, Any] | None) -> Call[dict[str, Any]]:
    return Call("POST", f"/{index}/_search", params=params, body=body)


def count(index: str, query: dict[str, Any] | None) -> Call[int]:
    return Call("POST", f"/{index}/_count", body={"query": query or {"match_all": {}}},
                read=lambda answer: int(answer["count"]))

