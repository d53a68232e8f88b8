"""Entrypoints and wiring: settings, logging and the `orderrepo` command line."""
