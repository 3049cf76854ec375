/// The console's report and comparison pages and the SVG charts they draw (the charts of `factorlab evaluate
/// --html`, drawn in the browser from the stored result and its per-date series). Loaded before the main script,
/// whose helpers (`api`, `view`, `esc`, `num`) it uses at call time.
extension ConsoleAssets {
    static let reportScript = #"""
"use strict";
const GROUP_COLORS = ["#b2182b", "#e08214", "#6e7781", "#4393c3", "#2166ac"];
const finite = (v) => v !== null && v !== undefined && Number.isFinite(v);

function movingAverage(values, window) {
  return values.map((_, k) => {
    const part = values.slice(Math.max(0, k - window + 1), k + 1).filter(finite);
    return part.length ? part.reduce((a, b) => a + b, 0) / part.length : null;
  });
}

// Wealth curve and drawdown of a return series (undefined returns leave the curve flat), as in the HTML report.
function cumulative(returns) {
  let wealth = 1, peak = 1; const curve = [], drawdown = [];
  for (const r of returns) { if (finite(r)) { wealth *= 1 + r; peak = Math.max(peak, wealth); } curve.push(wealth - 1); drawdown.push(wealth / peak - 1); }
  return { curve, drawdown };
}

// Axis ticks at round steps (1, 2 or 5 × 10^k) covering [lo, hi], printed with as many decimals as the step needs.
function niceTicks(lo, hi) {
  const raw = (hi - lo) / 4, power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const first = Math.floor(lo / step + 1e-9) * step, last = Math.ceil(hi / step - 1e-9) * step;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks = [];
  for (let v = first; v <= last + step / 2; v += step) ticks.push(v);
  return { lo: first, hi: last, ticks, label: (v) => (Math.abs(v) < step / 2 ? 0 : v).toFixed(decimals) };
}

// Charts are drawn at the width they will show at, so their labels keep a readable size on a phone.
const chartWidth = () => Math.max(320, Math.min(900, ($("#main")?.clientWidth || 900) - 48));

// A line chart: lines = [{values, color, label, dashed, fill, width}], labels = x labels (dates).
function lineChart(title, lines, labels, { includeZero = true } = {}) {
  const W = chartWidth(), H = 240, L = 56, R = 12, T = 12, B = 28;
  const all = lines.flatMap((l) => l.values.filter(finite));
  if (!all.length) return `<p class="note">${esc(title)}: no values.</p>`;
  let lo = Math.min(...all), hi = Math.max(...all);
  if (includeZero) { lo = Math.min(lo, 0); hi = Math.max(hi, 0); }
  if (hi === lo) { hi += 1e-9 + Math.abs(hi) * 0.05; lo -= 1e-9 + Math.abs(lo) * 0.05; }
  const axis = niceTicks(lo, hi);
  lo = axis.lo; hi = axis.hi;
  const n = Math.max(1, labels.length - 1);
  const x = (k) => L + (W - L - R) * k / n, y = (v) => T + (H - T - B) * (hi - v) / (hi - lo);
  let svg = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>`;
  for (const v of axis.ticks) {
    svg += `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#eaeef2"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${axis.label(v)}</text>`;
  }
  if (includeZero && lo < 0 && hi > 0) svg += `<line x1="${L}" x2="${W - R}" y1="${y(0)}" y2="${y(0)}" stroke="#8c959f"/>`;
  [0, Math.floor(labels.length / 2), labels.length - 1].filter((k, i, a) => k >= 0 && a.indexOf(k) === i)
    .forEach((k) => { svg += `<text x="${x(k)}" y="${H - 8}" text-anchor="${k === 0 ? "start" : k === labels.length - 1 ? "end" : "middle"}">${esc(labels[k])}</text>`; });
  for (const line of lines) {
    // A point with no neighbour is drawn as a dot (a zero-length segment with round caps).
    let d = "", run = 0;
    line.values.forEach((v, k) => {
      if (finite(v)) { d += `${run ? "L" : "M"}${x(k).toFixed(1)},${y(v).toFixed(1)}`; run++; }
      else { if (run === 1) d += "l0,0"; run = 0; }
    });
    if (run === 1) d += "l0,0";
    if (line.fill && d) {
      const first = line.values.findIndex(finite), last = line.values.length - 1 - [...line.values].reverse().findIndex(finite);
      svg += `<path d="${d}L${x(last).toFixed(1)},${y(Math.max(lo, Math.min(hi, 0))).toFixed(1)}L${x(first).toFixed(1)},${y(Math.max(lo, Math.min(hi, 0))).toFixed(1)}Z" fill="${line.fill}" stroke="none"/>`;
    }
    svg += `<path d="${d}" fill="none" stroke="${line.color}" stroke-width="${line.width || 1.4}" stroke-linecap="round"${line.dashed ? ' stroke-dasharray="5 3"' : ""}/>`;
  }
  svg += `</svg>`;
  const legend = lines.map((l) => `<span><i style="background:${l.color}"></i>${esc(l.label)}</span>`).join("");
  return `<figure class="chart"><figcaption>${esc(title)}</figcaption>${svg}<div class="legend">${legend}</div></figure>`;
}

function barChart(title, values, labels) {
  const W = chartWidth(), H = 220, L = 56, R = 12, T = 12, B = 34;
  const vals = values.filter(finite);
  if (!vals.length) return `<p class="note">${esc(title)}: no values.</p>`;
  let lo = Math.min(0, ...vals), hi = Math.max(0, ...vals);
  if (hi === lo) hi = lo + 1e-9;
  const axis = niceTicks(lo, hi);
  lo = axis.lo; hi = axis.hi;
  const slot = (W - L - R) / values.length, y = (v) => T + (H - T - B) * (hi - v) / (hi - lo);
  let svg = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>`;
  for (const v of axis.ticks) {
    svg += `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#eaeef2"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${axis.label(v)}</text>`;
  }
  values.forEach((v, k) => {
    const cx = L + slot * (k + 0.5);
    if (finite(v)) svg += `<rect x="${(cx - slot * 0.35).toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" y="${Math.min(y(v), y(0)).toFixed(1)}" height="${Math.abs(y(v) - y(0)).toFixed(1)}" fill="${v >= 0 ? "#4393c3" : "#d6604d"}"><title>${esc(labels[k])}: ${num(v)}</title></rect>`;
    if (k % Math.ceil(values.length / Math.max(1, Math.floor(W / 60))) === 0) svg += `<text x="${cx}" y="${H - 12}" text-anchor="middle">${esc(labels[k])}</text>`;
  });
  svg += `<line x1="${L}" x2="${W - R}" y1="${y(0)}" y2="${y(0)}" stroke="#8c959f"/></svg>`;
  return `<figure class="chart"><figcaption>${esc(title)}</figcaption>${svg}</figure>`;
}

// Year × month table of the mean Rank IC, coloured by sign and size (text stays dark on every cell).
function monthlyHeatmap(series) {
  const byMonth = new Map();
  for (const s of series) {
    if (!finite(s.rankIC)) continue;
    const m = s.date.slice(0, 7), e = byMonth.get(m) || [0, 0];
    e[0] += s.rankIC; e[1] += 1; byMonth.set(m, e);
  }
  if (!byMonth.size) return `<p class="note">No monthly Rank IC.</p>`;
  const years = [...new Set([...byMonth.keys()].map((m) => m.slice(0, 4)))].sort();
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const scale = Math.max(1e-9, ...[...byMonth.values()].map(([s, c]) => Math.abs(s / c)));
  const cell = (v) => {
    if (v === undefined) return `<td class="n"></td>`;
    const a = Math.min(1, Math.abs(v) / scale) * 0.55, rgb = v >= 0 ? "67,147,195" : "214,96,77";
    return `<td class="n" style="background:rgba(${rgb},${a.toFixed(2)})">${v.toFixed(3)}</td>`;
  };
  return `<table class="heatmap"><thead><tr><th>Year</th>${months.map((m) => `<th class="n">${m}</th>`).join("")}</tr></thead><tbody>`
    + years.map((y) => `<tr><th>${esc(y)}</th>${months.map((_, k) => { const e = byMonth.get(`${y}-${String(k + 1).padStart(2, "0")}`); return cell(e ? e[0] / e[1] : undefined); }).join("")}</tr>`).join("")
    + `</tbody></table>`;
}

const resultQuery = (k) => new URLSearchParams({ run: k.runId, factor: k.factorCode, version: k.factorVersion, universe: k.universe,
  freq: k.frequency, start: k.start, end: k.end, horizon: k.horizon, settings: k.settingsHash }).toString();
const reportLink = (r, text = "report") => `<a href="#/report?${resultQuery(r.key)}">${esc(text)}</a>`;
const sameEvaluation = (a, b) => a.runId === b.runId && a.factorVersion === b.factorVersion && a.universe === b.universe
  && a.frequency === b.frequency && a.start === b.start && a.end === b.end && a.settingsHash === b.settingsHash;

function kpis(r) {
  const items = [["Rank IC mean", num(r.rankICMean)], ["Rank ICIR", num(r.rankICIR, 3)], ["IC mean", num(r.icMean)], ["t (Newey-West)", num(r.rankICNwT, 2)],
    ["Long-short ann.", num(r.lsAnnReturn)], ["Long-short Sharpe", num(r.lsSharpe, 2)], ["Max drawdown", num(r.lsMaxDrawdown)],
    ["Turnover top / bottom", num(r.turnoverTop, 3) + " / " + num(r.turnoverBottom, 3)], ["Autocorrelation", num(r.autocorr, 3)], ["Dates", String(r.n)]];
  return `<div class="grid">${items.map(([k, v]) => `<div class="kpi"><b>${v}</b><span>${k}</span></div>`).join("")}</div>`;
}

// IC within each industry (stored when the evaluation had an industry file), best Rank IC first.
function industrySection(r) {
  const groups = (r.industryIC || []).slice().sort((a, b) => (b.rankICMean ?? -Infinity) - (a.rankICMean ?? -Infinity));
  if (!groups.length) return "";
  return `<section class="card" id="industry-ic"><h2>IC by industry (h = ${r.key.horizon})</h2>${barChart("Rank IC mean by industry",
      groups.map((g) => g.rankICMean), groups.map((g) => g.industry))}
    <div class="wrap"><table><thead><tr><th>Industry</th><th class="n">rows</th><th class="n">IC mean</th><th class="n">Rank IC mean</th></tr></thead><tbody>${
      groups.map((g) => `<tr><td>${esc(g.industry)}</td><td class="n">${g.rows}</td><td class="n">${num(g.icMean)}</td><td class="n">${num(g.rankICMean)}</td></tr>`).join("")}</tbody></table></div></section>`;
}

async function report(_, p) {
  const need = ["run", "factor", "version", "universe", "freq", "start", "end", "horizon", "settings"];
  const missing = need.filter((k) => !p.get(k));
  if (missing.length) throw new Error("This report link is incomplete: missing " + missing.join(", "));
  const [series, siblings, labels] = await Promise.all([
    api("GET", "/results/series?" + p.toString()),
    api("GET", "/results?" + new URLSearchParams({ factor: p.get("factor"), run: p.get("run"), universe: p.get("universe"), freq: p.get("freq") })),
    api("GET", "/settings"),
  ]);
  const r = siblings.find((x) => x.key.horizon === +p.get("horizon") && x.key.factorVersion === +p.get("version")
    && x.key.start === p.get("start") && x.key.end === p.get("end") && x.key.settingsHash === p.get("settings"));
  if (!r) throw new Error("No such result: it may belong to a deleted run.");
  const horizons = siblings.filter((x) => sameEvaluation(x.key, r.key)).sort((a, b) => a.key.horizon - b.key.horizon);
  const dates = series.map((s) => s.date), k = r.key;
  const groups = (series[0]?.groups || []).map((_, g) => cumulative(series.map((s) => s.groups[g])).curve);
  const ls = cumulative(series.map((s) => s.longShort));
  const color = (g) => GROUP_COLORS[Math.round(g * 4 / Math.max(1, groups.length - 1))];
  const hasCoverage = series.some((s) => s.members !== undefined && s.members !== null);
  view(`<section class="card"><div class="row"><h1>${esc(k.factorCode)} <small>v${k.factorVersion} · ${esc(k.universe)} · ${esc(k.frequency)} · ${esc(k.start)} → ${esc(k.end)} · h = ${k.horizon}</small></h1>
      <span><a href="#/factor/${encodeURIComponent(k.factorCode)}">factor</a> · <a href="#/compare?a=${encodeURIComponent(k.factorCode + "@" + k.factorVersion)}">compare</a></span></div>
      <p>Run ${esc(k.runId)} · settings <span class="settings">${esc(labels[k.settingsHash] || k.settingsHash.slice(0, 8))}</span> · delay ${r.delay} · ${r.quantiles} groups${r.error ? ` · <span class="bad">${esc(r.error)}</span>` : ""} · horizons: ${horizons.map((h) => h.key.horizon === k.horizon ? `<b>${h.key.horizon}</b>` : reportLink(h, String(h.key.horizon))).join(" ")}</p>
      ${kpis(r)}</section>
    <section class="card"><h2>IC and Rank IC per date, with 22-bar moving averages</h2>${lineChart("IC series", [
      { values: series.map((s) => s.rankIC), color: "#9ecae1", label: "Rank IC", width: 0.7 },
      { values: movingAverage(series.map((s) => s.rankIC), 22), color: "#08519c", label: "Rank IC, 22-bar mean", width: 1.8 },
      { values: movingAverage(series.map((s) => s.ic), 22), color: "#e6550d", label: "IC, 22-bar mean", dashed: true }], dates)}</section>
    <section class="card"><h2>Cumulative return of each quantile group (equal weight)</h2>${lineChart("Cumulative group returns",
      groups.map((c, g) => ({ values: c, color: color(g), label: "Q" + (g + 1) })), dates)}</section>
    <section class="card"><h2>Long-short (Q${r.quantiles} − Q1): cumulative return and drawdown</h2>${lineChart("Long-short", [
      { values: ls.curve, color: "#2166ac", label: "cumulative long-short", width: 1.6 },
      { values: ls.drawdown, color: "#b2182b", label: "drawdown", width: 0.8, fill: "rgba(178,24,43,0.15)" }], dates)}</section>
    <section class="card"><h2>Mean return by group, per horizon</h2>${barChart("Group means", horizons.flatMap((h) => h.groupMeans),
      horizons.flatMap((h) => h.groupMeans.map((_, g) => `h${h.key.horizon} Q${g + 1}`)))}</section>
    <section class="card"><h2>IC decay: mean Rank IC against the one-bar return k bars later</h2>${r.decay.length
      ? barChart("IC decay", r.decay, r.decay.map((_, lag) => "k=" + lag)) : `<p class="note">Not recorded for this result (stored before decay was kept).</p>`}</section>
    ${industrySection(r)}
    <section class="card"><h2>Monthly mean Rank IC</h2>${monthlyHeatmap(series)}</section>
    <section class="card"><h2>Turnover of the top and bottom groups, and factor rank autocorrelation (22-bar means)</h2>${lineChart("Turnover", [
      { values: movingAverage(series.map((s) => s.turnoverTop), 22), color: "#2166ac", label: "top turnover" },
      { values: movingAverage(series.map((s) => s.turnoverBottom), 22), color: "#b2182b", label: "bottom turnover" },
      { values: movingAverage(series.map((s) => s.autocorr), 22), color: "#1b7837", label: "rank autocorrelation", dashed: true }], dates)}</section>
    <section class="card"><h2>Coverage per date</h2>${lineChart("Coverage", (hasCoverage ? [
      { values: series.map((s) => s.members), color: "#6e7781", label: "members" },
      { values: series.map((s) => s.withFactor), color: "#2166ac", label: "valid factor" },
      { values: series.map((s) => s.withReturn), color: "#e08214", label: "valid return", dashed: true }] : []).concat([
      { values: series.map((s) => s.n), color: "#1b7837", label: "sample" }]), dates, { includeZero: false })}
      <p class="note">Member-rows ${r.memberRows}, with a factor ${r.withFactor}, with a return ${r.withReturn}, in the sample ${r.inSample}. Rows without an IC: ${r.rowsNoIC}${Object.keys(r.noICReasons || {}).length
        ? " (" + Object.entries(r.noICReasons).sort().map(([why, n]) => `${n} × ${esc(why)}`).join(", ") + ")" : ""}.</p></section>`);
}

// "CODE" or "CODE@VERSION".
function parseSide(text) {
  const m = String(text || "").trim().match(/^([^@\s]+)(?:@(\d+))?$/);
  return m ? { code: m[1], version: m[2] ? +m[2] : null } : null;
}

async function loadSide(side) {
  const [detail, results] = await Promise.all([api("GET", "/factors/" + encodeURIComponent(side.code)),
    api("GET", "/results?factor=" + encodeURIComponent(side.code))]);
  const versions = detail.versions, version = side.version ?? versions[versions.length - 1].version;
  const v = versions.find((x) => x.version === version);
  if (!v) throw new Error(`${side.code} has no version ${version} (it has ${versions.map((x) => x.version).join(", ")})`);
  return { code: side.code, version, expression: v.expression, status: detail.factor.status, results: results.filter((r) => r.key.factorVersion === version && !r.error) };
}

async function compare(_, p) {
  const [factorsList, labels] = await Promise.all([api("GET", "/factors"), api("GET", "/settings")]);
  const options = factorsList.map((f) => `<option value="${esc(f.code)}">`).join("");
  const kinds = [...new Set(Object.values(labels))].sort();
  const a = parseSide(p.get("a")), b = parseSide(p.get("b"));
  // Each side may be restricted to results evaluated with some settings ("raw", "neutralize industry", …), so that a
  // factor's raw and industry-neutral results sit side by side.
  const settingsOf = (r) => labels[r.key.settingsHash] || r.key.settingsHash.slice(0, 8);
  const withSettings = (results, words) => words ? results.filter((r) => settingsOf(r).toLowerCase() === words.toLowerCase()) : results;
  let body = "";
  if (a && b) {
    const [A, B] = await Promise.all([loadSide(a), loadSide(b)]);
    // Compare like with like: the latest result of A, and B's latest on the same universe, frequency, window and horizon
    // (and the same settings, unless the second side names its own).
    const wanted = p.get("h") ? +p.get("h") : null;
    const aResults = withSettings(A.results, p.get("as")), bResults = withSettings(B.results, p.get("bs"));
    const pool = wanted === null ? aResults : aResults.filter((r) => r.key.horizon === wanted);
    const ra = pool[pool.length - 1];
    const rb = ra ? [...bResults].reverse().find((r) => r.key.universe === ra.key.universe && r.key.frequency === ra.key.frequency
      && r.key.start === ra.key.start && r.key.end === ra.key.end && r.key.horizon === ra.key.horizon
      && (p.get("bs") || r.key.settingsHash === ra.key.settingsHash)) ?? null : null;
    const metrics = [["IC mean", "icMean", 4], ["ICIR", "icir", 3], ["Rank IC mean", "rankICMean", 4], ["Rank ICIR", "rankICIR", 3],
      ["Rank IC t (Newey-West)", "rankICNwT", 2], ["Rank IC > 0", "rankICPositive", 3], ["Long-short ann. return", "lsAnnReturn", 4],
      ["Long-short Sharpe", "lsSharpe", 2], ["Max drawdown", "lsMaxDrawdown", 4], ["Turnover top", "turnoverTop", 3],
      ["Autocorrelation", "autocorr", 3], ["Dates", "n", 0]];
    const where = (r, other) => r ? `${esc(r.key.universe)} · ${esc(r.key.frequency)} · ${esc(r.key.start)} → ${esc(r.key.end)} · h = ${r.key.horizon} · settings <b class="settings">${esc(settingsOf(r))}</b> · ${reportLink(r)}`
      : other ? `<span class="note">no result on the same universe, frequency, window and horizon</span>` : "no results yet";
    let chart = "";
    if (ra && rb) {
      const [sa, sb] = await Promise.all([api("GET", "/results/series?" + resultQuery(ra.key)), api("GET", "/results/series?" + resultQuery(rb.key))]);
      const dates = [...new Set([...sa, ...sb].map((s) => s.date))].sort();
      const cum = (rows) => { const m = new Map(rows.map((s) => [s.date, s.rankIC])); let t = 0; return dates.map((d) => { const v = m.get(d); if (finite(v)) t += v; return t; }); };
      chart = lineChart("Cumulative Rank IC", [{ values: cum(sa), color: "#2166ac", label: `${A.code} v${A.version}`, width: 1.8 },
        { values: cum(sb), color: "#b2182b", label: `${B.code} v${B.version}`, width: 1.8, dashed: true }], dates);
    }
    body = `<section class="card compare"><div class="side"><h2>${esc(A.code)} <small>v${A.version} · ${esc(A.status)}</small></h2><p class="expr">${esc(A.expression)}</p><p>${where(ra)}</p></div>
      <div class="side"><h2>${esc(B.code)} <small>v${B.version} · ${esc(B.status)}</small></h2><p class="expr">${A.code === B.code ? diff(A.expression, B.expression) : esc(B.expression)}</p><p>${where(rb, ra)}</p></div></section>
      <section class="card"><h2>Figures</h2><table id="comparison"><thead><tr><th>Figure</th><th class="n">${esc(A.code)} v${A.version}</th><th class="n">${esc(B.code)} v${B.version}</th><th class="n">Difference</th></tr></thead><tbody>`
      + metrics.map(([label, key, d]) => { const x = ra?.[key], y = rb?.[key];
        return `<tr><td>${label}</td><td class="n">${num(x, d)}</td><td class="n">${num(y, d)}</td><td class="n">${finite(x) && finite(y) ? num(y - x, d) : "–"}</td></tr>`; }).join("")
      + `</tbody></table></section>${chart ? `<section class="card"><h2>Cumulative Rank IC</h2>${chart}</section>` : ""}`;
  }
  view(`<section class="card"><h1>Compare</h1><p>Two factors, or two versions of one factor (<code>CODE@VERSION</code>).</p>
    <form id="cmp" class="filters"><label>First <input id="ca" list="codes" value="${esc(p.get("a") || "")}" required></label>
    <label>Second <input id="cb" list="codes" value="${esc(p.get("b") || "")}" required></label><datalist id="codes">${options}</datalist>
    <label>Horizon <input id="ch" type="number" min="1" placeholder="latest" value="${esc(p.get("h") || "")}"></label>
    <label>First's settings <input id="cas" list="kinds" placeholder="latest" value="${esc(p.get("as") || "")}"></label>
    <label>Second's settings <input id="cbs" list="kinds" placeholder="as the first" value="${esc(p.get("bs") || "")}"></label>
    <datalist id="kinds">${kinds.map((k) => `<option value="${esc(k)}">`).join("")}</datalist>
    <button type="submit">Compare</button></form></section>${body}`);
  $("#cmp").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = { a: $("#ca").value.trim(), b: $("#cb").value.trim() };
    if ($("#ch").value) q.h = $("#ch").value;
    if ($("#cas").value.trim()) q.as = $("#cas").value.trim();
    if ($("#cbs").value.trim()) q.bs = $("#cbs").value.trim();
    location.hash = "#/compare?" + new URLSearchParams(q);
  });
}
"""#
}
