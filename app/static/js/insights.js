// Insights pages: draws each [data-insights-chart] from the API's JSON (its data-url) with uPlot (vendored,
// app/static/vendor/uplot). Labels come from the element's data-label-* attributes (translated by the page).
// The chart follows its box's width (phone to projector); the numbers are also on the page as tables.
(function () {
  "use strict";

  var COLOURS = { signed_up: "#0b5cab", confirmed: "#12805c", waiting: "#d97706", cancelled: "#c0362c",
                  capacity: "#667085" };
  var SERIES = ["signed_up", "confirmed", "waiting", "cancelled"];

  function dayToSeconds(text) {  // "2026-12-03" -> that date at 00:00 UTC; the axis reads it in UTC (dates only)
    var parts = text.split("-");
    return Date.UTC(+parts[0], +parts[1] - 1, +parts[2]) / 1000;
  }

  function label(box, key) {
    return box.getAttribute("data-label-" + key.replace(/_/g, "-")) || key;
  }

  var DAY = 86400;
  // Ticks on whole days (the data are per day) and on whole people (never "2.5 people").
  var DAY_STEPS = [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 182 * DAY, 364 * DAY];
  var COUNT_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000,
                     100000];

  function axisFont(width) {  // larger on a projector
    return (width >= 1000 ? 16 : 12) + "px system-ui, -apple-system, \"PingFang SC\", \"Microsoft YaHei\", sans-serif";
  }

  function heightFor(width) {
    return Math.max(220, Math.min(480, Math.round(width * 0.55)));
  }

  function signupsChart(box, data) {
    var xs = data.days.map(function (d) { return dayToSeconds(d.date); });
    var columns = [xs];
    var series = [{}];
    SERIES.forEach(function (key) {
      columns.push(data.days.map(function (d) { return d[key]; }));
      series.push({ label: label(box, key), stroke: COLOURS[key], width: 2,
                    points: { show: data.days.length < 40 } });
    });
    if (data.capacity !== null && data.capacity !== undefined) {
      columns.push(xs.map(function () { return data.capacity; }));
      series.push({ label: box.getAttribute("data-capacity-label"), stroke: COLOURS.capacity, width: 1.5,
                    dash: [6, 6], points: { show: false } });
    }
    var width = box.clientWidth;
    var options = {
      width: width,
      height: heightFor(width),
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "UTC"); },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } } },
      axes: [{ values: "{M}/{D}", space: width >= 1000 ? 80 : 50, incrs: DAY_STEPS, font: axisFont(width) },
             { size: width >= 1000 ? 70 : 50, incrs: COUNT_STEPS, font: axisFont(width) }],
      series: series,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } }
    };
    box._plot = new uPlot(options, columns, box);
    box.setAttribute("data-drawn", "yes");
    followWidth(box);
  }

  function followWidth(box) {  // the chart in box._plot keeps its box's width (once per box)
    if (box._following) { return; }
    box._following = true;
    var last = box.clientWidth;
    var resize = function () {
      var now = box.clientWidth;
      if (now && now !== last && box._plot) {
        last = now;
        box._plot.setSize({ width: now, height: heightFor(now) });
      }
    };
    if (window.ResizeObserver) {
      new ResizeObserver(resize).observe(box);
    } else {
      window.addEventListener("resize", resize);
    }
  }

  // ---- arrivals: per gate per 5 minutes (stepped lines, left axis), share of expected people in (right axis) ----

  var GATE_COLOURS = ["#0b5cab", "#d97706", "#12805c", "#7c3aed", "#c0362c", "#0891b2", "#a16207", "#be185d"];

  function setText(testId, text) {
    var element = document.querySelector('[data-testid="' + testId + '"]');
    if (element) { element.textContent = text; }
  }

  function arrivalsChart(box, data) {
    setText("arrivals-expected", data.expected);
    setText("arrivals-came", data.came);
    setText("arrivals-share", data.share_in + "%");
    setText("arrivals-no-shows", data.no_shows);
    box.setAttribute("data-came", String(data.came));
    box.setAttribute("data-admitted", String(data.admitted));
    if (!data.buckets.length) { return; }
    var empty = document.querySelector('[data-testid="arrivals-empty"]');
    if (empty) { empty.hidden = true; }
    var xs = data.buckets.map(function (b) { return Date.parse(b.start) / 1000; });
    var columns = [xs];
    data.gates.forEach(function (gate, i) {
      columns.push(data.buckets.map(function (b) { return b.counts[i]; }));
    });
    columns.push(data.buckets.map(function (b) {
      return data.expected ? Math.round(1000 * b.arrived / data.expected) / 10 : null;
    }));
    var shape = data.gates.join("\u0000");
    if (box._plot && box._shape === shape) {
      box._plot.setData(columns);
      box.setAttribute("data-drawn", "yes");
      return;
    }
    if (box._plot) { box._plot.destroy(); }
    var series = [{}];
    data.gates.forEach(function (gate, i) {
      var name = gate ? box.getAttribute("data-gate-label").replace("{gate}", gate)
                      : box.getAttribute("data-no-gate-label");
      series.push({ label: name, stroke: GATE_COLOURS[i % GATE_COLOURS.length], width: 2, scale: "n",
                    paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } });
    });
    series.push({ label: box.getAttribute("data-share-label"), stroke: COLOURS.capacity, width: 1.5, dash: [6, 4],
                  scale: "%", points: { show: false } });
    var width = box.clientWidth;
    var inShanghai = function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Asia/Shanghai"); };
    var clock = uPlot.fmtDate("{HH}:{mm}");  // 24-hour, as on the tickets and the door
    var options = {
      width: width,
      height: heightFor(width),
      tzDate: inShanghai,
      scales: { x: { time: true }, n: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } },
                "%": { range: [0, 100] } },
      axes: [{ space: width >= 1000 ? 80 : 55, font: axisFont(width),
               values: function (u, splits) { return splits.map(function (v) { return clock(inShanghai(v)); }); } },
             { scale: "n", size: width >= 1000 ? 70 : 45, incrs: COUNT_STEPS, font: axisFont(width) },
             { scale: "%", side: 1, size: width >= 1000 ? 70 : 45, font: axisFont(width), grid: { show: false },
               values: function (u, splits) { return splits.map(function (v) { return v + "%"; }); } }],
      series: series,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } }
    };
    box._plot = new uPlot(options, columns, box);
    box._shape = shape;
    box.setAttribute("data-drawn", "yes");
    followWidth(box);
  }

  var DRAW = { signups: signupsChart, arrivals: arrivalsChart };

  function showError(box) {
    if (box.querySelector(".insights-error")) { return; }
    var message = document.createElement("p");
    message.className = "insights-error";
    message.textContent = box.getAttribute("data-error");
    box.appendChild(message);
  }

  function load(box) {
    var draw = DRAW[box.getAttribute("data-insights-chart")];
    if (!draw || typeof uPlot === "undefined") { return Promise.resolve(); }
    return fetch(box.getAttribute("data-url"), { credentials: "same-origin", cache: "no-store",
                                                 headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        var error = box.querySelector(".insights-error");
        if (error) { error.remove(); }
        draw(box, data);
      })
      .catch(function () { showError(box); });
  }

  // Live: the door room of check-in (checkin/realtime.py) announces its counters after every admission; the chart
  // then re-reads its numbers (at most one read in flight, one more if anything moved meanwhile), and again after
  // every reconnect, so a missed message costs nothing.
  function follow(box) {
    if (!window.io) { return; }
    var eventId = Number(box.getAttribute("data-event-id"));
    var busy = false, again = false;
    var refresh = function () {
      if (busy) { again = true; return; }
      busy = true;
      load(box).then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
    };
    var socket = window.io({ reconnectionDelayMax: 10000 });
    socket.on("connect", function () {
      socket.emit("join_checkin", { event_id: eventId }, function (ack) {
        box.setAttribute("data-live", ack && ack.ok ? "joined" : "refused");
        refresh();
      });
    });
    socket.on("checkin_counters", refresh);
  }

  document.querySelectorAll("[data-insights-chart]").forEach(function (box) {
    load(box);
    if (box.getAttribute("data-live")) { follow(box); }
  });
})();
