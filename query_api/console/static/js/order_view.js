// Renders one order (lines, shipments, payments, returns, timeline): used by the CSR screen.
import { h, channelBadge, statusBadge, fmtDate, fmtDateTime, fmtMoney, label } from "./ui.js";

const table = (caption, headers, rows) => h("table", { class: "data" },
  h("caption", {}, caption),
  h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
  h("tbody", {}, rows));

function section(title, body, empty) {
  return h("section", { class: "detail-section" }, h("h3", {}, title),
    body && (!Array.isArray(body) || body.length) ? body : h("p", { class: "muted" }, empty));
}

export function orderHeader(order) {
  return h("header", { class: "order-head" },
    h("div", {}, h("h2", {}, `Order ${order.id}`),
      h("p", { class: "meta" }, channelBadge(order.channel), " · placed ", fmtDateTime(order.placedAt),
        order.storeId ? ` · ${order.storeId}` : "")),
    h("div", { class: "order-head-right" }, statusBadge(order.status),
      h("div", { class: "order-total" }, fmtMoney(order.total))));
}

export function linesTable(order) {
  return order.lines.length ? table("Lines", ["SKU", "Item", "Qty", "Price", "Fulfillment", "Status"],
    order.lines.map((l) => h("tr", {}, h("td", {}, h("code", {}, l.sku || "—")), h("td", {}, l.name || "—"),
      h("td", { class: "num" }, l.quantity ?? "—"), h("td", { class: "num" }, fmtMoney(l.unitPrice)),
      h("td", {}, label(l.fulfillmentType)), h("td", {}, label(l.status))))) : null;
}

export function shipmentsTable(order) {
  return order.shipments.length ? table("Shipments", ["Carrier", "Tracking number", "Status", "Shipped", "Delivered"],
    order.shipments.map((s) => h("tr", {}, h("td", {}, s.carrier || "—"),
      h("td", {}, s.tracking ? h("code", { class: "tracking" }, s.tracking) : "—"), h("td", {}, label(s.status)),
      h("td", {}, fmtDate(s.shippedAt)), h("td", {}, fmtDate(s.deliveredAt))))) : null;
}

function paymentsTable(order) {
  return order.payments.length ? table("Payments (masked)", ["Method", "Card", "Captured", "Refunded"],
    order.payments.map((p) => h("tr", {}, h("td", {}, label(p.method)),
      h("td", {}, p.last4 ? `${p.brand || "card"} •••• ${p.last4}` : (p.brand || "—")),
      h("td", { class: "num" }, fmtMoney(p.captured || p.authorized)), h("td", { class: "num" }, fmtMoney(p.refunded))))) : null;
}

export function returnsList(order, { onOpenOrder } = {}) {
  return order.returns.map((r) => h("div", { class: "return-item" },
    h("div", {}, h("strong", {}, `Return ${r.id}`), " ", r.channel ? channelBadge(r.channel) : null,
      r.channel && r.channel !== order.channel ? h("span", { class: "tag tag-cross" }, "cross-channel") : null),
    h("p", { class: "meta" }, `status ${label(r.status)}`, r.refund ? ` · refund ${fmtMoney(r.refund)}` : "",
      r.storeId ? ` · at ${r.storeId}` : ""),
    r.exchangeOrderId ? h("p", {}, "Exchanged for ", onOpenOrder
      ? h("button", { type: "button", class: "link", onclick: () => onOpenOrder(r.exchangeOrderId) }, r.exchangeOrderId)
      : r.exchangeOrderId) : null));
}

export function timelineList(timeline) {
  return h("ol", { class: "timeline" }, timeline.entries.map((e) => h("li", { class: "timeline-entry" },
    h("span", { class: "timeline-dot", "aria-hidden": "true" }),
    h("div", { class: "timeline-body" },
      h("p", { class: "timeline-title" }, label(e.kind),
        e.statusAfter ? h("span", { class: "muted" }, ` → ${label(e.statusAfter)}`) : null),
      h("p", { class: "meta" }, h("time", { datetime: e.at.toISOString() }, fmtDateTime(e.at)),
        e.channel ? " · " : "", e.channel ? channelBadge(e.channel) : null)))));
}

export function orderDetail(order, timeline, { onOpenOrder } = {}) {
  const refs = order.references.map((r) => h("li", {}, h("span", { class: "muted" }, `${label(r.kind)} `),
    h("code", {}, r.value)));
  return [
    orderHeader(order),
    section("References", refs.length ? h("ul", { class: "chips" }, refs) : null, "No references."),
    order.customer.name || order.customer.email ? section("Customer", h("p", {}, [order.customer.name,
      order.customer.email, order.customer.phone].filter(Boolean).join(" · ")), "") : null,
    section("Lines", linesTable(order), "No lines."),
    section("Shipments and tracking", shipmentsTable(order), "Not shipped yet."),
    section("Payments", paymentsTable(order), "No payments recorded."),
    section("Returns and exchanges", returnsList(order, { onOpenOrder }), "No returns."),
    section("Timeline", timeline && timeline.entries.length ? timelineList(timeline) : null, "No timeline entries."),
  ];
}
