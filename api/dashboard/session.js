// Who is signed in: the API token, kept in this browser only (localStorage), the name and role the API
// gives it (GET /api/me), and `api`, the fetch of every view, which sends the token as a bearer header
// (CONTRACT §6). A person signs in with a name and password (POST /api/login, CONTRACT §9), which gives
// the token; a script or the demo link brings one in the URL fragment. The live stream sends the same
// token in its first frame (live.js). swagger-ui at /api/docs reads the same localStorage key (api/app.ts),
// so the two must change together.
const TOKEN_KEY = "campus-power-token";

/** "viewer", "operator" or "admin" once /api/me answered; null before and after signing out. */
let role = null;
/** Who the API says this is (`issued_by` of the commands it selects): a person's name or `role:<fingerprint>`. */
let principal = null;

export const token = () => localStorage.getItem(TOKEN_KEY);
export const currentRole = () => role;
export const currentName = () => principal;
/** Operators and admins acknowledge alerts and switch circuits (CONTRACT §6, §10); viewers only watch. */
const isOperator = () => role === "operator" || role === "admin";
export const canAck = isOperator;
export const canSwitch = isOperator;

function keepToken(value) {
  localStorage.setItem(TOKEN_KEY, value);
}

function forgetToken() {
  localStorage.removeItem(TOKEN_KEY);
  role = principal = null;
}

/**
 * A link like /#token=... (printed by `up --demo`) signs in at once. The fragment never reaches the
 * server, and it is removed from the address bar right away, so it is not left on screen or in history.
 */
export function takeTokenFromLink() {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (!fromLink) return;
  keepToken(fromLink);
  history.replaceState(null, "", location.pathname + location.search);
}

export const api = (path, init = {}) =>
  fetch(path, { ...init, headers: { ...(init.headers || {}), authorization: `Bearer ${token()}`, ...(init.body ? { "content-type": "application/json" } : {}) } });

/** The JSON a GET answers, or null when it failed (refused, unreachable, not JSON): the caller keeps what it had. */
export async function getJson(path) {
  const response = await api(path).catch(() => null);
  return response?.ok ? response.json().catch(() => null) : null;
}

/** Asks the API who the token is; the role, or null when the token is refused or the API is unreachable. */
export async function loadRole() {
  const me = await getJson("/api/me");
  role = me?.role ?? null;
  principal = me?.name ?? null;
  return role;
}

/**
 * Signs in with a name and password (POST /api/login, CONTRACT §9) and keeps the token it answers.
 * `{ok: true}`, or why not: `wrong` (401: the same answer for an unknown name and a wrong password),
 * `rate_limited` with the seconds to wait from Retry-After (null when the server did not say), `failed`
 * with the HTTP status, or `unreachable`.
 */
export async function signInWithPassword(username, password) {
  const response = await fetch("/api/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) }).catch(() => null);
  if (!response) return { ok: false, reason: "unreachable" };
  if (response.status === 401) return { ok: false, reason: "wrong" };
  if (response.status === 429) {
    const seconds = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
    return { ok: false, reason: "rate_limited", waitS: Number.isFinite(seconds) ? seconds : null };
  }
  const body = response.ok ? await response.json().catch(() => null) : null;
  if (typeof body?.token !== "string") return { ok: false, reason: "failed", status: response.status };
  keepToken(body.token);
  return { ok: true };
}

/**
 * Signing out: the API revokes the token (POST /api/logout, CONTRACT §9) before this browser forgets it,
 * so a copy left elsewhere (another tab, a proxy log) stops working too. A token from API_TOKENS cannot be
 * revoked this way; whatever the answer, or none, the browser forgets it.
 */
export async function signOut() {
  if (token()) await api("/api/logout", { method: "POST" }).catch(() => null);
  forgetToken();
}
