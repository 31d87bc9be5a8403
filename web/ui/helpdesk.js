// helpdesk.js: the ticket list, filters, search, CSV export and the
// ticket page (fields, lifecycle edit, notes, audit trail, transcript and
// recording). It signs in over the REST API and keeps the token in
// sessionStorage.
(() => {
  "use strict";
  const TOKEN_KEY = "contactd.helpdesk.token";
  let token = sessionStorage.getItem(TOKEN_KEY);
  let user = JSON.parse(sessionStorage.getItem(TOKEN_KEY + ".user") || "null");
  let selected = null;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const when = (t) => (t ? new Date(t).toLocaleString() : "");

  async function api(method, path, body, raw) {
    const res = await fetch(path, {
      method,
      headers: Object.assign({ "Content-Type": "application/json" }, token ? { Authorization: "Bearer " + token } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status === 401 && path !== "/api/v1/auth/login") { signOut(); throw new Error("signed out"); }
    if (raw) { if (!res.ok) throw new Error("HTTP " + res.status); return res; }
    const data = res.status === 204 ? {} : await res.json();
    if (!res.ok) throw new Error(data.error || "HTTP " + res.status);
    return data;
  }

  function signOut() {
    token = null; sessionStorage.removeItem(TOKEN_KEY);
    if (listen.sock) listen.sock.close();
    $("app").hidden = true; $("logout").hidden = true; $("login").hidden = false; $("who").textContent = "";
  }

  $("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const r = await api("POST", "/api/v1/auth/login", { username: f.get("username"), password: f.get("password") });
      token = r.token; user = r.user;
      sessionStorage.setItem(TOKEN_KEY, token); sessionStorage.setItem(TOKEN_KEY + ".user", JSON.stringify(user));
      start();
    } catch (err) { $("loginErr").textContent = err.message; }
  });
  $("logout").addEventListener("click", async () => { try { await api("POST", "/api/v1/auth/logout"); } catch (_) {} signOut(); });

  function query() {
    const p = new URLSearchParams();
    for (const [k, v] of new FormData($("filters"))) if (v) p.set(k, v);
    return p;
  }

  async function load() {
    $("listErr").textContent = "";
    try {
      const r = await api("GET", "/api/v1/tickets?" + query().toString() + "&limit=200");
      $("rows").innerHTML = r.tickets.map((t) => `<tr class="row${t.id === selected ? " sel" : ""}" data-id="${esc(t.id)}">
        <td>${esc(when(t.created_at))}</td><td>${esc(t.subject)}${t.breached ? ' <span class="pill breached">SLA</span>' : ""}</td>
        <td>${esc(t.category)}${t.sub_category ? " / " + esc(t.sub_category) : ""}</td>
        <td><span class="pill ${esc(t.priority)}">${esc(t.priority)}</span></td><td>${esc(t.status)}</td><td>${esc(t.assignee)}</td></tr>`).join("")
        || '<tr><td colspan="6" class="muted">No tickets match.</td></tr>';
    } catch (err) { $("listErr").textContent = err.message; }
  }
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  $("rows").addEventListener("click", (e) => { const tr = e.target.closest("tr.row"); if (tr) show(tr.dataset.id); });
  $("export").addEventListener("click", async () => {
    try {
      const res = await api("GET", "/api/v1/tickets/export.csv?" + query().toString(), null, true);
      const a = document.createElement("a");
      a.href = URL.createObjectURL(await res.blob()); a.download = "tickets.csv"; a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (err) { $("listErr").textContent = err.message; }
  });

  async function show(id) {
    selected = id;
    document.querySelectorAll("tr.row").forEach((tr) => tr.classList.toggle("sel", tr.dataset.id === id));
    const d = $("detail");
    try {
      const [t, ev, notes] = await Promise.all([api("GET", "/api/v1/tickets/" + encodeURIComponent(id)),
        api("GET", `/api/v1/tickets/${encodeURIComponent(id)}/events`), api("GET", `/api/v1/tickets/${encodeURIComponent(id)}/notes`)]);
      let call = null;
      if (t.call_id) { try { call = await api("GET", "/api/v1/calls/" + encodeURIComponent(t.call_id)); } catch (_) {} }
      const ents = Object.entries(t.entities || {}).map(([k, v]) => `${esc(k)}: ${esc(v)}`).join(", ");
      const fu = (t.follow_ups || []).map((f) => `<li>${esc(f.action)}${f.due ? " — due " + esc(new Date(f.due).toLocaleDateString()) : ""}</li>`).join("");
      const opts = (list, cur) => list.map((v) => `<option${v === cur ? " selected" : ""}>${esc(v)}</option>`).join("");
      d.innerHTML = `<h2>${esc(t.subject)}</h2>
        <dl><dt>Ticket</dt><dd>${esc(t.id)}</dd><dt>Customer</dt><dd>${esc(t.customer.phone)} ${t.customer.id ? `<span class="muted">${esc(t.customer.id)}</span>` : ""}</dd>
        <dt>Category</dt><dd>${esc(t.category)}${t.sub_category ? " / " + esc(t.sub_category) : ""}</dd>
        <dt>Sentiment</dt><dd>${esc(t.sentiment_start || "")} → ${esc(t.sentiment_end || "")} (overall ${esc(t.sentiment)})</dd>
        <dt>Outcome</dt><dd>${esc(t.outcome || "")}</dd><dt>Entities</dt><dd>${ents}</dd>
        <dt>Tags</dt><dd>${esc((t.tags || []).join(", "))}</dd>
        <dt>SLA</dt><dd>first response ${esc(when(t.first_response_due))}, resolution ${esc(when(t.resolution_due))} ${t.breached ? '<span class="pill breached">breached</span>' : ""}</dd></dl>
        <p>${esc(t.summary)}</p>${fu ? `<ul>${fu}</ul>` : ""}
        <form id="edit"><select name="status">${opts(fields.statuses, t.status)}</select>
          <select name="priority">${opts(fields.priorities, t.priority)}</select>
          <input name="assignee" placeholder="assignee" value="${esc(t.assignee || "")}" size="10">
          <input name="team" placeholder="team" value="${esc(t.team || "")}" size="10"><button>Save</button> <span id="editMsg" class="muted"></span></form>
        <h3>Notes</h3><div>${notes.notes.map((n) => `<div class="note${n.internal ? " internal" : ""}"><span class="muted">${esc(n.author)} · ${esc(when(n.created_at))}${n.internal ? " · internal" : ""}</span><br>${esc(n.body)}</div>`).join("") || '<p class="muted">None.</p>'}</div>
        <form id="note"><textarea name="body" rows="2" cols="50" placeholder="Add a note"></textarea><br>
          <label><input type="checkbox" name="internal" checked> internal</label> <button>Add note</button></form>
        <h3>Call</h3>${call ? `<audio id="rec" controls hidden></audio><div>${(call.transcript || []).map((s) => `<div class="seg"><b>${esc(s.speaker)}</b> ${esc(s.text)}</div>`).join("")}</div>` : '<p class="muted">No call.</p>'}
        <h3>History</h3><table>${ev.events.map((e) => `<tr><td class="muted">${esc(when(e.at))}</td><td>${esc(e.actor)}</td><td>${esc(e.field)}</td><td>${esc(e.old)} → ${esc(e.new)}</td></tr>`).join("")}</table>`;
      $("edit").addEventListener("submit", async (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        try {
          await api("PATCH", "/api/v1/tickets/" + encodeURIComponent(id), { status: f.get("status"), priority: f.get("priority"), assignee: f.get("assignee"), team: f.get("team") });
          await load(); await show(id);
        } catch (err) { $("editMsg").textContent = err.message; }
      });
      $("note").addEventListener("submit", async (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        try { await api("POST", `/api/v1/tickets/${encodeURIComponent(id)}/notes`, { body: f.get("body"), internal: f.get("internal") === "on" }); await show(id); }
        catch (err) { alert(err.message); }
      });
      if (call && call.recording_url) {
        try {
          // A signed, short-lived URL: the player streams it without the token.
          const s = await api("GET", call.recording_url + "/url");
          $("rec").src = s.url; $("rec").hidden = false;
        } catch (_) {}
      }
    } catch (err) { d.innerHTML = `<p class="err">${esc(err.message)}</p>`; }
  }

  let fields = { statuses: [], priorities: [], categories: [] };
  async function start() {
    $("login").hidden = true; $("app").hidden = false; $("logout").hidden = false;
    $("who").textContent = user ? user.username + " (" + user.role + ")" : "";
    try {
      fields = await api("GET", "/api/v1/tickets/helpdesk-fields");
      const f = $("filters");
      f.status.innerHTML += fields.statuses.map((s) => `<option>${esc(s)}</option>`).join("");
      f.category.innerHTML += fields.categories.map((s) => `<option>${esc(s)}</option>`).join("");
      f.priority.innerHTML += fields.priorities.map((s) => `<option>${esc(s)}</option>`).join("");
    } catch (_) { return; }
    load();
    listen();
  }

  // listen follows the events WebSocket for SLA breaches the server's
  // watcher announces (to supervisors, admins and the assignee): an alert
  // line, and the list reloads. It reconnects while signed in.
  function listen() {
    if (!token || listen.sock) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const sock = new WebSocket(proto + "//" + location.host + "/api/v1/events?token=" + encodeURIComponent(token));
    listen.sock = sock;
    sock.onmessage = (m) => {
      let ev; try { ev = JSON.parse(m.data); } catch (_) { return; }
      if (ev.type !== "sla_breach") return;
      const line = document.createElement("div");
      line.className = "alert";
      line.dataset.ticket = ev.ticket_id;
      line.textContent = `SLA ${ev.target === "first_response" ? "first response" : "resolution"} breached: ${ev.subject || ev.ticket_id} (now ${ev.priority})`;
      line.addEventListener("click", () => show(ev.ticket_id));
      $("alerts").prepend(line);
      load();
      if (selected === ev.ticket_id) show(ev.ticket_id);
    };
    sock.onclose = () => { listen.sock = null; if (token) setTimeout(listen, 3000); };
  }
  if (token) start(); else signOut();
})();
