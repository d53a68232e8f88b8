"""In-memory fakes of the ports in `ingest/ports.py`, checked by the contract suites in `tests/contract/`."""
