"""Pure domain logic: canonical order model, merge, significance, identity, tiers. No I/O."""
