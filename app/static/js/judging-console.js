/* The organizers' console: drives the stage (now pitching, pitch / Q&A / scoring phases with server-timed
   countdowns), shows who has submitted for each team, closes and reopens scoring, reveals ranks and publishes.
   State from GET /api/v1/rounds/<id>/console, live from the Socket.IO room round:<id>:console. */
(function () {
  "use strict";
  var root = document.querySelector("[data-testid=console]");
  if (!root) return;
  var T = JSON.parse(document.getElementById("judging-i18n").textContent);
  var BASE = root.dataset.base, CSRF = (document.querySelector("meta[name=csrf-token]") || {}).content;
  var $ = function (id) { return root.querySelector("[data-testid=" + id + "]"); };
  var data = null, offset = 0;

  function post(path, body) {
    return fetch(BASE + path, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": CSRF },
      body: JSON.stringify(body || {}) }).then(function (r) {
        return r.json().then(function (j) { if (!r.ok) { window.alert((j.error || {}).message || r.status); } return j; });
      }).then(refresh);
  }
  function refresh() {
    return fetch(root.dataset.api, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(show);
  }
  function show(payload) {
    data = payload;
    offset = Date.parse(payload.stage.server_now) - Date.now();
    $("round-state").textContent = T.states[payload.round.state] || payload.round.state;
    $("now-pitching").textContent = payload.stage.current_team ? payload.stage.current_team.team_name : "–";
    $("phase").textContent = T[payload.stage.phase] || payload.stage.phase;
    var body = $("teams");
    body.innerHTML = "";
    payload.teams.forEach(function (team) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-testid", "team-" + team.id);
      if (payload.stage.current_team && payload.stage.current_team.id === team.id) tr.className = "current";
      var judges = team.judges.map(function (j) {
        var who = payload.judges.filter(function (x) { return x.id === j.judge_id; })[0];
        return "<span class='console-judge " + j.status + "' title='" + T[j.status] + "'>" + (who ? who.name : j.judge_id) + "</span>";
      }).join(" ");
      tr.innerHTML = "<td>" + team.position + "</td><td class='name'></td><td>" + judges + "</td>" +
        "<td data-testid='count-" + team.id + "'>" + team.submitted + " / " + team.expected + "</td><td class='actions'></td>";
      tr.querySelector(".name").textContent = team.team_name;
      var actions = tr.querySelector(".actions");
      if (payload.round.mode === "live" && payload.round.state === "open") {
        actions.appendChild(button(T.on_stage, "stage-" + team.id, function () { post("/stage", { round_team_id: team.id, phase: "pitch" }); }));
      }
      if (team.scoring_state === "open") {
        actions.appendChild(button(T.close, "close-" + team.id, function () { post("/teams/" + team.id + "/close"); }));
      } else if (team.scoring_state === "closed" && payload.round.state !== "published") {
        actions.appendChild(button(T.reopen, "reopen-" + team.id, function () {
          var reason = window.prompt(T.reopen_reason);
          if (reason !== null) post("/teams/" + team.id + "/reopen", { reason: reason });
        }));
      }
      body.appendChild(tr);
    });
  }
  function button(text, testid, onclick) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "button small"; b.textContent = text;
    b.setAttribute("data-testid", testid);
    b.addEventListener("click", onclick);
    return b;
  }
  root.querySelectorAll("[data-phase]").forEach(function (b) {
    b.addEventListener("click", function () {
      var team = data && data.stage.current_team;
      post("/stage", { round_team_id: team ? team.id : null, phase: b.dataset.phase });
    });
  });
  $("open").addEventListener("click", function () { post("/open"); });
  $("reveal").addEventListener("click", function () { post("/reveal", {}); });
  $("publish").addEventListener("click", function () { if (window.confirm(T.confirm_publish)) post("/publish"); });
  setInterval(function () {
    var s = data && data.stage;
    if (!s || !s.phase_ends_at) { $("timer").textContent = "--:--"; return; }
    var left = Math.max(0, Math.round((Date.parse(s.phase_ends_at) - (Date.now() + offset)) / 1000));
    $("timer").textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
  }, 250);
  refresh();
  (function connect() {
    if (!window.io) { setTimeout(connect, 200); return; }
    var socket = window.io({ reconnectionDelayMax: 5000 });
    socket.on("connect", function () {
      socket.emit("join_round_console", { round_id: root.dataset.round }, function (ack) { if (ack && ack.ok) show(ack.console); });
    });
    socket.on("console", function (payload) { if (String(payload.round.id) === root.dataset.round) show(payload); });
  })();
})();
