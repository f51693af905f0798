/* The ticket page: register the tickets' service worker (scope /tickets/) so the page opens without a network, and
   keep the copy on this phone true: whenever the phone is online (on opening, when the network returns, when the
   page is shown again, and every minute) it asks the server whether this ticket is still the same; a ticket that was
   re-issued, cancelled or moved off its seat is reloaded, and the service worker keeps that page instead. */
(function () {
  "use strict";
  var script = document.currentScript;
  var ticket = document.querySelector("[data-testid=ticket]");
  if (!script || !ticket) return;
  var CHECK_EVERY = 60000, RELOAD_GUARD = "checkin.ticket.reloaded." + ticket.dataset.registration;

  /* A reload is guarded by the server's answer that caused it, not by time alone: the same answer twice within ten
     seconds means the reload did not help (a loop), but a new answer (re-issued, then cancelled a moment later) is
     news and reloads at once. A reload the guard held back is tried again when the guard ends. */
  function reloadFor(answer) {
    var last = {};
    try { last = JSON.parse(sessionStorage.getItem(RELOAD_GUARD)) || {}; } catch (e) { last = {}; }
    var since = Date.now() - last.at;
    if (last.answer === answer && since < 10000) {
      setTimeout(stillTheSame, 10000 - since + 100);  // ask once more when the guard ends, not in a minute
      return;
    }
    sessionStorage.setItem(RELOAD_GUARD, JSON.stringify({ answer: answer, at: Date.now() }));
    location.reload();
  }

  function stillTheSame() {
    if (ticket.dataset.state !== "valid" || navigator.onLine === false) return;
    fetch(ticket.dataset.check, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 200) {
          return response.json().then(function (now) {
            var token = (document.querySelector("[data-testid=ticket-qr]") || { dataset: {} }).dataset.token;
            var changed = String(now.version) !== ticket.dataset.version || now.token !== token;
            return changed ? "valid:" + now.version + ":" + now.token : null;
          });
        }
        var gone = response.status === 404 || response.status === 409 || response.status === 410;
        return gone ? response.text().then(function (body) { return response.status + ":" + body; }) : null;
      })
      .then(function (answer) {
        if (answer === null) { sessionStorage.removeItem(RELOAD_GUARD); return; }
        reloadFor(answer);
      })
      .catch(function () { /* offline: the copy stays until the phone knows better */ });
  }

  window.addEventListener("online", stillTheSame);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) stillTheSame(); });
  setInterval(stillTheSame, CHECK_EVERY);
  stillTheSame();

  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register(script.getAttribute("data-sw"), { scope: "/tickets/" }).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (reg) {
    var page = location.pathname;
    var target = reg.active || navigator.serviceWorker.controller;
    if (target) target.postMessage({ cache: [page, location.href] });
    var note = document.querySelector("[data-testid=offline-ready]");
    if (note && ticket.dataset.state === "valid") note.hidden = false;
  }).catch(function () { /* no offline copy; the page still works online */ });
})();
