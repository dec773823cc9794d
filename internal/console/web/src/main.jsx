// early.js first: its reads start before the other modules are evaluated.
import { currentView } from "./early.js";
import { render } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { early, enumName, get, money, post, setCSRF, when } from "./api.js";
import { CostChart } from "./chart.jsx";
import "./style.css";

const views = [
  ["overview", "Overview"],
  ["inventory", "Inventory"],
  ["recommendations", "Recommendations"],
  ["actions", "Actions"],
  ["agents", "Agents"],
  ["audit", "Audit log"],
];

// Which change kinds (from the event stream) each view shows.
const watches = {
  overview: ["costs", "recommendations", "actions"],
  inventory: ["resources"],
  recommendations: ["recommendations"],
  actions: ["actions", "recommendations"],
  agents: ["agents"],
  audit: ["recommendations", "actions"],
};

function useHash() {
  const [hash, setHash] = useState(currentView());
  useEffect(() => {
    const f = () => setHash(currentView());
    addEventListener("hashchange", f);
    // A hash change between the first render and this effect fired no
    // listener: read the hash again now that one is listening.
    f();
    return () => removeEventListener("hashchange", f);
  }, []);
  return hash;
}

// useLive counts the changes of the given kinds that arrived on the
// event stream; views re-fetch when it moves.
function useLive(kinds) {
  const [n, setN] = useState(0);
  useEffect(() => {
    const f = (e) => kinds.includes(e.detail.kind) && setN((x) => x + 1);
    addEventListener("sirsi-change", f);
    return () => removeEventListener("sirsi-change", f);
  }, [kinds.join(",")]);
  return n;
}

function useData(load, deps) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    let live = true;
    load()
      .then((data) => live && setState({ data }))
      .catch((err) => live && setState({ error: err.message }));
    return () => {
      live = false;
    };
  }, deps);
  return state;
}

function Loading({ state, children }) {
  if (state.error) return <p class="error" role="alert">{state.error}</p>;
  if (!state.data) return <p class="muted">Loading…</p>;
  return children;
}

function Figure({ label, value, id, sub }) {
  return (
    <div class="figure">
      <div class="label">{label}</div>
      <div class="value" data-testid={id}>{value}</div>
      {sub && <div class="muted">{sub}</div>}
    </div>
  );
}

// Overview needs nothing of the session (the server knows the tenant from
// the cookie), so it is drawn without waiting for it.
function Overview() {
  const tick = useLive(watches.overview);
  const st = useData(() => early("overview"), [tick]);
  return (
    <Loading state={st}>
      {st.data && (
        <section>
          <div class="figures">
            <Figure label={`Cost ${st.data.start} – ${st.data.end}`} value={money(st.data.costs.total)} id="cost-total" />
            <Figure label="Forecast, month end" value={money(st.data.costs.forecast_month_end)} id="cost-forecast" />
            <Figure label="Savings accrued to date" value={money(st.data.savings.to_date?.accrued_savings)} id="savings-accrued" />
            <Figure label="Savings run rate / month" value={money(st.data.savings.monthly_run_rate)} id="savings-run-rate" sub={`${money(st.data.savings.annualized_run_rate)} a year`} />
            <Figure label="Open recommendations / month" value={money(st.data.open_recommendations.total_monthly_savings)} id="open-savings" />
          </div>
          <h2>Daily cost by service</h2>
          <CostChart periods={st.data.costs.periods} />
          <table>
            <thead><tr><th>Service</th><th class="num">30 days</th></tr></thead>
            <tbody>
              {(st.data.costs.items || []).map((i) => (
                <tr key={i.key}><td>{i.key}</td><td class="num">{money(i.amount)}</td></tr>
              ))}
            </tbody>
          </table>
          <h2>Cost anomalies</h2>
          <Table
            rows={st.data.anomalies.anomalies || []}
            empty="No anomalies."
            cols={[
              ["Day", (a) => a.day],
              ["Service", (a) => a.service],
              ["Expected", (a) => money(a.expected_amount), "num"],
              ["Actual", (a) => money(a.actual_amount), "num"],
              ["Score", (a) => (a.score || 0).toFixed(1), "num"],
            ]}
          />
        </section>
      )}
    </Loading>
  );
}

function Table({ rows, cols, empty, rowKey, testid }) {
  if (rows.length === 0) return <p class="muted">{empty}</p>;
  return (
    <table data-testid={testid}>
      <thead><tr>{cols.map(([h, , cls]) => <th class={cls}>{h}</th>)}</tr></thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={rowKey ? rowKey(r) : i}>{cols.map(([, f, cls]) => <td class={cls}>{f(r)}</td>)}</tr>
        ))}
      </tbody>
    </table>
  );
}

// Paged lists: the server pages (page_token); the browser keeps the
// tokens of the pages before so it can go back.
function usePaged(method, base, key, deps) {
  const [tokens, setTokens] = useState([""]);
  useEffect(() => setTokens([""]), [JSON.stringify(base)]);
  const page = tokens[tokens.length - 1];
  const st = useData(() => get(method, { ...base, page_token: page }), [JSON.stringify(base), page, ...deps]);
  const next = st.data?.next_page_token;
  const pager = (
    <div class="pager">
      <button disabled={tokens.length === 1} onClick={() => setTokens(tokens.slice(0, -1))}>Previous</button>
      <span class="muted">page {tokens.length}</span>
      <button disabled={!next} onClick={() => setTokens([...tokens, next])} data-testid="next-page">Next</button>
    </div>
  );
  return { st, rows: st.data?.[key] || [], pager };
}

// utilValue shows a utilisation summary's value: a percentage for the
// *_utilization metrics, otherwise the number (bytes, counts, ms).
function utilValue(u) {
  const v = Number(u.value || 0);
  return u.metric.endsWith("_utilization") ? `${v.toFixed(1)}%` : v.toLocaleString("en-US", { maximumFractionDigits: 1 });
}

// The utilisation summaries of one resource (matched by account, region
// and id: an id is unique only within an account and region).
function Utilization({ r, summaries }) {
  const own = summaries.filter((u) => u.resource_id === r.resource_id && u.cloud_account_id === r.cloud_account_id && u.region === r.region);
  if (own.length === 0) return "—";
  return (
    <ul class="util">
      {own.map((u) => <li data-util={`${u.metric} ${u.statistic}`}>{u.metric} {u.statistic} {utilValue(u)}</li>)}
    </ul>
  );
}

// The inventory: the server filters, searches and pages (ListResources,
// /ui/api/inventory adds the page's utilisation); the browser never holds
// more than a page.
function Inventory({ session }) {
  const tick = useLive(watches.inventory);
  const [filter, setFilter] = useState({ query: "", type: "", region: "" });
  const [draft, setDraft] = useState(filter);
  const base = { tenant_id: session.tenant_id, page_size: 50, ...Object.fromEntries(Object.entries(filter).filter(([, v]) => v.trim())) };
  const { st, rows, pager } = usePaged("inventory", base, "resources", [tick]);
  const field = (k, label, size) => (
    <label>{label} <input name={k} size={size} value={draft[k]} onInput={(e) => setDraft({ ...draft, [k]: e.currentTarget.value })} /></label>
  );
  const summaries = st.data?.utilization || [];
  return (
    <section>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); setFilter(draft); }}>
        {field("query", "Search", 30)} {field("type", "Type")} {field("region", "Region")}
        <button type="submit" data-testid="search">Search</button>
      </form>
      <p class="muted">Search matches every word in the name, id, type, tag keys and values (case of A–Z ignored).</p>
      <Loading state={st}>
        <Table
          testid="resources"
          rows={rows}
          empty="No resources match."
          rowKey={(r) => `${r.cloud_account_id}/${r.region}/${r.resource_id}`}
          cols={[
            ["Resource", (r) => <span data-resource={r.resource_id}>{r.resource_id}</span>],
            ["Name", (r) => r.name],
            ["Type", (r) => r.type],
            ["Region", (r) => r.region],
            ["Size", (r) => r.size],
            ["State", (r) => r.state + (r.stale ? " (stale)" : "")],
            ["Monthly cost", (r) => <span data-cost>{money(r.monthly_cost)}</span>, "num"],
            ["Utilisation", (r) => <Utilization r={r} summaries={summaries} />],
            ["Tags", (r) => Object.entries(r.tags || {}).sort().map(([k, v]) => `${k}=${v}`).join(", ")],
            ["Last seen", (r) => when(r.last_seen_time)],
          ]}
        />
        {pager}
      </Loading>
    </section>
  );
}

function Evidence({ rec }) {
  return (
    <ul class="evidence">
      {(rec.evidence || []).map((e) => (
        <li>{e.metric} {e.statistic} = {Number(e.value).toFixed(2)} over {e.window_days} days ({Math.round((e.coverage || 0) * 100)}% coverage)</li>
      ))}
      {rec.reason && <li>{rec.reason}</li>}
    </ul>
  );
}

function Recommendations({ session }) {
  const tick = useLive(watches.recommendations);
  const [status, setStatus] = useState("RECOMMENDATION_STATUS_OPEN");
  const [msg, setMsg] = useState("");
  const [done, setDone] = useState(0);
  const base = { tenant_id: session.tenant_id, page_size: 50, status };
  const { st, rows, pager } = usePaged("ListRecommendations", base, "recommendations", [tick, done]);
  const act = useCallback(async (method, rec) => {
    try {
      await post(method, { tenant_id: session.tenant_id, id: rec.id });
      setMsg(`${method === "ApproveRecommendation" ? "Approved" : "Dismissed"} ${rec.id}.`);
      setDone((x) => x + 1);
    } catch (err) {
      setMsg(err.message);
    }
  }, []);
  return (
    <section>
      <label>Status{" "}
        <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          {["OPEN", "APPROVED", "EXECUTED", "DISMISSED", "SUPERSEDED"].map((s) => (
            <option value={"RECOMMENDATION_STATUS_" + s}>{s.toLowerCase()}</option>
          ))}
        </select>
      </label>
      {msg && <p class="notice" role="status">{msg}</p>}
      <Loading state={st}>
        {st.data && <p>Total monthly saving: <strong data-testid="recs-total">{money(st.data.total_monthly_savings)}</strong></p>}
        <Table
          testid="recommendations"
          rows={rows}
          empty="No recommendations."
          rowKey={(r) => r.id}
          cols={[
            ["Resource", (r) => <span data-rec={r.id}>{r.resource_id}</span>],
            ["Action", (r) => `${r.action} ${r.current_size || ""}${r.proposed_size ? " → " + r.proposed_size : ""}`],
            ["Saving / month", (r) => money(r.estimated_monthly_savings), "num"],
            ["Confidence", (r) => Math.round((r.confidence || 0) * 100) + "%", "num"],
            ["Evidence", (r) => <Evidence rec={r} />],
            ["Status", (r) => enumName(r.status, "RECOMMENDATION_STATUS_") + (r.approved_by ? ` by ${r.approved_by}` : "")],
            ["", (r) => r.status === "RECOMMENDATION_STATUS_OPEN" && (
              <span class="buttons">
                {session.may.ApproveRecommendation && <button data-testid="approve" onClick={() => act("ApproveRecommendation", r)}>Approve</button>}
                {session.may.DismissRecommendation && <button data-testid="dismiss" class="secondary" onClick={() => act("DismissRecommendation", r)}>Dismiss</button>}
              </span>
            )],
          ]}
        />
        {pager}
      </Loading>
    </section>
  );
}

function Steps({ action }) {
  return (
    <ol class="steps">
      {(action.steps || []).map((s) => (
        <li class={"step " + s.status}>{when(s.time)} <strong>{s.name}</strong> {s.status} {s.detail}</li>
      ))}
    </ol>
  );
}

function Approver({ session, action }) {
  const st = useData(
    () => (action.recommendation_id ? get("GetRecommendation", { tenant_id: session.tenant_id, id: action.recommendation_id }) : Promise.resolve({})),
    [action.recommendation_id],
  );
  const rec = st.data?.recommendation;
  return <span>{rec?.approved_by ? `${rec.approved_by} at ${when(rec.approve_time)}` : action.recommendation_id ? "policy (auto)" : "—"}</span>;
}

function Actions({ session }) {
  const tick = useLive(watches.actions);
  const base = { tenant_id: session.tenant_id, page_size: 50 };
  const { st, rows, pager } = usePaged("ListActions", base, "actions", [tick]);
  return (
    <Loading state={st}>
      <Table
        testid="actions"
        rows={rows}
        empty="No actions yet."
        rowKey={(a) => a.id}
        cols={[
          ["Started", (a) => when(a.start_time)],
          ["Resource", (a) => a.resource_id],
          ["Action", (a) => `${a.action} ${a.from_size || ""}${a.to_size ? " → " + a.to_size : ""}${a.dry_run ? " (dry run)" : ""}`],
          ["Status", (a) => <span class={"status " + a.status}>{enumName(a.status, "ACTION_STATUS_")}</span>],
          ["Approved by", (a) => <Approver session={session} action={a} />],
          ["Saving / month", (a) => money(a.realized_monthly_savings), "num"],
          ["Steps", (a) => <Steps action={a} />],
          ["Error", (a) => a.error],
        ]}
      />
      {pager}
    </Loading>
  );
}

function Agents({ session }) {
  const tick = useLive(watches.agents);
  const { st, rows, pager } = usePaged("ListAgents", { tenant_id: session.tenant_id, page_size: 50 }, "agents", [tick]);
  return (
    <Loading state={st}>
      <Table
        testid="agents"
        rows={rows}
        empty="No agents enrolled."
        rowKey={(a) => a.id}
        cols={[
          ["Agent", (a) => a.id],
          ["Host", (a) => a.hostname],
          ["Status", (a) => enumName(a.status, "AGENT_STATUS_") + (a.status_detail ? ` (${a.status_detail})` : "")],
          ["Version", (a) => a.version],
          ["Last seen", (a) => when(a.last_seen_time)],
          ["Last success per sweep", (a) => (
            <ul class="sweeps">
              {Object.entries(a.last_sweep_times || {}).sort().map(([k, v]) => <li>{k}: {when(v)}</li>)}
              {Object.entries(a.last_sweep_failures || {}).sort().map(([k, v]) => <li class="error">{k} failed {when(v.time)}: {v.error}</li>)}
            </ul>
          )],
        ]}
      />
      {pager}
    </Loading>
  );
}

function Audit({ session }) {
  const tick = useLive(watches.audit);
  const { st, rows, pager } = usePaged("ListAuditEvents", { tenant_id: session.tenant_id, page_size: 50 }, "events", [tick]);
  return (
    <Loading state={st}>
      <Table
        testid="audit"
        rows={rows}
        empty="No audit events."
        rowKey={(e) => e.id}
        cols={[
          ["Time", (e) => when(e.time)],
          ["Actor", (e) => e.actor],
          ["Action", (e) => e.action],
          ["Target", (e) => e.target],
          ["Outcome", (e) => e.outcome],
          ["Source", (e) => e.source_address],
        ]}
      />
      {pager}
    </Loading>
  );
}

const pages = { overview: Overview, inventory: Inventory, recommendations: Recommendations, actions: Actions, agents: Agents, audit: Audit };

// The event stream: each change becomes a DOM event the views listen to.
function useStream() {
  const [state, setState] = useState("connecting");
  useEffect(() => {
    const es = new EventSource("/ui/api/events");
    es.addEventListener("ready", () => setState("live"));
    es.addEventListener("change", (e) => dispatchEvent(new CustomEvent("sirsi-change", { detail: JSON.parse(e.data) })));
    es.addEventListener("signed-out", () => location.assign("/ui/login"));
    es.onerror = () => setState("reconnecting");
    return () => es.close();
  }, []);
  return state;
}

function App() {
  const hash = useHash();
  const session = useData(() => early("session"), []);
  const stream = useStream();
  if (session.data) setCSRF(session.data.csrf);
  const Page = pages[hash] || Overview;
  return (
    <div class="shell">
      <header>
        <strong>SirsiNexus</strong>
        <nav>
          {views.map(([k, label]) => <a href={"#/" + k} class={k === hash ? "active" : ""}>{label}</a>)}
        </nav>
        <span class="muted" data-testid="stream-state">{stream}</span>
        {session.data && (
          <form method="post" action="/ui/logout" class="logout">
            <span class="muted" data-testid="who">{session.data.actor} · {enumName(session.data.role, "ROLE_")}</span>
            <input type="hidden" name="csrf" value={session.data.csrf} />
            <button type="submit" class="secondary">Sign out</button>
          </form>
        )}
      </header>
      <main data-view={hash}>
        <h1>{(views.find(([k]) => k === hash) || views[0])[1]}</h1>
        {Page === Overview ? <Overview /> : <Loading state={session}>{session.data && <Page session={session.data} />}</Loading>}
      </main>
    </div>
  );
}

render(<App />, document.getElementById("app"));
