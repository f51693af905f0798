/* The ticket page: register the tickets' service worker (scope /tickets/) so the page opens without a network. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!("serviceWorker" in navigator) || !script) return;
  navigator.serviceWorker.register(script.getAttribute("data-sw"), { scope: "/tickets/" }).then(function (reg) {
    return navigator.serviceWorker.ready;
  }).then(function (reg) {
    var page = location.pathname;
    var target = reg.active || navigator.serviceWorker.controller;
    if (target) target.postMessage({ cache: [page, location.href] });
    var note = document.querySelector("[data-testid=offline-ready]");
    if (note) note.hidden = false;
  }).catch(function () { /* no offline copy; the page still works online */ });
})();
