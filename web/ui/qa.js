// QA review desk: the evaluation queue (filters, teams), the transcript
// beside the recording (click a line or a word to seek; the word being
// played is highlighted, with the recogniser's word timings when it gave
// them, else spread over the line; the words each item was judged on are
// marked), per-item overrides with a comment, the agent's acknowledgement,
// calibration, a small report and the import of a recorded call (WAV).
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const st = { token: sessionStorage.getItem("contactd.qa.token") || "", user: null, ev: null, call: null };

  function showError(msg) { const e = $("error"); e.textContent = msg || ""; e.hidden = !msg; }

  async function api(method, path, body) {
    const headers = {};
    if (st.token) headers.Authorization = "Bearer " + st.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch("/api/v1" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = (r.headers.get("Content-Type") || "").includes("json") ? await r.json() : await r.text();
    if (!r.ok) {
      if (r.status === 401) logout();
      throw new Error((data && data.error) || ("HTTP " + r.status));
    }
    return data;
  }

  const fmtTime = (ms) => { const s = Math.floor(ms / 1000); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); };
  const pct = (e) => e.max_score ? Math.round(100 * e.score / e.max_score) : 0;
  const el = (tag, props, ...kids) => { const n = document.createElement(tag); Object.assign(n, props || {}); n.append(...kids); return n; };

  function logout() {
    st.token = ""; sessionStorage.removeItem("contactd.qa.token");
    $("desk").hidden = true; $("who").hidden = true; $("login").hidden = false;
  }

  async function start() {
    try {
      st.user = await api("GET", "/me");
    } catch (e) { logout(); return; }
    $("who-name").textContent = st.user.username + " (" + st.user.role + ")";
    $("who").hidden = false; $("login").hidden = true; $("desk").hidden = false;
    $("import-pane").hidden = st.user.role === "agent";
    await loadTeams();
    await loadQueue();
  }

  // The team filter offers the teams the user may see; a supervisor in a
  // team sees only theirs.
  async function loadTeams() {
    const sel = $("f-team");
    if (st.user.role === "agent") { sel.closest("label").hidden = true; return; }
    try {
      const out = await api("GET", "/teams");
      sel.textContent = "";
      if (!st.user.team) sel.append(el("option", { value: "", textContent: "any" }));
      for (const t of out.teams) sel.append(el("option", { value: t.name, textContent: t.name }));
    } catch (e) { showError("Teams: " + e.message); }
  }

  async function loadQueue() {
    const q = new URLSearchParams();
    if ($("f-below").value) q.set("below", $("f-below").value);
    if ($("f-autofail").checked) q.set("auto_fail", "true");
    if ($("f-agent").value) q.set("agent", $("f-agent").value);
    if ($("f-queue").value) q.set("queue", $("f-queue").value);
    if ($("f-team").value) q.set("team", $("f-team").value);
    if ($("f-from").value) q.set("from", $("f-from").value);
    if ($("f-to").value) q.set("to", $("f-to").value);
    try {
      const out = await api("GET", "/qa/evaluations?" + q);
      const tb = $("queue"); tb.textContent = "";
      for (const e of out.evaluations) {
        const status = e.ack ? e.ack.status : (e.reviews ? "reviewed" : "new");
        const tr = el("tr", { className: "ev" },
          el("td", {}, new Date(e.call_started_at && !e.call_started_at.startsWith("0001") ? e.call_started_at : e.created_at).toLocaleString()),
          el("td", {}, e.agent || "—"), el("td", {}, e.team || "—"), el("td", {}, e.queue || "—"), el("td", {}, e.caller_number || ""),
          el("td", { className: e.auto_failed ? "bad" : "" }, pct(e) + "%" + (e.auto_failed ? " auto-fail" : "")),
          el("td", {}, status));
        tr.dataset.id = e.id;
        tr.addEventListener("click", () => openEvaluation(e.id));
        tb.append(tr);
      }
      showError("");
    } catch (e) { showError("Queue: " + e.message); }
  }

  async function openEvaluation(id) {
    try {
      const ev = await api("GET", "/qa/evaluations/" + encodeURIComponent(id));
      const call = await api("GET", "/calls/" + encodeURIComponent(ev.call_id));
      st.ev = ev; st.call = call;
      for (const tr of document.querySelectorAll("#queue tr")) tr.classList.toggle("sel", tr.dataset.id === id);
      $("detail").hidden = false;
      $("detail").dataset.id = id;
      $("d-call").textContent = call.id + (call.agent ? " · " + call.agent : "");
      renderTranscript(); renderEvaluation(); loadAudio(); loadReviews();
    } catch (e) { showError("Evaluation: " + e.message); }
  }

  // The recording plays from a signed, short-lived URL: the <audio>
  // element streams and seeks it without the bearer token. Should the URL
  // expire mid-review, a fresh one takes over at the same position.
  const signedRecording = async () => (await api("GET", st.call.recording_url.replace(/^\/api\/v1/, "") + "/url")).url;

  async function loadAudio() {
    const a = $("audio");
    a.onerror = null; a.removeAttribute("src"); a.dataset.ready = "";
    if (!st.call.recording_url) { $("audio-note").textContent = "No recording for this call."; return; }
    $("audio-note").textContent = "Loading the recording…";
    try {
      const callID = st.call.id;
      let refreshed = 0;
      a.addEventListener("loadedmetadata", () => { a.dataset.ready = "1"; }, { once: true });
      a.src = await signedRecording();
      a.onerror = async () => {
        if (!st.call || st.call.id !== callID || Date.now() - refreshed < 10000) return;
        refreshed = Date.now();
        const at = a.currentTime, playing = !a.paused;
        try { a.src = await signedRecording(); a.currentTime = at; if (playing) await a.play(); }
        catch (e) { $("audio-note").textContent = "Recording: " + e.message; }
      };
      $("audio-note").textContent = "";
    } catch (e) { $("audio-note").textContent = "Recording: " + e.message; }
  }

  // wordTimes gives each space-separated word of a line its [start, end)
  // in ms: the recogniser's timings when it gave one per word, else the
  // line's time shared out by the words' lengths.
  function wordTimes(s, words) {
    if (s.words && s.words.length === words.length) return s.words.map((w) => [w.start_ms, Math.max(w.end_ms, w.start_ms + 1)]);
    const total = words.reduce((n, w) => n + w.length + 1, 0) || 1;
    const span = Math.max(s.end_ms - s.start_ms, words.length);
    let at = 0;
    return words.map((w) => {
      const from = s.start_ms + Math.round(span * at / total);
      at += w.length + 1;
      return [from, s.start_ms + Math.round(span * at / total)];
    });
  }

  // marks maps "speaker|start_ms" to the word indices the items' evidence
  // on that line marks, with the items' keys.
  function evidenceMarks() {
    const marks = new Map();
    for (const it of st.ev.items) {
      for (const e of it.evidence || []) {
        const k = e.speaker + "|" + e.start_ms;
        if (!marks.has(k)) marks.set(k, new Map());
        const m = marks.get(k);
        for (const h of e.highlights || []) for (let i = h.from; i < h.to; i++) m.set(i, (m.get(i) || []).concat(it.key));
      }
    }
    return marks;
  }

  function renderTranscript() {
    const ol = $("transcript"); ol.textContent = "";
    const marks = evidenceMarks();
    st.words = [];
    for (const s of st.call.transcript || []) {
      const m = marks.get(s.speaker + "|" + s.start_ms);
      const li = el("li", { className: "line " + s.speaker + (m ? " evidence" : "") },
        el("span", { className: "t" }, fmtTime(s.start_ms)), el("b", {}, s.speaker + ": "));
      const words = s.text.split(/\s+/).filter(Boolean);
      const times = wordTimes(s, words);
      words.forEach((w, i) => {
        const span = el("span", { className: "w" + (m && m.has(i) ? " hl" : "") }, w);
        span.dataset.s = times[i][0]; span.dataset.e = times[i][1];
        if (m && m.has(i)) span.dataset.items = m.get(i).join(" ");
        span.addEventListener("click", (ev) => { ev.stopPropagation(); seek(times[i][0]); });
        st.words.push(span);
        li.append(span, i < words.length - 1 ? " " : "");
      });
      li.dataset.start = s.start_ms; li.dataset.end = s.end_ms;
      li.dataset.timed = s.words && s.words.length === words.length ? "words" : "line";
      li.addEventListener("click", () => seek(s.start_ms));
      ol.append(li);
    }
  }

  function seek(ms) {
    const a = $("audio");
    a.currentTime = ms / 1000;
    highlight(ms);
    a.play().catch(() => {});
  }

  // highlight marks the line and the word being played at ms.
  function highlight(ms) {
    let cur = null;
    for (const li of $("transcript").children) {
      if (+li.dataset.start <= ms + 1) cur = li;
      li.classList.remove("current");
    }
    if (cur) { cur.classList.add("current"); cur.scrollIntoView({ block: "nearest" }); }
    for (const w of st.words || []) w.classList.toggle("now", +w.dataset.s <= ms + 1 && ms < +w.dataset.e);
  }

  // While playing, follow the audio every frame: timeupdate alone comes a
  // few times a second, slower than words.
  function follow() {
    const a = $("audio");
    if (a.paused || a.ended) return;
    highlight(a.currentTime * 1000);
    requestAnimationFrame(follow);
  }

  // focusItem marks the words one item was judged on.
  function focusItem(key) {
    for (const w of st.words || []) w.classList.toggle("focus", !!key && (w.dataset.items || "").split(" ").includes(key));
    for (const li of document.querySelectorAll("#items li.item")) li.classList.toggle("sel", li.dataset.key === key);
  }

  // markedText is an evidence line with its judged words in <mark>.
  function markedText(e) {
    const out = el("span", {});
    const on = new Set();
    for (const h of e.highlights || []) for (let i = h.from; i < h.to; i++) on.add(i);
    e.text.split(/\s+/).filter(Boolean).forEach((w, i, all) => {
      out.append(on.has(i) ? el("mark", {}, w) : w, i < all.length - 1 ? " " : "");
    });
    return out;
  }

  function renderEvaluation() {
    const ev = st.ev;
    $("score").textContent = ev.score + " / " + ev.max_score + " (" + pct(ev) + "%)" + (ev.auto_failed ? " · auto-fail" : "");
    $("score").className = "score" + (ev.auto_failed ? " bad" : "");
    const ul = $("items"); ul.textContent = "";
    const cal = $("cal-items"); cal.textContent = "";
    const reviewer = st.user && st.user.role !== "agent";
    for (const it of ev.items) {
      const verdict = it.pending ? "pending" : it.na ? "n/a" : it.passed ? "pass" : "fail";
      const li = el("li", { className: "item" },
        el("b", { className: it.passed ? "pass" : "fail" }, verdict.toUpperCase()), " ", el("span", { className: "lbl" }, it.label || it.key),
        " ", el("span", { className: "muted" }, it.score + "/" + it.max + (it.auto_fail ? " · auto-fail" : "") + (it.overridden ? " · overridden" : "")));
      li.dataset.key = it.key;
      li.querySelector(".lbl").addEventListener("click", () => focusItem(li.classList.contains("sel") ? "" : it.key));
      if (it.detail) li.append(el("div", { className: "muted" }, it.detail));
      for (const e of it.evidence || []) {
        const d = el("div", { className: "ev" }, fmtTime(e.start_ms) + " " + e.speaker + ": ", markedText(e));
        // The first judged word, when the line has word timings.
        d.addEventListener("click", () => { focusItem(it.key); seek(e.words && e.words.length ? e.words[0].start_ms : e.start_ms); });
        li.append(d);
      }
      if (reviewer) {
        const sel = el("select", { className: "ov-passed" }, el("option", { value: "true", textContent: "pass" }), el("option", { value: "false", textContent: "fail" }));
        sel.value = String(!it.passed);
        const comment = el("input", { className: "ov-comment", placeholder: "Why (required)" });
        const btn = el("button", { type: "button", className: "ov-save", textContent: "Override" });
        btn.addEventListener("click", () => override(it.key, sel.value === "true", comment.value));
        li.append(el("div", { className: "row" }, sel, comment, btn));
        const cb = el("input", { type: "checkbox", className: "cal" }); cb.dataset.key = it.key; cb.checked = it.passed;
        cal.append(el("li", {}, el("label", {}, cb, " " + (it.label || it.key) + " passed")));
      }
      ul.append(li);
    }
    $("cal-save").hidden = !reviewer;
    $("ack-state").textContent = ev.ack ? (ev.ack.status + " by " + ev.ack.by + (ev.ack.comment ? ": " + ev.ack.comment : "")) : "Not yet acknowledged.";
  }

  async function override(key, passed, comment) {
    if (!comment.trim()) { showError("An override needs a comment."); return; }
    try {
      const out = await api("POST", "/qa/evaluations/" + st.ev.id + "/overrides", { item: key, passed, comment });
      st.ev = out.evaluation; renderEvaluation(); loadReviews(); loadQueue(); showError("");
    } catch (e) { showError("Override: " + e.message); }
  }

  async function ack(status) {
    try {
      st.ev = await api("POST", "/qa/evaluations/" + st.ev.id + "/ack", { status, comment: $("ack-comment").value });
      renderEvaluation(); showError("");
    } catch (e) { showError("Acknowledge: " + e.message); }
  }

  function renderAgreement(ag) {
    const d = $("agreement"); d.textContent = "";
    if (!ag || !ag.raters || ag.raters.length < 2) return;
    d.append(el("p", {}, "Raters: " + ag.raters.join(", ") + " · overall agreement " + Math.round(100 * ag.overall) + "%"));
    const ul = el("ul", {});
    for (const [k, v] of Object.entries(ag.items).sort()) ul.append(el("li", {}, k + ": " + Math.round(100 * v) + "%"));
    d.append(ul);
  }

  async function loadReviews() {
    try {
      const out = await api("GET", "/qa/evaluations/" + st.ev.id + "/reviews");
      const ul = $("reviews"); ul.textContent = "";
      for (const r of out.reviews) {
        ul.append(el("li", { className: "review" }, new Date(r.created_at).toLocaleString() + " " + r.reviewer + ": " + r.item + " " +
          (r.old_passed ? "pass" : "fail") + " → " + (r.new_passed ? "pass" : "fail") + " (" + r.old_score + "→" + r.new_score + ") — " + r.comment));
      }
      renderAgreement(out.agreement);
    } catch (e) { showError("Reviews: " + e.message); }
  }

  async function calibrate() {
    const items = {};
    for (const cb of document.querySelectorAll("#cal-items .cal")) items[cb.dataset.key] = cb.checked;
    try {
      const out = await api("POST", "/qa/evaluations/" + st.ev.id + "/calibrations", { items });
      renderAgreement(out.agreement); showError("");
    } catch (e) { showError("Calibration: " + e.message); }
  }

  function bars(rows, label, value, max) {
    const h = 18, w = 420, svgNS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(svgNS, "svg");
    svg.setAttribute("width", w); svg.setAttribute("height", h * rows.length + 4);
    rows.forEach((r, i) => {
      const t = document.createElementNS(svgNS, "text");
      t.setAttribute("x", 0); t.setAttribute("y", i * h + 13); t.textContent = label(r);
      const b = document.createElementNS(svgNS, "rect");
      b.setAttribute("x", 180); b.setAttribute("y", i * h + 3); b.setAttribute("height", h - 6);
      b.setAttribute("width", Math.max(1, 200 * value(r) / max)); b.setAttribute("fill", "#1f6feb");
      const v = document.createElementNS(svgNS, "text");
      v.setAttribute("x", 385); v.setAttribute("y", i * h + 13); v.textContent = Math.round(value(r) * (max === 1 ? 100 : 1)) + "%";
      svg.append(t, b, v);
    });
    return svg;
  }

  async function loadReport() {
    try {
      const team = $("f-team").value;
      const r = await api("GET", "/qa/reports" + (team ? "?team=" + encodeURIComponent(team) : ""));
      $("report-team").textContent = r.team ? "team " + r.team : "all teams";
      const d = $("report"); d.textContent = "";
      d.append(el("p", {}, `Calls ${r.calls} · answered ${r.answered} · AHT ${Math.round(r.avg_handle_seconds)} s · FCR ${Math.round(100 * r.fcr_rate)}% · ` +
        `service level ${Math.round(100 * r.service_level)}% in ${r.sl_seconds} s · abandoned ${Math.round(100 * r.abandon_rate)}% · IVR containment ${Math.round(100 * r.ivr_containment)}%`));
      d.append(el("h3", {}, "QA score by agent and week"), bars(r.score_by_agent_week, (x) => (x.agent || "—") + " " + x.week, (x) => x.avg_pct, 100));
      d.append(el("h3", {}, "QA score by team and week"), bars(r.score_by_team_week || [], (x) => (x.team || "no team") + " " + x.week, (x) => x.avg_pct, 100));
      d.append(el("h3", {}, "Item failure rate"), bars(r.item_failures, (x) => x.key, (x) => x.rate, 1));
    } catch (e) { showError("Report: " + e.message); }
  }

  async function csv(table) {
    try {
      const team = $("f-team").value;
      const r = await fetch("/api/v1/qa/reports?format=csv&table=" + table + (team ? "&team=" + encodeURIComponent(team) : ""),
        { headers: { Authorization: "Bearer " + st.token } });
      if (!r.ok) throw new Error("HTTP " + r.status);
      const url = URL.createObjectURL(await r.blob());
      const a = el("a", { href: url, download: "qa-" + table + ".csv" }); document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) { showError("CSV: " + e.message); }
  }

  // importWAV uploads a recorded call; the server transcribes it, writes
  // the ticket and the evaluation, which then opens here.
  async function importWAV(ev) {
    ev.preventDefault();
    const f = $("imp-file").files[0];
    if (!f) { showError("Import: choose a WAV file."); return; }
    const form = new FormData();
    form.set("audio", f);
    for (const [k, id] of [["caller_number", "imp-caller"], ["agent", "imp-agent"], ["speaker", "imp-speaker"]]) if ($(id).value) form.set(k, $(id).value);
    $("imp-state").textContent = "Transcribing…";
    try {
      const r = await fetch("/api/v1/calls/import", { method: "POST", headers: { Authorization: "Bearer " + st.token }, body: form });
      const out = await r.json();
      if (!r.ok) throw new Error(out.error || "HTTP " + r.status);
      $("imp-state").textContent = "Imported: " + out.segments + " lines, ticket " + out.ticket_id + ".";
      showError(""); await loadQueue(); await openEvaluation(out.evaluation_id);
    } catch (e) { $("imp-state").textContent = ""; showError("Import: " + e.message); }
  }

  $("login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const out = await api("POST", "/auth/login", { username: $("username").value, password: $("password").value });
      st.token = out.token; sessionStorage.setItem("contactd.qa.token", st.token);
      showError(""); start();
    } catch (e) { showError("Login: " + e.message); }
  });
  $("logout").addEventListener("click", () => { api("POST", "/auth/logout").catch(() => {}); logout(); });
  $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); loadQueue(); });
  $("audio").addEventListener("timeupdate", () => highlight($("audio").currentTime * 1000));
  $("audio").addEventListener("play", () => requestAnimationFrame(follow));
  $("audio").addEventListener("seeked", () => highlight($("audio").currentTime * 1000));
  $("ack-ok").addEventListener("click", () => ack("acknowledged"));
  $("ack-dispute").addEventListener("click", () => ack("disputed"));
  $("cal-save").addEventListener("click", calibrate);
  $("report-load").addEventListener("click", loadReport);
  $("csv-agents").addEventListener("click", () => csv("agent_week"));
  $("csv-items").addEventListener("click", () => csv("items"));
  $("csv-summary").addEventListener("click", () => csv("summary"));
  $("csv-teams").addEventListener("click", () => csv("team_week"));
  $("import").addEventListener("submit", importWAV);
  if (st.token) start();
})();
