"""The screens (HTML shells) and the vendored browser assets.

A page is the same for everyone: it holds no order data, so it needs no token. Its script
asks the API for data with the caller's token, and the API decides what that role may see.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from query_api.console.assets import TEMPLATES_DIR, VENDOR, missing_vendor_files

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)

# path -> (template, title, the roles whose data the screen reads)
SCREENS: dict[str, tuple[str, str, str]] = {
    "": ("home.html", "Sign in", "any role"),
    "csr": ("csr.html", "Customer service", "csr, admin"),
    "my-orders": ("my_orders.html", "My orders", "storefront"),
    "analyst": ("analyst.html", "Analytics", "analyst, admin"),
    "operator": ("operator.html", "Operations", "admin"),
}


def _render(request: Request, screen: str) -> HTMLResponse:
    template, title, roles = SCREENS[screen]
    return templates.TemplateResponse(request, template, {
        "title": title, "screen": screen or "home", "roles": roles, "screens": SCREENS,
        "missing_vendor": missing_vendor_files(),
    })


@router.get("", response_class=RedirectResponse)
async def console_root() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=307)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return _render(request, "")


@router.get("/{screen}", response_class=HTMLResponse)
async def screen_page(request: Request, screen: str) -> HTMLResponse:
    if screen not in SCREENS or not screen:
        raise HTTPException(404, f"no console screen {screen!r}")
    return _render(request, screen)


@router.get("/static/vendor/{name}", response_class=FileResponse)
async def vendor_asset(name: str) -> FileResponse:
    path = VENDOR.get(name)
    if path is None or not path.is_file():
        raise HTTPException(404, f"vendored asset {name!r} is not installed (run `make setup` with node present)")
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})
