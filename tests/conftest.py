"""Suite-wide settings. Property tests have no deadline: the suite shares this machine's
cores with OpenSearch and Kafka, and a timing limit would make a logic test flaky."""

from hypothesis import settings

settings.register_profile("repo", deadline=None)
settings.load_profile("repo")
