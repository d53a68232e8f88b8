"""Embedded local stack: real OpenSearch and Kafka servers from Maven Central, on loopback."""
