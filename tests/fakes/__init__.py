"""In-memory fakes of the ports (`ingest.ports`), for unit tests without servers."""
