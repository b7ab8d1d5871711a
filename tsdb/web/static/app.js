// tocsin-tsdb's page: a query box with completion of metric, label and function names, a line
// chart (range query) and a table (instant query) of the result, target health, alerts (from
// tocsin-alertd through /api/v1/alerts) and the TSDB status. No dependencies: plain DOM and SVG.
"use strict";

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

async function api(path, params) {
  const body = new URLSearchParams(params || {});
  const resp = await fetch(path, params ? { method: "POST", body } : {});
  const json = await resp.json();
  if (json.status !== "success") throw new Error((json.errorType ? json.errorType + ": " : "") + json.error);
  return json.data;
}

function seriesName(metric) {
  const name = metric.__name__ || "";
  const labels = Object.keys(metric).filter((k) => k !== "__name__").sort()
    .map((k) => `${k}="${metric[k]}"`).join(", ");
  return labels ? `${name}{${labels}}` : name || "{}";
}

// ---- completion ----------------------------------------------------------------------------

const FUNCTIONS = ("abs absent absent_over_time avg_over_time ceil changes clamp clamp_max clamp_min " +
  "count_over_time day_of_month day_of_week day_of_year days_in_month delta deriv exp floor " +
  "histogram_quantile holt_winters hour idelta increase irate label_join label_replace last_over_time " +
  "ln log10 log2 max_over_time min_over_time minute month predict_linear present_over_time " +
  "quantile_over_time rate resets round scalar sgn sort sort_desc sqrt stddev_over_time " +
  "stdvar_over_time sum_over_time time timestamp vector year sum avg min max count group stddev " +
  "stdvar topk bottomk quantile count_values by without on ignoring group_left group_right offset bool").split(" ");
let metricNames = [], labelNames = [];
let selected = -1;

async function loadNames() {
  try {
    [metricNames, labelNames] = await Promise.all([api("/api/v1/label/__name__/values"), api("/api/v1/labels")]);
  } catch (e) { /* completion is a convenience: the page works without it */ }
}

function currentWord(ta) {
  const upto = ta.value.slice(0, ta.selectionStart);
  const m = upto.match(/[a-zA-Z_:][a-zA-Z0-9_:]*$/);
  return m ? m[0] : "";
}

function suggest() {
  const ta = $("expr"), list = $("suggestions");
  const word = currentWord(ta);
  if (word.length < 1) { list.hidden = true; return; }
  const inBraces = (ta.value.slice(0, ta.selectionStart).match(/\{[^}]*$/) || null) !== null;
  const pool = inBraces ? labelNames.map((n) => [n, "label"])
    : metricNames.map((n) => [n, "metric"]).concat(FUNCTIONS.map((f) => [f, "function"]));
  const hits = pool.filter(([n]) => n.startsWith(word) && n !== word).slice(0, 30);
  if (!hits.length) { list.hidden = true; return; }
  list.innerHTML = hits.map(([n, kind], i) => `<li data-v="${esc(n)}"${i === 0 ? ' class="sel"' : ""}>${esc(n)}<small>${kind}</small></li>`).join("");
  selected = 0;
  list.hidden = false;
}

function complete(value) {
  const ta = $("expr");
  const word = currentWord(ta);
  const pos = ta.selectionStart;
  ta.value = ta.value.slice(0, pos - word.length) + value + ta.value.slice(pos);
  ta.selectionStart = ta.selectionEnd = pos - word.length + value.length;
  $("suggestions").hidden = true;
  ta.focus();
}

function moveSelection(d) {
  const items = $("suggestions").querySelectorAll("li");
  if (!items.length) return;
  items[selected].classList.remove("sel");
  selected = (selected + d + items.length) % items.length;
  items[selected].classList.add("sel");
  items[selected].scrollIntoView({ block: "nearest" });
}

// ---- chart ---------------------------------------------------------------------------------

const COLORS = ["#2f6fd6", "#e8793b", "#17803d", "#b42318", "#7c4dcc", "#0f8f8f", "#c2417a", "#6b7280"];

function fmt(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toPrecision(3) + "G";
  if (a >= 1e6) return (v / 1e6).toPrecision(3) + "M";
  if (a >= 1e3) return (v / 1e3).toPrecision(3) + "k";
  if (a === 0) return "0";
  return v.toPrecision(3);
}

function drawChart(result, start, end) {
  const W = 1100, H = 320, L = 60, R = 10, T = 10, B = 24;
  let lo = Infinity, hi = -Infinity;
  const series = result.map((s) => ({ name: seriesName(s.metric), pts: s.values.map(([t, v]) => [t, parseFloat(v)]).filter(([, v]) => isFinite(v)) }));
  for (const s of series) for (const [, v] of s.pts) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  if (lo === hi) { lo -= 1; hi += 1; }
  const x = (t) => L + (t - start) / (end - start) * (W - L - R);
  const y = (v) => T + (hi - v) / (hi - lo) * (H - T - B);
  let svg = `<svg id="chart-svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" data-series="${series.length}">`;
  for (let i = 0; i <= 4; i++) {
    const v = lo + (hi - lo) * i / 4;
    svg += `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#eef0f3"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`;
  }
  for (let i = 0; i <= 5; i++) {
    const t = start + (end - start) * i / 5;
    const d = new Date(t * 1000);
    const anchor = i === 0 ? "start" : i === 5 ? "end" : "middle";
    svg += `<text x="${x(t)}" y="${H - 6}" text-anchor="${anchor}">${d.toISOString().slice(11, 16)}</text>`;
  }
  series.forEach((s, i) => {
    // A gap of more than two steps breaks the line, as Prometheus's graph does.
    let d = "", prev = null;
    const step = s.pts.length > 1 ? s.pts[1][0] - s.pts[0][0] : 0;
    for (const [t, v] of s.pts) {
      d += (prev === null || (step && t - prev > 2 * step) ? "M" : "L") + x(t).toFixed(1) + "," + y(v).toFixed(1);
      prev = t;
    }
    svg += `<path class="line" d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"/>`;
  });
  svg += "</svg>";
  $("chart").innerHTML = svg;
  $("legend").innerHTML = series.slice(0, 50).map((s, i) => `<span><i style="background:${COLORS[i % COLORS.length]}"></i>${esc(s.name)}</span>`).join("") +
    (series.length > 50 ? `<span>… ${series.length - 50} more</span>` : "");
}

function drawTable(data) {
  let rows = "";
  if (data.resultType === "vector") {
    rows = data.result.map((s) => `<tr><td>${esc(seriesName(s.metric))}</td><td>${esc(s.value[1])}</td></tr>`).join("");
  } else if (data.resultType === "scalar" || data.resultType === "string") {
    rows = `<tr><td>${data.resultType}</td><td>${esc(data.result[1])}</td></tr>`;
  } else if (data.resultType === "matrix") {
    rows = data.result.map((s) => `<tr><td>${esc(seriesName(s.metric))}</td><td>${s.values.map(([t, v]) => esc(v) + " @" + t).join("<br>")}</td></tr>`).join("");
  }
  $("table").innerHTML = `<tr><th>Series</th><th>Value</th></tr>` + (rows || `<tr><td colspan="2">Empty result</td></tr>`);
}

async function runQuery() {
  const expr = $("expr").value.trim();
  if (!expr) return;
  const params = new URLSearchParams(location.search);
  params.set("g0.expr", expr);
  params.set("g0.range_input", $("range").value + "s");
  history.replaceState(null, "", "/graph?" + params.toString());
  $("error").hidden = true;
  $("status").textContent = "running…";
  const end = Math.floor(Date.now() / 1000), start = end - parseInt($("range").value, 10);
  const step = Math.max(1, Math.round((end - start) / 250));
  const began = performance.now();
  try {
    const [instant, range] = await Promise.all([
      api("/api/v1/query", { query: expr, time: end }),
      api("/api/v1/query_range", { query: expr, start, end, step }).catch((e) => ({ error: e })),
    ]);
    drawTable(instant);
    if (range.error) {
      $("chart").innerHTML = "";
      $("legend").textContent = "No graph: " + range.error.message;
    } else {
      drawChart(range.result, start, end);
    }
    const n = instant.resultType === "vector" ? instant.result.length : 1;
    $("status").textContent = `${n} result${n === 1 ? "" : "s"} in ${Math.round(performance.now() - began)} ms`;
  } catch (e) {
    $("status").textContent = "";
    $("error").textContent = e.message;
    $("error").hidden = false;
    $("chart").innerHTML = "";
    $("legend").innerHTML = "";
    $("table").innerHTML = "";
  }
}

// ---- other tabs ----------------------------------------------------------------------------

async function showTargets() {
  const data = await api("/api/v1/targets");
  const rows = data.activeTargets.map((t) => `<tr><td>${esc(t.labels.job || "")}</td><td>${esc(t.scrapeUrl)}</td>` +
    `<td class="${t.health === "up" ? "up" : "down"}">${esc(t.health)}</td><td>${esc(t.lastScrape || "")}</td>` +
    `<td>${esc(Math.round((t.lastScrapeDuration || 0) * 1000))} ms</td><td>${esc(t.lastError || "")}</td></tr>`).join("");
  $("targets-table").innerHTML = "<tr><th>Job</th><th>Endpoint</th><th>State</th><th>Last scrape</th><th>Duration</th><th>Error</th></tr>" + rows;
}

async function showAlerts() {
  const data = await api("/api/v1/alerts");
  const alerts = data.alerts || [];
  $("alerts-list").innerHTML = alerts.length ? alerts.map((a) => `<div class="alert alert-${esc(a.state)}"><b>${esc(a.labels.alertname || "")}</b> ` +
    `${esc(a.state)} since ${esc(a.activeAt || "")}<br><code>${esc(seriesName(a.labels))}</code><br>${esc((a.annotations || {}).summary || "")}</div>`).join("")
    : "<p>No alerts are pending or firing" + (data.source ? "" : " (tocsin-alertd is not configured: --alertd.url)") + ".</p>";
}

async function showStatus() {
  const d = await api("/api/v1/status/tsdb");
  const h = d.headStats || {};
  const list = (title, items) => `<h3>${title}</h3><table class="result">` +
    items.map((i) => `<tr><td>${esc(i.name)}</td><td>${esc(i.value)}</td></tr>`).join("") + "</table>";
  $("status-view").innerHTML = `<table class="result"><tr><th>Series</th><td>${esc(h.numSeries)}</td></tr>` +
    `<tr><th>Chunks</th><td>${esc(h.chunkCount)}</td></tr></table>` +
    list("Series by metric name", d.seriesCountByMetricName || []) +
    list("Series by label pair", d.seriesCountByLabelValuePair || []) +
    list("Label names by distinct values", d.labelValueCountByLabelName || []);
}

const TABS = { "/": "graph", "/graph": "graph", "/targets": "targets", "/alerts": "alerts", "/tsdb-status": "status" };

function show(tab) {
  for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== tab;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.tab === tab);
  const load = { targets: showTargets, alerts: showAlerts, status: showStatus }[tab];
  if (load) load().catch((e) => { $(tab === "status" ? "status-view" : tab === "alerts" ? "alerts-list" : "targets-table").textContent = e.message; });
}

function init() {
  const ta = $("expr");
  ta.addEventListener("input", suggest);
  ta.addEventListener("keydown", (e) => {
    const open = !$("suggestions").hidden;
    if (open && (e.key === "ArrowDown" || e.key === "ArrowUp")) { e.preventDefault(); moveSelection(e.key === "ArrowDown" ? 1 : -1); return; }
    if (open && (e.key === "Tab" || e.key === "Enter")) {
      e.preventDefault();
      complete($("suggestions").querySelectorAll("li")[selected].dataset.v);
      return;
    }
    if (e.key === "Escape") $("suggestions").hidden = true;
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); runQuery(); }
  });
  $("suggestions").addEventListener("mousedown", (e) => {
    const li = e.target.closest("li");
    if (li) { e.preventDefault(); complete(li.dataset.v); }
  });
  $("query-form").addEventListener("submit", (e) => { e.preventDefault(); runQuery(); });
  loadNames();
  const tab = TABS[location.pathname] || "graph";
  show(tab);
  const params = new URLSearchParams(location.search);
  const expr = params.get("g0.expr") || params.get("q");
  const range = parseInt(params.get("g0.range_input") || "", 10);
  if (range) for (const o of $("range").options) if (parseInt(o.value, 10) === range) o.selected = true;
  if (expr) { ta.value = expr; if (tab === "graph") runQuery(); }
}

init();
