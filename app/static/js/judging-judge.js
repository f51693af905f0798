/* The judge's phone page. State comes from GET /api/v1/rounds/<id>/judge (again after every reconnect); the stage
   comes live from the Socket.IO room round:<id>:judges. Drafts are kept in localStorage as the judge types; a
   submitted score goes into an outbox (localStorage) first and leaves it only when the server answered, so a
   phone that loses the network keeps the score and sends it when the network is back. Each submission carries a
   submission_id chosen here: a retry is answered the same by the server and never counted twice.
   The HTTP state and the live messages can cross: a state read before a change may arrive after the change was
   heard. Every stage carries the round's stage version (bumped by each change): one older than the stage shown is
   not applied. A state read begun before the server confirmed a score is read again. So the page always ends on
   the latest stage and scores, whatever arrives first. */
(function () {
  "use strict";
  var root = document.querySelector("[data-testid=judge-page]");
  if (!root) return;
  var T = JSON.parse(document.getElementById("judging-i18n").textContent);
  var ROUND = root.dataset.round, LIVE = root.dataset.mode === "live";
  var CSRF = (document.querySelector("meta[name=csrf-token]") || {}).content;
  var OUTBOX = "judging:" + ROUND + ":outbox";
  var $ = function (id) { return root.querySelector("[data-testid=" + id + "]"); };
  var state = null, selected = null, clockOffset = 0, stage = null, sending = false;
  var confirmed = 0;  // scores the server confirmed so far (a state read begun before the last one is stale)

  function draftKey(teamId) { return "judging:" + ROUND + ":draft:" + teamId; }
  function load(key, fallback) { try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; } }
  function save(key, value) { localStorage.setItem(key, JSON.stringify(value)); }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "s-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }
  function label(obj) { return (T.lang === "en" && obj.label_en) ? obj.label_en : obj.label; }
  function fmt(n) { return (Math.round(n * 100) / 100).toString(); }

  function fetchState() {
    var asked = confirmed;
    return fetch(root.dataset.api, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("state " + r.status); return r.json(); })
      .then(function (data) {
        if (asked !== confirmed) return fetchState();  // a score was confirmed while this read was on its way
        if (older(data.stage)) {  // read before a change already shown (heard live, or a later read)
          if (state) return;
          state = data;  // the first state, read before the change heard live while it was on its way
          state.round.state = stage.state;
          applyStage(stage, true);
        } else {
          state = data;
          applyStage(data.stage);
        }
        render();
      });
  }

  function teamById(id) {
    if (!state) return null;
    for (var i = 0; i < state.teams.length; i++) if (state.teams[i].id === id) return state.teams[i];
    return null;
  }

  function older(s) { return !!(stage && s && s.version < stage.version); }

  function applyStage(s, again) {
    if (!s) return;
    stage = s;
    if (!again) clockOffset = Date.parse(s.server_now) - Date.now();
    if (s.teams_scoring && state) {
      state.teams.forEach(function (t) { if (s.teams_scoring[t.id]) t.scoring_state = s.teams_scoring[t.id]; });
    }
    if (LIVE && s.current_team && (!selected || selected !== s.current_team.id)) {
      saveDraft();
      selected = s.current_team.id;
    }
  }

  function render() {
    var queued = load(OUTBOX, []);
    var scored = state.progress.scored, total = state.progress.total;
    queued.forEach(function (q) { var t = teamById(q.round_team_id); if (t && !t.my_scorecard) scored += 1; });
    $("progress").textContent = T.progress.replace("{scored}", scored).replace("{total}", total);
    renderStage();
    renderList(queued);
    if (!LIVE && !selected) {
      var next = state.teams.filter(function (t) { return !t.recused && !t.my_scorecard; })[0];
      selected = next ? next.id : null;
    }
    renderForm();
  }

  function renderStage() {
    var box = $("stage");
    if (!LIVE || !stage) { box.hidden = true; return; }
    box.hidden = false;
    $("phase").textContent = T[stage.phase] || stage.phase;
    $("waiting").hidden = !!stage.current_team || state.round.state !== "open";
  }

  /* The phase now, from the server's timeline (pitch, then Q&A, then scoring) and the server's clock: every phone
     moves from pitch to Q&A at the same moment without a message. */
  function phaseNow() {
    var now = Date.now() + clockOffset, timeline = (stage && stage.timeline) || [];
    for (var i = 0; i < timeline.length; i++) {
      if (!timeline[i].ends_at || now < Date.parse(timeline[i].ends_at)) return timeline[i];
    }
    return timeline.length ? timeline[timeline.length - 1] : { phase: stage ? stage.phase : "idle", ends_at: null };
  }

  function tick() {
    // No countdown applies (a self-paced round, or a phase without an end): no timer rather than an empty "--:--".
    if (!stage || !LIVE) { $("timer").hidden = true; return; }
    var entry = phaseNow();
    if (LIVE && !$("stage").hidden) $("phase").textContent = T[entry.phase] || entry.phase;
    $("stage").dataset.phase = entry.phase;
    if (!entry.ends_at) { $("timer").hidden = true; $("timer").textContent = ""; return; }
    $("timer").hidden = false;
    var left = Math.max(0, Math.round((Date.parse(entry.ends_at) - (Date.now() + clockOffset)) / 1000));
    $("timer").textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
    $("timer").classList.toggle("judge-timer-low", left <= 60);
  }

  function renderList(queued) {
    var list = $("teams");
    list.innerHTML = "";
    state.teams.forEach(function (team) {
      var li = document.createElement("li");
      var waiting = queued.some(function (q) { return q.round_team_id === team.id; });
      var status = team.recused ? T.recused : waiting ? T.draft : team.my_scorecard ? T.submitted : T.not_scored;
      li.innerHTML = "<button type='button' class='judge-team'><span></span><small></small></button>";
      li.querySelector("span").textContent = team.position + ". " + team.team_name;
      li.querySelector("small").textContent = status;
      li.dataset.testid = "team-" + team.id;
      li.setAttribute("data-testid", "team-" + team.id);
      li.classList.toggle("current", team.id === selected);
      li.querySelector("button").addEventListener("click", function () {
        if (LIVE && team.scoring_state === "pending") return;
        saveDraft(); selected = team.id; renderForm(); renderList(load(OUTBOX, []));
      });
      list.appendChild(li);
    });
  }

  function currentValues(team) {
    var draft = load(draftKey(team.id), null);
    if (draft) return draft;
    if (team.my_scorecard) return { scores: team.my_scorecard.scores, comment: team.my_scorecard.comment, tags: team.my_scorecard.tags };
    var scores = {};
    state.criteria.forEach(function (c) { scores[c.key] = null; });
    return { scores: scores, comment: "", tags: [] };
  }

  function renderForm() {
    var form = $("form");
    var team = selected ? teamById(selected) : null;
    if (!team || team.recused) { form.hidden = true; return; }
    form.hidden = false;
    form.dataset.team = team.id;
    $("team-name").textContent = team.position + ". " + team.team_name;
    $("project").textContent = team.project_name;
    var values = currentValues(team);
    var box = $("criteria");
    box.innerHTML = "";
    state.criteria.forEach(function (c) {
      var row = document.createElement("div");
      row.className = "judge-criterion";
      row.setAttribute("data-testid", "criterion-" + c.key);
      row.innerHTML = "<div class='judge-criterion-head'><span class='name'></span><span class='weight'></span></div>" +
        "<div class='judge-criterion-controls'><button type='button' class='judge-step' data-d='-1' aria-label='-'>−</button>" +
        "<output class='judge-value'></output><button type='button' class='judge-step' data-d='1' aria-label='+'>+</button></div>" +
        "<input type='range' class='judge-range'>";
      row.querySelector(".name").textContent = label(c);
      row.querySelector(".weight").textContent = c.weight + "% · " + fmt(c.min) + "–" + fmt(c.max);
      var range = row.querySelector("input");
      range.min = c.min; range.max = c.max; range.step = c.step;
      range.setAttribute("data-testid", "range-" + c.key);
      var out = row.querySelector("output");
      out.setAttribute("data-testid", "value-" + c.key);
      var value = values.scores[c.key];
      function show(v) {
        value = v;
        var unset = v === null || v === undefined;
        out.textContent = unset ? "–" : fmt(v);
        // Unscored looks unscored: no thumb (a thumb anywhere would imply a value), a grey track, the value "–".
        // The range's own value then sits in the middle (a range set up without one clamps to its maximum).
        range.value = unset ? (c.min + c.max) / 2 : v;
        row.classList.toggle("judge-unset", unset);
        range.classList.toggle("judge-range-unset", unset);
        row.dataset.value = unset ? "" : v;
      }
      show(value);
      range.addEventListener("input", function () { show(parseFloat(range.value)); changed(); });
      // The first tap on an unscored track scores where it lands, even on the middle (where no "input" fires).
      range.addEventListener("change", function () {
        if (value === null || value === undefined) { show(parseFloat(range.value)); changed(); }
      });
      row.querySelectorAll(".judge-step").forEach(function (b) {
        b.addEventListener("click", function () {
          var base = value === null || value === undefined ? (c.min + c.max) / 2 : value;
          var next = Math.min(c.max, Math.max(c.min, Math.round((base + c.step * parseInt(b.dataset.d, 10)) / c.step) * c.step));
          show(next); changed();
        });
      });
      box.appendChild(row);
    });
    var tags = $("tags");
    tags.innerHTML = "";
    state.tags.forEach(function (tag) {
      var l = document.createElement("label");
      l.className = "judge-tag";
      l.innerHTML = "<input type='checkbox'> <span></span>";
      l.querySelector("input").value = tag;
      l.querySelector("input").checked = (values.tags || []).indexOf(tag) >= 0;
      l.querySelector("input").addEventListener("change", changed);
      l.querySelector("span").textContent = T.tags[tag] || tag;
      tags.appendChild(l);
    });
    $("comment").value = values.comment || "";
    var closed = team.scoring_state === "closed", pending = team.scoring_state === "pending";
    $("submit").textContent = team.my_scorecard ? T.update : T.submit;
    $("form-note").hidden = !(closed || pending);
    $("form-note").textContent = closed ? T.closed_note : pending ? T.pending : "";
    $("status").textContent = "";
    updateTotal();
  }

  function formValues() {
    var scores = {};
    $("criteria").querySelectorAll(".judge-criterion").forEach(function (row) {
      var key = row.getAttribute("data-testid").slice("criterion-".length);
      scores[key] = row.dataset.value === "" ? null : parseFloat(row.dataset.value);
    });
    var tags = [];
    $("tags").querySelectorAll("input:checked").forEach(function (i) { tags.push(i.value); });
    return { scores: scores, comment: $("comment").value, tags: tags };
  }

  function updateTotal() {
    var v = formValues(), total = 0, complete = true;
    state.criteria.forEach(function (c) {
      var s = v.scores[c.key];
      if (s === null || s === undefined || isNaN(s)) { complete = false; return; }
      total += c.weight * (s - c.min) / (c.max - c.min);
    });
    $("total").textContent = complete ? fmt(total) : "–";
    updateSubmit(complete);
  }

  /* Submit only a complete score of a team whose scoring is open: every criterion needs a value first. */
  function updateSubmit(complete) {
    var team = teamById(parseInt($("form").dataset.team, 10));
    var open = !!team && team.scoring_state !== "closed" && team.scoring_state !== "pending";
    if (complete === undefined) {
      var v = formValues();
      complete = state.criteria.every(function (c) { var s = v.scores[c.key]; return s !== null && s !== undefined && !isNaN(s); });
    }
    $("submit").disabled = !(open && complete);
  }

  function saveDraft() {
    var form = $("form");
    if (form.hidden || !form.dataset.team) return;
    save(draftKey(form.dataset.team), formValues());
  }

  function changed() { saveDraft(); updateTotal(); $("status").textContent = T.draft; }
  $("comment").addEventListener("input", changed);

  $("submit").addEventListener("click", function () {
    var team = teamById(parseInt($("form").dataset.team, 10));
    if (!team) return;
    var v = formValues();
    var body = { round_team_id: team.id, submission_id: uuid(),
                 base_revision: team.my_scorecard ? team.my_scorecard.revision : 0,
                 scores: v.scores, comment: v.comment, tags: v.tags };
    var queue = load(OUTBOX, []).filter(function (q) { return q.round_team_id !== team.id; });
    queue.push(body);
    save(OUTBOX, queue);
    $("status").textContent = T.sending;
    flush();
  });

  $("recuse").addEventListener("click", function () {
    var team = teamById(parseInt($("form").dataset.team, 10));
    if (!team || !window.confirm(T.confirm_recuse)) return;
    post(root.dataset.recusals, { round_team_id: team.id }).then(function () { selected = null; return fetchState(); });
  });

  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
                        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": CSRF },
                        body: JSON.stringify(body) });
  }

  function setNet(online) {
    var net = $("net");
    net.hidden = online;
    net.dataset.state = online ? "online" : "offline";
    net.textContent = online ? "" : T.offline;
  }

  function flush() {
    if (sending) return;
    var queue = load(OUTBOX, []);
    if (!queue.length) return;
    sending = true;
    var body = queue[0];
    post(root.dataset.scores, body).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      sending = false;
      setNet(true);
      save(OUTBOX, load(OUTBOX, []).filter(function (q) { return q.submission_id !== body.submission_id; }));
      var mine = body.round_team_id === parseInt($("form").dataset.team, 10);
      if (result.status === 200 || result.status === 201) {
        confirmed += 1;
        localStorage.removeItem(draftKey(body.round_team_id));
        var team = teamById(body.round_team_id);
        if (team) team.my_scorecard = { scores: result.data.scores, comment: result.data.comment, tags: result.data.tags, revision: result.data.revision };
        if (result.data.progress) state.progress = result.data.progress;
        render();
        if (mine) $("status").textContent = T.sent;
      } else {
        var error = (result.data && result.data.error) || {};
        if (error.code === "stale_revision") localStorage.removeItem(draftKey(body.round_team_id));
        fetchState().then(function () {
          if (mine) $("status").textContent = error.code === "stale_revision" ? T.stale : (error.message || "");
        });
      }
      flush();
    }).catch(function () {
      sending = false;  // no answer: the score stays in the outbox; tried again when the network is back
      setNet(false);
      $("status").textContent = T.queued;
      render();
    });
  }

  window.addEventListener("online", function () { setNet(true); flush(); });
  window.addEventListener("offline", function () { setNet(false); });
  setInterval(function () { tick(); }, 250);
  setInterval(function () { if (load(OUTBOX, []).length) flush(); }, 5000);

  fetchState().then(flush);

  function connect() {
    if (!window.io) { setTimeout(connect, 200); return; }
    var socket = window.io({ reconnectionDelayMax: 5000 });
    socket.on("connect", function () {
      socket.emit("join_round_judges", { round_id: ROUND }, function (ack) {
        if (!ack || !ack.ok) return;
        fetchState().then(flush);  // after any (re)connect, the state is read again: a missed message costs nothing
      });
    });
    socket.on("stage", function (s) {
      if (String(s.round_id) !== String(ROUND) || older(s)) return;
      if (!state) { applyStage(s); return; }  // kept: the state being read may be older than this
      var before = selected;
      state.round.state = s.state;
      applyStage(s);
      if (selected !== before) { renderForm(); }
      renderStage(); renderList(load(OUTBOX, []));
      var team = selected ? teamById(selected) : null;
      if (team) {
        var closed = team.scoring_state === "closed", pending = team.scoring_state === "pending";
        updateSubmit();
        $("form-note").hidden = !(closed || pending);
        $("form-note").textContent = closed ? T.closed_note : pending ? T.pending : "";
      }
    });
  }
  connect();
})();
