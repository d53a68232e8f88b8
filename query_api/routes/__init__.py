"""One router per resource.

Answers built by `query_api.views` are JSON-ready dicts and are written as bytes (`json_answer`):
the routes keep `response_model` so the OpenAPI spec still publishes each answer's shape, while
FastAPI validates nothing again on the way out (the views' projections are the whitelist).
Every router is built with `route_class=LeanRoute` (`query_api.lean_route`): a route's
dependencies are solved by a plan compiled at start-up, with the same validators and errors.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response


def json_answer(answer: Any) -> Response:
    """A 200 JSON answer, written once with orjson (dataclasses and enums natively)."""
    return Response(orjson.dumps(answer), media_type="application/json")
