"""Refuses unsafe token secrets outside development (checked when the API app is created).

`ORDERREPO_ENV=development` (default) and `demo` sign tokens with ORDERREPO_API_TOKEN_SECRET
or, when it is unset, with the generated local secret (see `query_api.auth.resolve_secret`).
`production` requires ORDERREPO_API_TOKEN_SECRET: set, at least `MIN_SECRET_CHARS` long,
and not the generated development secret; anything else stops the start-up with the reason.
"""

from __future__ import annotations

from settings import Settings
from query_api.auth import resolve_secret

MIN_SECRET_CHARS = 32
GENERATED_SECRET_FILE = "dev-token-secret"  # where `resolve_secret` keeps the generated development secret


class UnsafeSettings(RuntimeError):
    pass


def token_secret(settings: Settings) -> str:
    configured = settings.api_token_secret
    if settings.env != "production":
        return resolve_secret(configured, settings.stack.home)
    if not configured:
        raise UnsafeSettings("ORDERREPO_ENV=production requires ORDERREPO_API_TOKEN_SECRET "
                             "(the generated development secret is refused in production)")
    generated = settings.stack.home / GENERATED_SECRET_FILE
    if generated.is_file() and generated.read_text().strip() == configured:
        raise UnsafeSettings("ORDERREPO_API_TOKEN_SECRET is the generated development secret; "
                             "production needs a secret of its own")
    if len(configured) < MIN_SECRET_CHARS:
        raise UnsafeSettings(f"ORDERREPO_API_TOKEN_SECRET must be at least {MIN_SECRET_CHARS} characters "
                             "in production")
    return configured
