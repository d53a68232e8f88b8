"""Ingest: decode channel payloads, merge them into orders and write them to the engine."""
