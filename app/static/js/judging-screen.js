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
  function refresh() {
    return fetch(root.dataset.api, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(show);
  }
  refresh();
  var socket = window.io({ reconnectionDelayMax: 5000 });
  socket.on("connect", function () {
    $("live").classList.add("on");
    socket.emit("join_round_leaderboard", { round_id: root.dataset.round }, function (ack) {
      if (ack && ack.ok) show(ack.leaderboard);
    });
  });
  socket.on("disconnect", function () { $("live").classList.remove("on"); });
  socket.on("leaderboard", function (board) { if (String(board.round.id) === root.dataset.round) show(board); });
})();
