// "My orders" for one signed-in storefront customer: newest first, load more, order detail.
// The customer comes from the token; a different one in the URL is simply asked of the API,
// which refuses it (the page never filters anything itself).
import { api } from "./api.js";
import { h, $, clear, channelBadge, statusBadge, fmtDate, fmtMoney, label, errorBox } from "./ui.js";
import { linesTable, shipmentsTable, returnsList, orderHeader } from "./order_view.js";
import { startSession, needsSignIn } from "./session.js";

const list = $("#order-list"), more = $("#load-more"), listStatus = $("#list-status");
const detail = $("#order-detail"), view = $("#orders-view");
let cursor = null, customerKey = null;

// the number the customer saw on their confirmation: the order's own channel's reference first
const FACING = ["web_order_number", "app_order_number", "marketplace_order_id", "call_center_ticket",
  "b2b_purchase_order", "pos_receipt"];
function customerFacingNumber(order) {
  const ranked = order.references.filter((r) => FACING.includes(r.kind))
    .sort((a, b) => FACING.indexOf(a.kind) - FACING.indexOf(b.kind));
  return ranked[0]?.value || order.id;
}

function card(order) {
  const items = order.lines.reduce((sum, line) => sum + (line.quantity || 0), 0);
  const returned = order.returns.length ? h("p", { class: "meta" }, `Return: ${order.returns.map((r) => label(r.status)).join(", ")}`) : null;
  return h("li", { class: "order-card" },
    h("div", { class: "order-card-main" },
      h("h2", { class: "order-card-title" }, `Order ${customerFacingNumber(order)}`),
      h("p", { class: "meta" }, `Placed ${fmtDate(order.placedAt)} · `, channelBadge(order.channel),
        ` · ${items} item${items === 1 ? "" : "s"} · ${fmtMoney(order.total)}`), returned),
    h("div", { class: "order-card-side" }, statusBadge(order.status),
      h("a", { class: "button button-small", href: `?order=${encodeURIComponent(order.id)}`,
        "aria-label": `Details of order ${order.id}` }, "Details")));
}

async function loadPage() {
  more.disabled = true;
  try {
    const page = await api.customerOrders(customerKey, { cursor, size: 10 });
    list.append(...page.orders.map(card));
    cursor = page.nextCursor;
    more.hidden = !cursor;
    listStatus.textContent = page.total ? `Showing ${list.children.length} of ${page.total} orders`
      : "You have no orders yet.";
  } catch (error) {
    clear(listStatus, errorBox(error));
    more.hidden = true;
  } finally {
    more.disabled = false;
  }
}

async function showOrder(reference) {
  view.hidden = true;
  detail.hidden = false;
  clear(detail, h("p", { class: "meta" }, "Loading…"));
  try {
    const order = await api.order(reference);
    const tracking = order.shipments.filter((s) => s.tracking);
    clear(detail, h("a", { href: location.pathname, class: "link" }, "← Back to my orders"), orderHeader(order),
      h("h3", {}, "Items"), linesTable(order) || h("p", { class: "muted" }, "No items."),
      h("h3", {}, "Tracking"), tracking.length ? shipmentsTable(order) : h("p", { class: "muted" }, "Not shipped yet."),
      h("h3", {}, "Returns"), order.returns.length ? returnsList(order) : h("p", { class: "muted" }, "No returns."));
  } catch (error) {
    clear(detail, h("a", { href: location.pathname, class: "link" }, "← Back to my orders"), errorBox(error));
  }
  detail.focus();
}

const claims = startSession();
if (!claims) needsSignIn(view);
else {
  const params = new URLSearchParams(location.search);
  customerKey = params.get("customer") || claims.customerKeys[0] || null;
  $("#whoami").textContent = customerKey ? `Orders of ${customerKey}` : "This token is not bound to a customer.";
  if (params.get("order")) showOrder(params.get("order"));
  else if (customerKey) { more.addEventListener("click", loadPage); loadPage(); }
}
