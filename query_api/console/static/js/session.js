// Sign-in state shown on every screen: adopts a token from the URL fragment, shows who is
// signed in, and signs out. The page never decides access; the API does on every call.
import { adoptTokenFromFragment, clearToken, getToken, tokenClaims } from "./api.js";
import { h, clear, $ } from "./ui.js";

export function startSession() {
  adoptTokenFromFragment();
  const claims = tokenClaims();
  const box = $("#session");
  if (!getToken() || !claims) {
    clear(box, h("a", { href: "/console/", class: "button button-small" }, "Sign in"));
    return null;
  }
  const expired = claims.expiresAt && claims.expiresAt < new Date();
  clear(box,
    h("span", { class: `role role-${claims.role}` }, claims.role),
    h("span", { class: "subject" }, expired ? `${claims.subject} (token expired)` : claims.subject),
    h("button", { type: "button", class: "button button-small button-quiet", onclick: () => {
      clearToken();
      location.href = "/console/";
    } }, "Sign out"));
  return claims;
}

export function needsSignIn(container) {
  clear(container, h("div", { class: "notice" }, "You are not signed in. ",
    h("a", { href: "/console/" }, "Sign in with a token"), " to use this screen."));
}
