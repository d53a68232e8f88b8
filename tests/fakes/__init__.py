"""In-memory fakes of the ports (`ingest/ports.py`, `query_api/read_port.py`), for unit tests
without servers; the order store fake is checked by the contract suite in `tests/contract/`."""
