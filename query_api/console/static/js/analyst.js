// Analyst screen: charts of the analytics endpoints, a pseudonymous timeline explorer and export.
// Nothing here can show a direct identifier: rows come from the pseudonymised analyst endpoint,
// and timelines are drawn from kind, status, channel and time only.
import { api } from "./api.js";
import { h, $, clear, fmtDate, label, channelBadge, statusBadge, errorBox, downloadBlob } from "./ui.js";
import { fillFilterMenus, filterParams } from "./filters.js";
import { timelineList } from "./order_view.js";
import { startSession, needsSignIn } from "./session.js";

const form = $("#filters"), charts = {};
const PALETTE = ["#2563eb", "#059669", "#d97706", "#7c3aed", "#dc2626", "#0891b2", "#4b5563"];
// the channel badges' hues, so a channel has one colour on every screen
const CHANNEL_COLOURS = { web: "#2563eb", app: "#9333ea", store: "#059669", call_center: "#ea580c",
  marketplace: "#ca8a04", b2b: "#475569" };
const colourOf = (channel, i) => CHANNEL_COLOURS[channel] || PALETTE[i % PALETTE.length];
let rows = [], cursor = null;

function draw(id, config) {
  if (!window.Chart) return;
  charts[id]?.destroy();
  charts[id] = new window.Chart($(`#${id}`), { ...config, options: { responsive: true, maintainAspectRatio: false,
    animation: false, plugins: { legend: { position: "bottom" } }, ...config.options } });
}

// the data behind each chart, as a table for screen readers and for reading exact values
function dataTable(target, caption, headers, body) {
  clear($(target), h("details", {}, h("summary", {}, "Show the numbers"), h("table", { class: "data" },
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, body.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c))))))));
}

function salesChart(sales) {
  const periods = [...new Set(sales.map((r) => r.period.slice(0, 10)))].sort();
  const channels = [...new Set(sales.map((r) => r.channel))].sort();
  draw("chart-sales", { type: "bar", data: { labels: periods, datasets: channels.map((c, i) => ({
    label: label(c), backgroundColor: colourOf(c, i),
    data: periods.map((p) => sales.filter((r) => r.channel === c && r.period.startsWith(p))
      .reduce((sum, r) => sum + r.orders, 0)) })) },
  options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "orders" } } } } });
  dataTable("#table-sales", "Orders per channel per day", ["Day", "Channel", "Orders"],
    sales.map((r) => [r.period.slice(0, 10), label(r.channel), r.orders]));
}

function fulfillmentChart(times) {
  const hours = (v) => (v === null ? null : Math.round(v * 10) / 10);
  draw("chart-fulfillment", { type: "bar", data: { labels: times.map((t) => label(t.type)),
    datasets: ["p50", "p90", "p99"].map((p, i) => ({ label: p, backgroundColor: PALETTE[i],
      data: times.map((t) => hours(t[p])) })) },
  options: { indexAxis: "y", scales: { x: { title: { display: true, text: "hours from placing to delivery" } } } } });
  dataTable("#table-fulfillment", "Fulfillment hours by type", ["Type", "Orders", "p50 h", "p90 h", "p99 h"],
    times.map((t) => [label(t.type), t.orders, hours(t.p50), hours(t.p90), hours(t.p99)]));
}

function returnsChart(rates) {
  draw("chart-returns", { type: "bar", data: { labels: rates.map((r) => label(r.channel)),
    datasets: [{ label: "return rate %", backgroundColor: rates.map((r, i) => colourOf(r.channel, i)), data: rates.map((r) => +(r.returnRate * 100).toFixed(1)) }] },
  options: { plugins: { legend: { display: false } }, scales: { y: { title: { display: true, text: "% of orders returned" } } } } });
  dataTable("#table-returns", "Return rate by channel", ["Channel", "Orders", "Return rate"],
    rates.map((r) => [label(r.channel), r.orders, `${(r.returnRate * 100).toFixed(1)} %`]));
}

function viewParams() {
  const f = filterParams(form);
  return { channel: f.channel, status: f.status, placed_from: f.placedFrom, placed_to: f.placedTo };
}

function renderPseudonyms() {
  const counts = new Map();
  for (const row of rows) counts.set(row.customer, (counts.get(row.customer) || 0) + 1);
  clear($("#pseudonyms"), [...counts.entries()].filter(([p]) => p).sort((a, b) => b[1] - a[1]).slice(0, 40)
    .map(([pseudonym, n]) => h("li", {}, h("button", { type: "button", class: "pick", onclick: () => explore(pseudonym) },
      h("code", {}, pseudonym), h("span", { class: "muted" }, ` ${n} order${n === 1 ? "" : "s"}`)))));
}

async function explore(pseudonym) {
  const target = $("#explorer-detail");
  const orders = rows.filter((r) => r.customer === pseudonym);
  clear(target, h("h3", {}, h("code", {}, pseudonym)), h("p", { class: "meta" }, "Loading timelines…"));
  try {
    const timelines = await Promise.all(orders.map((o) => api.timeline(o.id)));
    clear(target, h("h3", {}, h("code", {}, pseudonym)), orders.map((o, i) => h("div", { class: "explorer-order" },
      h("p", {}, h("strong", {}, o.id), " ", channelBadge(o.channel), " ", statusBadge(o.status),
        h("span", { class: "muted" }, ` placed ${fmtDate(o.placedAt)}`)), timelineList(timelines[i]))));
  } catch (error) {
    clear(target, errorBox(error));
  }
}

async function loadRows(reset) {
  if (reset) { rows = []; cursor = null; }
  const page = await api.analystOrders({ ...viewParams(), size: 100, cursor });
  rows = rows.concat(page.rows);
  cursor = page.nextCursor;
  $("#rows-more").hidden = !cursor;
  renderPseudonyms();
  return page.total;
}

async function refresh() {
  const params = viewParams();
  const range = { placed_from: params.placed_from, placed_to: params.placed_to };
  $("#view-status").textContent = "Loading…";
  try {
    const [sales, times, rates, total] = await Promise.all([api.sales(range), api.fulfillmentTimes(range),
      api.rates(range), loadRows(true)]);
    salesChart(params.channel ? sales.filter((r) => r.channel === params.channel) : sales);
    fulfillmentChart(times);
    returnsChart(rates);
    $("#view-status").textContent = `${total.toLocaleString()} orders in this view · updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    clear($("#view-status"), errorBox(error));
  }
}

const CSV_COLUMNS = ["id", "channel", "status", "placedAt", "storeId", "currency", "total", "lineCount",
  "fulfillmentType", "fulfillmentHours", "hasReturn", "crossChannel", "customer"];

function exportCsv() {
  const cell = (v) => (v === null || v === undefined ? "" : v instanceof Date ? v.toISOString()
    : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const text = [CSV_COLUMNS.join(","), ...rows.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(","))].join("\n");
  downloadBlob(new Blob([text + "\n"], { type: "text/csv" }), "orders-view.csv");
}

async function exportParquet() {
  try {
    downloadBlob(await api.exportOrdersParquet(viewParams()), "orders-view.parquet");
  } catch (error) {
    clear($("#view-status"), errorBox(error));
  }
}

if (!startSession()) needsSignIn($("#view-status"));
else {
  fillFilterMenus(form);
  form.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
  $("#export-csv").addEventListener("click", exportCsv);
  $("#export-parquet").addEventListener("click", exportParquet);
  $("#rows-more").addEventListener("click", () => loadRows(false));
  refresh();
}
