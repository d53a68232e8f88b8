"""Sample multichannel order traffic for the demo, the tests and the benchmarks. Pure (no I/O).

`generate(orders=N, seed=S)` yields the Kafka messages (channel topic, key =
canonical order id, native payload bytes) of exactly N orders across web
(Shopify webhooks), app, call center and B2B (canonical events), store (NRF
POSLog) and marketplace (Amazon SP-API): creation, payment capture, picking,
partial shipments with tracking, deliveries, pickups, cancellations, returns,
exchanges and replacements, for a skewed pool of customers.

Guarantees:
- reproducible: same arguments, byte-identical output (one `random.Random(seed)`,
  no global random state, no wall clock);
- constant memory: orders are generated one at a time and interleaved within a
  small window, so a million orders stream without growing;
- per-order time order: the messages of one order come in the order they happened.

`inject_faults` adds duplicates, local reordering and poison messages;
`expected_orders` folds clean messages through the adapters and the merge, the
reference result the pipeline is checked against.
"""

from sample_traffic.faults import inject_faults
from sample_traffic.messages import FaultyMessage, TrafficMessage
from sample_traffic.reference import expected_orders
from sample_traffic.stream import DEFAULT_START, generate

__all__ = ["DEFAULT_START", "FaultyMessage", "TrafficMessage", "expected_orders", "generate", "inject_faults"]
