// Operations screen (admin): engine and broker health, ingest lag and dead letters, volume per tier.
import { api } from "./api.js";
import { h, $, clear, fmtBytes, ago, errorBox } from "./ui.js";
import { startSession, needsSignIn } from "./session.js";

const dl = (pairs) => h("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
const pill = (ok, text) => h("span", { class: `status status-${ok ? "good" : "bad"}` }, text);
const table = (caption, headers, rows) => h("table", { class: "data" }, h("caption", { class: "sr-only" }, caption),
  h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows));

function workersView(workers) {
  if (!workers.length) {
    return h("p", { class: "muted" }, "No ingest worker health file found for this consumer group on this host ",
      "(workers write one every few seconds while they run).");
  }
  const reasons = workers.flatMap((w) => Object.entries(w.deadLetterReasons || {}));
  return [table("Ingest workers", ["Worker", "State", "Lag (records)", "Lag by channel", "Records", "Orders written",
    "Dead letters", "Last poll"], workers.map((w) => h("tr", {},
    h("td", {}, h("code", {}, w.name)), h("td", {}, pill(w.state === "polling", w.state)),
    h("td", { class: "num" }, w.lag ?? "—"),
    h("td", {}, w.lagByChannel ? Object.entries(w.lagByChannel).map(([c, n]) => `${c}: ${n}`).join(", ") : "not reported"),
    h("td", { class: "num" }, w.records?.toLocaleString() ?? "—"), h("td", { class: "num" }, w.ordersWritten?.toLocaleString() ?? "—"),
    h("td", { class: "num" }, w.deadLettered ?? "—"), h("td", {}, w.lastPollAgo !== undefined ? ago(w.lastPollAgo) : w.detail)))),
  h("h3", {}, "Latest dead-letter reasons"),
  reasons.length ? h("ul", {}, reasons.map(([reason, info]) => h("li", {}, h("code", {}, reason), ` — ${typeof info === "object" ? JSON.stringify(info) : info}`)))
    : h("p", { class: "muted" }, "The workers' health files do not carry reasons yet; each dead letter on the ",
      "dead-letter topic holds its reason, source coordinates and an excerpt (read it with any Kafka consumer).")];
}

function tiersView(tiers) {
  return [table("Volume per tier", ["Tier", "Orders", "Order bytes", "Timeline entries", "Timeline bytes"],
    tiers.map((t) => h("tr", {}, h("td", {}, t.tier), h("td", { class: "num" }, t.orders?.toLocaleString() ?? "—"),
      h("td", { class: "num" }, fmtBytes(t.orderBytes)), h("td", { class: "num" }, t.entries?.toLocaleString() ?? "—"),
      h("td", { class: "num" }, fmtBytes(t.entryBytes))))),
  h("p", { class: "muted" }, "Warm and cold order bytes include their timelines (one copy per order).")];
}

async function refresh() {
  try {
    const ops = await api.ops();
    const e = ops.engine;
    clear($("#engine"), pill(["green", "yellow"].includes(e.status), e.status),
      dl([["Engine", e.kind ? `${e.kind} ${e.version}` : e.detail], ["Nodes", e.nodes], ["Unassigned shards", e.unassigned_shards]]));
    clear($("#broker"), h("span", { class: "status status-info" }, ops.broker.status), h("p", { class: "muted" }, ops.broker.detail));
    clear($("#workers"), workersView(ops.workers));
    clear($("#tiers"), tiersView(ops.tiers));
    $("#ops-status").textContent = `updated ${new Date().toLocaleTimeString()} · refreshes every 10 s`;
  } catch (error) {
    clear($("#workers"), errorBox(error));
  }
}

if (!startSession()) needsSignIn($("#workers"));
else { refresh(); setInterval(refresh, 10_000); }
