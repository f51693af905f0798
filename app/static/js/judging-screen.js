/* The big-screen leaderboard (1920x1080): the audience's view from GET .../leaderboard?audience=screen, then live
   from the Socket.IO room round:<id>:leaderboard; re-read after every reconnect. A newly revealed rank fades in. */
(function () {
  "use strict";
  var root = document.querySelector("[data-testid=screen]");
  if (!root) return;
  var T = JSON.parse(document.getElementById("judging-i18n").textContent);
  var $ = function (id) { return root.querySelector("[data-testid=" + id + "]"); };
  var seen = {};
  var ENGLISH = (document.documentElement.lang || "").indexOf("en") === 0;
  var shownAt = 0;  // when the board on screen was read by the server: an older one arriving later is dropped
  function show(board) {
    var at = Date.parse(board.updated_at) || 0;
    if (at < shownAt) return;
    shownAt = at;
    var list = $("rows");
    list.innerHTML = "";
    board.rows.forEach(function (row) {
      var li = document.createElement("li");
      li.setAttribute("data-testid", "row");
      li.className = "screen-row" + (seen[row.id] ? "" : " screen-new") + (row.rank === 1 ? " screen-first" : "");
      li.innerHTML = "<span class='rank'></span><span class='team'></span><span class='track'></span><span class='score'></span>";
      li.querySelector(".rank").textContent = row.rank === null ? "–" : row.rank;
      li.querySelector(".team").textContent = row.team_name;
      // the track's name in the screen's language, never its key ("AI+医疗", not "ai-healthcare")
      li.querySelector(".track").textContent = (ENGLISH ? row.track_label_en : row.track_label) || "";
      li.querySelector(".score").textContent = row.score === null ? "–" : row.score.toFixed(2) + (row.tied ? " (" + T.tie + ")" : "");
      seen[row.id] = true;
      list.appendChild(li);
    });
    $("hidden").hidden = !board.hidden_count;
    $("hidden").textContent = T.hidden.replace("{n}", board.hidden_count);
    $("rule").textContent = board.rule;
  }
  // The people's choice (人气奖), when a package provides it (live: a part with data-api): its status while the vote
  // runs, then the ranks as the console reveals them, from the bottom; a newly revealed rank fades in.
  var pc = root.querySelector("[data-testid=screen-peoples-choice]");
  var pcSeen = {};
  function showVote(board) {
    if (!pc || String(board.round_id) !== root.dataset.round) return;
    pc.hidden = board.status === "not_opened";
    pc.querySelector("[data-testid=pc-status]").textContent =
      (board.status === "open" ? T.pc_open : T.pc_closed) + " · " + T.pc_votes.replace("{n}", board.votes_cast);
    var list = pc.querySelector("[data-testid=pc-rows]");
    list.innerHTML = "";
    board.ranking.forEach(function (row) {
      var li = document.createElement("li");
      li.setAttribute("data-testid", "pc-row");
      li.className = "screen-pc-row" + (pcSeen[row.round_team_id] ? "" : " screen-new") + (row.rank === 1 ? " screen-first" : "");
      li.innerHTML = "<span class='rank'></span><span class='team'></span><span class='votes'></span>";
      li.querySelector(".rank").textContent = row.rank;
      li.querySelector(".team").textContent = row.team_name;
      li.querySelector(".votes").textContent = T.pc_votes.replace("{n}", row.votes);
      pcSeen[row.round_team_id] = true;
      list.appendChild(li);
    });
    var left = board.status === "closed" ? board.teams_count - board.revealed_count : 0;
    pc.querySelector("[data-testid=pc-hidden]").hidden = !left;
    pc.querySelector("[data-testid=pc-hidden]").textContent = T.hidden.replace("{n}", left);
  }
  function refresh() {
    if (pc) {
      fetch(pc.dataset.api, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (board) { if (board) showVote(board); });
    }
    return fetch(root.dataset.api, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(show);
  }
  refresh();
  var socket = window.io({ reconnectionDelayMax: 5000 });
  var connected = false;
  socket.on("connect", function () {
    $("live").classList.add("on");
    socket.emit("join_round_leaderboard", { round_id: root.dataset.round }, function (ack) {
      if (ack && ack.ok) show(ack.leaderboard);
    });
    if (pc && connected) refresh();  // a reveal missed while away
    connected = true;
  });
  socket.on("disconnect", function () { $("live").classList.remove("on"); });
  socket.on("leaderboard", function (board) { if (String(board.round.id) === root.dataset.round) show(board); });
  socket.on("audience_vote", showVote);
})();
