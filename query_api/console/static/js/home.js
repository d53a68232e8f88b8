// Sign-in page: keeps a pasted token in sessionStorage and sends the person to their screen.
import { setToken, tokenClaims } from "./api.js";
import { $ } from "./ui.js";
import { startSession } from "./session.js";

const SCREEN_OF_ROLE = { csr: "csr", storefront: "my-orders", analyst: "analyst", admin: "operator" };

startSession();
$("#signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("#token-input").value.trim();
  const claims = tokenClaims(token);
  if (!claims || !claims.role) {
    $("#signin-error").textContent = "That does not look like a token (three dot-separated parts with a role claim).";
    return;
  }
  setToken(token);
  location.href = `/console/${SCREEN_OF_ROLE[claims.role] || ""}`;
});
