// The sign-in form (CONTRACT §9): a name and a password, POST /api/login; what went wrong in words —
// a wrong name or password (the API answers both alike, 401), too many attempts and how long to wait
// (429 with Retry-After), or a server that cannot be reached. Also asked for when a session ends.
import { t } from "./i18n.js";
import { signInWithPassword } from "./session.js";

const $ = (id) => document.getElementById(id);

function whyNot(result) {
  if (result.reason === "wrong") return t("wrong_credentials");
  if (result.reason === "rate_limited") return result.waitS === null ? t("too_many_attempts_later") : t("too_many_attempts", { n: result.waitS });
  if (result.reason === "unreachable") return t("server_unreachable");
  return t("sign_in_failed", { status: result.status });
}

/** Shows the form, with why when a session ended or a token was refused. */
export function askToSignIn(message = "") {
  $("login-error").textContent = message;
  if (!$("login").open) $("login").showModal();
}

export function closeSignIn() {
  if ($("login").open) $("login").close();
}

/** Wires the form, once: `signedIn()` after the API gave a token. */
export function setUpSignIn(signedIn) {
  // Escape would close the form over a page that shows nothing without a sign-in.
  $("login").addEventListener("cancel", (event) => event.preventDefault());
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-submit").disabled = true;
    const result = await signInWithPassword($("username").value.trim(), $("password").value);
    $("login-submit").disabled = false;
    if (!result.ok) {
      $("login-error").textContent = whyNot(result);
      $("password").select();
      return;
    }
    $("password").value = "";
    $("login-error").textContent = "";
    signedIn();
  });
}
