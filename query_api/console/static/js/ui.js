// Small DOM and formatting helpers shared by the screens (no data shapes here: see api.js).

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "html") node.innerHTML = value; // only for our own static SVG strings
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function clear(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

const DATE = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});

export const fmtDate = (d) => (d ? DATE.format(d) : "—");
export const fmtDateTime = (d) => (d ? DATE_TIME.format(d) : "—");
export const label = (value) => (value ? String(value).replace(/_/g, " ") : "—");

export function fmtMoney(money) {
  if (!money) return "—";
  if (!money.currency) return money.amount.toFixed(2);
  return new Intl.NumberFormat(undefined, { style: "currency", currency: money.currency }).format(money.amount);
}

export function fmtBytes(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

export function ago(seconds) {
  if (seconds < 1) return "just now";
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

// ---- channel icons (inline SVG, decorative: the channel name is always written beside it) --

const ICONS = {
  web: '<circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3c3 3.5 3 14.5 0 18M12 3c-3 3.5-3 14.5 0 18"/>',
  app: '<rect x="7" y="2.5" width="10" height="19" rx="2"/><path d="M11 18.5h2"/>',
  store: '<path d="M4 9.5 5.5 4h13L20 9.5M4 9.5h16M5 9.5V20h14V9.5M10 20v-5h4v5"/>',
  call_center: '<path d="M5 13v-1a7 7 0 0 1 14 0v1M5 13h3v5H5zM16 13h3v5h-3zM19 18c0 2-2 3-5 3"/>',
  marketplace: '<path d="M3 4h2.5l2.2 11h10.8L21 7H7M10 20h.01M17 20h.01"/>',
  b2b: '<path d="M4 21V5l8-2v18M12 8h8v13M7 8h2M7 12h2M7 16h2M15 12h2M15 16h2M3 21h18"/>',
  unknown: '<circle cx="12" cy="12" r="9"/><path d="M12 16h.01M12 13c0-2 2-2 2-4a2 2 0 0 0-4 0"/>',
};

export function channelBadge(channel) {
  const svg = `<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">${
    ICONS[channel] || ICONS.unknown}</svg>`;
  const name = label(channel);
  return h("span", { class: `channel channel-${channel}` }, h("span", { class: "icon", html: svg }),
    name.charAt(0).toUpperCase() + name.slice(1));
}

export function statusBadge(status) {
  const tone = /cancel/.test(status) ? "bad" : /return/.test(status) ? "warn"
    : /deliver|complete|picked_up/.test(status) ? "good" : "info";
  return h("span", { class: `status status-${tone}` }, label(status));
}

// "updated 2 s ago", kept current while the data stays on screen
export function freshness(node, fetchedAt, tier) {
  const render = () => {
    const text = `updated ${ago((Date.now() - fetchedAt) / 1000)}`;
    node.textContent = tier ? `${text} · served by the ${tier} tier` : text;
  };
  render();
  clearInterval(node._timer);
  node._timer = setInterval(render, 1000);
}

export function errorBox(error) {
  const text = error.status === 401 ? `Sign-in needed: ${error.message}. Paste a token on the sign-in page.`
    : error.status === 403 ? `Not allowed for this role: ${error.message}`
      : error.status === 404 ? `Not found: ${error.message}` : `Something went wrong: ${error.message}`;
  return h("div", { class: "notice notice-error", role: "alert" }, text);
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

export function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
