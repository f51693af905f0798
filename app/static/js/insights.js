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

  // ---- judges: one box per judge (SVG), the panel's middle half as a grey band ----

  var SVG = "http://www.w3.org/2000/svg";

  function svgElement(name, attributes, parent) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { element.setAttribute(key, attributes[key]); });
    if (parent) { parent.appendChild(element); }
    return element;
  }

  function drawBoxes(box, data) {
    var width = box.clientWidth || 320;
    var big = width >= 1000;
    var font = big ? 16 : 13;
    var pad = { left: 12, right: 16, top: 8, bottom: big ? 34 : 28 };
    var row = big ? 64 : 52;
    var judges = data.judges.filter(function (j) { return j.box; });
    var height = pad.top + row * judges.length + pad.bottom;
    var x = function (v) { return pad.left + (width - pad.left - pad.right) * v / 100; };
    var svg = svgElement("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height,
                                  role: "img", "aria-label": box.getAttribute("data-label") || "" });
    if (data.panel) {
      svgElement("rect", { x: x(data.panel.q1), y: pad.top, width: Math.max(1, x(data.panel.q3) - x(data.panel.q1)),
                           height: row * judges.length, fill: "#eef2f7" }, svg);
    }
    for (var tick = 0; tick <= 100; tick += 20) {
      svgElement("line", { x1: x(tick), x2: x(tick), y1: pad.top, y2: height - pad.bottom + 4, stroke: "#e4e7ec" },
                 svg);
      var label = svgElement("text", { x: x(tick), y: height - pad.bottom + 8 + font, "font-size": font,
                                       "text-anchor": tick === 0 ? "start" : tick === 100 ? "end" : "middle",
                                       fill: "#667085" }, svg);
      label.textContent = String(tick);
    }
    judges.forEach(function (judge, i) {
      var top = pad.top + row * i;
      var colour = GATE_COLOURS[i % GATE_COLOURS.length];
      var b = judge.box;
      var name = svgElement("text", { x: pad.left, y: top + font + 2, "font-size": font, fill: "#1d2433" }, svg);
      name.textContent = judge.name + (judge.is_shadow ? box.getAttribute("data-shadow-label") : "");
      var mid = top + font + 6 + (row - font - 10) / 2;
      var half = (row - font - 14) / 2;
      var dash = judge.is_shadow ? "4 3" : "";
      svgElement("line", { x1: x(b.low), x2: x(b.high), y1: mid, y2: mid, stroke: colour, "stroke-width": 2,
                           "stroke-dasharray": dash }, svg);
      [b.low, b.high].forEach(function (v) {
        svgElement("line", { x1: x(v), x2: x(v), y1: mid - half / 2, y2: mid + half / 2, stroke: colour,
                             "stroke-width": 2 }, svg);
      });
      svgElement("rect", { x: x(b.q1), y: mid - half, width: Math.max(2, x(b.q3) - x(b.q1)), height: 2 * half,
                           fill: "#fff", stroke: colour, "stroke-width": 2, "stroke-dasharray": dash,
                           "data-judge": judge.judge_id }, svg);
      svgElement("line", { x1: x(b.median), x2: x(b.median), y1: mid - half, y2: mid + half, stroke: colour,
                           "stroke-width": 3 }, svg);
    });
    box.textContent = "";
    box.appendChild(svg);
    box.setAttribute("data-drawn", "yes");
    box._data = data;
    if (!box._following) {
      box._following = true;
      var last = width;
      var redraw = function () {
        if (box.clientWidth && box.clientWidth !== last) { last = box.clientWidth; drawBoxes(box, box._data); }
      };
      if (window.ResizeObserver) { new ResizeObserver(redraw).observe(box); }
      else { window.addEventListener("resize", redraw); }
    }
  }

  // ---- judges' agreement: with the panel (bars from -1 to 1), every two judges (a grid), the rankings (lines) ----

  function agreementColour(v) {  // -1 red .. 0 pale .. 1 green
    if (v === null || v === undefined) { return "#f2f4f7"; }
    var t = Math.max(-1, Math.min(1, v));
    var mix = function (a, b, f) { return Math.round(a + (b - a) * f); };
    var to = t >= 0 ? [18, 128, 92] : [192, 54, 44];
    var f = Math.abs(t);
    return "rgb(" + mix(242, to[0], f) + "," + mix(244, to[1], f) + "," + mix(247, to[2], f) + ")";
  }

  function agreementChart(box, data) {
    var draw = function () {
      var width = box.clientWidth || 320;
      var big = width >= 1000;
      var font = big ? 16 : 13;
      var row = big ? 44 : 36;
      var labelWidth = Math.min(big ? 200 : 110, width * 0.35);
      var valueWidth = big ? 64 : 48;
      var judges = data.judges;
      var height = row * judges.length + font + 16;
      var span = width - labelWidth - valueWidth;
      var x = function (v) { return labelWidth + span * (v + 1) / 2; };
      var svg = svgElement("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height,
                                    role: "img", "aria-label": box.getAttribute("data-label") || "" });
      [-1, 0, 1].forEach(function (tick) {
        svgElement("line", { x1: x(tick), x2: x(tick), y1: 0, y2: row * judges.length, stroke: tick ? "#e4e7ec" : "#98a2b3" }, svg);
        var t = svgElement("text", { x: x(tick), y: row * judges.length + font + 6, "font-size": font, fill: "#667085",
                                     "text-anchor": tick < 0 ? "start" : tick > 0 ? "end" : "middle" }, svg);
        t.textContent = String(tick);
      });
      judges.forEach(function (judge, i) {
        var y = i * row;
        var name = svgElement("text", { x: 0, y: y + row / 2 + font / 3, "font-size": font, fill: "#1d2433" }, svg);
        name.textContent = fit(judge.name + (judge.is_shadow ? box.getAttribute("data-shadow-label") : ""),
                               Math.floor((labelWidth - 6) / font));
        var v = judge.agreement;
        if (v !== null) {
          svgElement("rect", { x: Math.min(x(0), x(v)), y: y + row * 0.2, width: Math.max(2, Math.abs(x(v) - x(0))),
                               height: row * 0.6, fill: agreementColour(v), stroke: v >= 0 ? "#12805c" : "#c0362c",
                               "data-judge": judge.judge_id }, svg);
        }
        var value = svgElement("text", { x: width - valueWidth + 6, y: y + row / 2 + font / 3, "font-size": font,
                                         fill: "#667085" }, svg);
        value.textContent = v === null ? "–" : v.toFixed(2);
      });
      box.textContent = "";
      box.appendChild(svg);
      box.setAttribute("data-drawn", "yes");
    };
    draw();
    redrawOnResize(box, draw);
  }

  function pairsChart(box, data) {
    var draw = function () {
      var width = box.clientWidth || 320;
      var big = width >= 1000;
      var font = big ? 15 : 12;
      var judges = data.judges;
      var n = judges.length;
      var labelWidth = Math.min(big ? 200 : 100, width * 0.35);
      var cell = Math.max(24, Math.min(big ? 80 : 56, (width - labelWidth) / Math.max(1, n)));
      var height = font + 10 + cell * n;
      var index = {};
      judges.forEach(function (j, i) { index[j.judge_id] = i; });
      var value = {};
      data.pairs.forEach(function (p) { value[p.a + ":" + p.b] = p; value[p.b + ":" + p.a] = p; });
      var svg = svgElement("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height,
                                    role: "img", "aria-label": box.getAttribute("data-label") || "" });
      judges.forEach(function (judge, i) {
        var head = svgElement("text", { x: labelWidth + cell * i + cell / 2, y: font + 2, "font-size": font,
                                        "text-anchor": "middle", fill: "#667085" }, svg);
        head.textContent = String(i + 1);
        var name = svgElement("text", { x: 0, y: font + 10 + cell * i + cell / 2 + font / 3, "font-size": font,
                                        fill: "#1d2433" }, svg);
        name.textContent = (i + 1) + " " + fit(judge.name, Math.floor((labelWidth - 6) / font) - 2);
        judges.forEach(function (other, k) {
          var pair = i === k ? null : value[judge.judge_id + ":" + other.judge_id];
          var v = i === k ? 1 : (pair ? pair.agreement : null);
          var rect = svgElement("rect", { x: labelWidth + cell * k + 1, y: font + 10 + cell * i + 1, width: cell - 2,
                                          height: cell - 2, fill: i === k ? "#e4e7ec" : agreementColour(v),
                                          "data-pair": i === k ? "" : judge.judge_id + ":" + other.judge_id }, svg);
          if (i !== k) {
            svgElement("title", {}, rect).textContent = judge.name + " · " + other.name + ": " +
              (v === null ? box.getAttribute("data-none-label") : v.toFixed(2));
            if (cell >= 34) {
              var t = svgElement("text", { x: labelWidth + cell * k + cell / 2, y: font + 10 + cell * i + cell / 2 + font / 3,
                                           "font-size": font - 1, "text-anchor": "middle",
                                           fill: v !== null && Math.abs(v) > 0.6 ? "#fff" : "#1d2433" }, svg);
              t.textContent = v === null ? "–" : v.toFixed(1);
            }
          }
        });
      });
      box.textContent = "";
      box.appendChild(svg);
      box.setAttribute("data-drawn", "yes");
    };
    draw();
    redrawOnResize(box, draw);
  }

  var VARIANTS = ["plain", "normalized", "drop_extremes", "both"];

  function rankingsChart(box, data) {  // a bump chart: one column per rule, one line per team, movers in colour
    var draw = function () {
      var width = box.clientWidth || 320;
      var big = width >= 1000;
      var font = big ? 15 : 12;
      var teams = {};  // team -> per rule {rank, place}: tied teams share a rank, each keeps its own row (place)
      VARIANTS.forEach(function (v, c) {
        (data.rankings[v] || []).forEach(function (entry, place) {
          (teams[entry.team] = teams[entry.team] || [])[c] = entry.rank === null ? null
            : { rank: entry.rank, place: place + 1 };
        });
      });
      var names = Object.keys(teams);
      var count = Math.max(1, names.length);
      var row = big ? 30 : 24;
      var labelWidth = Math.min(big ? 180 : 90, width * 0.3);
      var span = width - 2 * labelWidth;
      var narrow = span / (VARIANTS.length - 1) < 8 * font;  // a phone: short names, on two staggered rows
      var top = (narrow ? 3 : 2) * font + 14;
      var x = function (c) { return labelWidth + span * c / (VARIANTS.length - 1); };
      var y = function (place) { return top + row * (place - 0.5); };
      var height = top + row * count + 8;
      var svg = svgElement("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height,
                                    role: "img", "aria-label": box.getAttribute("data-label") || "" });
      var current = box.getAttribute("data-current");
      VARIANTS.forEach(function (v, c) {
        var key = v.replace(/_/g, "-");
        var label = (narrow && box.getAttribute("data-short-" + key)) || box.getAttribute("data-variant-" + key) || v;
        var chars = Math.floor((narrow ? 2 : 1) * span / (VARIANTS.length - 1) / font);
        var head = svgElement("text", { x: x(c), y: narrow && c % 2 ? 2 * font + 6 : font + 2, "font-size": font,
                                        "text-anchor": "middle", "font-weight": v === current ? "700" : "400",
                                        fill: v === current ? "#0b5cab" : "#667085" }, svg);
        head.textContent = fit(label, Math.max(3, chars)) + (v === current ? " ★" : "");
        svgElement("line", { x1: x(c), x2: x(c), y1: top - 4, y2: height - 6, stroke: "#e4e7ec" }, svg);
      });
      var moverIndex = 0;
      var chars = Math.floor((labelWidth - 8) / font);
      names.forEach(function (team) {
        var spots = teams[team];
        var known = spots.filter(function (s) { return s; });
        if (!known.length) { return; }
        var moves = known.some(function (s) { return s.rank !== known[0].rank; });
        var colour = moves ? GATE_COLOURS[moverIndex++ % GATE_COLOURS.length] : "#c4c9d2";
        var points = [];
        spots.forEach(function (s, c) { if (s) { points.push(x(c) + "," + y(s.place)); } });
        svgElement("polyline", { points: points.join(" "), fill: "none", stroke: colour, "stroke-width": moves ? 3 : 1.5,
                                 "data-team": team, "data-moves": moves ? "yes" : "no" }, svg);
        spots.forEach(function (s, c) {
          if (s) { svgElement("circle", { cx: x(c), cy: y(s.place), r: moves ? 4 : 3, fill: colour }, svg); }
        });
        var first = spots[0], last = spots[VARIANTS.length - 1];
        if (first) {
          var left = svgElement("text", { x: labelWidth - 8, y: y(first.place) + font / 3, "font-size": font,
                                          "text-anchor": "end", fill: moves ? "#1d2433" : "#98a2b3" }, svg);
          left.textContent = fit(first.rank + ". " + team, chars);
        }
        if (last) {
          var right = svgElement("text", { x: width - labelWidth + 8, y: y(last.place) + font / 3, "font-size": font,
                                           fill: moves ? "#1d2433" : "#98a2b3" }, svg);
          right.textContent = fit(last.rank + ". " + team, chars);
        }
      });
      box.textContent = "";
      box.appendChild(svg);
      box.setAttribute("data-drawn", "yes");
    };
    draw();
    redrawOnResize(box, draw);
  }

  // ---- an announcement's reach over time (cumulative lines: inbox, then each channel) ----

  var CHANNEL_COLOURS = { webpush: "#0b5cab", email: "#7c3aed", sms: "#d97706", wechat: "#12805c" };

  function reachChart(box, data) {
    if (!data.times.length) { return; }
    var xs = data.times.map(function (t) { return Date.parse(t) / 1000; });
    var columns = [xs, data.inbox.written, data.inbox.opened];
    var series = [{}, { label: label(box, "written"), stroke: "#1d2433", width: 2 },
                  { label: label(box, "opened"), stroke: "#1d2433", width: 2, dash: [4, 4] }];
    Object.keys(data.channels).forEach(function (channel) {
      var colour = CHANNEL_COLOURS[channel] || "#667085";
      [["queued", [2, 4], 1.5], ["sent", null, 2.5], ["failed", [8, 4], 2]].forEach(function (kind) {
        columns.push(data.channels[channel][kind[0]]);
        var s = { label: label(box, channel + "-" + kind[0]), stroke: kind[0] === "failed" ? "#c0362c" : colour,
                  width: kind[2], points: { show: false } };
        if (kind[1]) { s.dash = kind[1]; }
        series.push(s);
      });
    });
    var width = box.clientWidth;
    var inShanghai = function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Asia/Shanghai"); };
    var stamp = uPlot.fmtDate(data.step === "hour" ? "{M}/{D} {HH}:00" : "{M}/{D}");
    var options = {
      width: width,
      height: heightFor(width),
      tzDate: inShanghai,
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } } },
      axes: [{ space: width >= 1000 ? 110 : 80, font: axisFont(width),
               values: function (u, splits) { return splits.map(function (v) { return stamp(inShanghai(v)); }); } },
             { size: width >= 1000 ? 70 : 50, incrs: COUNT_STEPS, font: axisFont(width) }],
      series: series,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } }
    };
    box._plot = new uPlot(options, columns, box);
    box.setAttribute("data-drawn", "yes");
    followWidth(box);
  }

  // ---- a mentoring cycle: fit scores (histogram), mentors' load against capacity, feedback ratings ----

  function mentoringScores(box, data) {
    if (!data.scores.length) { return emptyNote(box); }
    var draw = function () {
      drawBars(box, data.scores.map(function (b) {
        return { key: String(b.low), label: b.low === b.high ? String(b.low) : b.low + "–" + b.high,
                 parts: [{ value: b.current, colour: "#0b5cab", title: box.getAttribute("data-current-label") },
                         { value: b.declined, colour: "#98a2b3", title: box.getAttribute("data-declined-label") }] };
      }));
    };
    draw();
    redrawOnResize(box, draw);
  }

  function mentoringLoad(box, data) {
    if (!data.mentors.length) { return emptyNote(box); }
    var draw = function () {
      drawBars(box, data.mentors.map(function (m) {
        return { key: String(m.mentor_id), label: m.name, mark: m.capacity,
                 parts: [{ value: m.live, colour: "#12805c", title: box.getAttribute("data-live-label") },
                         { value: m.proposed, colour: "#d97706", title: box.getAttribute("data-proposed-label") }],
                 text: (m.live + m.proposed) + "/" + m.capacity + " · " + m.meetings };
      }));
    };
    draw();
    redrawOnResize(box, draw);
  }

  function mentoringRatings(box, data) {
    var total = data.ratings.founder.concat(data.ratings.mentor).reduce(function (a, b) { return a + b; }, 0);
    if (!total) { return emptyNote(box); }
    var draw = function () {
      drawBars(box, [1, 2, 3, 4, 5].map(function (stars, i) {
        return { key: String(stars), label: "★".repeat(stars),
                 parts: [{ value: data.ratings.founder[i], colour: "#0b5cab", title: box.getAttribute("data-founder-label") },
                         { value: data.ratings.mentor[i], colour: "#7c3aed", title: box.getAttribute("data-mentor-label") }] };
      }));
    };
    draw();
    redrawOnResize(box, draw);
  }

  // ---- the town ----

  var KIND_COLOURS = { salon: "#0b5cab", roadshow: "#d97706", competition: "#12805c", other: "#7c3aed" };

  function monthChart(box, data, columns, series, yValues) {  // x: month index; labels "YY-MM"
    var width = box.clientWidth;
    var options = {
      width: width,
      height: heightFor(width),
      scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } } },
      axes: [{ space: width >= 1000 ? 70 : 45, incrs: [1, 2, 3, 6], font: axisFont(width),
               values: function (u, splits) { return splits.map(function (i) { return (data.months[i] || "").slice(2); }); } },
             { size: width >= 1000 ? 70 : 45, font: axisFont(width), incrs: yValues ? undefined : COUNT_STEPS,
               values: yValues }],
      series: [{}].concat(series),
      legend: { live: false },
      cursor: { drag: { x: false, y: false } }
    };
    box.textContent = "";
    box._plot = new uPlot(options, [data.months.map(function (m, i) { return i; })].concat(columns), box);
    box.setAttribute("data-drawn", "yes");
    followWidth(box);
  }

  function townEvents(box, data) {
    var kinds = Object.keys(data.events);
    var total = kinds.reduce(function (sum, k) { return sum + data.events[k].reduce(function (a, b) { return a + b; }, 0); }, 0);
    if (!total) { return emptyNote(box); }
    monthChart(box, data, kinds.map(function (k) { return data.events[k]; }), kinds.map(function (k) {
      return { label: box.getAttribute("data-kind-" + k) || k, stroke: KIND_COLOURS[k] || "#667085", width: 2 };
    }));
  }

  function townReturns(box, data) {
    if (!data.returns.some(function (r) { return r.attendees; })) { return emptyNote(box); }
    monthChart(box, data, [data.returns.map(function (r) { return r.rate; })],
               [{ label: box.getAttribute("data-rate-label"), stroke: "#12805c", width: 2, spanGaps: false }],
               function (u, splits) { return splits.map(function (v) { return v + "%"; }); });
  }

  function emptyNote(box) {
    box.textContent = "";
    var note = document.createElement("p");
    note.className = "insights-empty";
    note.textContent = box.getAttribute("data-empty");
    box.appendChild(note);
    box.setAttribute("data-drawn", "empty");
  }

  function fit(text, chars) {  // a label cut to about `chars` wide characters (CJK: one em each), with "…"
    var out = "", width = 0;
    for (var i = 0; i < text.length; i++) {
      width += text.charCodeAt(i) > 0x2e80 ? 1 : 0.55;
      if (width > chars) { return out + "…"; }
      out += text[i];
    }
    return out;
  }

  // Horizontal bars (SVG): rows of {label, parts: [{value, colour, title}]}, stacked, against the largest total.
  function drawBars(box, rows, suffix) {
    var width = box.clientWidth || 320;
    var big = width >= 1000;
    var font = big ? 16 : 13;
    var row = big ? 48 : 40;
    var labelWidth = Math.min(big ? 220 : 110, width * 0.35);
    var valueWidth = big ? 90 : 64;
    var max = Math.max.apply(null, rows.map(function (r) {
      return Math.max(r.parts.reduce(function (sum, p) { return sum + p.value; }, 0), r.mark || 0);
    }).concat([suffix === "%" ? 100 : 1]));
    var height = row * rows.length + 8;
    var svg = svgElement("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img",
                                  "aria-label": box.getAttribute("data-label") || "" });
    var span = width - labelWidth - valueWidth;
    rows.forEach(function (r, i) {
      var y = 4 + i * row;
      var name = svgElement("text", { x: 0, y: y + row / 2 + font / 3, "font-size": font, fill: "#1d2433" }, svg);
      name.textContent = fit(r.label, Math.floor((labelWidth - 6) / font));
      if (name.textContent !== r.label) { svgElement("title", {}, name).textContent = r.label; }
      var x = labelWidth, total = 0;
      r.parts.forEach(function (p) {
        var w = span * p.value / max;
        if (w > 0) {
          var rect = svgElement("rect", { x: x, y: y + row * 0.2, width: w, height: row * 0.6, fill: p.colour,
                                          "data-bar": r.key || r.label }, svg);
          var tip = svgElement("title", {}, rect);
          tip.textContent = p.title + ": " + p.value;
        }
        x += w;
        total += p.value;
      });
      if (r.mark !== undefined && r.mark !== null) {  // a limit, e.g. a mentor's capacity: a dark tick
        var at = labelWidth + span * r.mark / max;
        svgElement("line", { x1: at, x2: at, y1: y + row * 0.1, y2: y + row * 0.9, stroke: "#1d2433",
                             "stroke-width": 3, "data-mark": r.key || r.label }, svg);
        x = Math.max(x, at);
      }
      var value = svgElement("text", { x: x + 6, y: y + row / 2 + font / 3, "font-size": font, fill: "#667085" },
                             svg);
      value.textContent = r.text === null ? "–" : (r.text !== undefined ? r.text : total) + (suffix || "");
    });
    box.textContent = "";
    box.appendChild(svg);
    box.setAttribute("data-drawn", "yes");
  }

  // ---- an event's sign-ups by company: stacked bars per company (confirmed, waiting, cancelled, declined) ----

  var GROUP_COLOURS = { confirmed: "#12805c", waiting: "#d97706", cancelled: "#c0362c", declined: "#98a2b3" };

  function companiesChart(box, data) {
    if (!data.companies.length) { return; }
    var draw = function () {
      drawBars(box, data.companies.map(function (c) {
        return { key: c.company === null ? "*" : c.company, label: c.label,
                 parts: Object.keys(GROUP_COLOURS).map(function (g) {
                   return { value: c[g], colour: GROUP_COLOURS[g], title: box.getAttribute("data-group-" + g) || g };
                 }) };
      }));
    };
    draw();
    redrawOnResize(box, draw);
  }

  // ---- a series: one bar per occurrence (came, no-shows; confirmed for those not held yet) ----

  function occurrenceDay(text) {  // "2026-12-03T11:00:00+00:00" -> "26/12/03" in Shanghai
    var d = new Date(Date.parse(text) + 8 * 3600 * 1000);
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return String(d.getUTCFullYear()).slice(2) + "/" + two(d.getUTCMonth() + 1) + "/" + two(d.getUTCDate());
  }

  function seriesChart(box, data) {
    if (!data.series) { return; }
    var current = box.getAttribute("data-current");
    var draw = function () {
      drawBars(box, data.series.occurrences.map(function (o) {
        var parts = o.past
          ? [{ value: o.came, colour: "#12805c", title: box.getAttribute("data-came-label") },
             { value: o.confirmed - o.came, colour: "#c0362c", title: box.getAttribute("data-no-show-label") }]
          : [{ value: o.confirmed, colour: "#98a2b3", title: box.getAttribute("data-upcoming-label") }];
        return { key: String(o.event_id), label: occurrenceDay(o.starts_at) + (String(o.event_id) === current ? " ★" : ""),
                 parts: parts, text: o.past ? o.came + "/" + o.confirmed : String(o.confirmed) };
      }));
    };
    draw();
    redrawOnResize(box, draw);
  }

  // ---- the town: no-shows by lead time, the companies that come most, attendance per occurrence of series ----

  function townLeadTimes(box, data) {
    if (!data.lead_times.some(function (r) { return r.confirmed; })) { return emptyNote(box); }
    var draw = function () {
      drawBars(box, data.lead_times.map(function (r) {
        return { key: r.lead, label: box.getAttribute("data-lead-" + r.lead.replace(/_/g, "-")) || r.lead,
                 parts: [{ value: r.rate || 0, colour: "#c0362c", title: box.getAttribute("data-no-show-label") }],
                 text: r.rate };
      }), "%");
    };
    draw();
    redrawOnResize(box, draw);
  }

  function townCompanies(box, data) {
    if (!data.companies.length) { return emptyNote(box); }
    var draw = function () {
      drawBars(box, data.companies.map(function (c) {
        return { key: c.company, label: c.company, parts: [{ value: c.attendances, colour: "#0b5cab", title: c.company }] };
      }));
    };
    draw();
    redrawOnResize(box, draw);
  }

  function townSeries(box, data) {
    if (!data.series.length) { return emptyNote(box); }
    var longest = Math.max.apply(null, data.series.map(function (s) { return s.occurrences.length; }));
    var xs = [];
    for (var i = 1; i <= longest; i++) { xs.push(i); }
    var columns = [xs].concat(data.series.map(function (s) {
      return xs.map(function (n) { var o = s.occurrences[n - 1]; return o && o.past ? o.came : null; });
    }));
    var width = box.clientWidth;
    var options = {
      width: width,
      height: heightFor(width),
      scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } } },
      axes: [{ space: width >= 1000 ? 60 : 40, incrs: [1, 2, 5, 10], font: axisFont(width),
               label: box.getAttribute("data-occurrence-label"), labelFont: axisFont(width) },
             { size: width >= 1000 ? 70 : 45, font: axisFont(width), incrs: COUNT_STEPS }],
      series: [{}].concat(data.series.map(function (s, i) {
        return { label: s.title, stroke: GATE_COLOURS[i % GATE_COLOURS.length], width: 2 };
      })),
      legend: { live: false },
      cursor: { drag: { x: false, y: false } }
    };
    box.textContent = "";
    box._plot = new uPlot(options, columns, box);
    box.setAttribute("data-drawn", "yes");
    followWidth(box);
  }

  function townNoShows(box, data) {
    if (!data.no_shows.some(function (k) { return k.confirmed; })) { return emptyNote(box); }
    var draw = function () {
      drawBars(box, data.no_shows.map(function (k) {
        return { key: k.kind, label: box.getAttribute("data-kind-" + k.kind) || k.kind,
                 parts: [{ value: k.rate || 0, colour: "#c0362c", title: box.getAttribute("data-no-show-label") }],
                 text: k.rate };  // null: no confirmed people of that kind, shown as "–"
      }), "%");
    };
    draw();
    redrawOnResize(box, draw);
  }

  var DELIVERY_COLOURS = { sent: "#12805c", failed: "#c0362c", pending: "#d97706", skipped: "#98a2b3" };

  function townReach(box, data) {
    var channels = Object.keys(data.channels);
    var any = channels.some(function (c) {
      return Object.keys(data.channels[c]).some(function (s) { return data.channels[c][s]; });
    });
    if (!any && !data.inbox.written) { return emptyNote(box); }
    var draw = function () {
      drawBars(box, channels.map(function (c) {
        return { key: c, label: box.getAttribute("data-channel-" + c) || c,
                 parts: ["sent", "failed", "pending", "skipped"].map(function (s) {
                   return { value: data.channels[c][s] || 0, colour: DELIVERY_COLOURS[s],
                            title: box.getAttribute("data-delivery-" + s) || s };
                 }) };
      }));
    };
    draw();
    redrawOnResize(box, draw);
  }

  function redrawOnResize(box, draw) {
    if (box._following) { return; }
    box._following = true;
    var last = box.clientWidth;
    var redraw = function () { if (box.clientWidth && box.clientWidth !== last) { last = box.clientWidth; draw(); } };
    if (window.ResizeObserver) { new ResizeObserver(redraw).observe(box); }
    else { window.addEventListener("resize", redraw); }
  }

  var DRAW = { signups: signupsChart, companies: companiesChart, agreement: agreementChart, pairs: pairsChart,
               rankings: rankingsChart, reach: reachChart, "mentoring-scores": mentoringScores,
               "mentoring-load": mentoringLoad, "mentoring-ratings": mentoringRatings, arrivals: arrivalsChart, boxes: drawBoxes, "town-events": townEvents,
               "town-returns": townReturns, "town-no-shows": townNoShows, "town-reach": townReach,
               series: seriesChart, "town-lead-times": townLeadTimes, "town-companies": townCompanies,
               "town-series": townSeries };
  var NEEDS_UPLOT = { signups: true, arrivals: true, "town-events": true, "town-returns": true, "town-series": true, reach: true };
  var shared = {};  // one read of a URL that several charts of the page draw from

  function readJson(url, once) {
    if (once && shared[url]) { return shared[url]; }
    var reading = fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      });
    if (once) { shared[url] = reading; }
    return reading;
  }

  function showError(box) {
    if (box.querySelector(".insights-error")) { return; }
    var message = document.createElement("p");
    message.className = "insights-error";
    message.textContent = box.getAttribute("data-error");
    box.appendChild(message);
  }

  function load(box) {
    var kind = box.getAttribute("data-insights-chart");
    var draw = DRAW[kind];
    if (!draw || (NEEDS_UPLOT[kind] && typeof uPlot === "undefined")) { return Promise.resolve(); }
    return readJson(box.getAttribute("data-url"), box.getAttribute("data-shared") === "yes")
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
