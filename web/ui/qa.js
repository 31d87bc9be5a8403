// QA review desk: the evaluation queue, the transcript beside the
// recording (click a line to seek; the line being played is highlighted),
// per-item overrides with a comment, the agent's acknowledgement,
// calibration and a small report.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const st = { token: sessionStorage.getItem("contactd.qa.token") || "", user: null, ev: null, call: null, audioURL: "" };

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
    await loadQueue();
  }

  async function loadQueue() {
    const q = new URLSearchParams();
    if ($("f-below").value) q.set("below", $("f-below").value);
    if ($("f-autofail").checked) q.set("auto_fail", "true");
    if ($("f-agent").value) q.set("agent", $("f-agent").value);
    if ($("f-queue").value) q.set("queue", $("f-queue").value);
    if ($("f-from").value) q.set("from", $("f-from").value);
    if ($("f-to").value) q.set("to", $("f-to").value);
    try {
      const out = await api("GET", "/qa/evaluations?" + q);
      const tb = $("queue"); tb.textContent = "";
      for (const e of out.evaluations) {
        const status = e.ack ? e.ack.status : (e.reviews ? "reviewed" : "new");
        const tr = el("tr", { className: "ev" },
          el("td", {}, new Date(e.call_started_at && !e.call_started_at.startsWith("0001") ? e.call_started_at : e.created_at).toLocaleString()),
          el("td", {}, e.agent || "—"), el("td", {}, e.queue || "—"), el("td", {}, e.caller_number || ""),
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

  async function loadAudio() {
    const a = $("audio");
    if (st.audioURL) { URL.revokeObjectURL(st.audioURL); st.audioURL = ""; }
    a.removeAttribute("src"); a.dataset.ready = "";
    if (!st.call.recording_url) { $("audio-note").textContent = "No recording for this call."; return; }
    $("audio-note").textContent = "Loading the recording…";
    try {
      // The recording needs the bearer token, which an <audio src> can't send.
      const r = await fetch(st.call.recording_url, { headers: { Authorization: "Bearer " + st.token } });
      if (!r.ok) throw new Error("HTTP " + r.status);
      st.audioURL = URL.createObjectURL(await r.blob());
      a.src = st.audioURL;
      a.addEventListener("loadedmetadata", () => { a.dataset.ready = "1"; }, { once: true });
      $("audio-note").textContent = "";
    } catch (e) { $("audio-note").textContent = "Recording: " + e.message; }
  }

  function renderTranscript() {
    const ol = $("transcript"); ol.textContent = "";
    const evid = new Set();
    for (const it of st.ev.items) for (const e of it.evidence || []) evid.add(e.start_ms + "|" + e.speaker);
    for (const s of st.call.transcript || []) {
      const li = el("li", { className: "line " + s.speaker + (evid.has(s.start_ms + "|" + s.speaker) ? " evidence" : "") },
        el("span", { className: "t" }, fmtTime(s.start_ms)), el("b", {}, s.speaker + ": "), s.text);
      li.dataset.start = s.start_ms; li.dataset.end = s.end_ms;
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

  function highlight(ms) {
    let cur = null;
    for (const li of $("transcript").children) {
      if (+li.dataset.start <= ms + 1) cur = li;
      li.classList.remove("current");
    }
    if (cur) { cur.classList.add("current"); cur.scrollIntoView({ block: "nearest" }); }
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
        el("b", { className: it.passed ? "pass" : "fail" }, verdict.toUpperCase()), " ", it.label || it.key,
        " ", el("span", { className: "muted" }, it.score + "/" + it.max + (it.auto_fail ? " · auto-fail" : "") + (it.overridden ? " · overridden" : "")));
      li.dataset.key = it.key;
      if (it.detail) li.append(el("div", { className: "muted" }, it.detail));
      for (const e of it.evidence || []) {
        const d = el("div", { className: "ev" }, fmtTime(e.start_ms) + " " + e.speaker + ": " + e.text);
        d.addEventListener("click", () => seek(e.start_ms));
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
      const r = await api("GET", "/qa/reports");
      const d = $("report"); d.textContent = "";
      d.append(el("p", {}, `Calls ${r.calls} · answered ${r.answered} · AHT ${Math.round(r.avg_handle_seconds)} s · FCR ${Math.round(100 * r.fcr_rate)}% · ` +
        `service level ${Math.round(100 * r.service_level)}% in ${r.sl_seconds} s · abandoned ${Math.round(100 * r.abandon_rate)}% · IVR containment ${Math.round(100 * r.ivr_containment)}%`));
      d.append(el("h3", {}, "QA score by agent and week"), bars(r.score_by_agent_week, (x) => (x.agent || "—") + " " + x.week, (x) => x.avg_pct, 100));
      d.append(el("h3", {}, "Item failure rate"), bars(r.item_failures, (x) => x.key, (x) => x.rate, 1));
    } catch (e) { showError("Report: " + e.message); }
  }

  async function csv(table) {
    try {
      const r = await fetch("/api/v1/qa/reports?format=csv&table=" + table, { headers: { Authorization: "Bearer " + st.token } });
      if (!r.ok) throw new Error("HTTP " + r.status);
      const url = URL.createObjectURL(await r.blob());
      const a = el("a", { href: url, download: "qa-" + table + ".csv" }); document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) { showError("CSV: " + e.message); }
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
  $("audio").addEventListener("seeked", () => highlight($("audio").currentTime * 1000));
  $("ack-ok").addEventListener("click", () => ack("acknowledged"));
  $("ack-dispute").addEventListener("click", () => ack("disputed"));
  $("cal-save").addEventListener("click", calibrate);
  $("report-load").addEventListener("click", loadReport);
  $("csv-agents").addEventListener("click", () => csv("agent_week"));
  $("csv-items").addEventListener("click", () => csv("items"));
  $("csv-summary").addEventListener("click", () => csv("summary"));
  if (st.token) start();
})();
