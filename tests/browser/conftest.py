"""Browser tests of the console: Debian's Chromium driven by Playwright, over the real API.

One data set for the session: sample multichannel traffic published to Kafka, ingested by
the real worker into OpenSearch (own index/topic prefix and consumer group), served by a
real API process. Expectations come from merging the clean traffic independently
(`expected_orders`). Screenshots of every screen go to .artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from adapters.search_engine import SearchEngine
from order_domain.model import Order
from orderrepo.bootstrap import build_worker, health_file, prepare_storage
from query_api.auth import Role, issue_token
from query_api.console.assets import AXE_CORE
from sample_traffic import expected_orders, generate
from settings import Settings
from tests.integration.api_server import running_api
from tests.integration.conftest import engine, settings  # noqa: F401 - the real servers, shared fixtures
from tests.integration.pipeline_harness import isolated_settings, publish, remove_everything

SECRET = "browser-secret-browser-secret-0123456789"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"


@dataclass(frozen=True)
class Console:
    base: str
    orders: dict[str, Order]
    published: int

    def token(self, role: Role, *keys: str) -> str:
        return issue_token(SECRET, subject=f"browser-{role.value}", role=role, customer_keys=keys)

    def url(self, screen: str, token: str) -> str:
        return f"{self.base}/console/{screen}#token={token}"


# module scope, not session: Playwright's sync API keeps an event loop running in this thread
# until it stops, and the suites collected after the browser tests call asyncio.run()
@pytest.fixture(scope="module")
def console(settings: Settings, engine: SearchEngine) -> Iterator[Console]:  # noqa: F811
    scoped = isolated_settings(settings, "tbrowser" + str(os.getpid()))
    remove_everything(scoped, engine)
    prepare_storage(scoped, engine)
    messages = list(generate(orders=300, seed=11))
    published = publish(scoped, messages)
    build_worker(scoped, engine).run(idle_exit_s=4.0)
    engine.refresh(f"{scoped.index_prefix}-*")
    try:
        # the API reads this consumer group's worker health files for the operator screen
        with mock.patch.dict(os.environ, {"ORDERREPO_CONSUMER_GROUP": scoped.consumer_group}), \
                running_api(scoped, SECRET) as base:
            yield Console(base, expected_orders(messages), published)
    finally:
        remove_everything(scoped, engine)
        health_file(scoped).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run does it)")
    if not AXE_CORE.exists():
        pytest.fail("axe-core is missing: run `make console-assets` (npm ci in query_api/console)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
