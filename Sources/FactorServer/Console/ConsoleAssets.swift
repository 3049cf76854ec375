/// The web console: one page, its stylesheet and its script, served by `factorlab serve` (no build step, no
/// request leaves the machine). The script is a small single-page app over the JSON API.
enum ConsoleAssets {
    static let html = #"""
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>FactorLab console</title><link rel="stylesheet" href="/console/console.css"></head>
<body><header><b>FactorLab</b><nav aria-label="Main">
<a href="#/factors">Factors</a><a href="#/register">Register</a><a href="#/jobs">Jobs</a><a href="#/newjob">New job</a>
<a href="#/leaderboard">Leaderboard</a><a href="#/compare">Compare</a><a href="#/alerts">Alerts</a><a href="#/subscriptions">Notifications</a></nav>
<span id="who" class="who"></span><button id="signout" type="button">Sign out</button></header>
<div id="flash"></div><main id="main" tabindex="-1"><p>Loading…</p></main>
<script src="/console/report.js"></script><script src="/console/console.js"></script></body></html>
"""#

    static let css = #"""
:root{--bg:#f6f8fa;--fg:#1f2328;--muted:#59636e;--line:#d0d7de;--accent:#0550ae;--ok:#116329;--bad:#a40e26}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#0d1117;color:#f0f6fc;display:flex;flex-wrap:wrap;align-items:center;gap:6px 18px;padding:10px 20px}
header b{font-size:17px;margin-right:8px}.who{margin-left:auto;color:#c9d1d9;font-size:13px}nav{display:flex;flex-wrap:wrap;gap:4px}
nav a,header button{color:#c9d1d9;text-decoration:none;padding:5px 9px;border-radius:6px;background:none;border:0;font:inherit;cursor:pointer;margin:0}
nav a.active,nav a:hover,nav a:focus,header button:hover,header button:focus{background:#30363d;color:#fff;outline:none}
main{max-width:1150px;margin:0 auto;padding:16px}main:focus{outline:none}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:14px 0;overflow-x:auto}
.narrow{max-width:640px}h1{font-size:21px;margin:0 0 8px}h1 small,h2 small{color:var(--muted);font-weight:400}h2{font-size:16px}
.row{display:flex;justify-content:space-between;align-items:center;gap:12px;flex-wrap:wrap}
table{border-collapse:collapse;width:100%;font-size:13.5px;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eaeef2;white-space:nowrap}th{background:var(--bg)}.n{text-align:right}
a{color:var(--accent)}a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #54aeff;outline-offset:1px}
label{display:block;margin:10px 0 3px;font-weight:600;font-size:13.5px}.filters{display:flex;flex-wrap:wrap;gap:10px;margin:6px 0 12px}
.filters label{margin:0;font-weight:400}input,select,textarea{font:inherit;padding:6px 8px;border:1px solid #8c959f;border-radius:6px;width:100%;color:var(--fg);background:#fff}
.filters input,.filters select{width:auto;min-width:120px}input[type=checkbox]{width:auto}
#rules input,#rules select{width:auto;padding:4px 6px}#rules input[type=number]{width:6em}#rules td.scope input{display:block;width:10em;margin:2px 0}#rules label{margin:0;font-weight:400;white-space:nowrap}
button,.button{display:inline-block;margin-top:12px;padding:7px 14px;border-radius:6px;border:1px solid #116329;background:#1a7f37;color:#fff;font:inherit;font-weight:600;cursor:pointer;text-decoration:none}
.actions button{margin-right:6px}button.secondary{background:#fff;color:#1f2328;border-color:#8c959f;margin:0 0 0 8px;padding:2px 10px;font-weight:400}.expr{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px;background:var(--bg);padding:6px 8px;border-radius:6px;white-space:pre-wrap;word-break:break-all}
ins{background:#aceebb;text-decoration:none}del{background:#ffcecb}mark{background:#ffcecb;outline:1px solid var(--bad)}
.check{min-height:1.5em;margin-top:6px;font-size:13.5px}textarea.code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px;tab-size:4;white-space:pre}pre.traceback{font-size:12.5px;background:var(--bg);padding:6px 8px;border-radius:6px;overflow-x:auto;color:var(--fg)}.ok{color:var(--ok)}.bad{color:var(--bad)}
#flash{max-width:1150px;margin:0 auto;padding:0 16px}.flash{margin:12px 0;padding:10px 14px;border-radius:6px}.flash.error{background:#ffebe9;border:1px solid #ff8182;color:#82071e}.flash.ok{background:#dafbe1;border:1px solid #4ac26b;color:#116329}
.hint{color:#57606a;font-size:14px}
.status{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#eaeef2;color:#24292f}
.status.approved,.status.SUCCESS,.status.delivered{background:#dafbe1;color:#116329}.status.in_review,.status.RUNNING,.status.warning,.status.pending{background:#fff8c5;color:#7d4e00}
.status.deprecated,.status.FAILED,.status.critical,.status.failed,.status.dead,.status.CANCELLED{background:#ffebe9;color:#a40e26}
.versions li{margin:8px 0}fieldset{border:1px solid var(--line);border-radius:6px;margin:10px 0;padding:6px 12px}fieldset label{font-weight:400;display:inline-block;margin-right:14px}progress{width:60%;height:14px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin-top:10px}
.kpi{border:1px solid var(--line);border-radius:6px;padding:8px 10px}.kpi b{display:block;font-size:17px;font-variant-numeric:tabular-nums}.kpi span{color:var(--muted);font-size:12.5px}
.chart{margin:6px 0}.chart figcaption{position:absolute;left:-9999px}.chart svg{width:100%;height:auto;display:block}.chart text{font-size:11px;fill:#59636e}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12.5px;color:var(--muted)}.legend i{display:inline-block;width:14px;height:3px;margin-right:5px;vertical-align:middle}
.note{color:var(--muted);font-size:13px}.heatmap td,.heatmap th{padding:4px 6px}.heatmap caption{text-align:left;color:var(--muted);font-size:13px}
.compare{display:grid;grid-template-columns:1fr 1fr;gap:16px}.compare h2{margin-top:0}
@media (max-width:640px){.compare{grid-template-columns:1fr}main{padding:8px}.card{padding:12px}h1{font-size:18px}table{font-size:12.5px}.filters label{flex:1 1 45%}}
"""#

    static let javascript = #"""
// FactorLab console: a dependency-free single-page app over the JSON API. The token lives in sessionStorage.
"use strict";
const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const num = (v, d = 4) => (v === null || v === undefined || Number.isNaN(v)) ? "–" : Number(v).toFixed(d);
// The role and name come from GET /me on the first page of a visit (route() asks when the header is empty).
const state = { token: sessionStorage.getItem("factorlab.token") || "", role: "", name: "", generation: 0, etags: {} };

// An answer that arrives after the user navigated elsewhere: its page must not replace the new one.
class Stale extends Error {}

// A factor's ETag is kept from the page that showed it, and its changes send it back (If-Match): an edit or a review
// move acts on the version on screen, or is refused with 412 when someone changed the factor meanwhile.
async function api(method, path, body, extraHeaders) {
  const generation = state.generation;
  const response = await fetch(path, {
    method, headers: Object.assign({ "Authorization": "Bearer " + state.token, "Content-Type": "application/json" }, extraHeaders || {}),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const etag = response.headers.get("ETag");
  if (etag && method === "GET") state.etags[path] = etag;
  const text = await response.text();
  if (generation !== state.generation) throw new Stale("navigated away");
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) { const e = new Error(data?.error?.message || response.statusText); e.status = response.status; e.details = data?.error; throw e; }
  return data;
}

// Replaces the page; focus moves to it on navigation, not on a background refresh (keyboard users keep their place).
function view(html, focus = true) { $("#main").innerHTML = html; if (focus) $("#main").focus(); }
let jobPoll;
let liveStream = null;

// The live stream (GET /events, Server-Sent Events) read with fetch so that the token travels in a header; a dropped
// connection comes back after 2 s with Last-Event-ID and misses nothing. stop() ends it (navigation does).
function follow(path, onEvent) {
  const controller = new AbortController();
  let lastId = null, stopped = false;
  (async () => {
    while (!stopped) {
      try {
        const headers = { "Authorization": "Bearer " + state.token, "Accept": "text/event-stream" };
        if (lastId !== null) headers["Last-Event-ID"] = lastId;
        const response = await fetch(path, { headers, signal: controller.signal });
        if (!response.ok) throw new Error("the event stream answered " + response.status);
        const reader = response.body.getReader(), decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
            const block = buffer.slice(0, end), event = {};
            buffer = buffer.slice(end + 2);
            for (const line of block.split("\n")) { const i = line.indexOf(": "); if (i > 0) event[line.slice(0, i)] = line.slice(i + 2); }
            if (event.id) { lastId = event.id; onEvent(event.event, safeJSON(event.data)); }
          }
        }
      } catch (e) { if (stopped) return; }
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  })();
  return { path, stop() { stopped = true; controller.abort(); } };
}
function fail(e) { if (!(e instanceof Stale)) flash(e.message); }
function flash(message, kind = "error") { $("#flash").innerHTML = message ? `<div class="flash ${kind}" role="alert">${esc(message)}</div>` : ""; }

const routes = {
  "signin": signIn, "factors": factors, "factor": factorDetail, "register": register, "jobs": jobs, "job": jobDetail,
  "newjob": newJob, "leaderboard": leaderboard, "alerts": alerts, "subscriptions": subscriptions, "report": report, "compare": compare, "edit": editFactor,
};

// #/name/argument?query: handlers get the decoded argument and the query as URLSearchParams.
async function route() {
  state.generation++;
  clearTimeout(jobPoll);
  jobPoll = null;
  liveStream?.stop();
  liveStream = null;
  flash("");
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, arg] = path.split("/");
  if (!state.token && name !== "signin") { location.hash = "#/signin"; return; }
  if (state.token && !$("#who").textContent) {
    try { await whoAmI(); } catch (e) {
      if (e.status === 401) { sessionStorage.clear(); state.token = ""; location.hash = "#/signin"; flash("That token is no longer valid: sign in again."); return; }
    }
  }
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === "#/" + name));
  // The previous page goes at once: nothing on it can act while the new one loads.
  if (name !== "signin") view(`<p aria-busy="true">Loading…</p>`);
  try { await (routes[name] || factors)(decodeURIComponent(arg || ""), new URLSearchParams(query || "")); }
  catch (e) {
    if (e instanceof Stale) return;
    flash(e.message);
    view(`<p>${esc(e.message)}</p>`);
  }
}

// Who the token belongs to: shown in the header; the role decides which actions are offered.
async function whoAmI() {
  const me = await api("GET", "/me");
  state.role = me.role; state.name = me.name;
  $("#who").textContent = `${me.name} · ${me.role}`;
  return me;
}
const canReview = () => state.role === "reviewer" || state.role === "admin";

function signIn() {
  view(`<section class="card narrow"><h1>Sign in</h1><p>Paste an API token (<code>factorlab create-token NAME --role researcher</code>).</p>
    <form id="signin"><label for="token">Token</label><input id="token" type="password" autocomplete="off" required>
    <button type="submit">Sign in</button></form></section>`);
  $("#signin").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    state.token = $("#token").value.trim();
    try {
      await whoAmI();
      sessionStorage.setItem("factorlab.token", state.token);
      location.hash = "#/factors";
    } catch (e) { state.token = ""; if (!(e instanceof Stale)) flash(e.status === 401 ? "That token is not valid." : e.message); }
  });
}

async function factors() {
  const [list, board] = await Promise.all([api("GET", "/factors"), api("GET", "/leaderboard?top=1000&horizon=1").catch(() => [])]);
  // The leaderboard is best first: keep each factor's first (best) row.
  const icir = new Map();
  for (const r of board) if (!icir.has(r.key.factorCode)) icir.set(r.key.factorCode, r.rankICIR);
  const categories = [...new Set(list.map((f) => f.category))].sort();
  const owners = [...new Set(list.map((f) => f.owner))].sort();
  const tags = [...new Set(list.flatMap((f) => f.tags))].sort();
  const opts = (values) => `<option value="">all</option>` + values.map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join("");
  view(`<section class="card"><div class="row"><h1>Factors <small>${list.length}</small></h1><a class="button" href="#/register">Register a factor</a></div>
    <div class="filters" role="search">
      <label>Search <input id="q" placeholder="code or name"></label>
      <label>Category <select id="fc">${opts(categories)}</select></label>
      <label>Status <select id="fs">${opts(["draft", "in_review", "approved", "deprecated"])}</select></label>
      <label>Owner <select id="fo">${opts(owners)}</select></label>
      <label>Tag <select id="ft">${opts(tags)}</select></label>
      <label>Sort <select id="sort"><option value="icir">latest Rank ICIR</option><option value="code">code</option></select></label>
    </div><div id="table"></div></section>`);
  const render = () => {
    const q = $("#q").value.toLowerCase();
    let rows = list.filter((f) => (!q || (f.code + " " + f.name).toLowerCase().includes(q))
      && (!$("#fc").value || f.category === $("#fc").value) && (!$("#fs").value || f.status === $("#fs").value)
      && (!$("#fo").value || f.owner === $("#fo").value) && (!$("#ft").value || f.tags.includes($("#ft").value)));
    rows.sort($("#sort").value === "code" ? (a, b) => a.code.localeCompare(b.code)
      : (a, b) => (icir.get(b.code) ?? -Infinity) - (icir.get(a.code) ?? -Infinity));
    $("#table").innerHTML = `<table><thead><tr><th>Code</th><th>Name</th><th>Category</th><th>Status</th><th>Owner</th><th>v</th><th class="n">Rank ICIR (h=1)</th></tr></thead><tbody>`
      + rows.map((f) => `<tr><td><a href="#/factor/${encodeURIComponent(f.code)}">${esc(f.code)}</a></td><td>${esc(f.name)}</td><td>${esc(f.category)}</td>
        <td><span class="status ${f.status}">${esc(f.status)}</span></td><td>${esc(f.owner)}</td><td>${f.latestVersion}</td><td class="n">${num(icir.get(f.code), 3)}</td></tr>`).join("")
      + `</tbody></table>`;
  };
  ["#q", "#fc", "#fs", "#fo", "#ft", "#sort"].forEach((s) => $(s).addEventListener("input", render));
  render();
}

function diff(a, b) {
  // Whitespace is kept as tokens, so the diff reads like the expressions as written.
  const ta = a.match(/\s+|\$?\w+|\S/g) || [], tb = b.match(/\s+|\$?\w+|\S/g) || [];
  const m = ta.map(() => Array(tb.length + 1).fill(0)); m.push(Array(tb.length + 1).fill(0));
  for (let i = ta.length - 1; i >= 0; i--) for (let j = tb.length - 1; j >= 0; j--) m[i][j] = ta[i] === tb[j] ? m[i + 1][j + 1] + 1 : Math.max(m[i + 1][j], m[i][j + 1]);
  let i = 0, j = 0, out = "";
  while (i < ta.length || j < tb.length) {
    if (i < ta.length && j < tb.length && ta[i] === tb[j]) { out += esc(ta[i]); i++; j++; }
    else if (j < tb.length && (i === ta.length || m[i][j + 1] >= m[i + 1][j])) { out += `<ins>${esc(tb[j])}</ins>`; j++; }
    else { out += `<del>${esc(ta[i])}</del>`; i++; }
  }
  return out;
}

async function factorDetail(code) {
  const [detail, results, labels] = await Promise.all([api("GET", "/factors/" + encodeURIComponent(code)),
    api("GET", "/results?factor=" + encodeURIComponent(code)), api("GET", "/settings")]);
  const f = detail.factor, versions = detail.versions;
  const canEdit = canReview() || f.owner === state.name;
  // Four eyes: the owner and the author of the latest version cannot approve (the API refuses it too).
  const latest = versions[versions.length - 1];
  const ownWork = f.owner === state.name ? "owner" : latest.author === state.name ? "last editor" : null;
  const reviewable = f.status === "in_review" && canReview();
  const actions = [["submit-review", "Submit for review", f.status === "draft" && canEdit], ["approve", "Approve", reviewable && !ownWork],
    ["deprecate", "Deprecate", f.status !== "deprecated" && canEdit]].filter((a) => a[2])
    .map(([path, label]) => `<button data-action="${path}">${label}</button>`).join(" ")
    + (reviewable && ownWork ? ` <span id="four-eyes" class="hint">Approval needs a second reviewer: you are this factor's ${ownWork}.</span>` : "");
  view(`<section class="card"><div class="row"><h1>${esc(f.code)} <small>${esc(f.name)}</small></h1><span class="status ${f.status}">${esc(f.status)}</span></div>
    <p class="expr">${esc(versions[versions.length - 1].expression)}</p>
    <p>${esc(f.category)} · owner ${esc(f.owner)}${f.tags.length ? " · " + f.tags.map(esc).join(", ") : ""}</p>
    <div class="actions">${actions}${canEdit ? ` <a class="button" href="#/edit/${encodeURIComponent(f.code)}">Edit expression</a>` : ""}</div></section>
    <section class="card"><h2>Versions</h2><ol class="versions">${versions.map((v, k) => `<li><b>v${v.version}</b> ${esc(v.createdAt)} by ${esc(v.author)} — ${esc(v.note)}
      ${canEdit && k < versions.length - 1 ? `<button type="button" class="secondary" data-rollback="${v.version}">Roll back to v${v.version}</button>` : ""}
      <div class="expr">${k === 0 ? esc(v.expression) : diff(versions[k - 1].expression, v.expression)}</div></li>`).join("")}</ol></section>
    <section class="card"><div class="row"><h2>Results</h2><a href="#/compare?a=${encodeURIComponent(f.code)}">Compare with…</a></div>
      ${resultsTable(results.slice(-30).reverse(), labels)}${resultHistory(results)}</section>`);
  document.querySelectorAll("[data-rollback]").forEach((b) => b.addEventListener("click", async () => {
    try { await api("POST", `/factors/${encodeURIComponent(code)}/rollback`, { version: +b.dataset.rollback }, ifMatch(code)); await factorDetail(code); flash(`Rolled back: a new version equal to v${b.dataset.rollback}.`, "ok"); }
    catch (e) { fail(e); }
  }));
  document.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", async () => {
    try { await api("POST", `/factors/${encodeURIComponent(code)}/${b.dataset.action}`, undefined, ifMatch(code)); await factorDetail(code); flash("Done.", "ok"); }
    catch (e) { fail(e); }
  }));
}

// How the factor's Rank IC mean moved from run to run, on its most evaluated universe, frequency and horizon.
function resultHistory(results) {
  const ok = results.filter((r) => !r.error), count = new Map();
  ok.forEach((r) => { const k = `${r.key.universe}|${r.key.frequency}|${r.key.horizon}`; count.set(k, (count.get(k) || 0) + 1); });
  const best = [...count.entries()].sort((a, b) => b[1] - a[1])[0];
  if (!best || best[1] < 2) return "";
  const rows = ok.filter((r) => `${r.key.universe}|${r.key.frequency}|${r.key.horizon}` === best[0]);
  const [u, q, h] = best[0].split("|");
  return `<h2>History <small>${esc(u)} · ${esc(q)} · h = ${esc(h)}</small></h2>` + lineChart("Rank IC mean by run",
    [{ values: rows.map((r) => r.rankICMean), color: "#08519c", label: "Rank IC mean", width: 1.8 },
     { values: rows.map((r) => r.icMean), color: "#e6550d", label: "IC mean", dashed: true }], rows.map((r) => r.createdAt.slice(0, 16)));
}

// Results as a table; with `labels` (settings hash → words, from GET /settings) a column says how each was evaluated.
function resultsTable(rows, labels) {
  if (!rows.length) return `<p>No results yet.</p>`;
  return `<table><thead><tr><th>Factor</th><th>Run</th><th>Universe</th><th>Freq</th><th>Window</th>${labels ? "<th>Settings</th>" : ""}<th class="n">h</th><th class="n">IC</th><th class="n">Rank IC</th><th class="n">Rank ICIR</th><th class="n">LS Sharpe</th></tr></thead><tbody>`
    + rows.map((r) => `<tr><td>${reportLink(r, r.key.factorCode + " v" + r.key.factorVersion)}</td><td>${esc(r.key.runId.slice(0, 8))}</td><td>${esc(r.key.universe)}</td><td>${esc(r.key.frequency)}</td><td>${esc(r.key.start)}…${esc(r.key.end)}</td>${labels ? `<td>${esc(labels[r.key.settingsHash] || r.key.settingsHash.slice(0, 8))}</td>` : ""}
      <td class="n">${r.key.horizon}</td><td class="n">${num(r.icMean)}</td><td class="n">${num(r.rankICMean)}</td><td class="n">${num(r.rankICIR, 3)}</td><td class="n">${num(r.lsSharpe, 2)}</td></tr>`).join("")
    + `</tbody></table>`;
}

// Validates #expression as the user types (debounced), showing the canonical form or the error with its span
// marked in #check; returns the check so a form can run it again after a refused submit.
function liveValidation() {
  let timer, latest = 0;
  async function validate() {
    if (!$("#expression")) return;  // the user left the form before the timer fired
    const text = $("#expression").value, mine = ++latest;
    if (!text.trim()) { $("#check").innerHTML = ""; return; }
    try {
      const v = await api("POST", "/expressions/validate", { expression: text });
      if (!$("#check") || mine !== latest) return;  // a newer check answers for newer text
      $("#check").innerHTML = `<span class="ok">✓ ${esc(v.canonical)}</span><br>fields ${v.fields.map(esc).join(" ")} · look-back ${v.lookbackRows ?? "whole history"} rows`;
    } catch (e) {
      if (e instanceof Stale || !$("#check") || mine !== latest) return;
      if (e.details?.position == null) { $("#check").innerHTML = `<span class="bad">${esc(e.message)}</span>`; return; }
      // Positions count characters as Swift does (grapheme clusters), not UTF-16 units.
      const g = [...new Intl.Segmenter().segment(text)].map((x) => x.segment), p = e.details.position - 1, n = e.details.length ?? 1;
      $("#check").innerHTML = `<span class="bad">${esc(e.message)}</span><div class="expr">${esc(g.slice(0, p).join(""))}<mark>${esc(g.slice(p, p + n).join("") || " ")}</mark>${esc(g.slice(p + n).join(""))}</div>`;
    }
  }
  $("#expression").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(validate, 250); });
  return validate;
}

// A Python factor to start from: Ref($close, 20)/$close - 1 in numpy.
const PYTHON_TEMPLATE = `import numpy as np

fields = ["close"]
lookback = 20


def factor(data):
    close = data["close"]                 # (instruments, dates), NaN where missing
    earlier = np.full_like(close, np.nan)
    earlier[:, 20:] = close[:, :-20]      # Ref($close, 20)
    return earlier / close - 1
`;

// Validates #source as registration would (compile, fields, warm-up, look-ahead) once the user pauses typing: each
// check runs the code on the sample twice, so it waits longer than the expression check. Tab indents.
function pythonValidation(codeOf) {
  let timer, latest = 0;
  async function validate() {
    if (!$("#source")) return;
    const text = $("#source").value, mine = ++latest;
    if (!text.trim()) { $("#check").innerHTML = ""; return; }
    $("#check").innerHTML = `<span>checking on the sample…</span>`;
    try {
      const v = await api("POST", "/python/validate", { code: codeOf(), source: text });
      if (!$("#check") || mine !== latest) return;
      $("#check").innerHTML = `<span class="ok">✓ fields ${v.fields.map(esc).join(" ")} · look-back ${v.lookbackRows} rows · warm-up on ${v.sampleCells} cells: `
        + `${(v.nanRatio * 100).toFixed(1)} % NaN, ${(v.infRatio * 100).toFixed(1)} % inf · reads no later row</span>`;
    } catch (e) {
      if (e instanceof Stale || !$("#check") || mine !== latest) return;
      const [first, ...rest] = e.message.split("\n");
      $("#check").innerHTML = `<span class="bad">${esc(first)}</span>${rest.length ? `<pre class="traceback">${esc(rest.join("\n"))}</pre>` : ""}`;
    }
  }
  $("#source").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(validate, 800); });
  $("#source").addEventListener("keydown", (ev) => {
    if (ev.key !== "Tab" || ev.shiftKey) return;
    ev.preventDefault();
    const t = ev.target, at = t.selectionStart;
    t.value = t.value.slice(0, at) + "    " + t.value.slice(t.selectionEnd);
    t.selectionStart = t.selectionEnd = at + 4;
  });
  return validate;
}

// If-Match with the ETag the factor was shown with.
function ifMatch(code) { const tag = state.etags["/factors/" + encodeURIComponent(code)]; return tag ? { "If-Match": tag } : {}; }

async function editFactor(code) {
  const detail = await api("GET", "/factors/" + encodeURIComponent(code));
  const latest = detail.versions[detail.versions.length - 1], python = latest.kind === "python";
  view(`<section class="card narrow"><h1>Edit ${esc(code)} <small>new version after v${latest.version}</small></h1><form id="edit">
    ${python ? `<label for="source">Python source</label><textarea id="source" class="code" rows="18" required spellcheck="false">${esc(latest.expression)}</textarea>`
             : `<label for="expression">Expression</label><textarea id="expression" rows="3" required spellcheck="false">${esc(latest.expression)}</textarea>`}
    <div id="check" class="check" aria-live="polite"></div>
    <label for="note">What changed</label><input id="note" placeholder="e.g. slower window">
    <button type="submit">Save as v${latest.version + 1}</button> <a href="#/factor/${encodeURIComponent(code)}">Cancel</a></form></section>`);
  const validate = python ? pythonValidation(() => code) : liveValidation();
  validate();
  $("#edit").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("PATCH", "/factors/" + encodeURIComponent(code), python ? { expression: $("#source").value, kind: "python", note: $("#note").value }
                                                                       : { expression: $("#expression").value, note: $("#note").value }, ifMatch(code));
      location.hash = "#/factor/" + encodeURIComponent(code);
    } catch (e) { fail(e); validate(); }
  });
}

function register() {
  view(`<section class="card narrow"><h1>Register a factor</h1><form id="reg">
    <label for="code">Code</label><input id="code" required pattern="[A-Za-z][A-Za-z0-9_.\-]*" maxlength="64">
    <label for="kind">Kind</label><select id="kind"><option value="expression">expression</option><option value="python">Python (numpy / pandas)</option></select>
    <div id="exprbox"><label for="expression">Expression</label><textarea id="expression" rows="3" required spellcheck="false"></textarea></div>
    <div id="pybox" hidden><label for="source">Python source: module-level <code>fields</code> and <code>lookback</code>, and <code>def factor(data)</code> returning an (instruments × dates) array</label>
      <textarea id="source" class="code" rows="18" spellcheck="false">${esc(PYTHON_TEMPLATE)}</textarea></div>
    <div id="check" class="check" aria-live="polite"></div>
    <label for="name">Name</label><input id="name"><label for="category">Category</label><input id="category">
    <label for="tags">Tags (comma-separated)</label><input id="tags"><button type="submit">Register</button></form></section>`);
  const checkExpression = liveValidation(), checkPython = pythonValidation(() => $("#code").value.trim());
  const isPython = () => $("#kind").value === "python";
  const validate = () => (isPython() ? checkPython() : checkExpression());
  $("#kind").addEventListener("change", () => {
    $("#exprbox").hidden = isPython(); $("#pybox").hidden = !isPython();
    $("#expression").required = !isPython(); $("#source").required = isPython();
    $("#check").innerHTML = "";
    validate();
  });
  $("#reg").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = isPython() ? { code: $("#code").value.trim(), kind: "python", expression: $("#source").value }
                            : { code: $("#code").value.trim(), expression: $("#expression").value };
    if ($("#name").value.trim()) body.name = $("#name").value.trim();
    if ($("#category").value.trim()) body.category = $("#category").value.trim();
    if ($("#tags").value) body.tags = $("#tags").value.split(",").map((t) => t.trim()).filter(Boolean);
    try { await api("POST", "/factors", body); location.hash = "#/factor/" + encodeURIComponent(body.code); }
    catch (e) { fail(e); validate(); }
  });
}

async function jobs() {
  const list = await api("GET", "/jobs");
  view(`<section class="card"><div class="row"><h1>Jobs</h1><a class="button" href="#/newjob">New job</a></div>
    ${list.length ? `<table><thead><tr><th>Job</th><th>Status</th><th>Created</th><th>Factors</th><th>Universes · windows</th></tr></thead><tbody>`
    + list.slice().reverse().map((j) => { const p = safeJSON(j.parameters) || {}, sel = p.selection || {};
      const what = sel.codes ? sel.codes._0.join(", ") : sel.category ? "category " + sel.category._0 : "all approved";
      return `<tr><td><a href="#/job/${j.id}">${esc(j.id.slice(0, 8))}</a></td><td><span class="status ${j.status}">${esc(j.status)}</span></td><td>${esc(j.createdAt)}</td>
        <td>${esc(what.length > 60 ? what.slice(0, 57) + "…" : what)}</td><td>${esc((p.universes || []).join(", "))} · ${esc((p.windows || []).map((w) => w.start + "…" + w.end).join(", "))}</td></tr>`; }).join("")
    + `</tbody></table>` : `<p>No jobs yet. <a href="#/newjob">Submit one.</a></p>`}</section>`);
}

function newJob() {
  view(`<section class="card narrow"><h1>New job</h1><form id="job">
    <label for="jf">Factors (codes, comma-separated)</label><input id="jf" required>
    <label for="ju">Universes</label><input id="ju" value="csi300">
    <label for="jw">Windows (START:END, comma-separated)</label><input id="jw" value="2019-01-01:2023-12-29">
    <label for="jq">Frequencies</label><input id="jq" value="day">
    <label for="jh">Horizons</label><input id="jh" value="1,5,20">
    <label for="jb">Batch size</label><input id="jb" type="number" min="1" value="8">
    <label><input id="jd" type="checkbox"> include drafts</label>
    <label for="jwz">Winsorize</label><input id="jwz" placeholder="none; mad, mad:3 or quantile:0.01">
    <label for="jn">Neutralize</label><select id="jn"><option value="">none (raw)</option><option>industry</option><option>size</option><option>industry,size</option></select>
    <label for="ji">Industry file (for industry)</label><input id="ji" placeholder="a CSV path the workers can read">
    <label for="jsz">Market value expression (for size)</label><input id="jsz" placeholder="$close*$shares">
    <label><input id="jz" type="checkbox"> z-score each date</label>
    <label><input id="jc" type="checkbox"> compare raw and industry-neutral (needs the industry file)</label>
    <p id="plan" aria-live="polite"></p><button type="submit">Submit</button></form></section>`);
  const list = (id) => $(id).value.split(",").map((s) => s.trim()).filter(Boolean);
  const plan = () => {
    const n = Math.ceil(list("#jf").length / Math.max(1, +$("#jb").value || 1)) * list("#ju").length * list("#jw").length * list("#jq").length
      * ($("#jc").checked ? 2 : 1);
    $("#plan").textContent = `${n} task${n === 1 ? "" : "s"} will be planned`;
  };
  document.querySelectorAll("#job input").forEach((i) => i.addEventListener("input", plan)); plan();
  $("#job").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const body = { factors: list("#jf"), universes: list("#ju"), frequencies: list("#jq"),
        windows: list("#jw").map((w) => { const [start, end] = w.split(":"); return { start, end }; }),
        horizons: list("#jh").map(Number), batchSize: +$("#jb").value, includeDrafts: $("#jd").checked };
      // Evaluation options, sent only when set (the API checks them and names the one it refuses).
      for (const [key, id] of [["winsorize", "#jwz"], ["neutralize", "#jn"], ["industry", "#ji"], ["size", "#jsz"]]) {
        if ($(id).value.trim()) body[key] = $(id).value.trim();
      }
      if ($("#jz").checked) body.zscore = true;
      if ($("#jc").checked) body.compareNeutral = true;
      const r = await api("POST", "/jobs", body);
      location.hash = "#/job/" + r.job.id;
    } catch (e) { fail(e); }
  });
}

const safeJSON = (text) => { try { return JSON.parse(text); } catch { return null; } };

// A job's evaluation options in the words the CLI's tables use ("raw" when there are none).
function optionsSummary(o) {
  if (!o) return "raw";
  const parts = [];
  if (o.winsorize) parts.push("winsorize " + o.winsorize);
  if (o.neutralize) parts.push("neutralize " + o.neutralize + (o.size ? ` (size ${o.size})` : ""));
  if (o.zscore) parts.push("zscore");
  if (o.label) parts.push("label " + o.label);
  if (o.minNames) parts.push("min-names " + o.minNames);
  if (o.decayLags != null) parts.push("decay-lags " + o.decayLags);
  return parts.length ? parts.join(" · ") : "raw";
}

// What the job asked for, from its stored request.
function jobParameters(job) {
  const p = safeJSON(job.parameters);
  if (!p) return `created ${esc(job.createdAt)}`;
  const sel = p.selection || {};
  const what = sel.codes ? sel.codes._0.join(", ") : sel.category ? "category " + sel.category._0 : "all approved factors";
  return [`created ${esc(job.createdAt)}`, esc(what) + (p.includeDrafts ? " (drafts included)" : ""), esc((p.universes || []).join(", ")),
    esc((p.windows || []).map((w) => w.start + "…" + w.end).join(", ")), esc((p.frequencies || []).join(", ")),
    "horizons " + esc((p.horizons || []).join(", ")), `delay ${p.delay} · ${p.quantiles} groups · batch ${p.batchSize}`,
    "settings " + esc(optionsSummary(p.options)) + (p.compareNeutral ? " and industry-neutral" : ""),
    job.summaryAt ? "summary stored " + esc(job.summaryAt) : ""].filter(Boolean).join(" · ");
}

// The summary lives in the database; the download carries the token, so it is fetched rather than linked.
async function downloadSummary(id) {
  const response = await fetch(`/jobs/${encodeURIComponent(id)}/summary.csv`, { headers: { "Authorization": "Bearer " + state.token } });
  if (!response.ok) { const data = safeJSON(await response.text()); throw new Error(data?.error?.message || response.statusText); }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = id + ".csv";
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function jobDetail(id, refresh = false) {
  const d = await api("GET", "/jobs/" + encodeURIComponent(id));
  const activeAction = document.activeElement?.dataset?.job;
  const counts = {}; d.tasks.forEach((t) => { counts[t.status] = (counts[t.status] || 0) + 1; });
  const done = (counts.SUCCESS || 0) + (counts.FAILED || 0) + (counts.CANCELLED || 0);
  const running = ["PENDING", "RUNNING"].includes(d.job.status);
  const jobActions = (running ? `<button data-job="cancel">Cancel what has not started</button>` : "")
    + (!running && (counts.FAILED || 0) > 0 ? `<button data-job="retry">Retry the failed tasks</button>` : "")
    + (d.job.summaryAt ? `<button type="button" id="summary-csv">Download the summary CSV</button>` : "");
  view(`<section class="card"><div class="row"><h1>Job ${esc(d.job.id.slice(0, 8))}</h1><span class="status ${d.job.status}">${esc(d.job.status)}</span></div>
    <progress max="${d.tasks.length}" value="${done}" aria-label="tasks done"></progress> <span>${done}/${d.tasks.length} tasks</span>
    <div class="actions">${jobActions}</div>
    <p>${jobParameters(d.job)}</p>
    ${d.job.error ? `<p class="bad">${esc(d.job.error)}</p>` : ""}
    <table><thead><tr><th>Task</th><th>Factors</th><th>Universe · window · freq</th><th>Status</th><th class="n">Attempts</th><th class="n">Seconds</th><th>Error</th></tr></thead><tbody>`
    + d.tasks.map((t) => { const p = safeJSON(t.payload) || {};
      const secs = t.startedAt && t.finishedAt ? ((Date.parse(t.finishedAt) - Date.parse(t.startedAt)) / 1000).toFixed(2) : "";
      return `<tr><td>${esc(t.id)}</td><td>${esc((p.factors || []).map((f) => f.code).join(", "))}</td><td>${esc([p.universe, p.start && p.start + "…" + p.end, p.frequency].filter(Boolean).join(" · "))}</td>
        <td><span class="status ${t.status}">${esc(t.status)}</span></td><td class="n">${t.attempts}</td><td class="n">${secs}</td><td>${esc(t.error || "")}</td></tr>`; }).join("")
    + `</tbody></table></section><section class="card"><h2>Top factors by Rank ICIR</h2>${resultsTable(d.top)}</section>`, !refresh);
  if (activeAction) $(`[data-job="${activeAction}"]`)?.focus();
  $("#summary-csv")?.addEventListener("click", () => downloadSummary(id).catch(fail));
  document.querySelectorAll("[data-job]").forEach((b) => b.addEventListener("click", async () => {
    try { await api("POST", `/jobs/${encodeURIComponent(id)}/${b.dataset.job}`); await jobDetail(id); flash(b.dataset.job === "cancel" ? "Cancelled." : "Failed tasks queued again.", "ok"); }
    catch (e) { fail(e); }
  }));
  // Live: the job's events (task ends, its end with the summary, its alerts) redraw the page; no polling. The stream
  // replays the job's events from the start, so nothing that happened before it connected is missed.
  const path = "/events?after=0&job=" + encodeURIComponent(id);
  if (liveStream?.path !== path) {
    liveStream?.stop();
    const generation = state.generation;
    // Throttled, not debounced: a busy job still redraws every 300 ms.
    liveStream = follow(path, () => {
      if (jobPoll) return;
      jobPoll = setTimeout(() => { jobPoll = null; if (generation === state.generation) jobDetail(id, true).catch(fail); }, 300);
    });
  }
}

async function leaderboard(_, p) {
  const q = new URLSearchParams({ top: p.get("top") || "50", by: p.get("by") || "rank_icir" });
  for (const k of ["universe", "freq", "horizon", "start", "end", "settings"]) if (p.get(k)) q.set(k, p.get(k));
  const [rows, labels] = await Promise.all([api("GET", "/leaderboard?" + q), api("GET", "/settings")]);
  const kinds = [...new Set(Object.values(labels))].sort();
  const metrics = ["rank_icir", "rank_ic_mean", "rank_ic_t", "rank_ic_nw_t", "icir", "ic_mean", "ls_sharpe", "ls_ann_return", "ls_max_drawdown", "autocorr", "turnover_top"];
  view(`<section class="card"><h1>Leaderboard</h1><form id="lb" class="filters">
    <label>Rank by <select id="lby">${metrics.map((m) => `<option${m === q.get("by") ? " selected" : ""}>${m}</option>`).join("")}</select></label>
    <label>Universe <input id="lu" value="${esc(p.get("universe") || "")}" placeholder="all"></label>
    <label>Frequency <input id="lf" value="${esc(p.get("freq") || "")}" placeholder="all"></label>
    <label>Horizon <input id="lh" type="number" min="1" value="${esc(p.get("horizon") || "")}" placeholder="all"></label>
    <label>Window start <input id="ls" value="${esc(p.get("start") || "")}" placeholder="any" size="10"></label>
    <label>Window end <input id="le" value="${esc(p.get("end") || "")}" placeholder="any" size="10"></label>
    <label>Settings <input id="lst" list="lsk" value="${esc(p.get("settings") || "")}" placeholder="all"><datalist id="lsk">${kinds.map((k) => `<option value="${esc(k)}">`).join("")}</datalist></label>
    <label>Top <input id="lt" type="number" min="1" max="1000" value="${esc(q.get("top"))}"></label>
    <button type="submit">Apply</button></form>
    ${resultsTable(rows, labels)}</section>`);
  const apply = () => {
    const next = new URLSearchParams({ by: $("#lby").value, top: $("#lt").value || "50" });
    [["universe", "#lu"], ["freq", "#lf"], ["horizon", "#lh"], ["start", "#ls"], ["end", "#le"], ["settings", "#lst"]].forEach(([k, id]) => { if ($(id).value.trim()) next.set(k, $(id).value.trim()); });
    location.hash = "#/leaderboard?" + next;
  };
  $("#lb").addEventListener("submit", (ev) => { ev.preventDefault(); apply(); });
}

const ruleKinds = ["slow_task", "task_failures", "ic_drop", "rank_ic_drift", "coverage", "sample_size", "nan_ratio"];
const csv = (v) => v.split(",").map((x) => x.trim()).filter(Boolean);

async function alerts(_, p) {
  const open = p.get("open") === "1";
  const [rows, rules] = await Promise.all([api("GET", "/alerts?limit=200" + (open ? "&open=true" : "")), api("GET", "/alert-rules")]);
  const figures = (f) => Object.keys(f || {}).sort().map((k) => `${esc(k)} ${num(f[k], Math.abs(f[k]) >= 100 ? 0 : 4)}`).join(" · ");
  const scope = (s) => ["factors", "categories", "universes"].filter((k) => s[k].length).map((k) => `${k} ${s[k].map(esc).join(",")}`).join(" · ") || "all";
  const edit = canReview();
  view(`<section class="card"><div class="row"><h1>Alerts</h1><a href="#/alerts${open ? "" : "?open=1"}">${open ? "Show all" : "Only unacknowledged"}</a></div>`
    + (rows.length ? `<table><thead><tr><th>Time</th><th>Rule</th><th>Severity</th><th>Subject</th><th>Message</th><th>Figures</th><th>Acknowledged</th></tr></thead><tbody>`
    + rows.map((a) => `<tr><td>${esc(a.createdAt)}</td><td>${esc(a.rule)}</td><td><span class="status ${a.severity}">${esc(a.severity)}</span></td><td>${esc(a.subject)}</td><td>${esc(a.message)}</td>
      <td>${figures(a.figures)}</td><td>${a.acknowledgedBy ? `by ${esc(a.acknowledgedBy)}` : `<button type="button" class="secondary" data-ack="${a.id}">Acknowledge</button>`}</td></tr>`).join("")
    + `</tbody></table>` : "<p>No alerts.</p>") + `</section>
    <section class="card"><h2>Rules</h2><p class="note">Evaluated when a job ends; a change applies to the next job. A muted rule raises nothing.${edit ? "" : " Reviewers and admins change them."}</p>
    <table id="rules"><thead><tr><th>Rule</th><th>Kind</th><th class="n">Threshold</th><th class="n">Look-back</th><th>Severity</th><th>Scope</th><th>State</th>${edit ? "<th></th>" : ""}</tr></thead><tbody>`
    + rules.map((r) => `<tr data-rule="${esc(r.id)}"><td>${esc(r.id)}</td><td>${esc(r.kind)}</td>`
      + (edit ? `<td class="n"><input aria-label="${esc(r.id)} threshold" name="threshold" type="number" step="any" value="${r.threshold}" size="7"></td>
        <td class="n"><input aria-label="${esc(r.id)} look-back" name="lookback" type="number" min="0" value="${r.lookback}" size="4"></td>
        <td><select aria-label="${esc(r.id)} severity" name="severity">${["info", "warning", "critical"].map((v) => `<option${v === r.severity ? " selected" : ""}>${v}</option>`).join("")}</select></td>
        <td class="scope"><input aria-label="${esc(r.id)} factors" name="factors" value="${esc(r.scope.factors.join(","))}" placeholder="factors" size="9">
            <input aria-label="${esc(r.id)} categories" name="categories" value="${esc(r.scope.categories.join(","))}" placeholder="categories" size="9">
            <input aria-label="${esc(r.id)} universes" name="universes" value="${esc(r.scope.universes.join(","))}" placeholder="universes" size="9"></td>
        <td><label><input type="checkbox" name="muted"${r.muted ? " checked" : ""}> muted</label></td><td><button type="button" data-save-rule="${esc(r.id)}">Save</button></td>`
        : `<td class="n">${r.threshold}</td><td class="n">${r.lookback}</td><td>${esc(r.severity)}</td><td>${scope(r.scope)}</td><td>${r.muted ? "muted" : "active"}</td>`)
      + `</tr>`).join("") + `</tbody></table>`
    + (edit ? `<form id="newrule" class="filters"><label>New rule <input id="rid" required placeholder="ic_drop_momentum" size="14"></label>
      <label>Kind <select id="rkind">${ruleKinds.map((k) => `<option>${k}</option>`).join("")}</select></label>
      <label>Threshold <input id="rthreshold" type="number" step="any" required size="7"></label>
      <label>Categories <input id="rcategories" placeholder="all" size="10"></label><button type="submit">Add</button></form>` : "")
    + `</section>`);
  document.querySelectorAll("[data-ack]").forEach((b) => b.addEventListener("click", async () => {
    try { await api("POST", `/alerts/${b.dataset.ack}/acknowledge`); await alerts(_, p); flash("Acknowledged.", "ok"); } catch (e) { fail(e); }
  }));
  document.querySelectorAll("[data-save-rule]").forEach((b) => b.addEventListener("click", async () => {
    const row = b.closest("tr"), field = (n) => row.querySelector(`[name=${n}]`);
    const body = { threshold: Number(field("threshold").value), lookback: Number(field("lookback").value), severity: field("severity").value,
                   muted: field("muted").checked, scope: { factors: csv(field("factors").value), categories: csv(field("categories").value), universes: csv(field("universes").value) } };
    try { await api("PUT", `/alert-rules/${encodeURIComponent(b.dataset.saveRule)}`, body); await alerts(_, p); flash(`Rule ${b.dataset.saveRule} saved; it applies to the next job.`, "ok"); }
    catch (e) { fail(e); }
  }));
  $("#newrule")?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { kind: $("#rkind").value, threshold: Number($("#rthreshold").value), scope: { categories: csv($("#rcategories").value) } };
    try { await api("PUT", `/alert-rules/${encodeURIComponent($("#rid").value.trim())}`, body); await alerts(_, p); flash("Rule added.", "ok"); }
    catch (e) { fail(e); }
  });
}

async function subscriptions() {
  const subs = await api("GET", "/subscriptions");
  const deliveries = await Promise.all(subs.map((s) => api("GET", `/subscriptions/${s.id}/deliveries`)));
  const events = ["job.succeeded", "job.failed", "factor.approved", "alert.raised"];
  const filter = (f) => [["factors", f.factors], ["categories", f.categories], ["universes", f.universes], ["alerts", f.alertRules]]
    .filter(([, v]) => v.length).map(([k, v]) => `${k} ${v.map(esc).join(",")}`).join(" · ") || "everything";
  view(`<section class="card"><h1>Subscriptions</h1>` + (subs.length ? subs.map((s, k) => `<div class="row"><h2>${esc(s.kind)} · ${esc(s.url)}</h2>
    <span><span class="status ${s.active ? "delivered" : "pending"}">${s.active ? "active" : "paused"}</span>
    <button type="button" data-sub="${esc(s.id)}" data-act="${s.active ? "pause" : "resume"}">${s.active ? "Pause" : "Resume"}</button></span></div>
    <p>${s.events.map(esc).join(", ")} · ${filter(s.filter)} · created ${esc(s.createdAt)}</p>
    ${deliveries[k].some((d) => d.status === "dead") ? `<p><button type="button" data-redeliver-sub="${esc(s.id)}">Redeliver every dead delivery</button></p>` : ""}
    ${deliveries[k].length ? `<table><thead><tr><th>Delivery</th><th>Event</th><th>Status</th><th class="n">Attempts</th><th>Last error</th><th></th></tr></thead><tbody>`
    + deliveries[k].map((d) => `<tr><td>${d.id}</td><td>${esc(d.event)}</td><td><span class="status ${d.status}">${esc(d.status)}</span></td><td class="n">${d.attempts}</td><td>${esc(d.lastError || "")}</td>
      <td>${d.status === "dead" ? `<button type="button" class="secondary" data-redeliver="${d.id}">Redeliver</button>` : ""}</td></tr>`).join("")
    + `</tbody></table>` : `<p class="note">No deliveries yet.</p>`}`).join("") : "<p>No subscriptions.</p>") + `</section>
    <section class="card narrow"><h2>Subscribe</h2><form id="sub"><label for="skind">Channel</label>
    <select id="skind">${[["webhook", "Webhook (signed JSON)"], ["email", "Email"], ["dingtalk", "DingTalk robot"], ["feishu", "Feishu / Lark bot"], ["wecom", "WeCom robot"], ["slack", "Slack incoming webhook"]]
      .map(([v, label]) => `<option value="${v}">${label}</option>`).join("")}</select>
    <label for="surl" id="surl-label">URL</label><input id="surl" required placeholder="https://example.org/hooks/factorlab">
    <fieldset><legend>Events</legend>${events.map((e) => `<label><input type="checkbox" name="ev" value="${e}" checked> ${e}</label>`).join("")}</fieldset>
    <label for="ssecret" id="ssecret-label">Secret (optional, 16+ characters; one is made up otherwise)</label><input id="ssecret" autocomplete="off">
    <fieldset><legend>Only about (optional, comma-separated)</legend>
    <label for="sfactors">Factors</label><input id="sfactors" placeholder="MOM5,VOL20"><label for="scategories">Categories</label><input id="scategories">
    <label for="suniverses">Universes</label><input id="suniverses"><label for="srules">Alert rules</label><input id="srules" placeholder="ic_drop,coverage"></fieldset>
    <button type="submit">Subscribe</button></form><div id="secret" aria-live="polite"></div></section>`);
  const kindHelp = { webhook: ["URL", "https://example.org/hooks/factorlab", "Secret (optional, 16+ characters; one is made up otherwise)"],
    email: ["Addresses (comma-separated)", "quant@example.org", null], dingtalk: ["Robot URL", "https://oapi.dingtalk.com/robot/send?access_token=…", "Signing secret (SEC…, when the robot has one)"],
    feishu: ["Bot URL", "https://open.feishu.cn/open-apis/bot/v2/hook/…", "Signing secret (when the bot has one)"],
    wecom: ["Robot URL", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…", null], slack: ["Webhook URL", "https://hooks.slack.com/services/…", null] };
  $("#skind").addEventListener("change", () => {
    const [label, placeholder, secret] = kindHelp[$("#skind").value];
    $("#surl-label").textContent = label; $("#surl").placeholder = placeholder;
    $("#ssecret").hidden = $("#ssecret-label").hidden = !secret;
    if (secret) $("#ssecret-label").textContent = secret; else $("#ssecret").value = "";
  });
  // A dead delivery goes back to the outbox with its body, so the receiver sees the same event id again.
  document.querySelectorAll("[data-redeliver], [data-redeliver-sub]").forEach((b) => b.addEventListener("click", async () => {
    try {
      const body = b.dataset.redeliver ? { ids: [+b.dataset.redeliver] } : { dead: true, subscription: b.dataset.redeliverSub };
      const done = await api("POST", "/deliveries/redeliver", body);
      await subscriptions();
      flash(`${done.redelivered.length} deliver${done.redelivered.length === 1 ? "y" : "ies"} back in the outbox.`, "ok");
    } catch (e) { fail(e); }
  }));
  document.querySelectorAll("[data-sub]").forEach((b) => b.addEventListener("click", async () => {
    try { await api("POST", `/subscriptions/${b.dataset.sub}/${b.dataset.act}`); await subscriptions(); flash(b.dataset.act === "pause" ? "Paused." : "Resumed.", "ok"); }
    catch (e) { fail(e); }
  }));
  $("#sub").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { kind: $("#skind").value, url: $("#surl").value.trim(), events: [...document.querySelectorAll("input[name=ev]:checked")].map((i) => i.value),
                   filter: { factors: csv($("#sfactors").value), categories: csv($("#scategories").value), universes: csv($("#suniverses").value), alertRules: csv($("#srules").value) } };
    if ($("#ssecret").value) body.secret = $("#ssecret").value;
    try {
      const created = await api("POST", "/subscriptions", body);
      await subscriptions();
      $("#secret").innerHTML = created.secret ? `<p class="flash ok">Subscribed. Signing secret (shown once): <code>${esc(created.secret)}</code></p>`
        : `<p class="flash ok">Subscribed: ${esc(created.kind)} · ${esc(created.url)}.</p>`;
    } catch (e) { fail(e); }
  });
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", () => {
  // A token may arrive once in the URL (#/page?token=…) for links from the CLI: it moves to sessionStorage and out
  // of the address bar and history; a link never silently replaces the token of someone signed in.
  const [page, query = ""] = location.hash.split("?");
  const params = new URLSearchParams(query), linked = params.get("token");
  if (linked) {
    params.delete("token");
    window.history.replaceState(null, "", location.pathname + location.search + page + (params.size ? "?" + params : ""));
    if (!state.token || state.token === linked || confirm("Sign in with the token from this link?")) {
      state.token = linked; sessionStorage.setItem("factorlab.token", linked);
    }
  }
  $("#signout").addEventListener("click", () => { sessionStorage.clear(); state.token = ""; state.role = ""; $("#who").textContent = ""; location.hash = "#/signin"; });
  route();
});
"""#
}
