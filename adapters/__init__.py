"""Edge adapters: the only modules that talk to the search engine and to Kafka."""
