// uno's dashboard: a static page over the REST API (/v1). No framework, no network beyond this server.
// Everything shown comes from users' logs, so text is only ever set with textContent, never parsed as HTML.
"use strict";

const KEY_STORAGE = "uno.apiKey";
const SVG_NS = "http://www.w3.org/2000/svg";
const state = { key: sessionStorage.getItem(KEY_STORAGE) || "", optional: new Set(), rules: [] };

// --- DOM helpers

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "onclick") node.addEventListener("click", value);
    else if (name === "className") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function fill(id, ...children) {
  const node = document.getElementById(id);
  node.replaceChildren(...children.flat());
  return node;
}

function say(text, isError) {
  const box = document.getElementById("message");
  box.textContent = text || "";
  box.className = isError ? "error" : "";
}

function number(value, digits) {
  if (value === null || value === undefined) return "–";
  return typeof value === "number" ? value.toFixed(digits === undefined ? 2 : digits) : String(value);
}

function money(value) {
  return value === null || value === undefined ? "unknown" : "$" + value.toFixed(value < 1 ? 4 : 2);
}

// --- the API

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (state.key) headers.Authorization = "Bearer " + state.key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    const reason = payload && payload.error ? payload.error.message : response.statusText;
    throw new Error(`${method} ${path}: ${response.status} ${reason}`);
  }
  return payload;
}

// Routes another version of the server may lack: the page offers their buttons only when the spec lists them.
const OPTIONAL_ROUTES = {
  restore: ["post", "/v1/rules/{rule_id}/restore"],
  pin: ["post", "/v1/rules/{rule_id}/pin"],
  unpin: ["post", "/v1/rules/{rule_id}/unpin"],
  history: ["get", "/v1/rules/{rule_id}/history"],
};

async function discover() {
  const spec = await fetch("/openapi.json").then((r) => (r.ok ? r.json() : { paths: {} }));
  state.optional = new Set(
    Object.entries(OPTIONAL_ROUTES)
      .filter(([, [method, path]]) => spec.paths && spec.paths[path] && spec.paths[path][method])
      .map(([name]) => name),
  );
  document.body.dataset.features = [...state.optional].sort().join(" ");
}

// --- rules

function statusBadge(status) {
  return el("span", { className: "badge status-" + status }, status);
}

async function loadRules() {
  const status = document.getElementById("rule-status").value;
  const query = status ? "?limit=1000&status=" + encodeURIComponent(status) : "?limit=1000";
  const result = await api("GET", "/v1/rules" + query);
  state.rules = result.rules;
  renderRules();
}

function ruleMatches(rule, needle) {
  if (!needle) return true;
  const haystack = [rule.do, rule.when, rule.aspect || "", rule.status_reason, ...rule.evidence.map((e) => e.quote)];
  return haystack.join("\n").toLowerCase().includes(needle);
}

function renderRules() {
  const needle = document.getElementById("rule-filter").value.trim().toLowerCase();
  const shown = state.rules.filter((rule) => ruleMatches(rule, needle));
  fill("rule-count", `${shown.length} of ${state.rules.length} rules`);
  fill("rule-list", shown.length ? shown.map(ruleCard) : el("p", { className: "muted" }, "No rules."));
}

function ruleCard(rule) {
  const details = el("div", { className: "rule-details" });
  const card = el(
    "article",
    { className: "card rule", "data-rule-id": rule.id, "data-aspect": rule.aspect || "", "data-status": rule.status },
    el("div", { className: "card-head" }, statusBadge(rule.status), rule.pinned ? el("span", { className: "badge" }, "pinned") : null,
      el("span", { className: "aspect" }, rule.aspect || "")),
    el("p", { className: "rule-do" }, (rule.polarity === "avoid" ? "Avoid: " : "Do: ") + rule.do),
    el("p", { className: "rule-when muted" }, "When: " + rule.when),
    el("p", { className: "facts" },
      `support ${rule.support} · confidence ${number(rule.confidence)} · novelty ${number(rule.novelty)}` +
      (rule.cluster_id ? ` · cluster ${rule.cluster_id}` : "")),
    rule.status_reason ? el("p", { className: "reason" }, rule.status_reason) : null,
    el("ul", { className: "evidence" },
      rule.evidence.slice(0, 5).map((e) =>
        el("li", {}, el("q", {}, e.quote || "(no quote)"), el("span", { className: "muted" }, ` ${e.kind}${e.user_id ? " · " + e.user_id : ""}`)),
      ),
      rule.evidence.length > 5 ? el("li", { className: "muted" }, `… ${rule.evidence.length - 5} more`) : null),
    el("div", { className: "actions" }, ruleActions(rule, details)),
    details,
  );
  return card;
}

function ruleActions(rule, details) {
  const buttons = [el("button", { className: "details", onclick: () => showRuleDetails(rule, details) }, "Sources & history")];
  if (rule.status !== "retired") {
    buttons.push(el("button", { className: "retire danger", onclick: () => ruleAction(rule, "retire") }, "Retire"));
  } else if (state.optional.has("restore")) {
    buttons.push(el("button", { className: "restore", onclick: () => ruleAction(rule, "restore") }, "Restore"));
  }
  if (state.optional.has("pin") && !rule.pinned) {
    buttons.push(el("button", { className: "pin", onclick: () => ruleAction(rule, "pin") }, "Pin"));
  }
  if (state.optional.has("unpin") && rule.pinned) {
    buttons.push(el("button", { className: "unpin", onclick: () => ruleAction(rule, "unpin") }, "Unpin"));
  }
  return buttons;
}

async function ruleAction(rule, action) {
  try {
    const body = action === "retire" ? { reason: "retired from the dashboard" } : undefined;
    await api("POST", `/v1/rules/${encodeURIComponent(rule.id)}/${action}`, body);
    say(`Rule ${rule.aspect || rule.id}: ${action} done.`);
    await Promise.all([loadRules(), showTenant()]);
  } catch (error) {
    say(error.message, true);
  }
}

async function showRuleDetails(rule, box) {
  try {
    const detail = await api("GET", "/v1/rules/" + encodeURIComponent(rule.id));
    const parts = [
      el("h4", {}, "Learnt from"),
      el("table", {},
        el("tr", {}, el("th", {}, "log"), el("th", {}, "user"), el("th", {}, "request"), el("th", {}, "verdict")),
        detail.sources.map((s) =>
          el("tr", {}, el("td", {}, s.log_id), el("td", {}, s.user_id || ""), el("td", {}, s.query),
            el("td", {}, (s.verdict || "–") + (s.verdict_reasons.length ? ": " + s.verdict_reasons.join("; ") : ""))),
        )),
    ];
    if (state.optional.has("history")) {
      const history = await api("GET", `/v1/rules/${encodeURIComponent(rule.id)}/history`);
      parts.push(el("h4", {}, "History"), historyList(history));
    }
    box.replaceChildren(...parts);
  } catch (error) {
    say(error.message, true);
  }
}

function historyList(history) {
  // Whatever shape the history route returns: a list of events, or an object holding one.
  const events = Array.isArray(history) ? history : Object.values(history || {}).find(Array.isArray) || [];
  if (!events.length) return el("p", { className: "muted" }, "No recorded changes.");
  return el("ol", { className: "history" },
    events.map((event) =>
      el("li", {}, typeof event === "object"
        ? Object.entries(event).filter(([, v]) => v !== null && v !== "").map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ")
        : String(event)),
    ));
}

// --- clusters

async function loadClusters() {
  const result = await api("GET", "/v1/clusters?limit=500");
  const aspects = Object.fromEntries(state.rules.map((r) => [r.id, r.aspect || r.do]));
  fill("cluster-list", result.clusters.length ? result.clusters.map((c) => clusterCard(c, aspects)) : el("p", { className: "muted" }, "No clusters: run a build."));
}

function clusterCard(cluster, aspects) {
  return el("article", { className: "card cluster", "data-cluster-id": cluster.id, "data-route": cluster.route },
    el("div", { className: "card-head" }, el("span", { className: "badge route-" + cluster.route }, cluster.route), el("span", { className: "muted" }, cluster.id)),
    el("p", { className: "label" }, cluster.label || "(no label)"),
    el("p", { className: "facts" }, `${cluster.size} logs · gap ${number(cluster.gap_score)} · maturity ${number(cluster.maturity)}`),
    gauge(cluster.gap_score),
    cluster.blocked ? el("p", { className: "reason" }, "Blocked: " + cluster.blocked) : null,
    el("h4", {}, "Requests"),
    el("ul", { className: "queries" }, cluster.representative_queries.map((q) => el("li", {}, q))),
    cluster.rule_ids.length ? el("p", { className: "muted" }, "Rules: " + cluster.rule_ids.map((id) => aspects[id] || id).join(", ")) : null,
  );
}

function gauge(value) {
  const fillBar = el("div", { className: "gauge-fill" });
  // Through the CSSOM: the page's Content-Security-Policy refuses inline style attributes.
  fillBar.style.width = (value === null || value === undefined ? 0 : Math.round(value * 100)) + "%";
  return el("div", { className: "gauge", title: "gap" }, fillBar);
}

// --- augment preview

async function runPreview(event) {
  event.preventDefault();
  const query = document.getElementById("augment-query").value.trim();
  if (!query) return;
  const userId = document.getElementById("augment-user").value.trim();
  try {
    const result = await api("POST", "/v1/augment", { query, explain: true, ...(userId ? { user_id: userId } : {}) });
    renderPreview(result);
  } catch (error) {
    say(error.message, true);
  }
}

function renderPreview(result) {
  fill("augment-result",
    el("p", { className: "facts", id: "augment-summary" },
      `route ${result.route} · ${result.rules.length} rule(s) · ${result.tokens} tokens injected` +
      (result.cluster_id ? ` · cluster ${result.cluster_id} (similarity ${number(result.cluster_similarity)})` : "")),
    result.rules.length
      ? el("ol", { id: "augment-rules", className: "injected" },
        result.rules.map((r) =>
          el("li", { "data-rule-id": r.rule_id, "data-aspect": r.aspect || "" },
            el("strong", {}, r.do), el("span", { className: "muted" }, ` (score ${number(r.score)}, support ${r.support})`),
            r.why ? el("div", { className: "why" }, "Why: " + r.why) : null)))
      : el("p", { id: "augment-rules", className: "muted" }, result.tokens
        ? "No rule would be injected; the notes of the cluster's route still are (below)."
        : "Nothing would be injected: the request goes to the model unchanged."),
    result.explanation && result.explanation.length
      ? el("div", {}, el("h4", {}, "Explanation"), el("ul", { className: "explanation" }, result.explanation.map((n) => el("li", {}, n))))
      : null,
    el("h4", {}, "Messages sent to the model"),
    result.messages.map((m) => el("div", { className: "message" }, el("span", { className: "badge" }, m.role), el("pre", {}, m.content))),
  );
}

// --- quarantine

async function loadQuarantine() {
  const result = await api("GET", "/v1/quarantine?limit=1000");
  fill("quarantine-list", result.records.length
    ? el("table", { className: "wide" },
      el("tr", {}, el("th", {}, "source"), el("th", {}, "line"), el("th", {}, "reason"), el("th", {}, "input")),
      result.records.map((q) => el("tr", { className: "quarantined" }, el("td", {}, q.source), el("td", {}, q.line ?? ""),
        el("td", { className: "reason" }, q.reason), el("td", {}, el("code", {}, q.raw.length > 160 ? q.raw.slice(0, 159) + "…" : q.raw)))))
    : el("p", { className: "muted" }, "Nothing quarantined."));
}

// --- LLM cost

async function loadLedger() {
  const bucket = document.getElementById("ledger-bucket").value;
  const ledger = await api("GET", "/v1/ledger?bucket=" + bucket);
  const t = ledger.totals;
  fill("ledger-totals",
    [["calls", t.calls], ["cache hits", t.cache_hits], ["tokens in", t.tokens_in], ["tokens out", t.tokens_out], ["cost", money(t.cost_usd)]]
      .map(([name, value]) => el("div", { className: "total" }, el("span", { className: "value" }, value), el("span", { className: "muted" }, name))));
  fill("ledger-chart", ledger.periods.length ? costChart(ledger.periods, bucket) : el("p", { className: "muted" }, "No LLM calls recorded for this tenant."));
  fill("ledger-purposes", el("table", {},
    el("tr", {}, el("th", {}, "purpose"), el("th", {}, "calls"), el("th", {}, "tokens in"), el("th", {}, "tokens out"), el("th", {}, "cost")),
    Object.entries(ledger.by_purpose).map(([purpose, u]) =>
      el("tr", {}, el("td", {}, purpose), el("td", {}, u.calls), el("td", {}, u.tokens_in), el("td", {}, u.tokens_out), el("td", {}, money(u.cost_usd))))));
}

// Tokens per period as stacked bars (in, out), cost as a line over them on its own scale, calls above each bar.
function costChart(periods, bucket) {
  const W = 760, H = 300, left = 56, right = 64, top = 24, bottom = 48;
  const plotW = W - left - right, plotH = H - top - bottom;
  const maxTokens = Math.max(1, ...periods.map((p) => p.tokens_in + p.tokens_out));
  const maxCost = Math.max(0, ...periods.map((p) => p.cost_usd || 0));
  const slot = plotW / periods.length, barW = Math.max(2, Math.min(48, slot * 0.6));
  const y = (tokens) => top + plotH - (tokens / maxTokens) * plotH;
  const yCost = (cost) => top + plotH - (maxCost ? (cost / maxCost) * plotH : 0);
  const chart = svg("svg", { id: "cost-chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": "LLM tokens and cost per " + bucket });
  chart.append(svg("line", { x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, class: "axis" }));
  for (const fraction of [0, 0.5, 1]) {
    chart.append(svg("text", { x: left - 6, y: y(maxTokens * fraction) + 4, "text-anchor": "end", class: "tick" }, Math.round(maxTokens * fraction)));
    if (maxCost) chart.append(svg("text", { x: left + plotW + 6, y: yCost(maxCost * fraction) + 4, class: "tick cost" }, money(maxCost * fraction)));
  }
  const costPoints = [];
  periods.forEach((p, i) => {
    const x = left + slot * i + (slot - barW) / 2;
    const label = bucket === "hour" ? p.start.slice(5, 13).replace("T", " ") + "h" : p.start.slice(0, 10);
    chart.append(svg("rect", { x, y: y(p.tokens_in), width: barW, height: top + plotH - y(p.tokens_in), class: "bar tokens-in" },
      svg("title", {}, `${label}: ${p.tokens_in} tokens in`)));
    chart.append(svg("rect", { x, y: y(p.tokens_in + p.tokens_out), width: barW, height: y(p.tokens_in) - y(p.tokens_in + p.tokens_out), class: "bar tokens-out" },
      svg("title", {}, `${label}: ${p.tokens_out} tokens out`)));
    chart.append(svg("text", { x: x + barW / 2, y: y(p.tokens_in + p.tokens_out) - 4, "text-anchor": "middle", class: "calls" }, p.calls));
    if (periods.length <= 16 || i % Math.ceil(periods.length / 16) === 0) {
      chart.append(svg("text", { x: x + barW / 2, y: top + plotH + 16, "text-anchor": "middle", class: "tick" }, label));
    }
    if (p.cost_usd !== null) costPoints.push([x + barW / 2, yCost(p.cost_usd)]);
  });
  if (costPoints.length) {
    chart.append(svg("polyline", { points: costPoints.map((pt) => pt.join(",")).join(" "), class: "cost-line" }));
    for (const [cx, cy] of costPoints) chart.append(svg("circle", { cx, cy, r: 3, class: "cost-dot" }));
  }
  const legend = [["tokens-in", "tokens in"], ["tokens-out", "tokens out"], ["cost-dot", "cost (right axis)"], ["calls", "calls (numbers)"]];
  legend.forEach(([cls, text], i) => {
    chart.append(svg("rect", { x: left + i * 150, y: H - 16, width: 10, height: 10, class: cls === "calls" ? "legend-calls" : cls }));
    chart.append(svg("text", { x: left + i * 150 + 14, y: H - 7, class: "tick" }, text));
  });
  return chart;
}

// --- adapters

async function loadAdapters() {
  const result = await api("GET", "/v1/adapters");
  fill("adapter-list", result.adapters.length
    ? el("table", { className: "wide" },
      el("tr", {}, el("th", {}, "cluster"), el("th", {}, "kind"), el("th", {}, "version"), el("th", {}, "status"), el("th", {}, "gate metrics"), el("th", {}, "reason")),
      result.adapters.map((a) => el("tr", { className: "adapter", "data-status": a.status },
        el("td", {}, a.cluster_id), el("td", {}, a.kind), el("td", {}, a.version), el("td", {}, statusBadge(a.status)),
        el("td", {}, Object.entries(a.metrics).map(([k, v]) => `${k} ${number(v, 3)}`).join(" · ")),
        el("td", {}, a.status_reason))))
    : el("p", { className: "muted" }, "No adapters trained: see `uno train`."));
}

// --- navigation

const LOADERS = { rules: loadRules, clusters: loadClusters, preview: async () => {}, quarantine: loadQuarantine, cost: loadLedger, adapters: loadAdapters };

async function showTab(name) {
  say("");
  for (const button of document.querySelectorAll("#tabs button")) button.classList.toggle("active", button.dataset.tab === name);
  for (const section of document.querySelectorAll("section.tab")) section.hidden = section.id !== name;
  try {
    await LOADERS[name]();
    document.body.dataset.loaded = name;
  } catch (error) {
    say(error.message, true);
  }
}

async function showTenant() {
  const stats = await api("GET", "/v1/stats");
  fill("tenant", `tenant ${stats.namespace} · ${stats.logs} logs · ${stats.rules_active ?? 0} active rules`);
}

async function connect(event) {
  if (event) event.preventDefault();
  state.key = document.getElementById("api-key").value.trim();
  sessionStorage.setItem(KEY_STORAGE, state.key);
  try {
    await showTenant();
    say("");
    await discover();
    await loadRules();
    const active = document.querySelector("#tabs button.active").dataset.tab;
    await showTab(active);
  } catch (error) {
    say(error.message + (state.key ? "" : " (enter an API key)"), true);
  }
}

document.getElementById("key-form").addEventListener("submit", connect);
document.getElementById("augment-form").addEventListener("submit", runPreview);
document.getElementById("rule-status").addEventListener("change", () => loadRules().catch((e) => say(e.message, true)));
document.getElementById("rule-filter").addEventListener("input", renderRules);
document.getElementById("ledger-bucket").addEventListener("change", () => loadLedger().catch((e) => say(e.message, true)));
for (const button of document.querySelectorAll("#tabs button")) button.addEventListener("click", () => showTab(button.dataset.tab));
document.getElementById("api-key").value = state.key;
connect();
