"""The layering contracts in pyproject.toml ([tool.importlinter]) hold for the whole tree.

Run as a test so that CI fails the moment a module imports upward (for example an
ingest module reaching for the composition root, or the API loading Kafka).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 5 kept, 0 broken." in run.stdout, run.stdout
