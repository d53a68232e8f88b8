"""The query API served from the PostgreSQL baseline: the same app, routes, auth and views as
the product, with `bench.pg.reader.PostgresOrderReader` behind the read port.

`python -m bench.pg.api --dsn postgresql://... --port 18081 [--workers N]`; settings (token
secret, engine for readiness) come from the environment like the product's API.
"""

from __future__ import annotations

import os

import typer
from fastapi import FastAPI

from bench.pg.reader import PostgresOrderReader
from query_api.app import create_app

DSN_VARIABLE = "ORDERREPO_BENCH_PG_DSN"


def create_postgres_app() -> FastAPI:
    """The app factory uvicorn calls in each worker process (the DSN comes from the environment)."""
    return create_app(reader=PostgresOrderReader(os.environ[DSN_VARIABLE]))


def main(dsn: str = typer.Option(...), port: int = typer.Option(18081), workers: int = typer.Option(1)) -> None:
    import uvicorn

    os.environ[DSN_VARIABLE] = dsn
    uvicorn.run("bench.pg.api:create_postgres_app", factory=True, host="127.0.0.1", port=port, workers=workers,
                log_config=None, access_log=False)


if __name__ == "__main__":
    typer.run(main)
