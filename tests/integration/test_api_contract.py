"""The published OpenAPI document is the API's exact contract, checked against the real API
process over ingested sample traffic: generated requests (valid and invalid) for every operation,
with each role's token and without one, and every response checked by all of the generator's
checks (server errors, status codes, content types, response schemas and headers, positive data
accepted, negative data refused, unsupported methods and `Allow`, ignored auth, ...).

Bounded for CI: ORDERREPO_CONTRACT_EXAMPLES examples per operation, role and mode (default 6);
raise it for a longer run. Rate limits are off in the shared server (tests/integration/api_server.py);
a dedicated test starts one with a tight limit and checks 429 with `Retry-After`.
"""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hyp_settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from order_domain.model import Order
from query_api.auth import Role
from tests.integration.api_server import running_api
from tests.integration.test_query_api import SECRET, DataSet, bearer, dataset  # noqa: F401 - shared data set

EXAMPLES = int(os.environ.get("ORDERREPO_CONTRACT_EXAMPLES", "6"))
# A schema-valid request may still be refused on its meaning, each time with a documented status:
# 400 (a cursor this API did not issue for this query, placed_from after placed_to, a page size
# over ORDERREPO_API_MAX_PAGE_SIZE) and 300 (a reference carried by several orders). An invalid
# request may also be refused for its size before it is read: 413 and 414 are rejections too.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "300", "400", "401", "403", "404"]
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "413", "414", "422", "429"]
"""


def _tokens(data: DataSet) -> dict[str, dict[str, str]]:
    key = sorted(k for o in data.orders.values() for k in o.identity_keys)[0]
    return {"none": {}, "storefront": bearer(Role.STOREFRONT, (key,)), "csr": bearer(Role.CSR),
            "analyst": bearer(Role.ANALYST), "admin": bearer(Role.ADMIN)}


def test_every_operation_keeps_the_published_contract_for_every_role(dataset: DataSet) -> None:  # noqa: F811
    load_all_checks()
    checks = CHECKS.get_all()
    assert len(checks) >= 12
    schema = schemathesis.openapi.from_url(f"{dataset.base}/openapi.json",
                                           config=SchemathesisConfig.from_str(CONFIG))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 14
    cases: Counter[str] = Counter()
    failures: list[str] = []
    for role, token in _tokens(dataset).items():
        for operation in operations:
            # an operation without parameters has no invalid request to generate (only the token varies)
            modes = GenerationMode if operation.definition.raw.get("parameters") else [GenerationMode.POSITIVE]
            for mode in modes:
                @hyp_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
                @given(case=operation.as_strategy(generation_mode=mode))
                def exercise(case) -> None:  # type: ignore[no-untyped-def]
                    cases[role] += 1
                    try:
                        case.call_and_validate(headers=token, checks=checks, timeout=30)
                    except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - every failure is collected
                        failures.append(f"{role} {mode.value} {case.method} {case.formatted_path} "
                                        f"{case.query}: {str(failure)[:600]}")

                exercise()
    if os.environ.get("ORDERREPO_CONTRACT_REPORT"):
        Path(os.environ["ORDERREPO_CONTRACT_REPORT"]).write_text("\n\n".join(failures))
    print(f"\ncontract: {dict(cases)} cases ({sum(cases.values())} in all), {len(failures)} failures")
    assert failures == [], "\n\n".join(failures[:15])
    assert all(cases[role] >= len(operations) for role in _tokens(dataset))


def test_the_rate_limit_answers_429_with_retry_after(dataset: DataSet) -> None:  # noqa: F811
    limited = {"ORDERREPO_API_RATE_PER_TOKEN": "0.5", "ORDERREPO_API_BURST_PER_TOKEN": "3"}
    with running_api(dataset.settings, SECRET, env=limited) as base:
        token = bearer(Role.CSR)
        answers = [httpx.get(f"{base}/search", params={"q": "a"}, headers=token, timeout=30) for _ in range(4)]
        other = httpx.get(f"{base}/search", params={"q": "a"}, headers=bearer(Role.ADMIN), timeout=30)
        probe = httpx.get(f"{base}/readyz", timeout=30)
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert int(refused.headers["retry-after"]) >= 1 and refused.json()["error"] == "too_many_requests"
    assert other.status_code == 200 and probe.status_code == 200  # another token; probes are exempt


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("tampered", [
    "", "!!", _b64(None), _b64([]), _b64([None, None]), _b64(["x", "y", "z", "w", "v"]), _b64({"a": [1]}),
    _b64([[10**30, "web-1"], "AAAAAAAAAAAAAAAAAAAAAA"]), _b64([[1.5e308, None], "AAAA"]), _b64([[{"a": 1}], "x"]),
    _b64([["2026-01-01", 7], "AAAAAAAAAAAAAAAAAAAAAA"]), _b64([[-(2**63), "zzz"], "AAAAAAAAAAAAAAAAAAAAAA"]),
])
def test_tampered_cursors_are_a_400_on_the_real_engine(dataset: DataSet, tampered: str) -> None:  # noqa: F811
    key = sorted(k for o in dataset.orders.values() for k in o.identity_keys if k.startswith("email:"))[0]
    for path, params, token in ((f"/customers/{quote(key, safe='')}/orders", {}, dataset.csr),
                                ("/search", {"q": "a"}, dataset.csr),
                                ("/analytics/orders-in-state", {"status": "confirmed", "at": "2026-06-01T00:00:00Z"},
                                 dataset.analyst)):
        answer = dataset.get(path, token, **params, cursor=tampered)
        if tampered == "":
            assert answer.status_code == 200  # no cursor: the first page
        else:
            assert (answer.status_code, answer.json()["error"]) == (400, "bad_cursor"), (path, answer.text)


def _linked_elsewhere(orders: dict[str, Order]) -> str:
    """An email key whose customer is linked (through a shared key) to an order that does not carry it."""
    for key, _ in Counter(k for o in orders.values() for k in o.identity_keys if k.startswith("email:")).most_common():
        linked = {k for o in orders.values() if key in o.identity_keys for k in o.identity_keys} - {key}
        if any(key not in o.identity_keys and linked & set(o.identity_keys) for o in orders.values()):
            return key
    raise AssertionError("the sample traffic links customers across channels")


def test_another_customers_cursor_is_refused(dataset: DataSet) -> None:  # noqa: F811
    owners = Counter(k for o in dataset.orders.values() for k in o.identity_keys if k.startswith("email:"))
    (first, _), (second, _) = owners.most_common(2)
    theirs = dataset.get(f"/customers/{first}/orders", size=1).json()["next_cursor"]
    answer = dataset.get(f"/customers/{second}/orders", cursor=theirs)
    assert (answer.status_code, answer.json()["error"]) == (400, "bad_cursor")


def test_my_orders_carry_my_keys_and_the_csr_view_follows_links(dataset: DataSet) -> None:  # noqa: F811
    key = _linked_elsewhere(dataset.orders)
    shopper = bearer(Role.STOREFRONT, (key,))
    mine = {i["order_id"] for i in dataset.get(f"/customers/{key}/orders", shopper, size=100).json()["items"]}
    staff = {i["order_id"] for i in dataset.get(f"/customers/{key}/orders", size=100).json()["items"]}
    assert mine == {o.order_id for o in dataset.orders.values() if key in o.identity_keys}
    assert mine < staff
    for order_id in sorted(staff - mine)[:3]:  # by reference, a storefront reads exactly its history
        assert dataset.get(f"/orders/{order_id}", shopper).status_code == 404
