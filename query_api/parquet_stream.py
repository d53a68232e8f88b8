"""Streams a Parquet file page by page: each page becomes a row group and leaves at once.

Memory stays at one page however many rows are exported (no 10,000-hit ceiling: the
pages come from a point in time with search_after).

A failure after the first bytes were sent cannot change the status line any more, so it
is re-raised: the server aborts the response (an incomplete chunked body, a connection
error on the client) instead of ending it cleanly. The Parquet footer is only ever sent
after the last page, so a client never holds a complete-looking file with rows missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from settings.log_setup import get_logger

log = get_logger(__name__)


class _ChunkSink:
    """A write-only file object whose bytes are drained after each row group."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.closed = False
        self.position = 0

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


async def parquet_stream(pages: AsyncIterator[list[dict[str, Any]]], schema: dict[str, Any]) -> AsyncIterator[bytes]:
    sink = _ChunkSink()
    arrow_schema = pl.DataFrame(schema=schema).to_arrow().schema
    writer = pq.ParquetWriter(sink, arrow_schema, compression="zstd")
    try:
        async for rows in pages:
            if rows:
                table = pl.DataFrame(rows, schema=schema).to_arrow()
                writer.write_table(pa.Table.from_batches(table.to_batches(), schema=arrow_schema))
                yield sink.drain()
    except Exception as error:
        log.error("export failed mid-stream; the response is aborted", error=str(error)[:300])
        raise
    finally:
        writer.close()  # on failure the footer stays in the sink: it is never sent
    yield sink.drain()
