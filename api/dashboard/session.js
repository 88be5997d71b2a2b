// Who is signed in: the API token, kept in this browser only (localStorage), the role the API gives
// it (GET /api/me), and `api`, the fetch of every view, which sends the token as a bearer header
// (CONTRACT §6). The live stream sends the same token in its first frame (live.js). swagger-ui at
// /api/docs reads the same localStorage key (api/app.ts), so the two must change together.
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

export function keepToken(value) {
  localStorage.setItem(TOKEN_KEY, value);
}

export function signOut() {
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

/** Asks the API who the token is; the role, or null when the token is refused or the API is unreachable. */
export async function loadRole() {
  const response = await api("/api/me").catch(() => null);
  const me = response?.ok ? await response.json() : null;
  role = me?.role ?? null;
  principal = me?.name ?? null;
  return role;
}
