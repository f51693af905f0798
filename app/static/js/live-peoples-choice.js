/* The people's choice (人气奖) in the live room (live/templates/live/): phones vote (data-mode=room), the moderators'
   page runs the vote (moderate: open, close, reveal rank by rank, the full tally), the big screen shows it (screen).
   Read from GET /api/v1/events/<id>/audience-votes, then live from the Socket.IO event "audience_vote". In a
   competition round's console (data-mode=console, live/_round_console.html) it runs that round's vote, read from
   GET /api/v1/rounds/<id>/audience-vote?audience=console, live on the console's own socket (window.judgingSocket). */
(function () {
  "use strict";
  var root = document.querySelector("[data-mode][data-event]");
  if (!root || !root.dataset.audience) return;
  var T = JSON.parse(document.getElementById("live-i18n").textContent);
  var kit = window.liveKit, call = kit.call, el = kit.el, button = kit.button;
  var MODE = root.dataset.mode;
  var RUNS = MODE === "moderate" || MODE === "console";  // this page opens, closes and reveals the vote
  var box = root.querySelector("[data-testid=peoples-choice]");
  var boards = {};  // round id -> board (my_round_team_id as this phone knows it)
  var notes = {};   // round id -> [text, bad]

  function base(b) { return "/api/v1/rounds/" + b.round_id + "/audience-vote"; }

  function vote(b, team) {
    call("POST", "/api/v1/rounds/" + b.round_id + "/audience-votes", { round_team_id: team.round_team_id })
      .then(function (data) {
        boards[b.round_id].my_round_team_id = data.round_team_id;
        notes[b.round_id] = [T.pc_voted, false];
        render();
      }).catch(function (error) { notes[b.round_id] = [error.message, true]; render(); });
  }

  function run(b, path, body) {
    call("POST", base(b) + path, body).then(function () { return refresh(); })
      .catch(function (error) { notes[b.round_id] = [error.message, true]; render(); });
  }

  function statusText(b) {
    return b.status === "open" ? T.pc_open : b.status === "closed" ? T.pc_closed : T.pc_not_opened;
  }

  function card(b) {
    var c = el("article", "live-poll live-pc live-poll-" + (b.status === "open" ? "open" : "closed"), null, "pc-round");
    c.setAttribute("data-round", b.round_id);
    c.appendChild(el("p", "small muted", T.peoples_choice + " · " + b.round_name, "pc-title"));
    c.appendChild(el("h3", "live-poll-question", statusText(b) + " · " + T.pc_votes.replace("{n}", b.votes_cast), "pc-status"));
    var mine = b.teams.concat(b.ranking).filter(function (t) { return t.round_team_id === b.my_round_team_id; })[0];
    if (MODE === "room" && mine) c.appendChild(el("p", "small", T.pc_your_vote + mine.team_name, "pc-mine"));
    if (MODE === "room" && b.status === "open" && !b.my_round_team_id) {
      var list = el("div", "live-actions", null, "pc-teams");
      b.teams.forEach(function (t) {
        list.appendChild(button(T.pc_vote_for.replace("{team}", t.team_name) + (t.on_stage ? " · " + T.pc_on_stage : ""),
                                "pc-vote", function () { vote(b, t); }));
      });
      if (!b.teams.length) list.appendChild(el("p", "small muted", T.pc_no_team_yet));
      c.appendChild(list);
    }
    if (b.ranking.length) {
      var ol = el("ol", "live-bars", null, "pc-ranking");
      var top = Math.max.apply(null, b.ranking.map(function (r) { return r.votes; }).concat([1]));
      b.ranking.forEach(function (r) {
        var li = el("li", "live-bar", null, "pc-row");
        li.appendChild(el("span", "live-bar-label", r.rank + ". " + r.team_name));
        li.appendChild(el("span", "live-bar-value", T.pc_votes.replace("{n}", r.votes)));
        var track = el("span", "live-bar-track");
        var fill = el("span", "live-bar-fill");
        fill.style.width = Math.round(100 * r.votes / top) + "%";
        track.appendChild(fill);
        li.appendChild(track);
        ol.appendChild(li);
      });
      c.appendChild(ol);
    }
    if (RUNS) {
      var actions = el("div", "live-actions");
      if (b.status !== "open") actions.appendChild(button(T.pc_start, "pc-open", function () { run(b, "/open"); }));
      if (b.status === "open") actions.appendChild(button(T.pc_stop, "pc-close", function () { run(b, "/close"); }));
      if (b.status === "closed") {
        // in the round's console, beside its own "reveal next rank" of the judges' ranking, say which ranking
        var next = MODE === "console" ? T.pc_reveal_next_console : T.pc_reveal_next;
        var all = MODE === "console" ? T.pc_reveal_all_console : T.pc_reveal_all;
        actions.appendChild(button(next, "pc-reveal", function () { run(b, "/reveal", {}); }, true));
        actions.appendChild(button(all, "pc-reveal-all", function () { run(b, "/reveal", { all: true }); }, true));
      }
      actions.appendChild(el("span", "small muted", T.pc_revealed.replace("{n}", b.revealed_count).replace("{m}", b.teams_count)));
      c.appendChild(actions);
    }
    var note = el("p", "live-note", null, "pc-note");
    var n = notes[b.round_id];
    note.hidden = !n;
    if (n) { note.textContent = n[0]; note.classList.toggle("bad", n[1]); }
    note.setAttribute("role", "status");
    c.appendChild(note);
    return c;
  }

  function render() {
    box.textContent = "";
    Object.keys(boards).map(function (id) { return boards[id]; })
      .filter(function (b) { return MODE !== "screen" || b.status === "open" || b.ranking.length; })
      .forEach(function (b) { box.appendChild(card(b)); });
  }

  function refresh() {
    return call("GET", root.dataset.audience).then(function (data) {
      boards = {};
      (data.rounds || [data]).forEach(function (b) { boards[b.round_id] = b; });
      render();
    }).catch(function () { /* the page's other notes say what went wrong */ });
  }

  refresh();
  function attach(socket) {
    socket.on("connect", refresh);
    socket.on("audience_vote", function (b) {
      if (MODE === "console" && String(b.round_id) !== root.dataset.round) return;
      if (RUNS || !boards[b.round_id]) { refresh(); return; }  // the console's tally is its own
      b.my_round_team_id = boards[b.round_id].my_round_team_id;
      boards[b.round_id] = b;
      render();
    });
  }
  if (MODE === "console") {
    if (window.judgingSocket) attach(window.judgingSocket);
    else document.addEventListener("judging:socket", function () { attach(window.judgingSocket); });
  } else if (window.liveSocket) attach(window.liveSocket);
  else document.addEventListener("live:socket", function () { attach(window.liveSocket); });
})();
