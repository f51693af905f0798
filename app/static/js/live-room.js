/* The live room (live/templates/live/): the attendee's phone page (data-mode=room), the moderators' page (moderate)
   and the big screen (screen). The list is read from GET .../questions, then kept live from the Socket.IO room
   event:<id>:live (moderators: event:<id>:live:moderators), and read again after every reconnect. */
(function () {
  "use strict";
  var root = document.querySelector("[data-mode][data-event]");
  if (!root) return;
  var T = JSON.parse(document.getElementById("live-i18n").textContent);
  var kit = window.liveKit, call = kit.call;
  var MODE = root.dataset.mode, EVENT = root.dataset.event;
  var $ = function (id) { return root.querySelector("[data-testid=" + id + "]"); };
  var questions = {};  // id -> question (with "voted" and "mine" as this phone knows them)
  var TOP = 8;         // questions on the big screen below the pinned one

  function note(text, bad) {
    var el = $("ask-note");
    if (!el) return;
    el.hidden = !text;
    el.textContent = text || "";
    el.classList.toggle("bad", !!bad);
  }

  function order(a, b) {
    var key = function (q) { return [q.pinned ? 0 : 1, q.status === "answered" ? 1 : 0, q.status === "hidden" ? 1 : 0]; };
    var ka = key(a), kb = key(b);
    for (var i = 0; i < ka.length; i++) { if (ka[i] !== kb[i]) return ka[i] - kb[i]; }
    if (a.votes !== b.votes) return b.votes - a.votes;
    return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id - b.id;
  }

  function button(label, testid, onClick, pressed) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button small" + (pressed ? "" : " secondary");
    b.textContent = label;
    b.setAttribute("data-testid", testid);
    if (pressed !== undefined) b.setAttribute("aria-pressed", pressed ? "true" : "false");
    b.addEventListener("click", onClick);
    return b;
  }

  function item(q) {
    var li = document.createElement("li");
    li.className = "live-q live-" + q.status + (q.pinned ? " live-is-pinned" : "");
    li.setAttribute("data-testid", "question");
    li.setAttribute("data-id", q.id);
    li.setAttribute("data-status", q.status);
    var text = document.createElement("p");
    text.className = "live-q-text";
    text.setAttribute("data-testid", "question-text");
    text.textContent = q.text;
    var meta = document.createElement("p");
    meta.className = "live-q-meta small muted";
    var tags = [q.author || T.anonymous];
    if (q.pinned) tags.push(T.pinned);
    if (q.status === "answered") tags.push(T.answered);
    if (q.status === "pending") tags.push(T.pending);
    if (q.status === "hidden") tags.push(T.hidden);
    if (q.status === "merged") tags.push(T.merged);
    if (q.mine) tags.push(T.yours);
    meta.textContent = tags.join(" · ");
    var votes = document.createElement("span");
    votes.className = "live-votes";
    votes.setAttribute("data-testid", "votes");
    votes.textContent = q.votes;
    li.appendChild(votes);
    var body = document.createElement("div");
    body.className = "live-q-body";
    body.appendChild(text);
    body.appendChild(meta);
    li.appendChild(body);
    if (MODE === "room" && q.status === "visible") {
      li.appendChild(button(q.voted ? T.upvoted : T.upvote, "upvote", function () { toggleVote(q); }, !!q.voted));
    }
    if (MODE === "moderate") {
      var actions = document.createElement("div");
      actions.className = "live-actions";
      if (q.status !== "visible") actions.appendChild(button(q.status === "pending" ? T.approve : (q.status === "answered" ? T.reopen : T.show), "show", function () { moderate(q, { status: "visible" }); }));
      if (q.status !== "hidden") actions.appendChild(button(T.hide, "hide", function () { moderate(q, { status: "hidden" }); }));
      if (q.status === "visible") actions.appendChild(button(T.mark_answered, "answered", function () { moderate(q, { status: "answered" }); }));
      if (q.status === "visible" || q.status === "answered") actions.appendChild(button(q.pinned ? T.unpin : T.pin, "pin", function () { moderate(q, { pinned: !q.pinned }); }));
      var others = Object.keys(questions).map(function (id) { return questions[id]; }).filter(function (o) {
        return o.id !== q.id && (o.status === "visible" || o.status === "answered");
      });
      if (q.status !== "merged" && q.status !== "hidden" && others.length) {
        var pick = document.createElement("select");
        pick.setAttribute("data-testid", "merge-into");
        pick.setAttribute("aria-label", T.merge_into);
        others.forEach(function (o) {
          var option = document.createElement("option");
          option.value = o.id;
          option.textContent = o.text.length > 24 ? o.text.slice(0, 24) + "…" : o.text;
          pick.appendChild(option);
        });
        actions.appendChild(pick);
        actions.appendChild(button(T.merge, "merge", function () { moderate(q, { merged_into: Number(pick.value) }); }, true));
      }
      li.appendChild(actions);
    }
    return li;
  }

  function render() {
    var list = $("questions");
    var all = Object.keys(questions).map(function (id) { return questions[id]; }).sort(order);
    list.innerHTML = "";
    if (MODE === "screen") {
      var pinned = all.filter(function (q) { return q.pinned; })[0];
      var box = $("pinned");
      box.hidden = !pinned;
      box.textContent = "";
      if (pinned) box.appendChild(item(pinned));
      all = all.filter(function (q) { return !q.pinned && q.status === "visible"; }).slice(0, TOP);
    }
    all.forEach(function (q) { list.appendChild(item(q)); });
    $("empty").hidden = all.length > 0 || (MODE === "screen" && !$("pinned").hidden);
  }

  function merge(q) {
    var known = questions[q.id];
    if (q.removed) {
      if (known && known.mine && MODE === "room") return;  // one's own pending question stays on one's phone
      delete questions[q.id];
      return;
    }
    questions[q.id] = Object.assign({}, q, { voted: known ? known.voted : !!q.voted, mine: known ? known.mine : !!q.mine });
  }

  function refresh() {
    return call("GET", root.dataset.list).then(function (data) {
      var mine = {};
      Object.keys(questions).forEach(function (id) { if (questions[id].mine) mine[id] = true; });
      questions = {};
      data.questions.forEach(function (q) { q.mine = !!mine[q.id] || q.status === "pending"; questions[q.id] = q; });
      render();
    }).catch(function (error) { note(error.message, true); });
  }

  function toggleVote(q) {
    var wanted = !q.voted;
    call(wanted ? "POST" : "DELETE", "/api/v1/questions/" + q.id + "/vote").then(function (data) {
      var known = questions[q.id];
      if (!known) return;
      known.voted = wanted;
      known.votes = data.votes;
      render();
    }).catch(function (error) { note(error.message, true); });
  }

  function moderate(q, change) {
    call("PATCH", "/api/v1/questions/" + q.id, change).then(function (data) {
      merge(data);
      render();
      if (change.merged_into) refresh();
    }).catch(function (error) { note(error.message, true); });
  }

  var form = $("ask-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = form.elements.text.value;
      call("POST", root.dataset.ask, { text: text, anonymous: form.elements.anonymous.checked }).then(function (data) {
        form.elements.text.value = "";
        note(data.status === "pending" ? T.sent_pending : T.sent, false);
        var known = questions[data.id];
        if (known) { known.mine = true; render(); } else {
          questions[data.id] = { id: data.id, text: text.trim(), status: data.status, votes: 0, pinned: false,
                                 author: null, mine: true, voted: false, created_at: new Date().toISOString() };
          refresh();
        }
      }).catch(function (error) { note(error.message, true); });
    });
  }

  var speakerForm = $("speaker-form");
  if (speakerForm) {
    var speakerNow = $("speaker-now");
    var shown = function (body) {
      if (body.speaker) speakerNow.textContent = body.speaker.name + " " + body.speaker.phone;
    };
    speakerForm.addEventListener("submit", function (e) {
      e.preventDefault();
      call("PUT", speakerForm.dataset.speaker, {
        phone: speakerForm.elements.phone.value, name: speakerForm.elements.name.value
      }).then(function (body) { shown(body); note(T.saved); }).catch(function (error) { note(error.message, true); });
    });
    $("send-to-speaker").addEventListener("click", function () {
      call("POST", speakerForm.dataset.send).then(function (body) {
        note(T.sent_to_speaker.replace("{n}", body.sent).replace("{name}", body.speaker.name || body.speaker.phone));
      }).catch(function (error) { note(error.message, true); });
    });
  }

  var settings = $("settings-form");
  if (settings) {
    settings.addEventListener("change", function () {
      call("PATCH", root.dataset.settings, {
        premoderation: settings.elements.premoderation.checked,
        organizers_see_anonymous: settings.elements.organizers_see_anonymous.checked
      }).then(refresh).catch(function (error) { note(error.message, true); });
    });
  }

  // A cancelled event's room is closed: the page says so (活动已取消) and stops listening and acting.
  var closedNote = root.querySelector("[data-testid=live-cancelled]");
  function closeRoom() {
    if (closedNote) closedNote.hidden = false;
    root.classList.add("is-closed");  // live.css hides its forms and buttons
  }
  if (closedNote && !closedNote.hidden) { closeRoom(); refresh(); return; }

  refresh();
  if (!window.io) return;
  var socket = window.io({ reconnectionDelayMax: 5000 });
  window.liveSocket = socket;  // live-polls.js listens on the same connection
  document.dispatchEvent(new Event("live:socket"));
  var joinEvent = MODE === "moderate" ? "join_live_moderators" : "join_live";
  socket.on("connect", function () {
    $("live").classList.add("on");
    // The big screen hears the room at a quicker cadence than the phones (live/realtime.py: screen_room).
    var joining = MODE === "screen" ? { event_id: EVENT, screen: true } : { event_id: EVENT };
    socket.emit(joinEvent, joining, function (ack) {
      if (ack && ack.ok) refresh(); else if (ack) note(ack.message, true);
    });
  });
  socket.on("disconnect", function () { $("live").classList.remove("on"); });
  socket.on("room_left", function (m) {
    if (!m || m.code !== "room_closed") return;
    socket.disconnect();
    closeRoom();
  });
  socket.on("question", function (q) {
    if (String(q.event_id) !== EVENT) return;
    merge(q);
    render();
  });
})();
