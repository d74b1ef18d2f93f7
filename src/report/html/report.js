// Renders keysweep's JSON report (embedded above as #keysweep-data) into summary charts and a
// paginated table. Every value from the report is inserted as text (textContent), never as
// markup, so a path or snippet cannot inject anything.
"use strict";
(function () {
  performance.mark("keysweep-start");
  const PAGE_SIZE = 100;
  const CHART_BARS = 12;
  const SEVERITY_ORDER = ["critical", "high", "medium", "low", "info"];
  const NO_OWNER = "(no owner)";
  const NO_ACCOUNT = "(no account)";
  const NO_TIER = "(not assessed)";
  const NOT_VERIFIED = "not verified";

  const doc = JSON.parse(document.getElementById("keysweep-data").textContent);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }
  // Runs `task` once the next frame has been painted.
  function afterPaint(task) {
    requestAnimationFrame(() => setTimeout(task, 0));
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Owners: the CODEOWNERS owners of the finding's paths; without any, the author of the
  // commit that introduced it; a finding with several owners belongs to each.
  function ownersOf(f) {
    const owners = new Set();
    const owner = f.owner || {};
    for (const path of owner.codeowners || []) for (const name of path.owners) owners.add(name);
    if (owners.size === 0 && owner.introduced_by) {
      const a = owner.introduced_by;
      owners.add(a.email ? a.name + " <" + a.email + ">" : a.name);
    }
    if (owners.size === 0) owners.add(NO_OWNER);
    return [...owners].sort();
  }
  function accountOf(f) {
    const account = f.owner && f.owner.aws_account;
    if (account) return account.id;
    return f.aws_account || NO_ACCOUNT;
  }
  function accountLabel(f) {
    const account = f.owner && f.owner.aws_account;
    return account && account.name ? account.id + " (" + account.name + ")" : accountOf(f);
  }

  // One row per finding, with everything filters and sorting need computed once.
  const rows = doc.findings.map((f, index) => {
    const first = f.locations[0] || {};
    const row = {
      index,
      f,
      severity: f.severity,
      severityRank: SEVERITY_ORDER.indexOf(f.severity),
      rule: f.rule,
      owners: ownersOf(f),
      account: accountOf(f),
      accountLabel: accountLabel(f),
      tier: f.blast_radius ? f.blast_radius.tier : NO_TIER,
      verification: f.verification ? f.verification.status : NOT_VERIFIED,
      sources: [...new Set(f.locations.map((l) => l.source))].sort(),
      where: first.path ? first.path + ":" + first.line : "",
      locationCount: f.locations.length,
    };
    row.ownerText = row.owners.join(", ");
    return row;
  });

  // The text a free-text search looks in, lower-cased; built at the first search, not at
  // opening (50-100 ms of a 10,000-finding page).
  function haystack(row) {
    if (row.haystack === undefined) {
      const f = row.f;
      const words = [f.rule, f.rule_name, f.severity, f.fingerprint, f.secret, row.ownerText,
        row.accountLabel, row.tier, row.verification, row.sources.join(" ")];
      if (f.verification) words.push(f.verification.arn, f.verification.error);
      if (f.blast_radius) words.push(f.blast_radius.principal);
      for (const l of f.locations) {
        words.push(l.path, l.repository, l.commit, l.author, l.email, l.image, l.layer_digest);
      }
      row.haystack = words.filter((w) => w).join("\n").toLowerCase();
    }
    return row.haystack;
  }

  // Dimensions: how a finding is counted in the summary and matched by a filter.
  const DIMENSIONS = [
    { key: "severity", title: "Findings by severity", values: (r) => [r.severity],
      order: (a, b) => SEVERITY_ORDER.indexOf(a) - SEVERITY_ORDER.indexOf(b), css: "sev-" },
    { key: "verification", title: "Verification (live / invalid / unverified)",
      values: (r) => [r.verification], css: "ver-" },
    { key: "tier", title: "Blast-radius tier", values: (r) => [r.tier] },
    { key: "owner", title: "By owner", values: (r) => r.owners },
    { key: "account", title: "By AWS account", values: (r) => [r.account] },
    { key: "source", title: "By source kind", values: (r) => r.sources },
    { key: "rule", title: "By rule", values: (r) => [r.rule], chart: false },
  ];
  const byKey = Object.fromEntries(DIMENSIONS.map((d) => [d.key, d]));

  function countBy(dimension, subset) {
    const counts = new Map();
    for (const r of subset) {
      for (const v of dimension.values(r)) counts.set(v, (counts.get(v) || 0) + 1);
    }
    const entries = [...counts.entries()];
    entries.sort(dimension.order ? (a, b) => dimension.order(a[0], b[0])
      : (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return entries;
  }

  const state = { filters: {}, text: "", sort: { key: "severity", dir: 1 }, page: 0,
    open: new Set(), matched: rows };

  function renderMeta() {
    const stats = doc.stats;
    document.getElementById("meta").textContent = doc.tool.name + " " + doc.tool.version +
      " · " + stats.blobs_scanned + " blobs, " + stats.bytes_scanned + " bytes scanned in " +
      stats.elapsed_ms + " ms · report schema " + doc.schema_version;
    const live = rows.filter((r) => r.verification === "live").length;
    const totals = [["findings", stats.findings], ["locations", stats.locations],
      ["live", live], ["input errors", stats.errors], ["suppressed", stats.suppressed]];
    const box = document.getElementById("totals");
    for (const [name, value] of totals) {
      box.append(el("div", { class: "total", "data-total": name },
        el("span", { class: "value" }, value), el("span", { class: "name" }, name)));
    }
  }

  function renderCharts() {
    const box = document.getElementById("charts");
    for (const dimension of DIMENSIONS) {
      if (dimension.chart === false) continue;
      const entries = countBy(dimension, rows);
      const shown = entries.slice(0, CHART_BARS);
      const max = Math.max(1, ...shown.map((e) => e[1]));
      const rowHeight = 22;
      const chart = svg("svg", { viewBox: "0 0 400 " + Math.max(rowHeight, shown.length * rowHeight),
        role: "img", "aria-label": dimension.title });
      shown.forEach(([value, count], i) => {
        const y = i * rowHeight;
        const g = svg("g", { class: "bar", "data-key": value, "data-count": count });
        g.append(svg("title", {}, value + ": " + count));
        g.append(svg("text", { class: "label", x: 0, y: y + 15 }, value.length > 26 ? value.slice(0, 25) + "…" : value));
        const width = Math.max(2, Math.round((count / max) * 180));
        const cls = "fill" + (dimension.css ? " " + dimension.css + value.replace(/\W/g, "") : "");
        g.append(svg("rect", { class: cls, x: 170, y: y + 4, width, height: 14, rx: 2 }));
        g.append(svg("text", { class: "count", x: 176 + width, y: y + 15 }, String(count)));
        g.addEventListener("click", () => setFilter(dimension.key, value));
        chart.append(g);
      });
      const card = el("div", { class: "chart", "data-dimension": dimension.key },
        el("h2", {}, dimension.title), chart);
      if (entries.length === 0) card.append(el("p", { class: "more" }, "no findings"));
      if (entries.length > shown.length) {
        card.append(el("p", { class: "more" }, "and " + (entries.length - shown.length) +
          " more; use the filter below"));
      }
      box.append(card);
    }
  }

  // Options of a filter with many values (an account per key can mean 10,000) are built after
  // the first paint, or at once when the user reaches for that filter, whichever comes first:
  // building 10,000 options took 120-170 ms of a 10,000-finding page's opening.
  const LAZY_OPTIONS = 500;

  function fillOptions(select) {
    if (select.dataset.filled) return;
    select.dataset.filled = "true";
    const dimension = byKey[select.dataset.dimension];
    const entries = countBy(dimension, rows);
    if (!dimension.order) entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const options = document.createDocumentFragment();
    for (const [value, count] of entries) options.append(new Option(value + " (" + count + ")", value));
    select.append(options);
  }

  // Returns the filters whose options are left for later.
  function renderFilterOptions() {
    const later = [];
    for (const select of document.querySelectorAll("#filters select")) {
      const dimension = byKey[select.dataset.dimension];
      select.append(new Option("all", ""));
      if (countBy(dimension, rows).length > LAZY_OPTIONS) {
        for (const event of ["pointerdown", "focus", "keydown"]) {
          select.addEventListener(event, () => fillOptions(select));
        }
        later.push(select);
      } else {
        fillOptions(select);
      }
      select.addEventListener("change", () => setFilter(dimension.key, select.value));
    }
    document.getElementById("filter-text").addEventListener("input", (event) => {
      state.text = event.target.value.trim().toLowerCase();
      applyFilters();
    });
    document.getElementById("filter-clear").addEventListener("click", () => {
      state.filters = {};
      state.text = "";
      document.getElementById("filter-text").value = "";
      for (const select of document.querySelectorAll("#filters select")) select.value = "";
      applyFilters();
    });
    return later;
  }

  function setFilter(key, value) {
    if (value) state.filters[key] = value; else delete state.filters[key];
    const select = document.querySelector('#filters select[data-dimension="' + key + '"]');
    fillOptions(select);
    select.value = value;
    applyFilters();
  }

  function applyFilters() {
    const active = Object.entries(state.filters).map(([k, v]) => [byKey[k], v]);
    const text = state.text;
    state.matched = rows.filter((r) => {
      for (const [dimension, value] of active) {
        if (!dimension.values(r).includes(value)) return false;
      }
      return !text || haystack(r).includes(text);
    });
    sortMatched();
    state.page = 0;
    renderTable();
  }

  const COLUMNS = [
    { key: "severity", title: "Severity", width: "9%", sort: (r) => r.severityRank,
      cell: (r) => el("span", { class: "sev sev-" + r.severity }, r.severity) },
    { key: "rule", title: "Rule", width: "15%", sort: (r) => r.rule, cell: (r) => r.rule },
    { key: "secret", title: "Secret", width: "13%", sort: (r) => r.f.secret,
      cell: (r) => el("code", {}, r.f.secret) },
    { key: "where", title: "Location", width: "20%", sort: (r) => r.where,
      cell: (r) => r.where + (r.locationCount > 1 ? " (+" + (r.locationCount - 1) + ")" : "") },
    { key: "owner", title: "Owner", width: "13%", sort: (r) => r.ownerText, cell: (r) => r.ownerText },
    { key: "account", title: "Account", width: "10%", sort: (r) => r.accountLabel,
      cell: (r) => r.accountLabel },
    { key: "tier", title: "Tier", width: "8%", sort: (r) => r.tier, cell: (r) => r.tier },
    { key: "verification", title: "Verification", width: "8%", sort: (r) => r.verification,
      cell: (r) => r.verification },
    { key: "locations", title: "Locations", width: "6%", sort: (r) => r.locationCount,
      cell: (r) => r.locationCount },
  ];

  function sortMatched() {
    const column = COLUMNS.find((c) => c.key === state.sort.key);
    const dir = state.sort.dir;
    const keyed = state.matched.map((r) => [column.sort(r), r]);
    // Ties keep the report's order (already deterministic), so sorting is stable to the eye.
    keyed.sort((a, b) => (a[0] < b[0] ? -dir : a[0] > b[0] ? dir : a[1].index - b[1].index));
    state.matched = keyed.map((k) => k[1]);
  }

  function renderHead() {
    const head = document.getElementById("table-head");
    for (const column of COLUMNS) {
      const th = el("th", { "data-column": column.key, style: "width:" + column.width }, column.title);
      th.addEventListener("click", () => {
        state.sort = { key: column.key, dir: state.sort.key === column.key ? -state.sort.dir : 1 };
        sortMatched();
        renderTable();
      });
      head.append(th);
    }
  }

  function renderTable() {
    for (const th of document.querySelectorAll("#table-head th")) {
      th.className = th.dataset.column !== state.sort.key ? ""
        : state.sort.dir > 0 ? "sorted-asc" : "sorted-desc";
    }
    const total = state.matched.length;
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    const start = state.page * PAGE_SIZE;
    const body = document.getElementById("rows");
    const fragment = document.createDocumentFragment();
    for (const r of state.matched.slice(start, start + PAGE_SIZE)) {
      const open = state.open.has(r.f.fingerprint);
      const tr = el("tr", { class: open ? "finding open" : "finding", "data-fingerprint": r.f.fingerprint });
      for (const column of COLUMNS) {
        const value = column.cell(r);
        tr.append(el("td", { title: value instanceof Node ? value.textContent : String(value) }, value));
      }
      tr.addEventListener("click", () => {
        if (state.open.has(r.f.fingerprint)) state.open.delete(r.f.fingerprint);
        else state.open.add(r.f.fingerprint);
        renderTable();
      });
      fragment.append(tr);
      if (open) {
        fragment.append(el("tr", { class: "detail-row", "data-fingerprint": r.f.fingerprint },
          el("td", { class: "detail", colspan: COLUMNS.length }, detail(r.f))));
      }
    }
    body.replaceChildren(fragment);
    document.getElementById("match-count").textContent =
      total + " of " + rows.length + " findings";
    document.getElementById("page-info").textContent = "page " + (state.page + 1) + " of " + pages;
    document.getElementById("page-prev").disabled = state.page === 0;
    document.getElementById("page-next").disabled = state.page >= pages - 1;
  }

  function pairs(entries) {
    const dl = el("dl");
    for (const [name, value] of entries) {
      if (value === undefined || value === null || value === "") continue;
      dl.append(el("dt", {}, name), el("dd", {}, value));
    }
    return dl;
  }

  function detail(f) {
    const box = el("div");
    box.append(el("h3", {}, f.rule_name + " · " + f.fingerprint));
    box.append(pairs([["secret", f.secret], ["secret length", f.secret_length],
      ["secret key", f.secret_key], ["session token", f.session_token],
      ["present at HEAD", f.present_at_head === undefined ? undefined : String(f.present_at_head)]]));
    if (f.introduced) {
      const i = f.introduced;
      box.append(el("h3", {}, "Introduced"), pairs([["commit", i.commit], ["path", i.path],
        ["author", i.author + " <" + i.email + ">"], ["date", i.date]]));
    }
    box.append(el("h3", {}, "Locations (" + f.locations.length + ")"));
    const head = el("tr", {}, ...["source", "path", "line:col", "commit", "author", "date",
      "image / layer", "snippet"].map((t) => el("th", {}, t)));
    const table = el("table", { class: "locations" }, el("thead", {}, head));
    const tbody = el("tbody");
    for (const l of f.locations) {
      const image = l.image ? l.image + (l.layer_index !== undefined ? " layer " + l.layer_index : "") +
        (l.layer_digest ? " " + l.layer_digest : "") + (l.created_by ? " (" + l.created_by + ")" : "") +
        (l.config_field ? " config " + l.config_field : "") : "";
      tbody.append(el("tr", {}, el("td", {}, l.source),
        el("td", { class: "mono" }, (l.repository ? l.repository + ": " : "") + l.path),
        el("td", {}, l.line + ":" + l.column), el("td", { class: "mono" }, l.commit || ""),
        el("td", {}, l.author ? l.author + " <" + l.email + ">" : ""), el("td", {}, l.date || ""),
        el("td", { class: "mono" }, image), el("td", {}, el("code", {}, l.snippet))));
    }
    table.append(tbody);
    box.append(table);
    const v = f.verification;
    box.append(el("h3", {}, "Verification"), v ? pairs([["status", v.status], ["account", v.account],
      ["ARN", v.arn], ["user id", v.user_id], ["error", v.error], ["message", v.message],
      ["reason", v.reason], ["verifier", v.verifier], ["endpoint", v.endpoint],
      ["cached", String(v.cached)]]) : el("p", {}, NOT_VERIFIED));
    const o = f.owner || {};
    box.append(el("h3", {}, "Owner"));
    const ownerPairs = [];
    for (const p of o.codeowners || []) {
      ownerPairs.push(["CODEOWNERS " + p.path, (p.owners.length ? p.owners.join(", ") : "nobody") +
        " (" + p.file + (p.line ? ":" + p.line + " " + p.pattern : "") + ")"]);
    }
    if (o.introduced_by) {
      const a = o.introduced_by;
      ownerPairs.push(["introduced by", a.name + " <" + a.email + "> in " + a.commit + " on " + a.date]);
    }
    if (o.aws_account) {
      const a = o.aws_account;
      ownerPairs.push(["AWS account", a.id + (a.name ? " " + a.name : "") + (a.email ? " <" + a.email + ">" : "") +
        (a.status ? " " + a.status : "") + " (from " + a.source + ")"]);
    } else if (f.aws_account) {
      ownerPairs.push(["AWS account", f.aws_account]);
    }
    box.append(ownerPairs.length ? pairs(ownerPairs) : el("p", {}, NO_OWNER));
    const b = f.blast_radius;
    box.append(el("h3", {}, "Blast radius"), b ? pairs([["tier", b.tier], ["principal", b.principal],
      ["policies", b.policies.map((p) => p.name + " (" + p.kind + ")").join(", ")],
      ["services", b.services.join(", ")], ["tier actions", b.tier_actions.join(", ")],
      ["allowed actions", b.allowed_actions], ["policy sources", b.sources.join(", ")],
      ["complete", String(b.complete)], ["could not read", (b.could_not_read || []).join("; ")]])
      : el("p", {}, NO_TIER));
    return box;
  }

  document.getElementById("page-prev").addEventListener("click", () => { state.page -= 1; renderTable(); });
  document.getElementById("page-next").addEventListener("click", () => { state.page += 1; renderTable(); });

  renderMeta();
  renderCharts();
  const lazyFilters = renderFilterOptions();
  renderHead();
  sortMatched();
  renderTable();
  performance.mark("keysweep-ready");
  afterPaint(() => {
    performance.mark("keysweep-painted");
    document.body.dataset.ready = "true";
    setTimeout(() => lazyFilters.forEach(fillOptions), 0);
  });
})();
