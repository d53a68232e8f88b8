"""Tiering: hot -> warm -> cold (Parquet) -> deleted, and erasure of one customer.

Not built yet (no issue has been filed for it). The read path is prepared for it:
every read goes through the `<prefix>-orders` / `<prefix>-order-events` aliases, so
warm indices join by alias, and the API's reads are the seam where a cold Parquet
tier will be consulted.
"""
