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
  var data = null, offset = 0, lastJudges = null;

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
  var shownAt = 0;  // the server's read time of what is shown: an older payload arriving later is dropped
  function show(payload) {
    var at = Date.parse(payload.stage.server_now) || 0;
    if (at < shownAt) return;
    shownAt = at;
    data = payload;
    offset = Date.parse(payload.stage.server_now) - Date.now();
    $("round-state").textContent = T.states[payload.round.state] || payload.round.state;
    $("public-results-link").hidden = payload.round.state !== "published";  // the results anyone may open
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
        return "<span class='console-judge " + j.status + "' data-judge='" + j.judge_id + "' title='" + T[j.status] + "'>" + (who ? escape(who.name) : j.judge_id) + "</span>";
      }).join(" ");
      tr.innerHTML = "<td>" + team.position + "</td><td class='name'></td><td class='judges'>" + judges + "</td>" +
        "<td data-testid='count-" + team.id + "'>" + team.submitted + " / " + team.expected + "</td><td class='actions'></td>";
      tr.querySelector(".name").textContent = team.team_name;
      tr.querySelectorAll(".console-judge.recused").forEach(function (chip) {  // lift a recusal declared by mistake
        var lift = button(T.lift, "lift-" + team.id + "-" + chip.dataset.judge, function () {
          if (window.confirm(T.confirm_lift)) del("/judges/" + chip.dataset.judge + "/recusals/" + team.id);
        });
        lift.className = "link small";
        chip.after(lift);
      });
      var actions = tr.querySelector(".actions");
      if (team.submitted === 0 && team.judges.every(function (j) { return j.status !== "submitted"; }) &&
          payload.round.state !== "published" && !(payload.stage.current_team && payload.stage.current_team.id === team.id)) {
        actions.appendChild(button(T.remove, "remove-" + team.id, function () {
          if (window.confirm(T.confirm_remove)) del("/teams/" + team.id);
        }));
      }
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
    // The judges' list is rebuilt only when it changed: a console message arrives with every score, and a list
    // rebuilt under the organizer's finger loses the tap on "re-send".
    var judgesShown = JSON.stringify(payload.judges);
    if (judgesShown === lastJudges) return;
    lastJudges = judgesShown;
    var judges = $("judges");
    judges.innerHTML = "";
    payload.judges.forEach(function (j) {
      var li = document.createElement("li");
      li.setAttribute("data-testid", "judge-" + j.id);
      li.innerHTML = "<span class='name'></span> <span class='console-judge-state'></span> <span class='small muted'></span> ";
      li.querySelector(".name").textContent = j.name + (j.is_shadow ? " · " + T.shadow : "");
      var state = li.querySelector(".console-judge-state");  // invited, opened, scoring, submitted: live
      state.textContent = T.judge_states[j.state] || j.state || "";
      state.className = "console-judge-state " + (j.state || "");
      state.setAttribute("data-testid", "judge-state-" + j.id);
      state.dataset.state = j.state || "";
      li.querySelector(".muted").textContent = invitationText(j.invitation || {});
      li.querySelector(".muted").setAttribute("data-testid", "invitation-" + j.id);
      li.appendChild(button(T.resend, "resend-" + j.id, function () {
        request("POST", "/judges/" + j.id + "/invitation").then(function (answer) {
          // The link went to the judge's phone alone; the organizer sees that it was sent, never the link.
          if (answer && answer.invitation) { var out = $("invite-status"); out.hidden = false; out.textContent = T.resent; }
          refresh();
        });
      }));
      judges.appendChild(li);
    });
  }
  function invitationText(invitation) {
    // "已发送 · 12/3 10:05 · 已打开" / "已重新发送 · 12/3 10:20 · 未打开": when it was (re-)sent and whether it was
    // opened, never the link
    if (!invitation.sent_at) return T.not_sent;
    var resent = invitation.resent_at && invitation.resent_at === invitation.sent_at;
    var when = new Date(invitation.sent_at).toLocaleString(document.documentElement.lang || undefined,
      { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
    return (resent ? T.resent_at : T.sent) + " · " + when + " · " + (invitation.opened_at ? T.opened : T.not_opened);
  }
  function escape(text) { var d = document.createElement("div"); d.textContent = text; return d.innerHTML; }
  function request(method, path, body) {
    return fetch(BASE + path, { method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": CSRF },
      body: method === "DELETE" ? undefined : JSON.stringify(body || {}) }).then(function (r) {
        if (r.status === 204) return {};
        return r.json().then(function (j) { if (!r.ok) { window.alert((j.error || {}).message || r.status); } return j; });
      });
  }
  function del(path) { return request("DELETE", path).then(refresh); }
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
  // Revealing while judges have not submitted asks first, naming them (409 judges_missing), then confirms.
  function reveal(confirmed) {
    return fetch(BASE + "/reveal", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": CSRF },
      body: JSON.stringify(confirmed ? { confirm: true } : {}) }).then(function (r) {
        return r.json().then(function (j) {
          var error = j.error || {};
          if (r.status === 409 && error.code === "judges_missing" && !confirmed) {
            if (window.confirm(error.message)) return reveal(true);
          } else if (!r.ok) { window.alert(error.message || r.status); }
        });
      }).then(refresh);
  }
  $("reveal").addEventListener("click", function () { reveal(false); });
  $("publish").addEventListener("click", function () { if (window.confirm(T.confirm_publish)) post("/publish"); });
  setInterval(function () {
    var s = data && data.stage;
    // No countdown applies (no stage, or a phase without an end): show no timer rather than an empty "--:--".
    $("timer").hidden = !(s && s.mode === "live");
    if (!s) return;
    var now = Date.now() + offset, timeline = s.timeline || [], entry = { phase: s.phase, ends_at: null };
    for (var i = 0; i < timeline.length; i++) {  // pitch becomes Q&A, then scoring, by the server's timeline
      entry = timeline[i];
      if (!entry.ends_at || now < Date.parse(entry.ends_at)) break;
    }
    $("phase").textContent = T[entry.phase] || entry.phase;
    $("phase").dataset.phase = entry.phase;
    if (!entry.ends_at) { $("timer").hidden = true; $("timer").textContent = ""; return; }
    var left = Math.max(0, Math.round((Date.parse(entry.ends_at) - now) / 1000));
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
    window.judgingSocket = socket;  // parts other packages add to the console listen on it (live: audience_vote)
    document.dispatchEvent(new Event("judging:socket"));
  })();
})();
