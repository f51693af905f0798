/* The scanner of one gate (checkin/templates/checkin/scanner.html).
   Online: each code goes to POST /api/v1/events/<id>/checkins, the database decides.
   Offline (switched by itself when a request fails, back when one succeeds): the code is verified here with the
   event's Ed25519 public key (WebCrypto) against the ticket list downloaded when the page opened, the answer is
   shown at once, and the scan is queued (localStorage) and synced to /checkins/sync when the network returns.
   Counters move live through Socket.IO (room of the event); after a reconnect they are re-fetched over HTTP. */
(function () {
  "use strict";
  var root = document.querySelector("[data-testid=scanner]");
  if (!root || !root.dataset.gate) return;
  var EVENT = Number(root.dataset.event), GATE = root.dataset.gate, ROLE = root.dataset.role;
  var REENTRY = root.dataset.reentry === "yes", direction = "in";
  var API = "/api/v1/events/" + EVENT;
  var S = JSON.parse(document.getElementById("checkin-strings").textContent);
  var CSRF = (document.querySelector("meta[name=csrf-token]") || {}).content;
  var DEVICE_KEY = "checkin.device", QUEUE_KEY = "checkin.queue." + EVENT, KIT_KEY = "checkin.kit." + EVENT;
  var ADMITTED_KEY = "checkin.admitted." + EVENT, COUNTERS_KEY = "checkin.counters." + EVENT;
  var REQUEST_TIMEOUT = 4000, SYNC_EVERY = 5000;
  // The camera sees a code many times a second, and the attendee holds it up for a while: the same code seen again
  // within this long after its answer (or after it was last seen since) is the same scan, answered already.
  var SAME_SCAN_WINDOW = 5000;
  var ZONE = root.dataset.zone || "Asia/Shanghai";  // times are the event's, not the phone's

  var device = localStorage.getItem(DEVICE_KEY);
  if (!device) { device = "web-" + uuid().slice(0, 8); localStorage.setItem(DEVICE_KEY, device); }
  var online = true, kit = load(KIT_KEY), queue = load(QUEUE_KEY) || [], localAdmitted = load(ADMITTED_KEY) || {};
  var verifier = null, seen = {}, syncing = false;

  function $(id) { return document.querySelector("[data-testid=" + id + "]"); }
  function load(key) { try { return JSON.parse(localStorage.getItem(key)); } catch (e) { return null; } }
  function save(key, value) { localStorage.setItem(key, JSON.stringify(value)); }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0; return (c === "x" ? r : (r & 3 | 8)).toString(16);
    });
  }

  function request(method, url, body) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller && setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT);
    return fetch(url, {
      method: method, credentials: "same-origin", signal: controller && controller.signal,
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": CSRF },
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      clearTimeout(timer);
      if (response.status >= 500) throw new Error("server " + response.status);
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }, function (error) { clearTimeout(timer); throw error; });
  }

  // ---- mode -----------------------------------------------------------------------------------------------------
  function setOnline(value) {
    online = value;
    var badge = $("mode");
    badge.dataset.mode = value ? "online" : "offline";
    badge.textContent = value ? S.online : S.offline;
    badge.classList.toggle("offline", !value);
  }
  function showQueue() { $("queued").textContent = String(queue.length); }

  // ---- times, in the event's time zone ----------------------------------------------------------------------------
  // -> "18:52" (or "05-03 18:52" when that is another day than today), in ZONE whatever the phone's own zone is.
  function clock(iso) {
    var when = iso ? new Date(iso) : null;
    if (!when || isNaN(when.getTime())) return "";
    var parts = dayAndTime(when), today = dayAndTime(new Date());
    return (parts.day === today.day ? "" : parts.day.slice(5) + " ") + parts.time;
  }
  function dayAndTime(when) {
    try {
      var p = {};
      new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit",
                                         hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
        .formatToParts(when).forEach(function (part) { p[part.type] = part.value; });
      return { day: p.year + "-" + p.month + "-" + p.day, time: p.hour + ":" + p.minute };
    } catch (e) {  // no time zone data: the phone's own clock is the best there is
      return { day: when.toDateString(), time: pad(when.getHours()) + ":" + pad(when.getMinutes()) };
    }
  }

  // ---- the answer, in full screen ---------------------------------------------------------------------------------
  var overlay = $("result"), hideTimer = null;
  function explain(answer) {
    if (answer.result === "already_admitted" && answer.first_admitted_at) {
      var when = clock(answer.first_admitted_at);
      return answer.gate ? S.first_admitted.replace("{when}", when).replace("{gate}", answer.gate)
                         : S.admitted_at.replace("{when}", when);
    }
    if (answer.result === "not_open") {
      var opens = kit && kit.doors_open_at, closes = kit && kit.doors_close_at;
      if (answer.reason === "not_yet_open" && opens) return S.opens_at.replace("{when}", clock(opens));
      if (answer.reason === "closed" && closes) return S.closed_at.replace("{when}", clock(closes));
    }
    return "";
  }
  function show(answer, token) {
    var ok = answer.result === "admitted" || answer.result === "exited";
    overlay.className = "scan-result " + (ok ? "ok" : "refused");
    overlay.dataset.result = answer.result;
    overlay.dataset.mode = answer.offline ? "offline" : "online";
    $("verdict").textContent = S[answer.result] || answer.result;
    var who = answer.attendee;
    $("who").textContent = who ? who.name + " · " + who.phone + " · " + (S["type_" + who.ticket_type] || "") : "";
    $("detail").textContent = explain(answer);
    overlay.dataset.token = token || "";
    overlay.hidden = false;
    if (navigator.vibrate) navigator.vibrate(ok ? 80 : [200, 100, 200]);
    hideLater(ok ? 2500 : 5000);
    offerOverride(answer);
  }
  function hideLater(ms) {
    clearTimeout(hideTimer);
    overlay.dataset.hideIn = String(ms);
    hideTimer = setTimeout(function () { overlay.hidden = true; }, ms);
  }

  // Supervisors may let in a refused ticket (cancelled, replaced, doors not open) with a reason, which is logged.
  // A ticket already admitted stays refused: an override never admits anyone twice.
  var overrideForm = $("override-form");
  function offerOverride(answer) {
    if (!overrideForm) return;
    var can = ROLE === "supervisor" && !answer.offline && answer.attendee &&
              (answer.result === "revoked" || answer.result === "not_open");
    overrideForm.hidden = !can;
    if (!can) return;
    overrideForm.dataset.registration = String(answer.attendee.registration_id);
    overrideForm.reason.value = "";
    clearTimeout(hideTimer);  // stays until answered or tapped away
  }
  if (overrideForm) {
    overrideForm.addEventListener("click", function (e) { e.stopPropagation(); });
    overrideForm.addEventListener("submit", function (e) {
      e.preventDefault();
      request("POST", API + "/checkins/manual", { registration_id: Number(overrideForm.dataset.registration), gate: GATE,
                                                 scan_id: uuid(), device: device, override: true,
                                                 reason: overrideForm.reason.value }).then(function (reply) {
        setOnline(true);
        if (reply.status === 200) { rememberAdmitted(reply.data); show(reply.data); }
        else $("detail").textContent = ((reply.data && reply.data.error) || {}).message || "";
      }).catch(function () { setOnline(false); note(S.cannot_verify); });
    });
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  overlay.addEventListener("click", function () { overlay.hidden = true; });

  // ---- scanning ---------------------------------------------------------------------------------------------------
  // A code seen again while its scan is under way, or within SAME_SCAN_WINDOW of its answer (or of its last sighting
  // since), is the same scan: nothing is sent or logged, and its answer stays on screen. Another code is scanned at
  // once; a typed code is always checked.
  function repeated(code, now) {
    var last = seen[code];
    if (!last || (!last.pending && now - last.at >= SAME_SCAN_WINDOW)) return false;
    if (!last.pending) {
      last.at = now;
      if (!overlay.hidden && overlay.dataset.token === code && (!overrideForm || overrideForm.hidden)) {
        hideLater(Number(overlay.dataset.hideIn) || 2500);
      }
    }
    return true;
  }
  function answered(code) {
    var now = Date.now();
    seen[code] = { at: now, pending: false };
    Object.keys(seen).forEach(function (other) {
      if (!seen[other].pending && now - seen[other].at >= SAME_SCAN_WINDOW) delete seen[other];
    });
  }

  function handle(code, typed) {
    code = (code || "").trim();
    if (!code) return;
    if (!typed && repeated(code, Date.now())) return;
    seen[code] = { at: Date.now(), pending: true };
    var scan = { scan_id: uuid(), token: code, gate: GATE, device: device, direction: direction };
    if (!online) { offlineScan(scan); return; }
    request("POST", API + "/checkins", scan).then(function (reply) {
      setOnline(true);
      answered(code);
      if (reply.status === 200) { rememberAdmitted(reply.data); show(reply.data, code); }
      else show({ result: "invalid" }, code);
    }).catch(function () { setOnline(false); offlineScan(scan); });
  }

  // Who this phone saw admitted, where and when: {registration id: {at, gate}} (older versions kept the time only).
  function admittedHere(registrationId) {
    var entry = localAdmitted[registrationId];
    if (!entry) return null;
    return typeof entry === "string" ? { at: entry, gate: "" } : entry;
  }
  function rememberAdmitted(answer) {
    if (answer.attendee && (answer.result === "admitted" || answer.result === "already_admitted")) {
      localAdmitted[answer.attendee.registration_id] = { at: answer.first_admitted_at || new Date().toISOString(),
                                                         gate: answer.gate || GATE };
      save(ADMITTED_KEY, localAdmitted);
    }
  }

  // ---- offline ----------------------------------------------------------------------------------------------------
  function b64urlBytes(text) {
    if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    try {
      var raw = atob(b64), bytes = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      return bytes;
    } catch (e) { return null; }
  }

  // -> Promise of the @noble/ed25519 module, through a module script from this site (checkin-noble.js): no eval, which
  // the page's Content-Security-Policy refuses, and a browser without modules still runs the rest of this file.
  function loadNoble(url) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      window.addEventListener("beiyang:noble-ed25519", function (event) { resolve(event.detail); }, { once: true });
      script.type = "module";
      script.src = url;
      script.addEventListener("error", reject);
      setTimeout(function () { reject(new Error("noble-ed25519 did not load")); }, 15000);
      document.head.appendChild(script);
    });
  }

  // -> Promise of function(signature, message) -> Promise of true/false, or of null when this phone cannot verify.
  // WebCrypto's own Ed25519 where the browser has it (Chromium 137+, Safari 17+); otherwise the vendored
  // @noble/ed25519 (an ES module, loaded only then), which needs WebCrypto's SHA-512 (any secure page has it).
  function getVerifier() {
    if (verifier || !kit) return Promise.resolve(verifier);
    var keyBytes = b64urlBytes(kit.public_key);
    if (!(window.crypto && crypto.subtle) || !keyBytes) return Promise.resolve(null);
    return crypto.subtle.importKey("raw", keyBytes, { name: "Ed25519" }, false, ["verify"]).then(function (key) {
      root.dataset.verifier = "webcrypto";
      return function (signature, message) { return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message); };
    }).catch(function () {
      return loadNoble(root.dataset.noble).then(function (ed) {
        root.dataset.verifier = "noble";
        return function (signature, message) {
          return ed.verifyAsync(signature, message, keyBytes).catch(function () { return false; });
        };
      });
    }).then(function (fn) { verifier = fn; return fn; }, function () { return null; });
  }

  function verifyOffline(code) {
    // -> Promise of {result, ticket}
    var bytes = code.length === 103 ? b64urlBytes(code) : null;
    if (!bytes || bytes.length !== 77 || bytes[0] !== 1) return Promise.resolve({ result: "invalid" });
    var view = new DataView(bytes.buffer);
    var eventId = view.getUint32(1), registrationId = view.getUint32(5), version = view.getUint32(9);
    return getVerifier().then(function (verify) {
      if (!verify) return { result: "cannot_verify" };
      return verify(bytes.slice(13), bytes.slice(0, 13)).then(function (ok) {
        if (!ok) return { result: "invalid" };
        if (eventId !== EVENT) return { result: "wrong_event" };
        var ticket = (kit.tickets || []).filter(function (t) { return t.registration_id === registrationId; })[0];
        if (!ticket || ticket.version !== version) return { result: "revoked", ticket: ticket };
        var now = new Date();
        if (now < new Date(kit.doors_open_at)) return { result: "not_open", reason: "not_yet_open", ticket: ticket };
        if (now > new Date(kit.doors_close_at)) return { result: "not_open", reason: "closed", ticket: ticket };
        if (direction === "out") return { result: "exited", ticket: ticket };
        var here = admittedHere(registrationId);
        if (here || (ticket.admitted && ticket.inside !== false)) {
          return { result: "already_admitted", ticket: ticket, at: (here && here.at) || ticket.first_admitted_at || null,
                   gate: (here && here.gate) || ticket.gate || "" };
        }
        return { result: "admitted", ticket: ticket };
      });
    });
  }

  function offlineScan(scan) {
    verifyOffline(scan.token).then(function (verdict) {
      answered(scan.token);
      if (verdict.result === "cannot_verify") { show({ result: "invalid" }, scan.token); note(S.cannot_verify); return; }
      var t = verdict.ticket;
      show({ result: verdict.result, reason: verdict.reason || "", offline: true, first_admitted_at: verdict.at,
             gate: verdict.gate || "",
             attendee: t ? { registration_id: t.registration_id, name: t.name, phone: t.phone, ticket_type: t.ticket_type } : null },
           scan.token);
      if (verdict.result === "admitted") {
        localAdmitted[t.registration_id] = { at: new Date().toISOString(), gate: GATE };
        save(ADMITTED_KEY, localAdmitted);
        bump();
      } else if (verdict.result === "exited") {  // out: the next scan in lets them back
        delete localAdmitted[t.registration_id];
        t.admitted = true; t.inside = false;
        save(ADMITTED_KEY, localAdmitted); save(KIT_KEY, kit);
      }
      queue.push({ scan_id: scan.scan_id, token: scan.token, gate: GATE, scanned_at: new Date().toISOString(),
                   direction: scan.direction || "in",
                   offline_result: verdict.result === "admitted" ? "admitted" : verdict.result });
      save(QUEUE_KEY, queue);
      showQueue();
    });
  }

  function bump() {  // offline: count our own admissions until the server's numbers come back
    var admitted = $("admitted"), here = $("gate-count");
    admitted.textContent = String((Number(admitted.textContent) || 0) + 1);
    here.textContent = String((Number(here.textContent) || 0) + 1);
  }

  function sync() {
    if (syncing) return;
    var batch = queue.slice(0, 200);
    var probe = batch.length ? request("POST", API + "/checkins/sync", { device: device, scans: batch })
                             : (online ? null : request("GET", API + "/checkins/counters"));
    if (!probe) return;
    syncing = true;
    probe.then(function (reply) {
      syncing = false;
      setOnline(true);
      if (batch.length && reply.status === 200) {
        var done = {};
        batch.forEach(function (s) { done[s.scan_id] = true; });
        queue = queue.filter(function (s) { return !done[s.scan_id]; });
        save(QUEUE_KEY, queue);
        showQueue();
        refreshCounters();
      } else if (!batch.length && reply.status === 200) {
        showCounters(reply.data);
      }
    }).catch(function () { syncing = false; setOnline(false); });
  }

  function note(text) { var el = $("camera-note"); el.textContent = text; el.hidden = false; }

  // ---- counters ---------------------------------------------------------------------------------------------------
  function showCounters(c) {
    if (!c || c.event_id !== EVENT) return;
    save(COUNTERS_KEY, c);
    $("admitted").textContent = String(c.admitted);
    $("expected").textContent = String(c.expected);
    $("gate-count").textContent = String((c.gates || {})[GATE] || 0);
    if ($("inside")) $("inside").textContent = String(c.inside);
    if (insidePanel && insidePanel.open) refreshInside();
  }
  function refreshCounters() {
    return request("GET", API + "/checkins/counters").then(function (reply) {
      if (reply.status === 200) showCounters(reply.data);
    }).catch(function () {});
  }
  function refreshKit() {
    return request("GET", API + "/checkin/offline-kit").then(function (reply) {
      if (reply.status !== 200) return;
      kit = reply.data; verifier = null;
      save(KIT_KEY, kit);
      root.dataset.kit = "ready";
      getVerifier();  // now, while online: the fallback library cannot be fetched once the network is gone
    }).catch(function () { setOnline(false); if (kit) root.dataset.kit = "ready"; });
  }
  function liveCounters() {
    if (!window.io) return;
    var socket = window.io({ reconnectionDelayMax: 10000 });
    socket.on("connect", function () {
      socket.emit("join_checkin", { event_id: EVENT }, function (ack) { if (ack && ack.ok) showCounters(ack.counters); });
    });
    socket.on("checkin_counters", showCounters);
  }

  // ---- supervisors: search and admit by hand ----------------------------------------------------------------------
  var searchForm = $("search-form");
  if (searchForm && ROLE === "supervisor") {
    searchForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var q = searchForm.q.value.trim().toLowerCase(), list = $("search-results");
      list.innerHTML = "";
      if (!q || !kit) return;
      var found = (kit.tickets || []).filter(function (t) {
        return t.name.toLowerCase().indexOf(q) !== -1 || (/^\d{4}$/.test(q) && t.phone.slice(-4) === q);
      }).slice(0, 20);
      if (!found.length) { var li = document.createElement("li"); li.textContent = S.no_match; list.appendChild(li); }
      found.forEach(function (t) {
        var li = document.createElement("li"), label = document.createElement("span"), button = document.createElement("button");
        label.textContent = t.name + " · " + t.phone;
        button.className = "button small"; button.textContent = S.admit; button.type = "button";
        button.setAttribute("data-testid", "admit-" + t.registration_id);
        button.addEventListener("click", function () {
          request("POST", API + "/checkins/manual", { registration_id: t.registration_id, gate: GATE, scan_id: uuid(),
                                                     device: device }).then(function (reply) {
            setOnline(true);
            if (reply.status === 200) { rememberAdmitted(reply.data); show(reply.data); }
          }).catch(function () { setOnline(false); show({ result: "invalid" }); note(S.cannot_verify); });
        });
        li.appendChild(label); li.appendChild(button); list.appendChild(li);
      });
    });
  }

  // ---- re-entry: in or out ----------------------------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("[data-direction]"), function (button) {
    button.addEventListener("click", function () {
      direction = button.dataset.direction;
      seen = {};  // the same code in the other direction is a new scan
      Array.prototype.forEach.call(document.querySelectorAll("[data-direction]"), function (other) {
        var on = other === button;
        other.setAttribute("aria-pressed", on ? "true" : "false");
        other.classList.toggle("secondary", !on);
      });
      root.dataset.direction = direction;
    });
  });

  // ---- supervisors: walk-ins and who is inside ---------------------------------------------------------------------
  var walkIn = $("walk-in-form");
  if (walkIn) {
    walkIn.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = { phone: walkIn.phone.value, name: walkIn.name.value, gate: GATE, scan_id: uuid(), device: device };
      var noteEl = $("walk-in-note");
      noteEl.hidden = true;
      request("POST", API + "/checkins/walk-ins", body).then(function (reply) {
        setOnline(true);
        if (reply.status === 200) {
          walkIn.reset();
          rememberAdmitted(reply.data); show(reply.data); refreshKit();
        } else {
          var error = reply.data && reply.data.error, fields = (error && error.details && error.details.fields) || {};
          var why = [error ? error.message : ""].concat(Object.keys(fields).map(function (k) { return fields[k]; }));
          noteEl.textContent = S.walk_in_failed.replace("{why}", why.join(" "));
          noteEl.hidden = false;
        }
      }).catch(function () { setOnline(false); noteEl.textContent = S.cannot_verify; noteEl.hidden = false; });
    });
  }
  var insidePanel = $("inside-panel");
  function refreshInside() {
    return request("GET", API + "/checkins/inside").then(function (reply) {
      if (reply.status !== 200) return;
      var list = $("inside-list");
      list.innerHTML = "";
      if (!reply.data.length) { var empty = document.createElement("li"); empty.textContent = S.nobody_inside; list.appendChild(empty); }
      reply.data.forEach(function (p) {
        var li = document.createElement("li");
        li.textContent = p.name + " · " + p.phone + " · " + S.since.replace("{time}", clock(p.since));
        list.appendChild(li);
      });
    }).catch(function () {});
  }
  if (insidePanel) insidePanel.addEventListener("toggle", function () { if (insidePanel.open) refreshInside(); });

  // ---- wiring -----------------------------------------------------------------------------------------------------
  var manual = $("manual-form");
  manual.addEventListener("submit", function (e) {
    e.preventDefault();
    var code = manual.token.value;
    manual.token.value = "";
    handle(code, true);  // typed on purpose: always check it
  });

  function startCamera() {
    if (!window.QrScanner) { note(S.camera_failed); return; }
    window.QrScanner.WORKER_PATH = root.dataset.worker;
    var scanner = new window.QrScanner($("camera"), function (result) { handle(result && result.data ? result.data : result); },
                                       { returnDetailedScanResult: true, preferredCamera: "environment", maxScansPerSecond: 10 });
    scanner.start().then(function () { root.dataset.camera = "on"; }, function () { note(S.camera_failed); });
  }

  // ---- opening offline: a service worker keeps this page and what it runs on (checkin-scanner-sw.js) ---------------
  function keepForOffline() {
    if (!("serviceWorker" in navigator) || !root.dataset.sw || !window.MessageChannel) return;
    navigator.serviceWorker.register(root.dataset.sw, { scope: "/events/" + EVENT + "/scan" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      var target = reg.active || navigator.serviceWorker.controller;
      if (!target) return;
      var urls = [location.pathname + location.search, root.dataset.worker, root.dataset.noble, root.dataset.nobleModule];
      Array.prototype.forEach.call(document.querySelectorAll("script[src], link[rel=stylesheet][href], link[rel=icon][href]"),
        function (el) { urls.push(el.getAttribute("src") || el.getAttribute("href")); });
      var channel = new MessageChannel();
      channel.port1.onmessage = function (event) {
        if (event.data && event.data.kept === event.data.of) root.dataset.offlinePage = "ready";
      };
      target.postMessage({ cache: urls.filter(Boolean) }, [channel.port2]);
    }).catch(function () { /* the page still works while it stays open */ });
  }

  setOnline(navigator.onLine !== false);
  showQueue();
  showCounters(load(COUNTERS_KEY));  // the last numbers seen, until the server's come (or offline, for now)
  window.addEventListener("online", sync);
  window.addEventListener("offline", function () { setOnline(false); });
  refreshKit().then(refreshCounters);
  liveCounters();
  startCamera();
  keepForOffline();
  setInterval(sync, SYNC_EVERY);
})();
