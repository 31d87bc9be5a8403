// contactd agent softphone. Plain browser JavaScript, no build step.
//
// The page signs in over the REST API, keeps the token in sessionStorage,
// listens to /api/v1/events on a WebSocket (reconnecting with back-off) and
// answers offered calls with one RTCPeerConnection: the microphone goes out,
// the caller's audio plays in #remote-audio. ICE is not trickled: the page
// waits for gathering to finish and posts one complete offer.
//
// During a call the page also shows the caller card (history API),
// knowledge suggestions from the caller's last lines (KB search, debounced),
// a sentiment pill (sentiment.js), mute and a microphone picker; after it,
// the drafted ticket in an editable wrap-up form with a disposition.
//
// window.contactd mirrors the page state for tests and debugging.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "contactd.token";
  const USER_KEY = "contactd.user";
  const ICE_GATHER_MS = 5000;
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 10000;

  const cd = {
    loggedIn: false,
    user: null,
    state: "offline",
    offer: null,
    callId: null,
    inCall: false,
    pcState: "new",
    transcript: [],
    lastError: "",
    wsConnected: false,
    ticketId: null,
    reason: "",
    muted: false,
    micDevice: localStorage.getItem("contactd.mic") || "",
    caller: null, // {number, calls, tickets} for the offered/current call
    suggestions: [], // knowledge hits {title, heading, passage, score, path}
    kbSource: "", // "intent" or "transcript": what the suggestions came from
    kbQuery: "",
    sentiment: "neutral",
    wrapup: null, // {callId, ticketId, ticket, saved, error}
    restored: false, // the call was found again after a page reload
    stats,
  };
  window.contactd = cd;

  let token = sessionStorage.getItem(TOKEN_KEY);
  let ws = null;
  let wsWanted = false;
  let wsRetry = null;
  let backoff = BACKOFF_MIN_MS;
  let pc = null;
  let mic = null;
  let lastCallId = null;
  let offerTimer = null;
  let callTimer = null;
  let kbTimer = null;
  let wrapPoll = null;
  let restoring = false;
  const KB_DEBOUNCE_MS = 700;
  const senti = window.contactdSentiment;
  const baseTitle = document.title;

  // ---- errors and notices -------------------------------------------------

  function showError(msg) {
    cd.lastError = msg;
    $("error").textContent = msg;
    $("error").hidden = false;
    console.warn("contactd: " + msg);
  }

  function clearError() {
    $("error").hidden = true;
    $("error").textContent = "";
  }

  function notice(msg) {
    $("notice").textContent = msg;
    $("notice").hidden = !msg;
  }

  // ---- REST ---------------------------------------------------------------

  async function api(method, path, body) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new Error("cannot reach the server (" + e.message + ")");
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const msg = (data && data.error) || res.status + " " + res.statusText;
      if (res.status === 401 && token) {
        signOut("Your session has ended; please sign in again.");
      }
      const err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  // ---- sign in / out ------------------------------------------------------

  async function signIn(ev) {
    ev.preventDefault();
    clearError();
    const username = $("username").value.trim();
    const password = $("password").value;
    if (!username || !password) {
      showError("Enter your username and password.");
      return;
    }
    $("login").disabled = true;
    try {
      const res = await api("POST", "/api/v1/auth/login", { username, password });
      if (!res || !res.token) throw new Error("the server sent no token");
      token = res.token;
      const user = res.user || { username, role: "agent" };
      sessionStorage.setItem(TOKEN_KEY, token);
      sessionStorage.setItem(USER_KEY, JSON.stringify(user));
      $("password").value = "";
      enterDesk(user);
    } catch (e) {
      showError("Sign-in failed: " + e.message);
    } finally {
      $("login").disabled = false;
    }
  }

  function enterDesk(user) {
    cd.loggedIn = true;
    cd.user = user;
    $("who-name").textContent = user.username;
    $("who").hidden = false;
    $("login-panel").hidden = true;
    $("desk").hidden = false;
    renderState();
    connect();
    listDevices();
    loadFields();
  }

  function signOut(why) {
    endCall(null, "");
    hideOffer();
    wsWanted = false;
    clearTimeout(wsRetry);
    if (ws) ws.close(1000, "sign out");
    ws = null;
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    cd.loggedIn = false;
    cd.user = null;
    cd.state = "offline";
    setConn(false);
    $("who").hidden = true;
    $("desk").hidden = true;
    $("login-panel").hidden = false;
    $("username").focus();
    if (why) showError(why);
  }

  async function logOutClicked() {
    if (cd.inCall && !confirm("You are on a call. Hang up and sign out?")) return;
    if (cd.inCall) await hangup();
    try {
      await api("POST", userPath() + "/state", { state: "offline" });
    } catch (e) {
      // Signing out works without the server.
    }
    signOut("");
  }

  function userPath() {
    return "/api/v1/agents/" + encodeURIComponent(cd.user.username);
  }

  // ---- agent state --------------------------------------------------------

  function setState(s) {
    if (!s) return;
    cd.state = s;
    renderState();
  }

  function renderState() {
    const s = cd.state;
    const el = $("state");
    el.textContent = s === "wrapup" ? "wrap-up" : s;
    el.className = "state state-" + s;
    $("state-reason").textContent = s === "break" && cd.reason ? "(" + humanize(cd.reason) + ")" : "";
    const locked = s === "ringing" || s === "busy";
    $("go-available").disabled = locked || s === "available";
    $("go-break").disabled = locked || s === "break";
  }

  async function goState(s) {
    clearError();
    const reason = s === "break" ? $("break-reason").value : "";
    try {
      const res = await api("POST", userPath() + "/state", { state: s, reason });
      cd.reason = reason;
      setState((res && res.state) || s);
    } catch (e) {
      showError("Could not change status: " + e.message);
    }
  }

  // ---- events WebSocket ---------------------------------------------------

  function setConn(up) {
    cd.wsConnected = up;
    $("conn").textContent = up ? "connected" : "reconnecting…";
    $("conn").classList.toggle("up", up);
  }

  function connect() {
    wsWanted = true;
    clearTimeout(wsRetry);
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const url = proto + "//" + location.host + "/api/v1/events?token=" + encodeURIComponent(token);
    const sock = new WebSocket(url);
    ws = sock;
    sock.onopen = () => {
      backoff = BACKOFF_MIN_MS;
      setConn(true);
      console.log("contactd: events connected");
    };
    sock.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        console.warn("contactd: bad event", ev.data);
        return;
      }
      handle(msg);
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      ws = null;
      setConn(false);
      if (!wsWanted) return;
      if (ev.code === 1008 || ev.code === 4401) {
        signOut("Your session has ended; please sign in again.");
        return;
      }
      // Full jitter keeps many agents from reconnecting in step after a
      // server restart.
      const wait = BACKOFF_MIN_MS / 2 + Math.random() * backoff;
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      console.log("contactd: events closed (" + ev.code + "), retry in " + Math.round(wait) + " ms");
      wsRetry = setTimeout(connect, wait);
    };
  }

  function handle(msg) {
    switch (msg.type) {
      case "agent_state":
        if (msg.state !== cd.state && msg.state !== "break") cd.reason = "";
        setState(msg.state);
        if (msg.state === "break" && !cd.reason) loadReason();
        if (msg.state === "busy" && !cd.callId && !cd.offer) restoreCall();
        break;
      case "offer":
        showOffer(msg);
        break;
      case "offer_revoked":
        if (cd.offer && cd.offer.call_id === msg.call_id && !cd.inCall) {
          hideOffer();
          notice("The call was withdrawn: the caller hung up or another agent took it.");
        }
        break;
      case "call_answered":
        if (msg.call_id === cd.callId) $("call-media").textContent = "connected";
        break;
      case "transcript":
        addTranscript(msg);
        break;
      case "call_ended":
        if (msg.call_id === cd.callId || (cd.offer && cd.offer.call_id === msg.call_id)) {
          endCall(msg.ticket_id, "The caller hung up.");
        } else if (msg.call_id === lastCallId && msg.ticket_id) {
          cd.ticketId = msg.ticket_id;
          notice("Call ended. Ticket " + msg.ticket_id + " was drafted.");
        }
        if (msg.ticket_id && cd.wrapup && cd.wrapup.callId === msg.call_id && !cd.wrapup.ticket) {
          cd.wrapup.ticketId = msg.ticket_id;
          fetchWrapTicket();
        }
        break;
      default:
        console.debug("contactd: ignored event", msg.type);
    }
  }

  // ---- offers -------------------------------------------------------------

  function showOffer(msg) {
    if (cd.inCall || cd.callId) {
      console.warn("contactd: offer while on a call", msg.call_id);
      return;
    }
    cd.offer = {
      call_id: msg.call_id,
      from: msg.from || "",
      intent: msg.intent || "",
      queue: msg.queue || "",
      timeout_ms: msg.timeout_ms || 0,
    };
    notice("");
    $("offer-from").textContent = cd.offer.from || "unknown number";
    $("offer-intent").textContent = cd.offer.intent ? humanize(cd.offer.intent) : "not recognised";
    $("offer-queue").textContent = cd.offer.queue || "—";
    $("answer").disabled = false;
    $("reject").disabled = false;
    $("offer-panel").hidden = false;
    document.title = "Incoming call · " + baseTitle;
    loadCaller(cd.offer.from, cd.offer.call_id);
    $("answer").focus();

    clearInterval(offerTimer);
    if (cd.offer.timeout_ms > 0) {
      const until = Date.now() + cd.offer.timeout_ms;
      const tick = () => {
        const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
        $("offer-timer").textContent = "Answer within " + left + " s";
        if (left === 0 && !cd.inCall) {
          hideOffer();
          notice("You missed a call.");
        }
      };
      tick();
      offerTimer = setInterval(tick, 250);
    } else {
      $("offer-timer").textContent = "";
    }
  }

  function hideOffer() {
    clearInterval(offerTimer);
    offerTimer = null;
    cd.offer = null;
    $("offer-panel").hidden = true;
    document.title = baseTitle;
  }

  function humanize(s) {
    return s.replace(/[_.-]+/g, " ");
  }

  async function reject() {
    const offer = cd.offer;
    if (!offer) return;
    hideOffer();
    try {
      await api("POST", "/api/v1/calls/" + encodeURIComponent(offer.call_id) + "/reject");
    } catch (e) {
      showError("Could not reject the call: " + e.message);
    }
  }

  // ---- calls --------------------------------------------------------------

  function iceGathered(conn, ms) {
    if (conn.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        conn.removeEventListener("icegatheringstatechange", check);
        resolve();
      };
      const check = () => {
        if (conn.iceGatheringState === "complete") done();
      };
      // Send what was gathered rather than wait forever.
      const timer = setTimeout(done, ms);
      conn.addEventListener("icegatheringstatechange", check);
    });
  }

  async function answer() {
    const offer = cd.offer;
    if (!offer || cd.inCall) return;
    clearError();
    $("answer").disabled = true;
    $("reject").disabled = true;
    clearInterval(offerTimer);

    // The call is ours from here: events for it (transcript, call_ended)
    // may arrive before the answer request returns.
    cd.callId = offer.call_id;
    lastCallId = offer.call_id;
    cd.ticketId = null;
    resetCallPanels();
    const mine = () => cd.callId === offer.call_id;

    let localMic = null;
    let conn = null;
    try {
      localMic = await openMic();
      if (!mine()) throw null;
      mic = localMic;
      conn = new RTCPeerConnection({ iceServers: [] });
      pc = conn;
      cd.pcState = conn.connectionState;
      conn.onconnectionstatechange = () => {
        if (pc !== conn) return;
        cd.pcState = conn.connectionState;
        $("call-media").textContent = conn.connectionState;
        if (conn.connectionState === "failed") showError("The audio connection failed.");
      };
      conn.ontrack = (ev) => {
        const audio = $("remote-audio");
        audio.srcObject = ev.streams[0] || new MediaStream([ev.track]);
        audio.play().catch((e) => console.warn("contactd: audio play: " + e.message));
      };
      for (const track of mic.getAudioTracks()) {
        conn.addTransceiver(track, { direction: "sendrecv", streams: [mic] });
      }
      await conn.setLocalDescription(await conn.createOffer());
      await iceGathered(conn, ICE_GATHER_MS);
      if (!mine()) throw null;

      const res = await api("POST", "/api/v1/calls/" + encodeURIComponent(offer.call_id) + "/answer", {
        sdp: conn.localDescription.sdp,
      });
      if (!res || !res.sdp) throw new Error("the server sent no SDP answer");
      if (!mine()) throw null;
      await conn.setRemoteDescription({ type: "answer", sdp: res.sdp });

      cd.inCall = true;
      showCall(offer);
      listDevices();
      if (offer.intent && offer.intent !== "unknown") suggest(humanize(offer.intent), "intent");
    } catch (e) {
      if (e === null || !mine()) {
        // The call ended while we answered; endCall may have run before
        // these existed.
        if (conn) conn.close();
        if (localMic) localMic.getTracks().forEach((t) => t.stop());
        if (pc === conn) pc = null;
        if (mic === localMic) mic = null;
        return;
      }
      teardownMedia();
      cd.callId = null;
      hideOffer();
      const why = e.name === "NotAllowedError" ? "microphone access was denied" : e.message;
      showError("Could not answer the call: " + why);
    }
  }

  function showCall(offer) {
    hideOffer();
    $("call-from").textContent = offer.from || "unknown number";
    $("call-intent").textContent = offer.intent ? humanize(offer.intent) : "not recognised";
    $("call-queue").textContent = offer.queue || "—";
    $("call-media").textContent = cd.pcState;
    $("call-id").textContent = cd.callId || "";
    setMuted(false);
    $("call-panel").hidden = false;
    $("hangup").disabled = false;
    document.title = "On a call · " + baseTitle;
    const start = Date.now();
    clearInterval(callTimer);
    callTimer = setInterval(() => {
      const s = Math.floor((Date.now() - start) / 1000);
      $("call-timer").textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    }, 1000);
    $("hangup").focus();
  }

  async function hangup() {
    const id = cd.callId;
    if (!id) return;
    $("hangup").disabled = true;
    endCall(null, "You hung up.");
    try {
      await api("POST", "/api/v1/calls/" + encodeURIComponent(id) + "/hangup");
    } catch (e) {
      showError("Hang-up failed on the server: " + e.message);
    }
  }

  function endCall(ticketId, why) {
    const had = cd.callId !== null || cd.offer !== null;
    const answered = cd.inCall ? cd.callId : null;
    teardownMedia();
    cd.inCall = false;
    cd.callId = null;
    if (ticketId) cd.ticketId = ticketId;
    hideOffer();
    clearInterval(callTimer);
    callTimer = null;
    $("call-panel").hidden = true;
    document.title = baseTitle;
    if (had && why !== "") {
      notice("Call ended. " + (why || "") + (ticketId ? " Ticket " + ticketId + " was drafted." : ""));
    }
    cd.restored = false;
    clearTimeout(kbTimer);
    if (answered && why !== "") openWrapup(answered, ticketId);
  }

  function teardownMedia() {
    if (pc) {
      pc.close();
      pc = null;
      cd.pcState = "closed";
    }
    if (mic) {
      mic.getTracks().forEach((t) => t.stop());
      mic = null;
    }
    $("remote-audio").srcObject = null;
  }

  function addTranscript(msg) {
    if (msg.call_id !== cd.callId && msg.call_id !== lastCallId) return;
    const entry = {
      call_id: msg.call_id,
      speaker: msg.speaker,
      text: msg.text || "",
      start_ms: msg.start_ms || 0,
      end_ms: msg.end_ms || 0,
    };
    cd.transcript.push(entry);
    const li = document.createElement("li");
    li.className = entry.speaker === "agent" ? "agent" : "caller";
    if (entry.speaker !== "agent") {
      if (senti.angryTerms(entry.text).length > 0) li.classList.add("angry");
      setSentiment(senti.mood(callerLines()));
      if (msg.call_id === cd.callId) suggestSoon();
    }
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = (entry.speaker === "agent" ? "You" : "Caller") + " · " + clock(entry.start_ms);
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = entry.text;
    li.append(who, text);
    const list = $("transcript");
    list.append(li);
    list.scrollTop = list.scrollHeight;
    $("transcript-empty").hidden = true;
  }

  function clock(ms) {
    const s = Math.floor(ms / 1000);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  async function stats() {
    const out = { inboundAudioEnergy: 0, inboundPackets: 0, outboundPackets: 0 };
    if (!pc) return out;
    const report = await pc.getStats();
    report.forEach((r) => {
      const audio = r.kind === "audio" || r.mediaType === "audio";
      if (r.type === "inbound-rtp" && audio) {
        out.inboundAudioEnergy += r.totalAudioEnergy || 0;
        out.inboundPackets += r.packetsReceived || 0;
      } else if (r.type === "outbound-rtp" && audio) {
        out.outboundPackets += r.packetsSent || 0;
      }
    });
    return out;
  }

  // ---- caller card --------------------------------------------------------

  async function loadCaller(number, callId) {
    cd.caller = null;
    $("caller-number").textContent = number || "";
    $("caller-body").hidden = true;
    if (!number) {
      $("caller-empty").textContent = "Unknown number: no history.";
      $("caller-empty").hidden = false;
      return;
    }
    $("caller-empty").textContent = "Loading history…";
    $("caller-empty").hidden = false;
    let h;
    try {
      h = await api("GET", "/api/v1/callers/" + encodeURIComponent(number) + "/history");
    } catch (e) {
      $("caller-empty").textContent = "History unavailable: " + e.message;
      return;
    }
    if ((cd.offer && cd.offer.call_id !== callId) || (cd.callId && cd.callId !== callId)) return;
    const calls = (h.calls || []).filter((c) => c.id !== callId);
    const tickets = (h.tickets || []).filter((t) => t.call_id !== callId);
    cd.caller = { number, calls, tickets };
    const open = tickets.filter((t) => t.status === "open" || t.status === "pending").length;
    $("caller-summary").textContent = calls.length === 0 ? "First call from this number." :
      calls.length + " earlier call" + (calls.length === 1 ? "" : "s") + ", " + open + " open ticket" + (open === 1 ? "" : "s") + ".";
    $("caller-calls").replaceChildren(...calls.slice(0, 5).map((c) => item(
      humanize(c.intent || "unknown"),
      fmtDate(c.started_at) + (c.agent ? " · " + c.agent : "") + (c.disposition ? " · " + humanize(c.disposition) : ""))));
    $("caller-tickets").replaceChildren(...tickets.slice(0, 5).map((t) => item(
      t.subject || humanize(t.category || "ticket"),
      t.status + " · " + humanize(t.category || "") + " · " + fmtDate(t.created_at))));
    if (calls.length === 0) $("caller-calls").replaceChildren(item("None", ""));
    if (tickets.length === 0) $("caller-tickets").replaceChildren(item("None", ""));
    $("caller-empty").hidden = true;
    $("caller-body").hidden = false;
  }

  function item(title, meta) {
    const li = document.createElement("li");
    const b = document.createElement("span");
    b.textContent = title;
    li.append(b);
    if (meta) {
      const m = document.createElement("span");
      m.className = "meta";
      m.textContent = meta;
      li.append(m);
    }
    return li;
  }

  function fmtDate(s) {
    if (!s) return "";
    const d = new Date(s);
    return isNaN(d) ? "" : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  // ---- sentiment and knowledge ---------------------------------------------

  function callerLines() {
    return cd.transcript.filter((e) => e.speaker !== "agent" && e.call_id === (cd.callId || lastCallId)).map((e) => e.text);
  }

  function setSentiment(m) {
    cd.sentiment = m;
    const el = $("sentiment");
    el.textContent = m;
    el.className = "pill mood-" + m;
  }

  function suggestSoon() {
    clearTimeout(kbTimer);
    kbTimer = setTimeout(() => {
      const q = callerLines().slice(-3).join(" ").trim();
      if (q) suggest(q, "transcript");
    }, KB_DEBOUNCE_MS);
  }

  async function suggest(q, source) {
    const callId = cd.callId;
    let res;
    try {
      res = await api("GET", "/api/v1/kb/search?k=3&q=" + encodeURIComponent(q.slice(0, 1000)));
    } catch (e) {
      console.warn("contactd: knowledge search: " + e.message);
      return;
    }
    if (cd.callId !== callId) return;
    const hits = (res && res.hits) || [];
    if (hits.length === 0 && cd.suggestions.length > 0) return; // keep the last useful ones
    cd.suggestions = hits;
    cd.kbSource = source;
    cd.kbQuery = q;
    $("kb-suggestions").replaceChildren(...hits.map((h) => {
      const li = document.createElement("li");
      const t = document.createElement("strong");
      t.textContent = h.title + (h.heading && h.heading !== h.title ? " · " + h.heading : "");
      const p = document.createElement("p");
      p.textContent = h.passage;
      li.append(t, p);
      return li;
    }));
    $("kb-empty").hidden = hits.length > 0;
  }

  function resetCallPanels() {
    cd.transcript = [];
    $("transcript").replaceChildren();
    $("transcript-empty").hidden = false;
    cd.suggestions = [];
    cd.kbSource = "";
    cd.kbQuery = "";
    $("kb-suggestions").replaceChildren();
    $("kb-empty").hidden = false;
    setSentiment("neutral");
  }

  // ---- mute and microphone ---------------------------------------------------

  function setMuted(m) {
    cd.muted = m;
    if (mic) mic.getAudioTracks().forEach((t) => (t.enabled = !m));
    $("mute").textContent = m ? "Unmute" : "Mute";
    $("mute").setAttribute("aria-pressed", String(m));
  }

  async function openMic() {
    if (cd.micDevice) {
      try {
        return await navigator.mediaDevices.getUserMedia({ audio: { deviceId: { exact: cd.micDevice } } });
      } catch (e) {
        if (e.name !== "OverconstrainedError" && e.name !== "NotFoundError") throw e;
        console.warn("contactd: chosen microphone is gone; using the default");
      }
    }
    return navigator.mediaDevices.getUserMedia({ audio: true });
  }

  async function listDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    let devs;
    try {
      devs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "audioinput");
    } catch (e) {
      return;
    }
    const sel = $("mic-select");
    const opts = [new Option("System default", "")];
    devs.forEach((d, i) => {
      if (d.deviceId && d.deviceId !== "default") opts.push(new Option(d.label || "Microphone " + (i + 1), d.deviceId));
    });
    sel.replaceChildren(...opts);
    sel.value = opts.some((o) => o.value === cd.micDevice) ? cd.micDevice : "";
  }

  async function micChosen() {
    cd.micDevice = $("mic-select").value;
    localStorage.setItem("contactd.mic", cd.micDevice);
    if (!pc || !mic) return;
    try {
      const next = await openMic();
      const track = next.getAudioTracks()[0];
      const sender = pc.getSenders().find((x) => x.track && x.track.kind === "audio");
      if (sender) await sender.replaceTrack(track);
      mic.getTracks().forEach((t) => t.stop());
      mic = next;
      setMuted(cd.muted);
      notice("Microphone switched.");
    } catch (e) {
      showError("Could not switch the microphone: " + e.message);
    }
  }

  // ---- wrap-up ---------------------------------------------------------------

  async function loadFields() {
    try {
      const f = await api("GET", "/api/v1/tickets/fields");
      $("wu-categories").replaceChildren(...(f.categories || []).map((c) => new Option(humanize(c), c)));
    } catch (e) {
      console.warn("contactd: ticket fields: " + e.message);
    }
  }

  function openWrapup(callId, ticketId) {
    clearInterval(wrapPoll);
    cd.wrapup = { callId, ticketId: ticketId || null, ticket: null, saved: false, error: "" };
    $("wu-ticket-id").textContent = "";
    $("wu-status-line").textContent = "Drafting the ticket…";
    $("wu-status-line").hidden = false;
    $("wrapup-form").hidden = true;
    $("wrapup-panel").hidden = false;
    fetchWrapTicket();
    // The ticket is written a moment after hang-up; call_ended brings its
    // id, and polling covers a reload or a missed event.
    let tries = 0;
    wrapPoll = setInterval(() => {
      if (!cd.wrapup || cd.wrapup.ticket || ++tries > 30) {
        clearInterval(wrapPoll);
        if (cd.wrapup && !cd.wrapup.ticket) $("wu-status-line").textContent = "No ticket was drafted for this call.";
        return;
      }
      fetchWrapTicket();
    }, 1000);
  }

  async function fetchWrapTicket() {
    const w = cd.wrapup;
    if (!w || w.ticket) return;
    let t = null;
    try {
      if (w.ticketId) {
        t = await api("GET", "/api/v1/tickets/" + encodeURIComponent(w.ticketId));
      } else {
        const res = await api("GET", "/api/v1/tickets?call_id=" + encodeURIComponent(w.callId));
        t = res && res.tickets && res.tickets[0];
      }
    } catch (e) {
      if (e.status !== 404) console.warn("contactd: ticket: " + e.message);
      return;
    }
    if (!t || cd.wrapup !== w || w.ticket) return;
    w.ticket = t;
    w.ticketId = t.id;
    cd.ticketId = t.id;
    fillWrapup(t);
  }

  function fillWrapup(t) {
    $("wu-ticket-id").textContent = t.id;
    $("wu-subject").value = t.subject || "";
    $("wu-summary").value = t.summary || "";
    $("wu-category").value = t.category || "";
    $("wu-priority").value = t.priority || "normal";
    $("wu-status").value = t.status || "open";
    const disp = (t.tags || []).find((x) => x.startsWith("disposition:"));
    $("wu-disposition").value = disp ? disp.slice("disposition:".length) : "";
    const mood = t.sentiment || "neutral";
    $("wu-sentiment").textContent = mood;
    $("wu-sentiment").className = "pill mood-" + mood;
    $("wu-routed").textContent = "Routed as " + humanize(t.category || "unknown") +
      ". If that was wrong, change the category: it is recorded as a misroute.";
    $("wu-status-line").hidden = true;
    $("wrapup-form").hidden = false;
    $("wu-subject").focus();
  }

  async function saveWrapup(ev) {
    ev.preventDefault();
    const w = cd.wrapup;
    if (!w || !w.ticket) return;
    clearError();
    const body = {
      subject: $("wu-subject").value.trim(),
      summary: $("wu-summary").value,
      category: $("wu-category").value.trim(),
      priority: $("wu-priority").value,
      status: $("wu-status").value,
      disposition: $("wu-disposition").value,
    };
    if (!body.subject) return showError("The ticket needs a subject.");
    if (!body.category) return showError("The ticket needs a category.");
    if (!body.disposition) return showError("Choose a disposition for the call.");
    $("wu-save").disabled = true;
    try {
      const t = await api("PUT", "/api/v1/tickets/" + encodeURIComponent(w.ticket.id), body);
      w.ticket = t;
      w.saved = true;
      $("wrapup-panel").hidden = true;
      notice("Ticket " + t.id + " saved.");
    } catch (e) {
      w.error = e.message;
      showError("Could not save the ticket: " + e.message);
    } finally {
      $("wu-save").disabled = false;
    }
  }

  function skipWrapup() {
    clearInterval(wrapPoll);
    $("wrapup-panel").hidden = true;
    if (cd.wrapup && cd.wrapup.ticketId) notice("Ticket " + cd.wrapup.ticketId + " left as drafted.");
  }

  // ---- after a reload --------------------------------------------------------

  async function loadReason() {
    try {
      const a = await api("GET", userPath());
      if (a && a.state === "break") {
        cd.reason = a.reason || "";
        renderState();
      }
    } catch (e) {
      // The reason is cosmetic.
    }
  }

  // restoreCall finds the call the agent is on after a page reload and
  // shows it again; the audio comes back when the server can reconnect it.
  async function restoreCall() {
    if (restoring) return;
    restoring = true;
    try {
      const res = await api("GET", "/api/v1/calls?limit=50");
      const me = cd.user && cd.user.username;
      const c = ((res && res.calls) || []).find((x) => x.agent === me && x.answered_at && !x.ended_at);
      if (!c || cd.callId) return;
      cd.callId = c.id;
      lastCallId = c.id;
      cd.inCall = true;
      cd.restored = true;
      resetCallPanels();
      const offer = { call_id: c.id, from: c.from, intent: c.intent, queue: c.queue };
      showCall(offer);
      loadCaller(c.from, c.id);
      notice("You are still on this call (the page was reloaded).");
      reconnectAudio(c.id);
    } catch (e) {
      console.warn("contactd: restore call: " + e.message);
    } finally {
      restoring = false;
    }
  }

  async function reconnectAudio(callId) {
    let conn = null;
    try {
      const localMic = await openMic();
      if (cd.callId !== callId) {
        localMic.getTracks().forEach((t) => t.stop());
        return;
      }
      mic = localMic;
      conn = new RTCPeerConnection({ iceServers: [] });
      pc = conn;
      conn.onconnectionstatechange = () => {
        if (pc !== conn) return;
        cd.pcState = conn.connectionState;
        $("call-media").textContent = conn.connectionState;
      };
      conn.ontrack = (ev) => {
        $("remote-audio").srcObject = ev.streams[0] || new MediaStream([ev.track]);
        $("remote-audio").play().catch(() => {});
      };
      mic.getAudioTracks().forEach((t) => conn.addTransceiver(t, { direction: "sendrecv", streams: [mic] }));
      await conn.setLocalDescription(await conn.createOffer());
      await iceGathered(conn, ICE_GATHER_MS);
      const res = await api("POST", "/api/v1/calls/" + encodeURIComponent(callId) + "/reconnect", { sdp: conn.localDescription.sdp });
      if (pc !== conn) return;
      await conn.setRemoteDescription({ type: "answer", sdp: res.sdp });
    } catch (e) {
      if (pc === conn) teardownMedia();
      $("call-media").textContent = "audio not reconnected";
      console.warn("contactd: reconnect audio: " + e.message);
    }
  }

  // ---- wiring -------------------------------------------------------------

  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", logOutClicked);
  $("go-available").addEventListener("click", () => goState("available"));
  $("go-break").addEventListener("click", () => goState("break"));
  $("answer").addEventListener("click", answer);
  $("reject").addEventListener("click", reject);
  $("hangup").addEventListener("click", hangup);
  $("mute").addEventListener("click", () => setMuted(!cd.muted));
  $("mic-select").addEventListener("change", micChosen);
  $("wrapup-form").addEventListener("submit", saveWrapup);
  $("wu-skip").addEventListener("click", skipWrapup);
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
    navigator.mediaDevices.addEventListener("devicechange", listDevices);
  }

  if (token) {
    let user = null;
    try {
      user = JSON.parse(sessionStorage.getItem(USER_KEY));
    } catch {
      user = null;
    }
    if (user && user.username) {
      enterDesk(user);
    } else {
      signOut("");
    }
  } else {
    $("username").focus();
  }
})();
