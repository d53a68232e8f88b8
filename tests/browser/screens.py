"""Checks every browser test ends with: a screenshot kept as an artifact, and an axe-core scan."""

from __future__ import annotations

from typing import Any

from query_api.console.assets import AXE_CORE
from tests.browser.conftest import SCREENSHOTS

BLOCKING = {"serious", "critical"}


def accessibility_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core (served from disk, never from a CDN) over the whole page as it is now."""
    page.add_script_tag(path=str(AXE_CORE))
    return page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .map(v => ({id: v.id, impact: v.impact, help: v.help,
                    targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))""")


def check_screen(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # a full-page shot of a scrolled page misplaces the sticky bar
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    blocking = [v for v in accessibility_violations(page) if v["impact"] in BLOCKING]
    assert not blocking, f"{name}: serious accessibility violations: {blocking}"
