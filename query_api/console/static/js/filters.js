// Channel / status / date filter menus shared by the CSR history and the analyst view.
import { CHANNELS, STATUSES } from "./api.js";
import { h, label } from "./ui.js";

export function fillOptions(select, values) {
  select.append(...values.map((value) => h("option", { value }, label(value))));
}

export function fillFilterMenus(form) {
  fillOptions(form.querySelector("[name=channel]"), CHANNELS);
  fillOptions(form.querySelector("[name=status]"), STATUSES);
}

// form values -> API parameters (dates as UTC midnight instants)
export function filterParams(form) {
  const value = (name) => form.querySelector(`[name=${name}]`).value;
  const day = (name) => (value(name) ? `${value(name)}T00:00:00Z` : undefined);
  return { channel: value("channel") || undefined, status: value("status") || undefined,
    placedFrom: day("from"), placedTo: day("to") };
}

export function filterForm(idPrefix) {
  const field = (name, text, control) => h("div", { class: "field" },
    h("label", { for: `${idPrefix}-${name}` }, text), control);
  const form = h("form", { class: "filters filters-inline", "aria-label": "Filter this history" },
    field("channel", "Channel", h("select", { id: `${idPrefix}-channel`, name: "channel" },
      h("option", { value: "" }, "All channels"))),
    field("status", "Status", h("select", { id: `${idPrefix}-status`, name: "status" },
      h("option", { value: "" }, "Any status"))),
    field("from", "Placed from", h("input", { id: `${idPrefix}-from`, name: "from", type: "date" })),
    field("to", "Placed before", h("input", { id: `${idPrefix}-to`, name: "to", type: "date" })),
    h("div", { class: "field actions" }, h("button", { type: "submit", class: "button button-small" }, "Apply")));
  fillFilterMenus(form);
  return form;
}
