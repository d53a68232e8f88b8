// Customer service screen: search as you type, a customer's history across channels, an order.
import { api } from "./api.js";
import { h, $, clear, channelBadge, statusBadge, fmtDate, fmtMoney, freshness, errorBox, debounce } from "./ui.js";
import { orderDetail } from "./order_view.js";
import { filterForm, filterParams } from "./filters.js";
import { startSession, needsSignIn } from "./session.js";

const input = $("#q"), results = $("#results"), status = $("#search-status"), detail = $("#detail");
let options = [], active = -1, inFlight = null;

input.setAttribute("role", "combobox");
input.setAttribute("aria-expanded", "false");
input.setAttribute("aria-autocomplete", "list");

// One entry per person: orders that share an email (or, without one, a key) are grouped, and the
// strongest key seen (customer id, then loyalty id) opens the history, which follows linked keys.
function customersOf(orders) {
  const seen = new Map();
  for (const order of orders) {
    const c = order.customer;
    if (!c.key) continue;
    const identity = c.email ? c.email.toLowerCase() : c.key;
    const entry = seen.get(identity) || { ...c, orders: 0, channels: new Set(), last: null };
    if (/^(customer|loyalty):/.test(c.key) && !/^customer:/.test(entry.key)) Object.assign(entry, { ...c, orders: entry.orders, channels: entry.channels, last: entry.last });
    entry.orders += 1;
    entry.channels.add(order.channel);
    if (!entry.last || (order.placedAt && order.placedAt > entry.last)) entry.last = order.placedAt;
    seen.set(identity, entry);
  }
  return [...seen.values()];
}

function option(id, content, open, key = null) {
  return h("li", { id, role: "option", class: "result", "aria-selected": "false", "data-key": key, onclick: open }, content);
}

function renderResults(query, page) {
  const customers = customersOf(page.orders);
  options = [];
  const customerItems = customers.map((c, i) => {
    const open = () => openCustomer(c.key);
    options.push(open);
    return option(`opt-${options.length - 1}`, [
      h("div", { class: "result-main" }, h("strong", {}, c.name || c.email || c.key),
        h("span", { class: "muted" }, ` ${[c.email, c.phone].filter(Boolean).join(" · ")}`)),
      h("div", { class: "result-meta" }, [...c.channels].map(channelBadge),
        h("span", {}, `${c.orders} matching order${c.orders > 1 ? "s" : ""} · last ${fmtDate(c.last)}`))], open, c.key);
  });
  const orderItems = page.orders.map((o) => {
    const open = () => openOrder(o.id);
    options.push(open);
    return option(`opt-${options.length - 1}`, [
      h("div", { class: "result-main" }, h("strong", {}, o.id), " ", statusBadge(o.status)),
      h("div", { class: "result-meta" }, channelBadge(o.channel), h("span", {}, fmtDate(o.placedAt)),
        h("span", {}, o.customer.name || ""), h("span", {}, fmtMoney(o.total)))], open);
  });
  const group = (title, items) => (items.length ? h("li", { role: "presentation" },
    h("p", { class: "result-group", id: `group-${title}` }, title),
    h("ul", { role: "group", "aria-labelledby": `group-${title}` }, items)) : null);
  clear(results, page.orders.length ? h("ul", { role: "listbox", id: "results-list", "aria-label": "Search results" },
    group("Customers", customerItems), group("Orders", orderItems)) : null);
  results.dataset.query = query;
  input.setAttribute("aria-expanded", String(page.orders.length > 0));
  status.textContent = page.orders.length ? `${page.total} matching order${page.total === 1 ? "" : "s"}, ${customers.length} customer${customers.length === 1 ? "" : "s"}`
    : `No match for “${query}”.`;
  setActive(options.length ? 0 : -1);
}

function setActive(index) {
  const items = results.querySelectorAll("[role=option]");
  items.forEach((item, i) => item.setAttribute("aria-selected", String(i === index)));
  active = index;
  if (index >= 0) {
    input.setAttribute("aria-activedescendant", items[index].id);
    items[index].scrollIntoView({ block: "nearest" });
  } else input.removeAttribute("aria-activedescendant");
}

const runSearch = debounce(async (query) => {
  if (inFlight) inFlight.abort();
  if (!query) { clear(results); status.textContent = ""; options = []; return; }
  inFlight = new AbortController();
  status.textContent = "Searching…";
  try {
    renderResults(query, await api.search(query, { signal: inFlight.signal, size: 25 }));
  } catch (error) {
    if (error.name === "AbortError") return;
    clear(results, errorBox(error));
    status.textContent = "";
  }
}, 150);

input.addEventListener("input", () => runSearch(input.value.trim()));
input.addEventListener("keydown", (event) => {
  if (event.key === "ArrowDown" && options.length) { event.preventDefault(); setActive(Math.min(active + 1, options.length - 1)); }
  if (event.key === "ArrowUp" && options.length) { event.preventDefault(); setActive(Math.max(active - 1, 0)); }
  if (event.key === "Enter" && active >= 0) { event.preventDefault(); options[active](); }
  if (event.key === "Escape") { input.value = ""; runSearch(""); }
});
document.addEventListener("keydown", (event) => {
  const typing = /INPUT|TEXTAREA|SELECT/.test(document.activeElement?.tagName || "");
  if (event.key === "/" && !typing) { event.preventDefault(); input.focus(); input.select(); }
});

function navigate(params) {
  history.pushState(null, "", `${location.pathname}?${new URLSearchParams(params)}`);
}

async function openOrder(reference, { push = true } = {}) {
  if (push) navigate({ order: reference });
  clear(detail, h("p", { class: "meta" }, "Loading order…"));
  try {
    const [order, timeline] = await Promise.all([api.order(reference), api.timeline(reference)]);
    const fresh = h("p", { class: "freshness meta" });
    const back = order.customer.key ? h("button", { type: "button", class: "link",
      onclick: () => openCustomer(order.customer.key) }, `← All orders of ${order.customer.name || order.customer.key}`) : null;
    clear(detail, h("div", { class: "detail-toolbar" }, back, fresh),
      ...orderDetail(order, timeline, { onOpenOrder: (id) => openOrder(id) }));
    freshness(fresh, Date.now(), order.tier || "hot");
    detail.focus({ preventScroll: true });
  } catch (error) {
    clear(detail, errorBox(error));
  }
}

function historyRow(order) {
  return h("tr", {},
    h("td", {}, fmtDate(order.placedAt)),
    h("td", {}, h("button", { type: "button", class: "link", onclick: () => openOrder(order.id) }, order.id)),
    h("td", {}, channelBadge(order.channel)), h("td", {}, statusBadge(order.status)),
    h("td", { class: "num" }, order.lines.length), h("td", { class: "num" }, fmtMoney(order.total)),
    h("td", {}, order.returns.length ? order.returns.map((r) => r.channel && r.channel !== order.channel
      ? `returned via ${r.channel.replace(/_/g, " ")}` : "returned").join(", ") : ""));
}

async function openCustomer(key, { push = true } = {}) {
  if (push) navigate({ customer: key });
  const form = filterForm("h");
  const body = h("tbody"), fresh = h("p", { class: "freshness meta" }), more = h("button",
    { type: "button", class: "button button-quiet", hidden: true }, "Load more");
  const summary = h("p", { class: "meta", role: "status" });
  let cursor = null, customer = null;
  const title = h("h2", {}, key);
  const load = async (reset) => {
    try {
      const page = await api.customerOrders(key, { ...filterParams(form), cursor: reset ? null : cursor, size: 25 });
      if (reset) clear(body);
      body.append(...page.orders.map(historyRow));
      // the order that says most about the person names the page (a POS receipt may carry only a loyalty id)
      const told = (c) => (c.name ? 4 : 0) + (c.email ? 2 : 0) + (c.phone ? 1 : 0);
      for (const order of page.orders) if (!customer || told(order.customer) > told(customer)) customer = order.customer;
      if (customer) title.textContent = [customer.name, customer.email, customer.phone].filter(Boolean).join(" · ") || key;
      cursor = page.nextCursor;
      more.hidden = !cursor;
      summary.textContent = `${page.total} order${page.total === 1 ? "" : "s"} across every channel`;
      freshness(fresh, Date.now(), page.tier || "hot");
    } catch (error) {
      clear(body, h("tr", {}, h("td", { colspan: 7 }, errorBox(error))));
    }
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); load(true); });
  more.addEventListener("click", () => load(false));
  clear(detail, h("div", { class: "detail-toolbar" }, h("span"), fresh), title, summary, form,
    h("table", { class: "data" }, h("caption", {}, "Order history, newest first"),
      h("thead", {}, h("tr", {}, ["Placed", "Order", "Channel", "Status", "Lines", "Total", "Returns"]
        .map((name) => h("th", { scope: "col" }, name)))), body), more);
  await load(true);
  detail.focus({ preventScroll: true });
}

function fromUrl() {
  const params = new URLSearchParams(location.search);
  if (params.get("order")) openOrder(params.get("order"), { push: false });
  else if (params.get("customer")) openCustomer(params.get("customer"), { push: false });
}

if (!startSession()) needsSignIn(detail);
else { fromUrl(); window.addEventListener("popstate", fromUrl); }
