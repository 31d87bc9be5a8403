// contactd agent softphone. Plain browser JavaScript, no build step.
//
// The page signs in over the REST API, keeps the token in sessionStorage,
// listens to /api/v1/events on a WebSocket (reconnecting with back-off) and
// answers offered calls with one RTCPeerConnection: the microphone goes out,
// the caller's audio plays in #remote-audio. ICE is not trickled: the page
// waits for gathering to finish and posts one complete offer.
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
    const locked = s === "ringing" || s === "busy";
    $("go-available").disabled = locked || s === "available";
    $("go-break").disabled = locked || s === "break";
  }

  async function goState(s) {
    clearError();
    try {
      const res = await api("POST", userPath() + "/state", { state: s });
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
        setState(msg.state);
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
    cd.transcript = [];
    $("transcript").replaceChildren();
    $("transcript-empty").hidden = false;
    const mine = () => cd.callId === offer.call_id;

    let localMic = null;
    let conn = null;
    try {
      localMic = await navigator.mediaDevices.getUserMedia({ audio: true });
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

  // ---- wiring -------------------------------------------------------------

  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", logOutClicked);
  $("go-available").addEventListener("click", () => goState("available"));
  $("go-break").addEventListener("click", () => goState("break"));
  $("answer").addEventListener("click", answer);
  $("reject").addEventListener("click", reject);
  $("hangup").addEventListener("click", hangup);

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
