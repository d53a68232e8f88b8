"""Identity keys are worked out once per distinct customer value; every caller still gets its own list."""

from __future__ import annotations

from order_domain.identity import identity_keys
from order_domain.model import CustomerIdentity


def test_equal_customers_give_equal_keys_in_lists_of_their_own() -> None:
    first = identity_keys(CustomerIdentity(customer_id="C-1", email=" Ann@Example.COM ", phone="(555) 010-2030"))
    first.append("changed by a caller")
    again = identity_keys(CustomerIdentity(customer_id="C-1", email=" Ann@Example.COM ", phone="(555) 010-2030"))
    assert again == ["customer:C-1", "email:ann@example.com", "phone:+15550102030"]
    assert identity_keys(None) == []
