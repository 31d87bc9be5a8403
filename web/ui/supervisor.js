// contactd supervisor wallboard. Plain browser JavaScript, no build step.
//
// Queues, agents and live calls (with their hold, consultation and
// supervisors) come from polling the API every 2 s; the event
// WebSocket (a supervisor's socket carries every agent's state, call and
// transcript events, labelled with the agent) makes states instant and feeds
// the angry-caller alerts, scored with the word list in sentiment.js.
//
// The socket resumes after a drop with ?since=<last seq>&epoch=<epoch>
// and gets what it missed; when the server cannot replay the gap it says
// "resync" and the board reloads everything.
//
// Live calls show hold, consultation and other supervisors from the poll and the events;
// each agent's current call has Listen, Whisper and Barge buttons. They open
// one WebRTC connection to the call (POST /calls/{id}/monitor with an SDP
// offer); switching modes later is a request without SDP, so the audio goes
// on without renegotiating.
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
    epoch: "", // the events stream's server process
    lastSeq: 0, // the last event seen: where a reconnect resumes
    resumes: 0,
    replayed: 0,
    resyncs: 0,
    seen: [], // the last events handled, {seq, type, agent}, newest last
    live: {}, // call id → {held, consult, monitors: {supervisor: mode}}
    monitor: null, // {call_id, agent, mode, pcState}: the call we are on
    monitorStats,
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
  let mpc = null; // the monitor peer connection
  let mmic = null;

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
    if (sv.monitor) leaveMonitor();
    wsWanted = false;
    clearTimeout(wsRetry);
    clearTimeout(pollTimer);
    clearInterval(tickTimer);
    if (ws) ws.close(1000, "sign out");
    ws = null;
    sv.epoch = "";
    sv.lastSeq = 0;
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
        api("GET", "/api/v1/calls/live"),
      ]);
      sv.queues = (q && q.queues) || [];
      sv.agents = (a && a.agents) || [];
      // The live calls with their hold, consultation and monitors: a board
      // opened mid-call shows what the events told the others.
      const current = {};
      const live = {};
      for (const call of (c && c.calls) || []) {
        live[call.call_id] = {
          held: !!call.held,
          consult: call.consult ? call.consult + (call.consult_state === "ringing" ? " (ringing)" : "") : "",
          monitors: Object.assign({}, call.monitors || {}),
        };
        if (call.agent && !current[call.agent]) {
          current[call.agent] = { id: call.call_id, from: call.from, intent: call.intent };
        }
      }
      sv.calls = current;
      sv.live = live;
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
    let url = proto + "//" + location.host + "/api/v1/events?token=" + encodeURIComponent(token);
    if (sv.epoch) url += "&since=" + sv.lastSeq + "&epoch=" + encodeURIComponent(sv.epoch);
    const sock = new WebSocket(url);
    ws = sock;
    sock.onopen = () => {
      backoff = 500;
      setConn(true);
    };
    sock.onmessage = (ev) => {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch (e) {
        console.warn("contactd: bad event", e);
        return;
      }
      if (m.seq) {
        if (m.seq <= sv.lastSeq) return; // seen already
        sv.lastSeq = m.seq;
        sv.seen.push({ seq: m.seq, type: m.type, agent: m.agent || "", state: m.state || "" });
        if (sv.seen.length > 200) sv.seen.shift();
      }
      try {
        handle(m);
      } catch (e) {
        console.warn("contactd: event " + m.type + ": " + e.message);
      }
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null;
      setConn(false);
      if (!wsWanted) return;
      const wait = 250 + Math.random() * backoff;
      backoff = Math.min(backoff * 2, 10000);
      wsRetry = setTimeout(connect, wait); // resumes after sv.lastSeq
    };
  }

  function handle(m) {
    switch (m.type) {
      case "hello":
        if (m.resumed) {
          sv.resumes++;
          sv.replayed += m.replayed || 0;
        } else {
          sv.epoch = m.epoch || "";
          sv.lastSeq = m.last || 0;
        }
        return;
      case "resync":
        // The gap is lost: reload the board.
        sv.epoch = m.epoch || "";
        sv.lastSeq = m.last || 0;
        sv.resyncs++;
        poll();
        return;
    }
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
        delete sv.live[m.call_id];
        if (sv.monitor && sv.monitor.call_id === m.call_id) endMonitor("The call ended.");
        renderAgents();
        break;
      case "call_held":
      case "call_resumed":
        live(m.call_id).held = m.type === "call_held";
        renderAgents();
        break;
      case "consult_ringing":
      case "consult_answered":
      case "consult_ended":
        // The consulting agent's copy names the one consulted (peer).
        if (sv.calls[m.agent] && sv.calls[m.agent].id === m.call_id) {
          live(m.call_id).consult = m.type === "consult_ended" ? "" : m.peer + (m.type === "consult_ringing" ? " (ringing)" : "");
          renderAgents();
        }
        break;
      case "call_transferred":
        if (sv.calls[m.agent] && sv.calls[m.agent].id === m.call_id) delete sv.calls[m.agent];
        live(m.call_id).consult = "";
        renderAgents();
        break;
      case "monitor": {
        const mons = live(m.call_id).monitors;
        if (m.mode) mons[m.peer] = m.mode;
        else delete mons[m.peer];
        renderAgents();
        break;
      }
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

  function live(id) {
    return (sv.live[id] = sv.live[id] || { held: false, consult: "", monitors: {} });
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
      const callTd = cell(callText);
      const lv = c && sv.live[c.id];
      if (lv) {
        const bits = [];
        if (lv.held) bits.push("on hold");
        if (lv.consult) bits.push("consulting " + lv.consult);
        for (const [who, mode] of Object.entries(lv.monitors)) bits.push(who + ": " + mode);
        if (bits.length) {
          const s = document.createElement("span");
          s.className = "live-state";
          s.textContent = bits.join(" · ");
          callTd.append(s);
        }
      }
      const monTd = document.createElement("td");
      if (c) {
        const box = document.createElement("div");
        box.className = "mon-btns";
        for (const mode of ["listen", "whisper", "barge"]) {
          const b = document.createElement("button");
          b.type = "button";
          b.className = "mon";
          b.dataset.mode = mode;
          b.dataset.call = c.id;
          b.dataset.agent = a.username;
          b.textContent = mode[0].toUpperCase() + mode.slice(1);
          b.setAttribute("aria-pressed", String(!!sv.monitor && sv.monitor.call_id === c.id && sv.monitor.mode === mode));
          b.title = mode + " on " + a.username + "'s call";
          box.append(b);
        }
        monTd.append(box);
      } else {
        monTd.textContent = "—";
      }
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
      tr.append(cell(a.username), st, cell(dur((a.time_in_state_ms || 0) + since), "num"), callTd, moodTd,
        cell(String(a.handled_today || 0), "num"), monTd);
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

  // ---- listening in ------------------------------------------------------------

  const MODE_HELP = {
    listen: "You hear the caller and the agent; nobody hears you.",
    whisper: "The agent hears you; the caller does not.",
    barge: "The caller and the agent both hear you.",
  };

  function renderMonitor() {
    const m = sv.monitor;
    $("monitor-panel").hidden = !m;
    if (!m) return;
    $("mon-agent").textContent = m.agent;
    $("mon-call").textContent = m.call_id;
    $("mon-media").textContent = m.pcState;
    $("mon-help").textContent = MODE_HELP[m.mode] || "";
    for (const mode of ["listen", "whisper", "barge"]) {
      $("mon-" + mode).setAttribute("aria-pressed", String(m.mode === mode));
    }
  }

  function gathered(conn, ms) {
    if (conn.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      conn.addEventListener("icegatheringstatechange", () => {
        if (conn.iceGatheringState === "complete") {
          clearTimeout(t);
          resolve();
        }
      });
    });
  }

  // monitor joins callId in mode, or switches mode when already on it.
  async function monitor(callId, agent, mode) {
    showError("");
    const m = sv.monitor;
    if (m && m.call_id === callId) {
      if (m.mode === mode) return;
      try {
        await api("POST", "/api/v1/calls/" + encodeURIComponent(callId) + "/monitor", { mode });
        m.mode = mode;
      } catch (e) {
        showError("Could not switch to " + mode + ": " + e.message);
      }
      renderMonitor();
      renderAgents();
      return;
    }
    if (m) await leaveMonitor();
    const mine = { call_id: callId, agent, mode, pcState: "connecting" };
    sv.monitor = mine;
    renderMonitor();
    let conn = null;
    try {
      try {
        mmic = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (e) {
        mmic = null; // listening works without a microphone
        console.warn("contactd: no microphone for whisper and barge: " + e.message);
      }
      conn = new RTCPeerConnection({ iceServers: [] });
      mpc = conn;
      conn.onconnectionstatechange = () => {
        if (mpc !== conn || !sv.monitor) return;
        sv.monitor.pcState = conn.connectionState;
        renderMonitor();
      };
      conn.ontrack = (ev) => {
        const audio = $("monitor-audio");
        audio.srcObject = ev.streams[0] || new MediaStream([ev.track]);
        audio.play().catch((err) => console.warn("contactd: monitor audio: " + err.message));
      };
      if (mmic) mmic.getAudioTracks().forEach((t) => conn.addTransceiver(t, { direction: "sendrecv", streams: [mmic] }));
      else conn.addTransceiver("audio", { direction: "recvonly" });
      await conn.setLocalDescription(await conn.createOffer());
      await gathered(conn, 5000);
      const res = await api("POST", "/api/v1/calls/" + encodeURIComponent(callId) + "/monitor", { mode, sdp: conn.localDescription.sdp });
      if (sv.monitor !== mine) return;
      await conn.setRemoteDescription({ type: "answer", sdp: res.sdp });
    } catch (e) {
      if (sv.monitor === mine) endMonitor("");
      showError("Could not join the call: " + e.message);
    }
    renderAgents();
  }

  async function leaveMonitor() {
    const m = sv.monitor;
    if (!m) return;
    endMonitor("");
    try {
      await api("DELETE", "/api/v1/calls/" + encodeURIComponent(m.call_id) + "/monitor");
    } catch (e) {
      if (e.status !== 404 && e.status !== 409) console.warn("contactd: leave call: " + e.message);
    }
  }

  function endMonitor(why) {
    if (mpc) mpc.close();
    mpc = null;
    if (mmic) mmic.getTracks().forEach((t) => t.stop());
    mmic = null;
    $("monitor-audio").srcObject = null;
    sv.monitor = null;
    renderMonitor();
    renderAgents();
    if (why) showError(why);
  }

  // monitorStats is what the monitor connection receives, for tests.
  async function monitorStats() {
    const out = { inboundAudioEnergy: 0, inboundPackets: 0, outboundPackets: 0 };
    if (!mpc) return out;
    (await mpc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "audio") {
        out.inboundAudioEnergy += r.totalAudioEnergy || 0;
        out.inboundPackets += r.packetsReceived || 0;
      } else if (r.type === "outbound-rtp" && r.kind === "audio") {
        out.outboundPackets += r.packetsSent || 0;
      }
    });
    return out;
  }

  $("agents").addEventListener("click", (ev) => {
    const b = ev.target.closest("button.mon");
    if (b) monitor(b.dataset.call, b.dataset.agent, b.dataset.mode);
  });
  for (const mode of ["listen", "whisper", "barge"]) {
    $("mon-" + mode).addEventListener("click", () => sv.monitor && monitor(sv.monitor.call_id, sv.monitor.agent, mode));
  }
  $("mon-stop").addEventListener("click", leaveMonitor);

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
