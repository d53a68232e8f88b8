"""Side-by-side latency: every side of a comparison answers the same inputs in ONE phase, interleaved.

Why: on a shared 2-core machine a phase's wall-clock figures move up to 3× between runs of the
same code, so comparing the API's phase with the engine's phase measured the machine's mood
between the two phases as much as the API. Here the sides of a comparison (the API and the very
engine requests it sends; PostgreSQL behind the same API and its statements sent directly) take
turns on the same inputs:
- the inputs go in blocks: every side answers the same block of inputs at `concurrency` requests in
  flight, the sides taking turns block by block and the side that goes first rotating with the
  block (no side always finds the caches warmed by another). So each side is measured at exactly
  its level ("the API at 8 clients" is the API under 8 concurrent requests, nothing else in
  flight), and a minute of noise falls on every side alike. At level 1 a block is one input: the
  sides answer each input back to back;
- per side: p50/p95/p99 of its own latencies, and two rates: `qps` is the rate the side would
  serve alone at `concurrency` clients with the latencies it showed here (Little's law:
  clients ÷ mean latency; the name the capacity plan reads), `qps_shared` the rate it served
  while taking turns;
- per pair of sides (a, b): the percentiles of the per-input differences a − b (a paired
  difference: both requests of one input were sent within one block, at the same level), besides the
  difference of the two sides' own percentiles.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.measure import percentiles

Call = Callable[[int], Awaitable[Any]]


@dataclass(frozen=True)
class PairedSamples:
    """`latencies[side][i]`: ms the side took for input i (every side answered every input)."""

    latencies: dict[str, list[float]]
    seconds: float
    concurrency: int


def turn_order(sides: Sequence[str], i: int) -> list[str]:
    """The order in which block `i` (one input at level 1) goes to the sides: rotated by one per block."""
    start = i % len(sides)
    return [*sides[start:], *sides[:start]]


def block_size(concurrency: int) -> int:
    """Inputs per block: one at level 1, else enough for the level to be reached and held."""
    return 1 if concurrency == 1 else 8 * concurrency


async def drive_paired(sides: Mapping[str, Call], *, concurrency: int, total: int) -> PairedSamples:
    """Send inputs 0..total-1 to every side (see the module docstring); an error of any side raises."""
    names = list(sides)
    latencies = {name: [math.nan] * total for name in names}
    step = block_size(concurrency)

    async def answer(name: str, inputs: Iterator[int]) -> None:
        for i in inputs:
            started = time.perf_counter()
            await sides[name](i)
            latencies[name][i] = (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    for first in range(0, total, step):
        block = range(first, min(first + step, total))
        for name in turn_order(names, first // step):
            inputs = iter(block)
            await asyncio.gather(*(answer(name, inputs) for _ in range(min(concurrency, len(block)))))
    return PairedSamples(latencies, time.perf_counter() - started, concurrency)


def side_figures(samples: PairedSamples, side: str) -> dict[str, float]:
    """p50/p95/p99 ms of one side, its rate alone by Little's law (`qps`) and while sharing."""
    values = samples.latencies[side]
    mean_ms = sum(values) / len(values)
    return {**{k: round(v, 2) for k, v in percentiles(values).items()},
            "qps": round(samples.concurrency * 1000 / mean_ms, 1) if mean_ms > 0 else math.nan,
            "qps_shared": round(len(values) / samples.seconds, 1) if samples.seconds > 0 else math.nan}


def paired_difference(minuend: Sequence[float], subtrahend: Sequence[float]) -> dict[str, float]:
    """Percentiles (and mean) of minuend[i] − subtrahend[i], ms: what one side adds per input."""
    if len(minuend) != len(subtrahend):
        raise ValueError(f"paired samples differ in length ({len(minuend)} vs {len(subtrahend)})")
    differences = [a - b for a, b in zip(minuend, subtrahend, strict=True)]
    mean = sum(differences) / len(differences) if differences else math.nan
    return {**{k: round(v, 2) for k, v in percentiles(differences).items()}, "mean": round(mean, 2)}


def summarize(samples: PairedSamples, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Every side's figures and the paired differences of the `pairs` whose sides both ran."""
    ran = set(samples.latencies)
    return {"sides": {side: side_figures(samples, side) for side in samples.latencies},
            "differences": {f"{a}-{b}": paired_difference(samples.latencies[a], samples.latencies[b])
                            for a, b in pairs if a in ran and b in ran},
            "clients": samples.concurrency, "requests_per_side": len(next(iter(samples.latencies.values()), []))}
