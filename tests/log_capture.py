"""Test kit: capture every log line a block of code writes, rendered as the API renders them, and
find personal values in them (emails, phones, names, addresses, tokens).

    with capture_logs() as logs:
        ...run the API, ingest, a whole journey...
    assert personal_values_in(logs.text(), values) == []

Values shorter than `min_length` are skipped (a two-letter surname would match anywhere); the
search ignores case, so `Ana@Example.com` in a log matches `ana@example.com`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def capture_logs(level: int = logging.DEBUG) -> Iterator[LogCapture]:
    """Attach a handler to the root logger, formatted like the configured one (structlog's
    renderer after `configure_logging`), and let every logger through at `level`."""
    root = logging.getLogger()
    capture = LogCapture()
    configured = next((handler.formatter for handler in root.handlers if handler.formatter), None)
    capture.setFormatter(configured or logging.Formatter("%(name)s %(levelname)s %(message)s"))
    previous = root.level
    root.addHandler(capture)
    root.setLevel(level)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)


def personal_values_in(text: str, values: Iterable[str], *, min_length: int = 4) -> list[str]:
    """The values (of at least `min_length` characters) that occur in `text`, sorted."""
    haystack = text.lower()
    return sorted({value for value in values if len(value) >= min_length and value.lower() in haystack})
