"""The console: server-rendered screens for CSRs, storefront customers, analysts and operators.

The pages carry no data: their scripts call the same JSON endpoints as any client, with the
bearer token the person pasted (kept in the tab's sessionStorage), so what a screen shows is
exactly what the API lets that role read. Two small JSON routers live here because they serve
only these screens: the operator's status (admin) and the analyst's pseudonymous order rows.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from query_api.console import analyst, ops, pages
from query_api.console.assets import STATIC_DIR
from settings import Settings


def install_console(app: FastAPI, settings: Settings) -> None:
    """Mount the screens at /console, their static files and the console's JSON routes."""
    # the screens' own plumbing, not the published API contract (the analyst rows are the
    # Parquet export's rows, which the contract and the PII walk cover)
    app.include_router(pages.router, include_in_schema=False)
    app.include_router(ops.ops_router(settings), include_in_schema=False)
    app.include_router(analyst.router, include_in_schema=False)
    app.mount("/console/static/app", StaticFiles(directory=STATIC_DIR), name="console-static")
