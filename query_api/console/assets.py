"""Where the console's files are, and the third-party browser assets it may serve.

Third-party files (a charting library) come from the npm registry at setup time
(`npm ci` in this folder, run by `make setup` when node is present) into the git-ignored
node_modules/. Only the files named in VENDOR are ever served, so nothing else under
node_modules is reachable over HTTP; when they are missing the pages say so and keep working.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
NODE_MODULES = HERE / "node_modules"

# served name -> file inside node_modules (pinned by package-lock.json)
VENDOR: dict[str, Path] = {
    "chart.umd.min.js": NODE_MODULES / "chart.js" / "dist" / "chart.umd.min.js",
}
# used by the browser tests only (injected from disk, never served)
AXE_CORE = NODE_MODULES / "axe-core" / "axe.min.js"


def missing_vendor_files() -> list[str]:
    return [name for name, path in VENDOR.items() if not path.is_file()]
