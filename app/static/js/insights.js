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
    var plot = new uPlot(options, columns, box);
    box.setAttribute("data-drawn", "yes");
    var last = width;
    var resize = function () {
      var now = box.clientWidth;
      if (now && now !== last) {
        last = now;
        plot.setSize({ width: now, height: heightFor(now) });
      }
    };
    if (window.ResizeObserver) {
      new ResizeObserver(resize).observe(box);
    } else {
      window.addEventListener("resize", resize);
    }
  }

  var DRAW = { signups: signupsChart };

  function load(box) {
    var draw = DRAW[box.getAttribute("data-insights-chart")];
    if (!draw || typeof uPlot === "undefined") { return; }
    fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) { draw(box, data); })
      .catch(function () {
        var message = document.createElement("p");
        message.className = "insights-error";
        message.textContent = box.getAttribute("data-error");
        box.appendChild(message);
      });
  }

  document.querySelectorAll("[data-insights-chart]").forEach(load);
})();
