// contactd agent softphone. Plain browser JavaScript, no build step.
//
// The page signs in over the REST API, keeps the token in sessionStorage,
// listens to /api/v1/events on a WebSocket (reconnecting with back-off,
// resuming after the last event seen: ?since=<seq>&epoch=<epoch>; when the
// server can no longer replay the gap it says "resync" and the page reloads
// its state) and
// answers offered calls with one RTCPeerConnection: the microphone goes out,
// the caller's audio plays in #remote-audio. ICE is not trickled: the page
// waits for gathering to finish and posts one complete offer.
//
// During a call the page also shows the caller card (history API),
// knowledge suggestions from the caller's last lines (KB search, debounced),
// a sentiment pill (sentiment.js), mute and a microphone picker; after it,
// the drafted ticket in an editable wrap-up form with a disposition.
//
// Live call control: hold (the caller hears music), a keypad whose keys go
// to the caller's line, blind transfer to an agent or a queue, and
// consultative transfer: the caller goes on hold while the agent talks to
// the target agent (named, or the next agent a queue offers it to), whose
// page gets a consultation request and answers it with its own peer
// connection; "Complete transfer" hands the call (and
// that connection) to them. The "Call a number" card places an outbound
// call from the browser. Supervisors whispering or barging in are shown.
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
    epoch: "", // the events stream's server process
    lastSeq: 0, // the last event seen: where a reconnect resumes
    resumes: 0, // reconnects that replayed what was missed
    replayed: 0, // events received through replay
    resyncs: 0, // reconnects the server could not replay (state reloaded)
    seen: [], // the last events, {seq, type, state, call_id}, newest last
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
    held: false, // the caller is on hold
    recPaused: false, // the recording is paused (card details)
    holdSince: 0,
    keysSent: "", // keypad keys sent during this call
    consult: null, // {target, queue, state: "ringing"|"talking"}: we consult someone (target: who answered)
    consultOffer: null, // {call_id, peer, from, queue}: someone asks to consult us (queue: through that queue)
    consulting: null, // {call_id, peer, from, state}: we are being consulted
    monitor: null, // {by, mode}: a supervisor we hear (whisper) or all hear (barge)
    dialing: null, // {call_id, number}: our outbound call, until answered
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
  let holdTimer = null;
  let dialPending = false; // an outbound call request is on its way
  const endedEarly = {}; // call id → why, for calls that ended before we knew their id
  const answeredEarly = {}; // call id → true: answered before the dial request returned
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
    loadQueues();
  }

  function signOut(why) {
    endCall(null, "");
    hideOffer();
    wsWanted = false;
    clearTimeout(wsRetry);
    if (ws) ws.close(1000, "sign out");
    ws = null;
    cd.epoch = ""; // the next user starts a stream of their own
    cd.lastSeq = 0;
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
    let url = proto + "//" + location.host + "/api/v1/events?token=" + encodeURIComponent(token);
    if (cd.epoch) url += "&since=" + cd.lastSeq + "&epoch=" + encodeURIComponent(cd.epoch);
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
      if (msg.seq) {
        if (msg.seq <= cd.lastSeq) return; // seen already
        cd.lastSeq = msg.seq;
      }
      cd.seen.push({ seq: msg.seq || 0, type: msg.type, state: msg.state || "", call_id: msg.call_id || "" });
      if (cd.seen.length > 100) cd.seen.shift();
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
      case "hello":
        if (msg.resumed) {
          cd.resumes++;
          cd.replayed += msg.replayed || 0;
          if (msg.replayed) console.log("contactd: resumed, " + msg.replayed + " missed events follow");
        } else {
          cd.epoch = msg.epoch || "";
          cd.lastSeq = msg.last || 0;
        }
        break;
      case "resync":
        cd.epoch = msg.epoch || "";
        cd.lastSeq = msg.last || 0;
        cd.resyncs++;
        console.log("contactd: events resync (" + (msg.reason || "") + ")");
        resync();
        break;
      case "agent_state":
        if (msg.state !== cd.state && msg.state !== "break") cd.reason = "";
        setState(msg.state);
        if (msg.state === "break" && !cd.reason) loadReason();
        if (msg.state === "busy" && !cd.callId && !cd.offer && !cd.consulting && !cd.consultOffer && !dialPending) restoreCall();
        break;
      case "offer":
        showOffer(msg);
        break;
      case "offer_revoked":
        if (cd.offer && cd.offer.call_id === msg.call_id && !cd.inCall) {
          hideOffer();
          notice("The call was withdrawn: the caller hung up or another agent took it.");
        } else if (cd.consultOffer && cd.consultOffer.call_id === msg.call_id) {
          endConsulting("The consultation request was withdrawn.");
        }
        break;
      case "call_answered":
        if (cd.consulting && msg.call_id === cd.consulting.call_id) {
          becomeCall(); // the consultation was completed: the call is ours
        } else if (cd.dialing && msg.call_id === cd.dialing.call_id) {
          cd.dialing = null;
          cd.inCall = true;
          $("call-media").textContent = "connected";
          notice("");
        } else if (msg.call_id === cd.callId) {
          $("call-media").textContent = "connected";
        } else if (dialPending && !cd.callId) {
          answeredEarly[msg.call_id] = true; // the number answered before our request returned
        }
        break;
      case "call_held":
      case "call_resumed":
        if (msg.call_id === cd.callId) setHeld(msg.type === "call_held");
        break;
      case "recording_paused":
      case "recording_resumed":
        if (msg.call_id === cd.callId) {
          cd.recPaused = msg.type === "recording_paused";
          renderCallStatus();
        }
        break;
      case "call_transferred":
        if (msg.call_id === cd.callId) endCall(null, "You transferred the call to " + humanize(msg.text || "") + ".", true);
        break;
      case "transfer_failed":
        if (msg.call_id === cd.callId) showError("The transfer failed: " + (msg.text || "unknown reason"));
        break;
      case "consult_offer":
        showConsultOffer(msg);
        break;
      case "consult_ringing":
      case "consult_answered":
        if (msg.call_id === cd.callId && cd.consult) {
          cd.consult.state = msg.type === "consult_answered" ? "talking" : "ringing";
          if (msg.type === "consult_answered" && msg.peer) cd.consult.target = msg.peer; // a queue's agent
          if (msg.text) notice(msg.text + "; asking the next agent.");
          renderCallStatus();
        } else if (cd.consulting && msg.call_id === cd.consulting.call_id) {
          cd.consulting.state = "talking";
          $("consulted-line").textContent = "You are talking to " + cd.consulting.peer + ".";
        }
        break;
      case "consult_ended":
        if (msg.call_id === cd.callId && cd.consult) {
          cd.consult = null;
          renderCallStatus();
          notice("Consultation ended: " + (msg.text || "") + ".");
        } else if ((cd.consulting && msg.call_id === cd.consulting.call_id) ||
          (cd.consultOffer && msg.call_id === cd.consultOffer.call_id)) {
          endConsulting("Consultation ended: " + (msg.text || "") + ".");
        }
        break;
      case "monitor":
        if (msg.call_id === cd.callId) {
          cd.monitor = msg.mode ? { by: msg.peer || "", mode: msg.mode } : null;
          renderCallStatus();
        }
        break;
      case "transcript":
        addTranscript(msg);
        break;
      case "call_ended":
        if (dialPending && !cd.callId) endedEarly[msg.call_id] = msg.text || "the call ended";
        if (msg.call_id === cd.callId || (cd.offer && cd.offer.call_id === msg.call_id)) {
          endCall(msg.ticket_id, msg.text ? msg.text + "." : "The caller hung up.");
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

  // resync reloads what the events would have told: the server could not
  // replay the gap. The state and the current offer follow as a snapshot,
  // so an offer shown now is dropped (the snapshot shows it again if it
  // still stands); a call we show is checked for having ended.
  function resync() {
    if (cd.offer && !cd.inCall) hideOffer();
    const id = cd.callId;
    if (!id) return;
    api("GET", "/api/v1/calls/" + encodeURIComponent(id))
      .then((c) => {
        if (c && c.ended_at && cd.callId === id) endCall(null, "The call ended while the connection was down.");
      })
      .catch((e) => console.warn("contactd: resync call " + id + ": " + e.message));
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
    resetControls();
    $("call-panel").hidden = false;
    $("dial-panel").hidden = true;
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

  function endCall(ticketId, why, noWrapup) {
    const had = cd.callId !== null || cd.offer !== null;
    const answered = cd.inCall && !noWrapup ? cd.callId : null;
    resetControls();
    cd.dialing = null;
    $("dial-panel").hidden = false;
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

  // ---- live call control -----------------------------------------------------

  function callPath(suffix) {
    return "/api/v1/calls/" + encodeURIComponent(cd.callId) + suffix;
  }

  function resetControls() {
    cd.held = false;
    cd.recPaused = false;
    cd.keysSent = "";
    cd.consult = null;
    cd.monitor = null;
    $("keypad-sent").textContent = "";
    $("keypad").hidden = true;
    $("keypad-toggle").setAttribute("aria-expanded", "false");
    renderCallStatus();
  }

  function setHeld(h) {
    if (h && !cd.held) cd.holdSince = Date.now();
    cd.held = h;
    renderCallStatus();
  }

  // renderCallStatus shows hold, consultation and supervisor state and
  // enables the controls that make sense in it.
  function renderCallStatus() {
    const parts = [];
    if (cd.held) {
      const s = Math.floor((Date.now() - cd.holdSince) / 1000);
      parts.push("On hold " + Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0") + ": the caller hears music.");
    }
    if (cd.consult) {
      parts.push(cd.consult.state === "talking" ? "Talking to " + cd.consult.target + "." : "Calling " + cd.consult.target + "…");
    }
    if (cd.recPaused) parts.push("Recording paused: nothing is recorded or transcribed until you resume it.");
    if (cd.monitor) {
      parts.push("Supervisor " + cd.monitor.by + (cd.monitor.mode === "barge" ? " has joined the call." : " is coaching you (only you hear them)."));
    }
    $("call-status").textContent = parts.join(" ");
    $("call-status").hidden = parts.length === 0;
    $("hold").textContent = cd.held ? "Resume" : "Hold";
    $("hold").setAttribute("aria-pressed", String(cd.held));
    $("hold").disabled = !!cd.consult;
    $("rec-pause").textContent = cd.recPaused ? "Resume recording" : "Pause recording";
    $("rec-pause").setAttribute("aria-pressed", String(cd.recPaused));
    $("consult-panel").hidden = !cd.consult;
    $("consult-line").textContent = cd.consult ? (cd.consult.state === "talking" ?
      "You are talking to " + cd.consult.target + "; the caller is on hold." : "Waiting for " + cd.consult.target + " to answer…") : "";
    $("consult-complete").disabled = !cd.consult || cd.consult.state !== "talking";
    $("xfer-blind").disabled = !!cd.consult;
    $("xfer-consult").disabled = !!cd.consult;
    document.querySelectorAll("#keypad .keys button").forEach((b) => (b.disabled = cd.held));
    clearInterval(holdTimer);
    holdTimer = cd.held ? setInterval(renderCallStatus, 1000) : null;
  }

  async function toggleHold() {
    if (!cd.callId || !cd.inCall) return;
    clearError();
    const on = !cd.held;
    $("hold").disabled = true;
    try {
      await api("POST", callPath(on ? "/hold" : "/resume"));
      setHeld(on);
    } catch (e) {
      showError("Could not " + (on ? "hold" : "resume") + " the call: " + e.message);
    } finally {
      renderCallStatus();
    }
  }

  // toggleRecording pauses the recording (and transcription) while the
  // caller reads out card details, and resumes it.
  async function toggleRecording() {
    if (!cd.callId || !cd.inCall) return;
    clearError();
    const on = !cd.recPaused;
    $("rec-pause").disabled = true;
    try {
      await api("POST", callPath(on ? "/recording/pause" : "/recording/resume"));
      cd.recPaused = on;
    } catch (e) {
      showError("Could not " + (on ? "pause" : "resume") + " the recording: " + e.message);
    } finally {
      $("rec-pause").disabled = false;
      renderCallStatus();
    }
  }

  function toggleKeypad() {
    const open = $("keypad").hidden;
    $("keypad").hidden = !open;
    $("keypad-toggle").setAttribute("aria-expanded", String(open));
  }

  async function sendKey(key) {
    if (!cd.callId || !cd.inCall || !key) return;
    try {
      await api("POST", callPath("/dtmf"), { digits: key });
      cd.keysSent += key;
      $("keypad-sent").textContent = cd.keysSent;
    } catch (e) {
      showError("Could not send " + key + ": " + e.message);
    }
  }

  // xferTarget is the target the transfer fields name: "agent:bob",
  // "queue:billing", or a phone number as typed.
  function xferTarget() {
    const name = $("xfer-target").value.trim();
    if (!name) return "";
    if (name.includes(":") || /^\+?[0-9][0-9 ()-]{2,}$/.test(name)) return name;
    return $("xfer-kind").value + ":" + name;
  }

  async function transferBlind() {
    const target = xferTarget();
    if (!cd.callId || !target) return showError("Enter an agent or a queue to transfer to.");
    clearError();
    $("xfer-blind").disabled = true;
    try {
      await api("POST", callPath("/transfer"), { target });
      // call_transferred ends the call here.
    } catch (e) {
      showError("Could not transfer: " + e.message);
    } finally {
      renderCallStatus();
    }
  }

  // consultStart consults an agent, or a queue: its next agent answers.
  async function consultStart() {
    const target = xferTarget();
    if (!cd.callId || !target) return showError("Enter the agent or the queue to consult.");
    if (!target.startsWith("agent:") && !target.startsWith("queue:")) {
      return showError("A consultation is with an agent or a queue; transfer to a number directly.");
    }
    clearError();
    try {
      await api("POST", callPath("/consult"), { target });
      const queue = target.startsWith("queue:") ? target.slice("queue:".length) : null;
      cd.consult = { target: queue ? "the " + queue + " queue" : target.slice("agent:".length), queue, state: "ringing" };
      setHeld(true);
    } catch (e) {
      showError("Could not consult: " + e.message);
    }
    renderCallStatus();
  }

  async function consultComplete() {
    if (!cd.consult) return;
    clearError();
    try {
      await api("POST", callPath("/consult/complete"));
    } catch (e) {
      showError("Could not complete the transfer: " + e.message);
    }
  }

  async function consultCancel() {
    if (!cd.consult) return;
    try {
      await api("POST", callPath("/consult/cancel"));
    } catch (e) {
      showError("Could not end the consultation: " + e.message);
    }
  }

  async function loadQueues() {
    try {
      const res = await api("GET", "/api/v1/queues");
      $("xfer-queues").replaceChildren(...((res && res.queues) || []).map((q) => new Option(q.name, q.name)));
    } catch (e) {
      console.warn("contactd: queues: " + e.message);
    }
  }

  // newPeer opens a peer connection sending localMic and playing what
  // comes back in #remote-audio; it becomes the page's connection.
  function newPeer(localMic) {
    mic = localMic;
    const conn = new RTCPeerConnection({ iceServers: [] });
    pc = conn;
    cd.pcState = conn.connectionState;
    conn.onconnectionstatechange = () => {
      if (pc !== conn) return;
      cd.pcState = conn.connectionState;
      if (cd.inCall) $("call-media").textContent = conn.connectionState;
      if (conn.connectionState === "failed") showError("The audio connection failed.");
    };
    conn.ontrack = (ev) => {
      const audio = $("remote-audio");
      audio.srcObject = ev.streams[0] || new MediaStream([ev.track]);
      audio.play().catch((e) => console.warn("contactd: audio play: " + e.message));
    };
    for (const track of localMic.getAudioTracks()) {
      conn.addTransceiver(track, { direction: "sendrecv", streams: [localMic] });
    }
    return conn;
  }

  async function offerSDP(conn) {
    await conn.setLocalDescription(await conn.createOffer());
    await iceGathered(conn, ICE_GATHER_MS);
    return conn.localDescription.sdp;
  }

  // ---- being consulted ---------------------------------------------------------

  function showConsultOffer(msg) {
    if (cd.inCall || cd.callId || cd.offer || cd.consulting) return; // busy: the server times it out
    cd.consultOffer = { call_id: msg.call_id, peer: msg.peer || "", from: msg.from || "", queue: msg.queue || "" };
    $("consult-offer-agent").textContent = cd.consultOffer.peer;
    $("consult-offer-queue").textContent = cd.consultOffer.queue ? " (through the " + cd.consultOffer.queue + " queue)" : "";
    $("consult-offer-timer").textContent = msg.timeout_ms ? "If you do not answer within " + Math.round(msg.timeout_ms / 1000) + " s, it goes to someone else." : "";
    $("consult-offer-caller").textContent = cd.consultOffer.from || "an unknown number";
    $("consult-answer").disabled = false;
    $("consult-decline").disabled = false;
    $("consult-offer-panel").hidden = false;
    $("dial-panel").hidden = true;
    document.title = "Consultation · " + baseTitle;
    $("consult-answer").focus();
  }

  async function answerConsult() {
    const o = cd.consultOffer;
    if (!o) return;
    clearError();
    $("consult-answer").disabled = true;
    $("consult-decline").disabled = true;
    let conn = null;
    try {
      const localMic = await openMic();
      conn = newPeer(localMic);
      const sdp = await offerSDP(conn);
      const res = await api("POST", "/api/v1/calls/" + encodeURIComponent(o.call_id) + "/consult/answer", { sdp });
      if (!res || !res.sdp) throw new Error("the server sent no SDP answer");
      if (pc !== conn) return;
      await conn.setRemoteDescription({ type: "answer", sdp: res.sdp });
      cd.consultOffer = null;
      cd.consulting = { call_id: o.call_id, peer: o.peer, from: o.from, state: "talking" };
      $("consult-offer-panel").hidden = true;
      $("consulted-agent").textContent = o.peer;
      $("consulted-line").textContent = "You are talking to " + o.peer + ".";
      $("consulted-panel").hidden = false;
    } catch (e) {
      if (pc === conn) teardownMedia();
      endConsulting("");
      showError("Could not join the consultation: " + e.message);
    }
  }

  async function declineConsult() {
    const o = cd.consultOffer;
    if (!o) return;
    endConsulting("");
    try {
      await api("POST", "/api/v1/calls/" + encodeURIComponent(o.call_id) + "/consult/decline");
    } catch (e) {
      console.warn("contactd: decline consultation: " + e.message);
    }
  }

  async function leaveConsult() {
    const c = cd.consulting;
    if (!c) return;
    endConsulting("You left the consultation.");
    try {
      await api("POST", "/api/v1/calls/" + encodeURIComponent(c.call_id) + "/consult/cancel");
    } catch (e) {
      console.warn("contactd: leave consultation: " + e.message);
    }
  }

  function endConsulting(why) {
    if (cd.consulting && !cd.callId) teardownMedia();
    cd.consulting = null;
    cd.consultOffer = null;
    $("consult-offer-panel").hidden = true;
    $("consulted-panel").hidden = true;
    if (!cd.callId) $("dial-panel").hidden = false;
    document.title = baseTitle;
    if (why) notice(why);
  }

  // becomeCall: our consultation was completed, and the call (with the
  // consultation's audio connection) is ours now.
  function becomeCall() {
    const c = cd.consulting;
    cd.consulting = null;
    $("consulted-panel").hidden = true;
    cd.callId = c.call_id;
    lastCallId = c.call_id;
    cd.ticketId = null;
    cd.inCall = true;
    resetCallPanels();
    showCall({ call_id: c.call_id, from: c.from, intent: "", queue: "transferred by " + c.peer });
    $("call-media").textContent = cd.pcState;
    loadCaller(c.from, c.call_id);
    notice(c.peer + " transferred the call to you.");
  }

  // ---- click-to-call ---------------------------------------------------------------

  async function dial(ev) {
    ev.preventDefault();
    const number = $("dial-number").value.trim();
    if (!number) return showError("Enter a number to call.");
    if (cd.inCall || cd.callId || cd.offer || cd.consulting) return;
    clearError();
    $("dial-call").disabled = true;
    dialPending = true;
    let conn = null;
    try {
      const localMic = await openMic();
      conn = newPeer(localMic);
      const sdp = await offerSDP(conn);
      const res = await api("POST", "/api/v1/calls/outbound", { number, sdp });
      if (!res || !res.sdp || !res.call_id) throw new Error("the server sent no call");
      await conn.setRemoteDescription({ type: "answer", sdp: res.sdp });
      cd.callId = res.call_id;
      lastCallId = res.call_id;
      cd.ticketId = null;
      cd.dialing = { call_id: res.call_id, number };
      resetCallPanels();
      showCall({ call_id: res.call_id, from: number, intent: "", queue: "outbound" });
      $("call-media").textContent = "ringing…";
      notice("Calling " + number + "…");
      loadCaller(number, res.call_id);
      if (endedEarly[res.call_id]) {
        endCall(null, endedEarly[res.call_id] + ".");
      } else if (answeredEarly[res.call_id]) {
        delete answeredEarly[res.call_id];
        cd.dialing = null;
        cd.inCall = true;
        $("call-media").textContent = "connected";
        notice("");
      }
    } catch (e) {
      if (pc === conn) teardownMedia();
      showError("Could not place the call: " + e.message);
    } finally {
      dialPending = false;
      $("dial-call").disabled = false;
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
  $("hold").addEventListener("click", toggleHold);
  $("rec-pause").addEventListener("click", toggleRecording);
  $("keypad-toggle").addEventListener("click", toggleKeypad);
  document.querySelectorAll("#keypad .keys button").forEach((b) => b.addEventListener("click", () => sendKey(b.dataset.key)));
  $("xfer-blind").addEventListener("click", transferBlind);
  $("xfer-consult").addEventListener("click", consultStart);
  $("consult-complete").addEventListener("click", consultComplete);
  $("consult-cancel").addEventListener("click", consultCancel);
  $("consult-answer").addEventListener("click", answerConsult);
  $("consult-decline").addEventListener("click", declineConsult);
  $("consulted-leave").addEventListener("click", leaveConsult);
  $("dial-form").addEventListener("submit", dial);
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
