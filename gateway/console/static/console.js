// pyrogo console: talks to the JSON API under /console/api/ of the page's
// own origin. Every string from the server is put into the page as text
// (textContent), never as markup: names are chosen by whoever registers them.
"use strict";

(function () {
  const KEY = "pyrogo.gatewayKey";
  const POLL_MS = 3000;
  const $ = (id) => document.getElementById(id);

  let all = [];          // the names as last listed
  let current = null;    // the selected name

  function gatewayKey() {
    try { return sessionStorage.getItem(KEY) || ""; } catch (e) { return ""; }
  }

  function setStatus(text) { $("status").textContent = text || ""; }

  // api fetches an endpoint and returns {status, body}; body is the parsed
  // JSON answer (every answer of the API is JSON).
  async function api(path, init) {
    init = init || {};
    const headers = new Headers(init.headers || {});
    const key = gatewayKey();
    if (key) headers.set("X-Pyro-Gateway-Key", key);
    const resp = await fetch("/console/api/" + path, {
      method: init.method || "GET",
      headers: headers,
      body: init.body,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
    });
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    return { status: resp.status, body: body };
  }

  function failure(r) {
    if (r.body && r.body.error) {
      return r.status + " " + r.body.error.class + ": " + r.body.error.message;
    }
    return "HTTP " + r.status;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function tagList(tags) {
    const ul = el("ul", "tags");
    for (const t of tags || []) ul.appendChild(el("li", null, t));
    return ul;
  }

  // ---- names and the filter ----

  async function loadNames() {
    let r;
    try { r = await api("names"); } catch (e) { setStatus("names: " + e); return; }
    if (r.status !== 200 || !r.body || !Array.isArray(r.body.names)) {
      setStatus("names: " + failure(r) + (r.status === 403 ? " (enter the gateway key above)" : ""));
      all = [];
    } else {
      setStatus("");
      all = r.body.names;
    }
    renderNames();
  }

  function renderNames() {
    const ul = $("names");
    ul.replaceChildren();
    for (const n of all) {
      const li = el("li");
      li.dataset.name = n.name;
      li.dataset.search = [n.name, n.uri].concat(n.metadata || []).join("\n").toLowerCase();
      li.appendChild(el("div", "name", n.name));
      li.appendChild(el("div", "uri", n.uri));
      li.appendChild(tagList(n.metadata));
      li.tabIndex = 0;
      li.addEventListener("click", () => select(n));
      li.addEventListener("keydown", (ev) => { if (ev.key === "Enter") select(n); });
      if (current && current.name === n.name) li.classList.add("selected");
      ul.appendChild(li);
    }
    applyFilter();
  }

  // applyFilter shows the names whose name, URI or metadata contain every
  // word of the filter (case-insensitive).
  function applyFilter() {
    const words = $("filter").value.toLowerCase().split(/\s+/).filter((w) => w);
    let shown = 0;
    for (const li of $("names").children) {
      const ok = words.every((w) => li.dataset.search.includes(w));
      li.hidden = !ok;
      if (ok) shown++;
    }
    $("count").textContent = shown + " of " + all.length + " names";
  }

  // ---- one object ----

  async function select(n) {
    current = n;
    for (const li of $("names").children) li.classList.toggle("selected", li.dataset.name === n.name);
    $("detail").hidden = false;
    $("detail-name").textContent = n.name;
    $("detail-uri").textContent = n.uri;
    $("detail-meta").replaceWith(Object.assign(tagList(n.metadata), { id: "detail-meta" }));
    for (const id of ["detail-methods", "detail-oneway", "detail-attributes"]) $(id).replaceChildren();
    $("method").replaceChildren();
    $("outcome").hidden = true;
    let r;
    try { r = await api("describe?name=" + encodeURIComponent(n.name)); } catch (e) { setStatus("describe: " + e); return; }
    if (current !== n) return; // another name was chosen meanwhile
    if (r.status !== 200 || !r.body) { setStatus("describe " + n.name + ": " + failure(r)); return; }
    setStatus("");
    const d = r.body;
    const fill = (id, items) => {
      for (const m of items) $(id).appendChild(el("li", null, m));
      if (!items.length) $(id).appendChild(el("li", "none", "none"));
    };
    fill("detail-methods", d.methods);
    fill("detail-oneway", d.oneway);
    fill("detail-attributes", d.attributes);
    const sel = $("method");
    const add = (m, note) => {
      const o = el("option", null, note ? m + " (" + note + ")" : m);
      o.value = m;
      sel.appendChild(o);
    };
    // Pyro lists oneway methods among the methods too: one entry each.
    const oneway = new Set(d.oneway);
    for (const m of d.methods) add(m, oneway.has(m) ? "oneway" : "");
    for (const m of d.oneway) if (!d.methods.includes(m)) add(m, "oneway");
    for (const m of d.attributes) add(m, "attribute");
    resetArgs();
  }

  function addArg(value) {
    const li = el("li");
    const input = el("input", "arg");
    input.type = "text";
    input.spellcheck = false;
    input.placeholder = "e.g. 42, 'text', [1, 2], {'k': None}";
    input.value = value || "";
    const rm = el("button", "rmarg", "×");
    rm.type = "button";
    rm.title = "remove this argument";
    rm.addEventListener("click", () => li.remove());
    li.appendChild(input);
    li.appendChild(rm);
    $("args").appendChild(li);
    return input;
  }

  function resetArgs() {
    $("args").replaceChildren();
    addArg("");
    $("kwargs").value = "";
  }

  // collectCall reads the form: positional literals in order (empty inputs
  // at the end are not arguments), keyword arguments as name=literal lines.
  function collectCall() {
    const vals = Array.from($("args").querySelectorAll("input.arg"), (i) => i.value);
    while (vals.length && vals[vals.length - 1].trim() === "") vals.pop();
    vals.forEach((v, i) => { if (v.trim() === "") throw new Error("argument " + (i + 1) + " is empty"); });
    const kwargs = {};
    $("kwargs").value.split("\n").forEach((line, i) => {
      if (line.trim() === "") return;
      const eq = line.indexOf("=");
      if (eq <= 0) throw new Error("keyword line " + (i + 1) + " is not name=literal");
      kwargs[line.slice(0, eq).trim()] = line.slice(eq + 1);
    });
    return { name: current.name, method: $("method").value, args: vals, kwargs: kwargs };
  }

  function showOutcome(title, text, repr, failed) {
    $("outcome").hidden = false;
    $("outcome").classList.toggle("failed", failed);
    $("outcome-title").textContent = title;
    $("result").textContent = text;
    $("result-repr").textContent = repr || "";
  }

  async function doCall(ev) {
    ev.preventDefault();
    if (!current || !$("method").value) return;
    let req;
    try { req = collectCall(); } catch (e) { showOutcome("not called", e.message, "", true); return; }
    let r;
    try {
      r = await api("call", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(req),
      });
    } catch (e) { showOutcome("not called", String(e), "", true); return; }
    const b = r.body;
    if (r.status === 200 && b && b.ok) {
      const text = b.result !== undefined ? JSON.stringify(b.result, null, 2) : b.resultError;
      showOutcome("result of " + req.method, text, b.repr ? "repr: " + b.repr : "", false);
    } else if (r.status === 200 && b && b.error) {
      showOutcome("exception " + b.error.class, b.error.message, "", true);
    } else {
      showOutcome("failed", failure(r), "", true);
    }
    pollInfo(false);
  }

  // ---- live counters ----

  async function pollInfo(again) {
    try {
      const r = await api("info");
      if (r.status === 200 && r.body) {
        const i = r.body;
        $("info-nameserver").textContent = i.nameserver || "–";
        $("info-expose").textContent = i.expose === "" ? "(everything)" : i.expose;
        const t = new Date(i.started);
        $("info-started").textContent = isNaN(t) ? String(i.started) : t.toLocaleString();
        for (const k of ["requests", "calls", "errors", "refused"]) $("info-" + k).textContent = String(i[k]);
      }
    } catch (e) { /* the next poll tries again */ }
    if (again) setTimeout(() => pollInfo(true), POLL_MS);
  }

  function init() {
    $("key").value = gatewayKey();
    $("keyform").addEventListener("submit", (ev) => {
      ev.preventDefault();
      try { sessionStorage.setItem(KEY, $("key").value); } catch (e) { /* storage off: the key stays unused */ }
      loadNames();
      pollInfo(false);
    });
    $("filter").addEventListener("input", applyFilter);
    $("addarg").addEventListener("click", () => addArg("").focus());
    $("callform").addEventListener("submit", doCall);
    loadNames();
    pollInfo(true);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
