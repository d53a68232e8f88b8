// The one place that knows the API's URLs and JSON field names. Every screen gets plain
// objects from here, so a renamed field is fixed in this file only.

const TOKEN_KEY = "orderrepo.console.token";

export class ApiError extends Error {
  constructor(status, error, detail) {
    super(detail || error || `HTTP ${status}`);
    this.status = status;
    this.error = error;
  }
}

// ---- token (sessionStorage: gone when the tab closes) -------------------------------------

export function adoptTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
  history.replaceState(null, "", location.pathname + location.search); // the token leaves the URL
}

export function setToken(token) { sessionStorage.setItem(TOKEN_KEY, token.trim()); }
export function clearToken() { sessionStorage.removeItem(TOKEN_KEY); }
export function getToken() { return sessionStorage.getItem(TOKEN_KEY); }

// Reads the token's claims for display only; the API verifies the signature on every call.
export function tokenClaims(token = getToken()) {
  if (!token) return null;
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload + "=".repeat((4 - payload.length % 4) % 4)));
    return {
      subject: claims.sub, role: claims.role, customerKeys: claims.customer_keys || [],
      expiresAt: claims.exp ? new Date(claims.exp * 1000) : null,
    };
  } catch {
    return null;
  }
}

// ---- transport ---------------------------------------------------------------------------

async function request(path, params = {}, { signal, raw = false } = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, value);
  }
  const url = query.toString() ? `${path}?${query}` : path;
  const headers = {};
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(url, { headers, signal });
  if (!response.ok) {
    let body = {};
    try { body = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, body.error, body.detail);
  }
  return raw ? response : response.json();
}

const enc = encodeURIComponent;

// ---- shapes ------------------------------------------------------------------------------

const money = (value, currency) => (value === null || value === undefined ? null
  : { amount: Number(value), currency: currency || null });

export function customerKey(customer) {
  if (!customer) return null;
  if (customer.customer_id) return `customer:${customer.customer_id}`;
  if (customer.loyalty_id) return `loyalty:${customer.loyalty_id}`;
  if (customer.email) return `email:${customer.email.trim().toLowerCase()}`;
  if (customer.phone) {
    let digits = customer.phone.replace(/\D+/g, "");
    if (digits.length === 10) digits = "1" + digits;
    if (digits.length >= 7) return `phone:+${digits}`;
  }
  return null;
}

function parseCustomer(raw = {}) {
  return {
    name: raw.name || null, email: raw.email || null, phone: raw.phone || null,
    loyaltyId: raw.loyalty_id || null, customerId: raw.customer_id || null,
    pseudonym: raw.pseudonym || null, key: customerKey(raw),
  };
}

export function parseOrder(raw) {
  const currency = raw.currency || null;
  return {
    id: raw.order_id,
    channel: raw.channel || "unknown",
    channelsSeen: raw.channels_seen || [],
    status: raw.status,
    placedAt: raw.placed_at ? new Date(raw.placed_at) : null,
    updatedAt: raw.updated_at ? new Date(raw.updated_at) : null,
    indexedAt: raw.indexed_at ? new Date(raw.indexed_at) : null,
    storeId: raw.store_id || null,
    currency,
    tier: raw.tier || null,
    originalOrderId: raw.original_order_id || null,
    references: (raw.references || []).map((r) => ({ kind: r.kind, value: r.value })),
    customer: parseCustomer(raw.customer || {}),
    lines: (raw.lines || []).map((l) => ({
      id: l.line_id, sku: l.sku || null, name: l.name || null, quantity: l.quantity ?? null,
      unitPrice: money(l.unit_price, currency), status: l.status || null,
      fulfillmentType: l.fulfillment_type || null, storeId: l.store_id || null,
    })),
    shipments: (raw.shipments || []).map((s) => ({
      id: s.shipment_id, carrier: s.carrier || null, tracking: s.tracking_number || null,
      status: s.status || null, origin: s.origin || null,
      shippedAt: s.shipped_at ? new Date(s.shipped_at) : null,
      deliveredAt: s.delivered_at ? new Date(s.delivered_at) : null,
    })),
    payments: (raw.payments || []).map((p) => ({
      id: p.payment_id, method: p.method || null, brand: p.brand || null, last4: p.last4 || null,
      authorized: money(p.authorized, currency), captured: money(p.captured, currency),
      refunded: money(p.refunded, currency),
    })),
    returns: (raw.returns || []).map((r) => ({
      id: r.return_id, channel: r.channel || null, status: r.status || null,
      refund: money(r.refund_amount, currency), exchangeOrderId: r.exchange_order_id || null,
      storeId: r.store_id || null, lineIds: r.line_ids || [],
    })),
    total: money(raw.totals?.total, currency),
  };
}

function parsePage(raw) {
  return {
    orders: (raw.items || []).map(parseOrder), total: raw.total ?? 0,
    nextCursor: raw.next_cursor || null, tier: raw.tier || null, facets: raw.facets || {},
  };
}

export function parseTimeline(raw) {
  return {
    orderId: raw.order_id,
    entries: (raw.entries || []).map((e) => ({
      id: e.entry_id, at: new Date(e.occurred_at), kind: e.kind, channel: e.channel || null,
      source: e.source || null, statusBefore: e.status_before || null, statusAfter: e.status_after || null,
      categories: e.categories || [],
    })),
  };
}

// ---- endpoints ---------------------------------------------------------------------------

export const api = {
  search: async (q, { signal, size = 20 } = {}) => parsePage(await request("/search", { q, size }, { signal })),
  order: async (reference) => parseOrder(await request(`/orders/${enc(reference)}`)),
  timeline: async (reference) => parseTimeline(await request(`/orders/${enc(reference)}/timeline`)),
  customerOrders: async (key, { cursor, size = 20, channel, status, placedFrom, placedTo } = {}) =>
    parsePage(await request(`/customers/${enc(key)}/orders`, {
      cursor, size, channel, status, placed_from: placedFrom, placed_to: placedTo,
    })),
  sales: async (params) => (await request("/analytics/sales", { interval: "day", ...params })).rows.map((r) => ({
    period: r.period, channel: r.channel, orders: r.orders, revenue: r.revenue,
  })),
  fulfillmentTimes: async (params) => Object.entries(
    (await request("/analytics/fulfillment-times", params)).by_fulfillment_type || {},
  ).map(([type, v]) => ({ type, orders: v.orders, p50: v.p50 ?? null, p90: v.p90 ?? null, p99: v.p99 ?? null })),
  rates: async (params) => Object.entries((await request("/analytics/rates", params)).by_channel || {})
    .map(([channel, v]) => ({ channel, orders: v.orders, returnRate: v.return_rate,
      cancellationRate: v.cancellation_rate })),
  analystOrders: async (params) => {
    const raw = await request("/console/api/analyst/orders", params);
    return {
      total: raw.total, nextCursor: raw.next_cursor || null,
      rows: raw.rows.map((r) => ({
        id: r.order_id, channel: r.channel, status: r.status, placedAt: r.placed_at ? new Date(r.placed_at) : null,
        storeId: r.store_id, currency: r.currency, total: r.total, lineCount: r.line_count,
        fulfillmentType: r.fulfillment_type, fulfillmentHours: r.fulfillment_hours, hasReturn: r.has_return,
        crossChannel: r.cross_channel, customer: r.customer,
      })),
    };
  },
  exportOrdersParquet: async (params) => (await request("/export/orders.parquet", params, { raw: true })).blob(),
  ops: async () => {
    const raw = await request("/console/api/ops");
    return {
      generatedAt: new Date(raw.generated_at * 1000), engine: raw.engine, broker: raw.broker,
      workers: raw.workers.map((w) => ({
        name: w.worker, state: w.state, detail: w.detail || null, lastPollAgo: w.last_poll_s_ago,
        lastProgressAgo: w.last_progress_s_ago, lag: w.lag, lagByChannel: w.lag_by_channel || null,
        records: w.records, ordersWritten: w.orders_written, deadLettered: w.dead_lettered,
        deadLetterReasons: w.dead_letter_reasons || null,
      })),
      tiers: raw.tiers.map((t) => ({
        tier: t.tier, orders: t.orders, orderBytes: t.order_bytes, entries: t.timeline_entries,
        entryBytes: t.timeline_bytes,
      })),
    };
  },
};

// The API's vocabularies (order_domain.model.Channel / OrderStatus), for filter menus.
export const CHANNELS = ["web", "app", "store", "call_center", "marketplace", "b2b"];
export const STATUSES = ["pending", "confirmed", "in_progress", "ready_for_pickup", "partially_shipped", "shipped",
  "delivered", "completed", "partially_returned", "returned", "cancelled"];
