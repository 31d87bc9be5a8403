// contactd supervisor wallboard. Plain browser JavaScript, no build step.
//
// Queues and agents come from polling the API every 2 s; the event
// WebSocket (a supervisor's socket carries every agent's state, call and
// transcript events, labelled with the agent) makes states instant and feeds
// the angry-caller alerts, scored with the word list in sentiment.js.
//
// window.contactdSupervisor mirrors the board for tests and debugging.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "contactd.supervisor.token";
  const USER_KEY = "contactd.supervisor.user";
  const POLL_MS = 2000;
  const MAX_ALERTS = 50;
  const senti = window.contactdSentiment;

  const sv = {
    loggedIn: false,
    user: null,
    wsConnected: false,
    queues: [],
    agents: [],
    calls: {}, // agent → current call {id, from, intent, since}
    moods: {}, // call id → angry | negative | neutral | positive
    alerts: [], // {at, agent, call_id, text, terms}
    polls: 0,
    lastError: "",
  };
  window.contactdSupervisor = sv;

  let token = sessionStorage.getItem(TOKEN_KEY);
  let ws = null;
  let wsWanted = false;
  let wsRetry = null;
  let backoff = 500;
  let pollTimer = null;
  let tickTimer = null;
  const lines = {}; // call id → caller lines
  let fetchedAt = Date.now();

  function showError(msg) {
    sv.lastError = msg;
    $("error").textContent = msg;
    $("error").hidden = !msg;
  }

  async function api(method, path, body) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      if (res.status === 401 && token) signOut("Your session has ended; please sign in again.");
      const err = new Error((data && data.error) || res.status + " " + res.statusText);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  // ---- sign in ---------------------------------------------------------------

  async function signIn(ev) {
    ev.preventDefault();
    showError("");
    const username = $("username").value.trim();
    const password = $("password").value;
    $("login").disabled = true;
    try {
      const res = await api("POST", "/api/v1/auth/login", { username, password });
      const user = res.user || {};
      if (user.role !== "supervisor" && user.role !== "admin") {
        token = res.token;
        await api("POST", "/api/v1/auth/logout").catch(() => {});
        token = null;
        showError("The wallboard is for supervisors and admins; " + username + " is " + (user.role || "unknown") + ".");
        return;
      }
      token = res.token;
      sessionStorage.setItem(TOKEN_KEY, token);
      sessionStorage.setItem(USER_KEY, JSON.stringify(user));
      $("password").value = "";
      enter(user);
    } catch (e) {
      showError("Sign-in failed: " + e.message);
    } finally {
      $("login").disabled = false;
    }
  }

  function enter(user) {
    sv.loggedIn = true;
    sv.user = user;
    $("who-name").textContent = user.username;
    $("who").hidden = false;
    $("login-panel").hidden = true;
    $("board").hidden = false;
    connect();
    poll();
    clearInterval(tickTimer);
    tickTimer = setInterval(renderAgents, 1000); // times in state keep running
  }

  function signOut(why) {
    wsWanted = false;
    clearTimeout(wsRetry);
    clearTimeout(pollTimer);
    clearInterval(tickTimer);
    if (ws) ws.close(1000, "sign out");
    ws = null;
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    sv.loggedIn = false;
    $("who").hidden = true;
    $("board").hidden = true;
    $("login-panel").hidden = false;
    if (why) showError(why);
  }

  // ---- polling -----------------------------------------------------------------

  async function poll() {
    clearTimeout(pollTimer);
    if (!sv.loggedIn) return;
    try {
      const [q, a, c] = await Promise.all([
        api("GET", "/api/v1/queues"),
        api("GET", "/api/v1/agents"),
        api("GET", "/api/v1/calls?limit=100"),
      ]);
      sv.queues = (q && q.queues) || [];
      sv.agents = (a && a.agents) || [];
      const current = {};
      for (const call of (c && c.calls) || []) {
        if (call.agent && call.answered_at && !call.ended_at && !current[call.agent]) {
          current[call.agent] = { id: call.id, from: call.from, intent: call.intent };
        }
      }
      sv.calls = current;
      fetchedAt = Date.now();
      sv.polls++;
      showError("");
      render();
      $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (e) {
      showError("Wallboard data unavailable: " + e.message);
    }
    if (sv.loggedIn) pollTimer = setTimeout(poll, POLL_MS);
  }

  // ---- events ------------------------------------------------------------------

  function setConn(up) {
    sv.wsConnected = up;
    $("conn").textContent = up ? "live" : "reconnecting…";
    $("conn").classList.toggle("up", up);
  }

  function connect() {
    wsWanted = true;
    clearTimeout(wsRetry);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const sock = new WebSocket(proto + "//" + location.host + "/api/v1/events?token=" + encodeURIComponent(token));
    ws = sock;
    sock.onopen = () => {
      backoff = 500;
      setConn(true);
    };
    sock.onmessage = (ev) => {
      try {
        handle(JSON.parse(ev.data));
      } catch (e) {
        console.warn("contactd: bad event", e);
      }
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null;
      setConn(false);
      if (!wsWanted) return;
      const wait = 250 + Math.random() * backoff;
      backoff = Math.min(backoff * 2, 10000);
      wsRetry = setTimeout(() => {
        connect();
        poll(); // catch up on what the socket missed
      }, wait);
    };
  }

  function handle(m) {
    if (!m.agent) return; // the supervisor's own events
    switch (m.type) {
      case "agent_state": {
        const a = sv.agents.find((x) => x.username === m.agent);
        if (a && a.state !== m.state) {
          a.state = m.state;
          a.since = new Date().toISOString();
          a.time_in_state_ms = 0;
          a.reason = "";
          renderAgents();
        }
        break;
      }
      case "call_answered":
        sv.calls[m.agent] = Object.assign({ id: m.call_id }, sv.calls[m.agent] || {}, { id: m.call_id });
        renderAgents();
        break;
      case "call_ended":
        if (sv.calls[m.agent] && sv.calls[m.agent].id === m.call_id) delete sv.calls[m.agent];
        renderAgents();
        break;
      case "transcript":
        if (m.speaker === "agent") break;
        (lines[m.call_id] = lines[m.call_id] || []).push(m.text || "");
        sv.moods[m.call_id] = senti.mood(lines[m.call_id]);
        {
          const terms = senti.angryTerms(m.text || "");
          if (terms.length > 0) addAlert({ at: new Date().toISOString(), agent: m.agent, call_id: m.call_id, text: m.text, terms });
        }
        renderAgents();
        break;
    }
  }

  function addAlert(a) {
    sv.alerts.unshift(a);
    sv.alerts.length = Math.min(sv.alerts.length, MAX_ALERTS);
    renderAlerts();
  }

  // ---- rendering ---------------------------------------------------------------

  function dur(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600);
    const mm = String(Math.floor((s % 3600) / 60));
    const ss = String(s % 60).padStart(2, "0");
    return h > 0 ? h + ":" + mm.padStart(2, "0") + ":" + ss : mm + ":" + ss;
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function render() {
    renderQueues();
    renderAgents();
    renderAlerts();
  }

  function renderQueues() {
    let waiting = 0;
    let longest = 0;
    let answered = 0;
    let abandoned = 0;
    const rows = sv.queues.map((q) => {
      waiting += q.waiting_count || 0;
      longest = Math.max(longest, q.longest_wait_ms || 0);
      answered += q.answered || 0;
      abandoned += q.abandoned || 0;
      const tr = document.createElement("tr");
      tr.dataset.queue = q.name;
      const sl = q.service_level == null ? "—" : Math.round(q.service_level * 100) + "%";
      if (q.sla_target_ms && q.longest_wait_ms > q.sla_target_ms) tr.className = "bad";
      else if (q.waiting_count > 0) tr.className = "warn";
      tr.append(cell(q.name), cell(String(q.waiting_count || 0), "num"), cell(dur(q.longest_wait_ms || 0), "num"),
        cell(sl, "num"), cell(String(q.answered || 0), "num"), cell(String(q.abandoned || 0), "num"));
      return tr;
    });
    $("queues").tBodies[0].replaceChildren(...rows);
    $("t-waiting").textContent = waiting;
    $("t-longest").textContent = dur(longest);
    $("t-answered").textContent = answered;
    $("t-abandoned").textContent = abandoned;
  }

  function renderAgents() {
    const since = Date.now() - fetchedAt;
    let available = 0;
    let oncall = 0;
    const rows = sv.agents.map((a) => {
      if (a.state === "available") available++;
      if (a.state === "busy") oncall++;
      const tr = document.createElement("tr");
      tr.dataset.agent = a.username;
      const st = document.createElement("td");
      const pill = document.createElement("span");
      pill.className = "state-pill state-" + a.state;
      pill.textContent = (a.state === "wrapup" ? "wrap-up" : a.state) + (a.reason ? " · " + a.reason.replace(/[_-]+/g, " ") : "");
      st.append(pill);
      const c = sv.calls[a.username];
      const callText = c ? (c.from || "") + (c.intent ? " · " + c.intent.replace(/[_-]+/g, " ") : "") + " (" + c.id + ")" :
        a.offering ? "ringing (" + a.offering + ")" : "—";
      const mood = c ? sv.moods[c.id] || "neutral" : "";
      const moodTd = document.createElement("td");
      if (mood) {
        const m = document.createElement("span");
        m.className = "pill mood-" + mood;
        m.textContent = mood;
        moodTd.append(m);
      } else {
        moodTd.textContent = "—";
      }
      if (mood === "angry") tr.className = "bad";
      tr.append(cell(a.username), st, cell(dur((a.time_in_state_ms || 0) + since), "num"), cell(callText), moodTd,
        cell(String(a.handled_today || 0), "num"));
      return tr;
    });
    $("agents").tBodies[0].replaceChildren(...rows);
    $("t-available").textContent = available;
    $("t-oncall").textContent = oncall;
  }

  function renderAlerts() {
    const items = sv.alerts.map((a) => {
      const li = document.createElement("li");
      const q = document.createElement("q");
      q.textContent = a.text;
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = new Date(a.at).toLocaleTimeString() + " · agent " + a.agent + " · call " + a.call_id +
        " · " + a.terms.join(", ");
      const head = document.createElement("span");
      head.textContent = "Angry caller: ";
      li.append(head, q, meta);
      return li;
    });
    $("alerts").replaceChildren(...items);
    $("alerts-empty").hidden = items.length > 0;
    document.querySelector(".alerts-card").classList.toggle("hot", items.length > 0);
    document.title = (items.length > 0 ? "(" + items.length + ") " : "") + "contactd · Wallboard";
  }

  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", async () => {
    await api("POST", "/api/v1/auth/logout").catch(() => {});
    signOut("");
  });
  $("alerts-clear").addEventListener("click", () => {
    sv.alerts = [];
    renderAlerts();
  });

  if (token) {
    let user = null;
    try {
      user = JSON.parse(sessionStorage.getItem(USER_KEY));
    } catch {
      user = null;
    }
    if (user && user.username) enter(user);
    else signOut("");
  } else {
    $("username").focus();
  }
})();
