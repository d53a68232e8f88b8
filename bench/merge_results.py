"""`python -m bench.merge_results OUT DIR [DIR ...]`: one results dir from runs of the full set
made one size at a time (`python -m bench --size N`), so the report puts every size side by side
(its scaling section reads the sizes of one `results.json`).

Each size keeps the figures, checks and verdicts its own run saved; a size measured twice keeps
the later run (directories are read in the order given). Machine and engine come from the first
run, the tier figures from the last run that has them, the seconds are the runs' sum.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def merge(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs of every payload, one per size in size order, under the first payload's machine."""
    if not payloads:
        raise ValueError("nothing to merge")
    by_size = {run["orders"]: run for payload in payloads for run in payload["runs"]}
    merged = {"machine": payloads[0]["machine"], "engine": payloads[0]["engine"],
              "seconds": round(sum(payload["seconds"] for payload in payloads), 1),
              "runs": [by_size[size] for size in sorted(by_size)],
              "merged_from": [payload.get("source") for payload in payloads]}
    if tiers := [payload["tiers"] for payload in payloads if "tiers" in payload]:
        merged["tiers"] = tiers[-1]
    return merged


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the merged results dir (created)")
    parser.add_argument("runs", type=Path, nargs="+", help="results dirs of single-size runs")
    args = parser.parse_args(argv)
    from bench.report import write_report  # plots need the bench extra (matplotlib); merge() does not

    payloads = [json.loads((run / "results.json").read_text()) | {"source": str(run)} for run in args.runs]
    merged = merge(payloads)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(merged, indent=2, default=str))
    print(write_report(merged, args.out))
    return merged


if __name__ == "__main__":
    main()
