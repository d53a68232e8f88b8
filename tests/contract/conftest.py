"""Contract suites run on in-memory fakes always and on real servers (tests/servers.py) when marked."""

from tests.servers import elasticsearch_engine, engine, settings

__all__ = ["elasticsearch_engine", "engine", "settings"]  # fixtures, re-exported
