"""The search engine adapter: one core (`model`, `operations`, `dialects`) and two thin shells.

Import the public names from `adapters.search_engine`.
"""
