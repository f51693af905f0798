/* Polls of the live room (live/templates/live/): answered on the phones (data-mode=room), run from the moderators'
   page (moderate), shown as bars on the big screen (screen). Read from GET .../polls, then live from the Socket.IO
   event "poll" (live-room.js's socket is shared through window.liveSocket), read again after every reconnect. */
(function () {
  "use strict";
  var root = document.querySelector("[data-mode][data-event]");
  if (!root || !root.dataset.polls) return;
  var T = JSON.parse(document.getElementById("live-i18n").textContent);
  var kit = window.liveKit, call = kit.call, el = kit.el, button = kit.button;
  var MODE = root.dataset.mode, EVENT = root.dataset.event;
  var $ = function (id) { return root.querySelector("[data-testid=" + id + "]"); };
  var polls = {};  // id -> poll (my_option_ids as this phone knows them)

  /* A live update re-draws every card: what a card said to this person and what they ticked but did not send yet
     are kept per poll and drawn again, so a vote elsewhere in the room neither hides "voted" nor clears a choice. */
  var notes = {}, picked = {};

  function say(card, text, bad) {
    notes[card.getAttribute("data-id")] = { text: text, bad: bad };
    showNote(card.querySelector("[data-testid=poll-note]"), text, bad);
  }

  function showNote(n, text, bad) {
    n.hidden = !text;
    n.textContent = text || "";
    n.classList.toggle("bad", !!bad);
  }

  function bars(p) {
    var list = el("ul", "live-bars", null, "bars");
    var total = p.answers || 0;
    p.options.forEach(function (o) {
      var li = el("li", "live-bar", null, "bar");
      var share = total ? Math.round(100 * o.count / total) : 0;
      var label = el("span", "live-bar-label", o.label);
      var value = el("span", "live-bar-value", o.count + " · " + share + "%", "bar-value");
      var track = el("span", "live-bar-track");
      var fill = el("span", "live-bar-fill");
      fill.setAttribute("data-share", share);
      fill.style.width = share + "%";  // a style property set from script, allowed by the CSP (no inline style)
      track.appendChild(fill);
      li.appendChild(label);
      li.appendChild(value);
      li.appendChild(track);
      list.appendChild(li);
    });
    var foot = el("p", "small muted live-bar-total", T.answered_by.replace("{n}", total), "poll-total");
    var box = el("div");
    box.appendChild(list);
    box.appendChild(foot);
    return box;
  }

  function statusText(p) {
    return p.status === "open" ? T.poll_open : p.status === "closed" ? T.poll_closed : T.poll_draft;
  }

  function answerForm(p) {
    var form = el("form", "live-poll-form", null, "poll-form");
    var mine = p.my_option_ids || [];
    var ticked = picked[p.id] || mine;
    p.options.forEach(function (o) {
      var label = el("label", "live-check");
      var input = document.createElement("input");
      input.type = p.multiple ? "checkbox" : "radio";
      input.name = "poll-" + p.id;
      input.value = o.id;
      input.checked = ticked.indexOf(o.id) >= 0;
      input.setAttribute("data-testid", "poll-option");
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + o.label));
      form.appendChild(label);
    });
    var send = el("button", "button", mine.length ? T.change_answer : T.submit_answer, "poll-send");
    form.appendChild(send);
    form.addEventListener("change", function () {
      picked[p.id] = Array.prototype.filter.call(form.querySelectorAll("input"), function (i) { return i.checked; })
        .map(function (i) { return Number(i.value); });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var ids = Array.prototype.filter.call(form.querySelectorAll("input"), function (i) { return i.checked; })
        .map(function (i) { return Number(i.value); });
      if (!ids.length) { say(form.parentNode, T.choose_option, true); return; }
      call("POST", "/api/v1/polls/" + p.id + "/answers", { option_ids: ids }).then(function (data) {
        var known = polls[p.id];
        if (known) known.my_option_ids = data.option_ids;
        delete picked[p.id];
        render();
        var card = root.querySelector("[data-testid=poll][data-id='" + p.id + "']");
        if (card) say(card, T.answer_saved, false);
      }).catch(function (error) {
        var card = root.querySelector("[data-testid=poll][data-id='" + p.id + "']");
        if (card) say(card, error.message, true);
      });
    });
    return form;
  }

  function act(p, path, body) {
    call("POST", "/api/v1/polls/" + p.id + "/" + path, body).then(function (data) {
      merge(data);
      render();
    }).catch(function (error) {
      var card = root.querySelector("[data-testid=poll][data-id='" + p.id + "']");
      if (card) say(card, error.message, true);
    });
  }

  function card(p) {
    var c = el("article", "live-poll live-poll-" + p.status, null, "poll");
    c.setAttribute("data-id", p.id);
    c.setAttribute("data-status", p.status);
    c.appendChild(el("p", "small muted", statusText(p) + (p.multiple ? " · " + T.multiple : ""), "poll-status"));
    c.appendChild(el("h3", "live-poll-question", p.question, "poll-question"));
    var counted = p.options.length && p.options[0].count !== null && p.options[0].count !== undefined;
    if (MODE === "room" && p.status === "open") c.appendChild(answerForm(p));
    if (MODE === "room" && p.status !== "open" && (p.my_option_ids || []).length) {
      var chosen = p.options.filter(function (o) { return p.my_option_ids.indexOf(o.id) >= 0; })
        .map(function (o) { return o.label; });
      c.appendChild(el("p", "small", T.your_answer + chosen.join("、"), "poll-mine"));
    }
    if (counted && (MODE !== "room" || p.results_shown)) c.appendChild(bars(p));
    if (MODE === "moderate") {
      var actions = el("div", "live-actions");
      if (p.status !== "open") actions.appendChild(button(p.status === "draft" ? T.open_poll : T.reopen_poll, "poll-open", function () { act(p, "open"); }));
      if (p.status === "open") actions.appendChild(button(T.close_poll, "poll-close", function () { act(p, "close"); }));
      actions.appendChild(button(p.results_shown ? T.hide_results : T.show_results, "poll-results", function () { act(p, "results", { shown: !p.results_shown }); }, true));
      c.appendChild(actions);
    }
    var n = el("p", "live-note", null, "poll-note");
    n.setAttribute("role", "status");
    var note = notes[p.id] || {};
    showNote(n, note.text, note.bad);
    c.appendChild(n);
    return c;
  }

  function newestFirst(a, b) { return b.id - a.id; }

  function render() {
    var list = $("polls");
    var all = Object.keys(polls).map(function (id) { return polls[id]; }).sort(newestFirst);
    if (MODE === "screen") {
      var shown = all.filter(function (p) { return p.results_shown; })[0];
      var open = all.filter(function (p) { return p.status === "open"; })[0];
      all = shown && (!open || shown.id >= open.id) ? [shown] : open ? [open] : [];
    }
    list.textContent = "";
    all.forEach(function (p) { list.appendChild(card(p)); });
    var empty = $("polls-empty");
    if (empty) empty.hidden = all.length > 0;
  }

  function merge(p) {
    var known = polls[p.id];
    if (known && known.status !== p.status) { delete notes[p.id]; delete picked[p.id]; }  // opened or closed: news
    polls[p.id] = Object.assign({}, p, { my_option_ids: p.my_option_ids || (known ? known.my_option_ids : []) });
  }

  function refresh() {
    return call("GET", root.dataset.polls).then(function (data) {
      polls = {};
      data.polls.forEach(merge);
      render();
    }).catch(function () { /* the questions' note says what went wrong */ });
  }

  var form = $("poll-new");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var options = form.elements.options.value.split("\n").map(function (s) { return s.trim(); })
        .filter(function (s) { return s; });
      call("POST", root.dataset.polls, { question: form.elements.question.value, options: options,
                                         multiple: form.elements.multiple.checked }).then(function (data) {
        form.reset();
        var n = $("poll-new-note");
        n.hidden = true;
        merge(data);
        render();
      }).catch(function (error) {
        var n = $("poll-new-note");
        n.hidden = false;
        n.textContent = error.message;
        n.classList.add("bad");
      });
    });
  }

  refresh();
  function attach(socket) {
    socket.on("connect", refresh);
    socket.on("poll", function (p) {
      if (String(p.event_id) !== EVENT) return;
      merge(p);
      render();
    });
  }
  if (window.liveSocket) attach(window.liveSocket);
  else document.addEventListener("live:socket", function () { attach(window.liveSocket); });
})();
