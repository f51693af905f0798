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

  function stillTheSame() {
    if (ticket.dataset.state !== "valid" || navigator.onLine === false) return;
    fetch(ticket.dataset.check, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 200) {
          return response.json().then(function (now) {
            var token = (document.querySelector("[data-testid=ticket-qr]") || { dataset: {} }).dataset.token;
            return String(now.version) !== ticket.dataset.version || now.token !== token;
          });
        }
        return response.status === 404 || response.status === 409 || response.status === 410;
      })
      .then(function (changed) {
        if (!changed) { sessionStorage.removeItem(RELOAD_GUARD); return; }
        var last = Number(sessionStorage.getItem(RELOAD_GUARD)) || 0;
        if (Date.now() - last < 10000) return;  // never a reload loop
        sessionStorage.setItem(RELOAD_GUARD, String(Date.now()));
        location.reload();
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
