// The console's JSON API: reads are ManagementService reads (request as
// protojson in ?q=), mutations POST protojson with the CSRF token.
let csrf = "";

export function setCSRF(token) {
  csrf = token;
}

async function parse(resp) {
  const body = await resp.json().catch(() => ({ error: resp.statusText }));
  if (resp.status === 401) {
    location.assign("/ui/login");
  }
  if (!resp.ok) {
    throw new Error(body.error || resp.statusText);
  }
  return body;
}

export async function get(path, req) {
  const q = req ? "?q=" + encodeURIComponent(JSON.stringify(req)) : "";
  return parse(await fetch("/ui/api/" + path + q, { credentials: "same-origin" }));
}

export async function post(method, req) {
  return parse(
    await fetch("/ui/api/" + method, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(req),
    }),
  );
}

// Reads started before the bundle's other modules are evaluated (early.js),
// by name; each is handed out once, to the first view asking for it.
const started = {};

export function startEarly(path) {
  const p = get(path);
  // A read nobody takes (the view changed first) must not surface as an
  // unhandled rejection; whoever takes it sees the rejection.
  p.catch(() => {});
  started[path] = p;
}

// early returns the early read of path, once, or fetches it now.
export function early(path) {
  const p = started[path];
  delete started[path];
  return p || get(path);
}

// One formatter per currency: building an Intl.NumberFormat costs far more
// than formatting with it, and a page formats hundreds of amounts.
const formats = {};

// money formats a Money message ({currency_code, micros}); unknown is not
// zero, so a missing amount shows as a dash.
export function money(m) {
  if (!m) return "—";
  const v = Number(m.micros || 0) / 1e6;
  const c = m.currency_code || "USD";
  formats[c] ||= new Intl.NumberFormat("en-US", { style: "currency", currency: c });
  return formats[c].format(v);
}

export function when(ts) {
  return ts ? new Date(ts).toISOString().replace("T", " ").slice(0, 19) : "—";
}

export function enumName(v, prefix) {
  return (v || "").replace(prefix, "").toLowerCase().replace(/_/g, " ");
}
