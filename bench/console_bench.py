"""Time to first result of a CSR search in the console, measured in a real browser.

Runs against a console that is already serving (e.g. `orderrepo demo --port 8000`) over the
same index prefix as this process's settings. Each search writes a whole query into the search
box the way a paste or the last keystroke does, and times, inside the page, from that input
event to the moment the results for that query are in the DOM (the next animation frame):
the debounce (150 ms), the API call and the rendering. Queries mix typo'd surnames, partial
phone numbers, full names, emails and order/receipt/tracking numbers from the stored orders.

    python -m bench.console_bench --base http://127.0.0.1:8000 --searches 30
"""

from __future__ import annotations

import itertools
import json
import random

import typer

from bench.measure import percentiles
from bench.query_bench import sample_inputs
from orderrepo.bootstrap import connect_engine, index_names
from query_api.auth import Role, issue_token, resolve_secret
from settings import get_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMED_SEARCH = """async (q) => {
  const input = document.querySelector('#q'), results = document.querySelector('#results');
  results.dataset.query = '';
  const started = performance.now();
  input.value = q;
  input.dispatchEvent(new Event('input', {bubbles: true}));
  await new Promise((done) => { const check = () => results.dataset.query === q ? done() : requestAnimationFrame(check); check(); });
  await new Promise(requestAnimationFrame);
  return {ms: performance.now() - started, found: results.querySelectorAll('[role=option]').length};
}"""


def search_queries(count: int, seed: int) -> list[str]:
    settings = get_settings()
    engine = connect_engine(settings)
    try:
        hits = engine.search(index_names(settings).orders, {"size": 5000, "query": {"match_all": {}}})["hits"]["hits"]
    finally:
        engine.close()
    inputs = sample_inputs([hit["_source"] for hit in hits], seed=seed)
    pools = [inputs.search_texts, inputs.emails, inputs.references]
    mixed = [query for trio in zip(*pools) for query in trio]
    random.Random(seed).shuffle(mixed)
    return list(itertools.islice(itertools.cycle(mixed), count))


def main(base: str = typer.Option("http://127.0.0.1:8000", help="the running API (console at /console)"),
         searches: int = typer.Option(30, min=1, max=1000), seed: int = typer.Option(5)) -> None:
    from playwright.sync_api import sync_playwright

    settings = get_settings()
    token = issue_token(resolve_secret(settings.api_token_secret, settings.stack.home), subject="console-bench",
                        role=Role.CSR)
    queries = search_queries(searches, seed)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{base}/console/csr#token={token}")
        page.locator("#q").wait_for()
        page.evaluate(TIMED_SEARCH, queries[0])  # warm-up: connection, first query plans
        timings = [page.evaluate(TIMED_SEARCH, query) for query in queries]
        browser.close()
    ms = [t["ms"] for t in timings]
    print(json.dumps({"searches": len(ms), "with_results": sum(t["found"] > 0 for t in timings),
                      "debounce_ms": 150, **{k: round(v, 1) for k, v in percentiles(ms, (50, 95)).items()},
                      "max": round(max(ms), 1)}, indent=2))


if __name__ == "__main__":
    typer.run(main)
