/* Organizers' pages (events/manage_views.py). Everything works without this file; it adds:
 * - the event form: shows only the fields that apply (offer hours, lottery draw, pitch slots, series, choices);
 * - the registrations list: select all, a count of the selected, and live rows through Socket.IO: the page joins
 *   the room of its event's organizers; on `registration_changed` it updates the counts and re-fetches the changed
 *   rows as HTML (rendered by the server, with the page's filters), and after a reconnect it re-fetches the list.
 */
(function () {
  "use strict";

  // ---- the event form ---------------------------------------------------------------------------------------------
  var eventForm = document.querySelector("[data-manage-form]");
  if (eventForm) {
    var WEEKDAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]; // Date.getDay() order
    var weekdayTouched = false;
    var checkedValue = function (name) {
      var input = eventForm.querySelector('input[name="' + name + '"]:checked');
      return input ? input.value : "";
    };
    var show = function (element, visible) { element.hidden = !visible; };
    var refreshForm = function () {
      var mode = checkedValue("waitlist_mode");
      eventForm.querySelectorAll("[data-show-for-mode]").forEach(function (el) {
        show(el, el.getAttribute("data-show-for-mode") === mode || el.classList.contains("has-error"));
      });
      var kind = (eventForm.querySelector("[data-kind-select]") || {}).value;
      eventForm.querySelectorAll("[data-show-for-kind]").forEach(function (el) {
        show(el, el.getAttribute("data-show-for-kind") === kind || el.classList.contains("has-error"));
      });
      var repeat = eventForm.querySelector("[data-repeat-toggle]");
      eventForm.querySelectorAll("[data-repeat-fields]").forEach(function (el) { show(el, repeat && repeat.checked); });
      eventForm.querySelectorAll("[data-question-row]").forEach(function (row) {
        var select = row.querySelector("[data-question-kind]");
        var choices = row.querySelector("[data-choices-field]");
        if (select && choices) show(choices, select.value === "choice");
      });
    };
    var syncWeekday = function () {
      var start = eventForm.querySelector("[data-starts-at]");
      var weekday = eventForm.querySelector("[data-repeat-weekday]");
      if (!start || !weekday || weekdayTouched || !start.value) return;
      var day = new Date(start.value.slice(0, 10) + "T12:00:00");
      if (!isNaN(day.getTime())) weekday.value = WEEKDAYS[day.getDay()];
    };
    eventForm.addEventListener("change", function (event) {
      if (event.target.matches("[data-repeat-weekday]")) weekdayTouched = true;
      if (event.target.matches("[data-starts-at], [data-repeat-toggle]")) syncWeekday();
      refreshForm();
    });
    refreshForm();
  }

  // ---- the registrations list -------------------------------------------------------------------------------------
  var section = document.querySelector("[data-live-registrations]");
  if (!section) return;
  var list = section.querySelector("[data-live-list]");
  var decideForm = section.querySelector("[data-decide-form]");
  var emptyState = section.querySelector("[data-empty-state]");
  var selectAll = section.querySelector("[data-select-all]");
  var selectedCount = section.querySelector("[data-selected-count]");
  var liveStatus = section.querySelector("[data-live-status]");
  var eventId = Number(section.getAttribute("data-event-id"));

  var picks = function () { return Array.prototype.slice.call(list.querySelectorAll("input.pick")); };
  var refreshSelection = function () {
    var boxes = picks();
    var checked = boxes.filter(function (b) { return b.checked; }).length;
    if (selectedCount) {
      selectedCount.textContent = checked ? section.getAttribute("data-label-selected").replace("{n}", checked) : "";
    }
    if (selectAll) {
      selectAll.hidden = boxes.length === 0;
      var box = selectAll.querySelector("input");
      box.checked = boxes.length > 0 && checked === boxes.length;
      box.indeterminate = checked > 0 && checked < boxes.length;
    }
    if (emptyState) emptyState.hidden = list.children.length > 0;
  };
  if (selectAll) {
    selectAll.querySelector("input").addEventListener("change", function (event) {
      picks().forEach(function (b) { b.checked = event.target.checked; });
      refreshSelection();
    });
  }
  decideForm.addEventListener("change", function (event) {
    if (event.target.matches("input.pick")) refreshSelection();
  });
  decideForm.addEventListener("submit", function (event) {
    if (!picks().some(function (b) { return b.checked; })) return; // the server explains what is missing
    decideForm.querySelectorAll("button[type=submit]").forEach(function (b) {
      window.setTimeout(function () { b.disabled = true; }, 0); // one submission per tap; the server is idempotent anyway
    });
  });
  refreshSelection();

  var setLive = function (state) {
    if (!liveStatus) return;
    liveStatus.hidden = false;
    liveStatus.className = "live-status " + state;
    liveStatus.textContent = section.getAttribute("data-label-" + state) || "";
  };

  var updateCounts = function (counts) {
    if (!counts) return;
    var total = 0;
    Object.keys(counts).forEach(function (status) {
      total += counts[status];
      section.querySelectorAll('[data-count="' + status + '"]').forEach(function (el) {
        el.textContent = counts[status];
      });
      var chip = section.querySelector('[data-chip="' + status + '"]');
      if (chip) chip.classList.toggle("zero", !counts[status]);
    });
    section.querySelectorAll('[data-count="all"]').forEach(function (el) { el.textContent = total; });
    section.querySelectorAll("[data-attention-when]").forEach(function (el) {
      el.classList.toggle("attention", !!counts[el.getAttribute("data-attention-when")]);
    });
  };

  var checkedIds = function () {
    var ids = {};
    picks().forEach(function (b) { if (b.checked) ids[b.value] = true; });
    return ids;
  };
  var restoreChecks = function (root, ids) {
    root.querySelectorAll("input.pick").forEach(function (b) { if (ids[b.value]) b.checked = true; });
  };
  var insertSorted = function (row) {
    var key = row.getAttribute("data-sort");
    var rows = list.querySelectorAll("[data-registration-id]");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-sort") > key) { list.insertBefore(row, rows[i]); return; }
    }
    list.appendChild(row);
  };

  var rowsUrl = function (ids) {
    var url = new URL(section.getAttribute("data-rows-url"), window.location.href);
    url.searchParams.set("ids", ids.join(","));
    return url.toString();
  };

  var wanted = {};
  var timer = null;
  var MAX_IDS = 300;
  var fetchRows = function () {
    timer = null;
    // Waitlist positions move when anyone ahead leaves: refresh the waitlisted rows shown, too.
    list.querySelectorAll('[data-status="waitlisted"]').forEach(function (row) {
      wanted[row.getAttribute("data-registration-id")] = true;
    });
    var ids = Object.keys(wanted);
    wanted = {};
    if (!ids.length) return;
    if (ids.length > MAX_IDS) { reloadList(); return; }
    fetch(rowsUrl(ids), { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
      .then(function (html) {
        var keep = checkedIds();
        var template = document.createElement("template");
        template.innerHTML = html;
        var returned = {};
        Array.prototype.slice.call(template.content.querySelectorAll("[data-registration-id]")).forEach(function (row) {
          var id = row.getAttribute("data-registration-id");
          returned[id] = true;
          restoreChecks(row, keep);
          var existing = list.querySelector('[data-registration-id="' + id + '"]');
          var changed = !existing || existing.getAttribute("data-status") !== row.getAttribute("data-status");
          if (existing) existing.remove();
          if (changed) row.classList.add("fresh");
          insertSorted(row);
        });
        ids.forEach(function (id) {
          if (returned[id]) return;
          var gone = list.querySelector('[data-registration-id="' + id + '"]');
          if (gone) gone.remove(); // no longer matches this page's filter
        });
        refreshSelection();
      })
      .catch(function () { setLive("offline"); });
  };
  var queueRow = function (id) {
    wanted[id] = true;
    if (!timer) timer = window.setTimeout(fetchRows, 250); // a burst (bulk approval, a rush) is one request
  };

  var reloadList = function () {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
      .then(function (html) {
        var keep = checkedIds();
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-live-list]");
        if (!fresh) return;
        restoreChecks(fresh, keep);
        list.innerHTML = fresh.innerHTML;
        refreshSelection();
      })
      .catch(function () { setLive("offline"); });
  };

  if (typeof window.io !== "function") return;
  var socket = window.io({ reconnectionDelayMax: 10000 });
  var joinedBefore = false;
  socket.on("connect", function () {
    socket.emit("join_event_organizers", { event_id: eventId }, function (ack) {
      if (!ack || !ack.ok) { setLive("refused"); return; }
      setLive("live");
      updateCounts(ack.counts);
      if (joinedBefore) reloadList(); // anything missed while disconnected
      joinedBefore = true;
      section.setAttribute("data-live-ready", "1");
    });
  });
  socket.on("disconnect", function () { setLive("offline"); });
  socket.on("connect_error", function () { setLive("offline"); });
  socket.on("registration_changed", function (message) {
    if (!message || message.event_id !== eventId) return;
    updateCounts(message.counts);
    queueRow(String(message.registration_id));
  });
})();
