"""The query API (entrypoint): reads that the OMS no longer has to serve."""
