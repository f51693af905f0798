/* The unread badge on every signed-in page, and live messages on live pages.
   Live pages (inbox, scanner, judging, the organizers' registrations) load the Socket.IO client themselves; there the
   personal room user:<id> (joined by the server on connect) sends "notification" when a message arrives and
   "notifications_read" when another page of the same person read some, and the badge is re-fetched over HTTP on every
   (re)connect, so a message missed while offline still counts. Other pages carry no Socket.IO client (46 KB): their
   badge comes with the page and is re-fetched over HTTP when the page comes back into view (another tab, the phone
   unlocked, the back button). Message text goes in via textContent only. */
(function () {
  "use strict";
  var badge = document.querySelector("[data-unread-badge]");
  var toasts = null;

  function setCount(n) {
    if (!badge) { return; }
    badge.textContent = String(n);
    badge.hidden = !n;
  }

  function refresh() {
    fetch("/api/v1/notifications/unread-count", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) { setCount(body.unread_count); } })
      .catch(function () {});
  }

  function toast(message) {
    if (!toasts) {
      toasts = document.createElement("div");
      toasts.className = "notify-toasts";
      toasts.setAttribute("role", "status");
      toasts.setAttribute("aria-live", "polite");
      document.body.appendChild(toasts);
    }
    var a = document.createElement("a");
    a.className = "notify-toast";
    a.href = "/notifications";
    a.setAttribute("data-notification-id", message.id);
    var title = document.createElement("strong");
    title.textContent = message.title;
    var body = document.createElement("span");
    body.textContent = message.body;
    a.appendChild(title);
    a.appendChild(body);
    toasts.appendChild(a);
    setTimeout(function () { a.remove(); }, 8000);
  }

  // The inbox page keeps its list live: on an arrival (and after a reconnect, when arrivals may have been missed)
  // it fetches its own first page again and swaps the parts marked data-inbox-part. The server renders them, so
  // labels, times and the open-forms (with their CSRF token) are the same as on a reload; no message text is
  // parsed as HTML here but the server's own escaped page. Older pages (?before=) are left alone.
  var inbox = document.querySelector("[data-live-inbox]");
  var inboxBusy = false, inboxAgain = false;

  function refreshInbox() {
    if (!inbox) { return; }
    if (inboxBusy) { inboxAgain = true; return; }
    inboxBusy = true;
    var known = {};
    inbox.querySelectorAll("[data-id]").forEach(function (li) { known[li.getAttribute("data-id")] = true; });
    fetch(window.location.pathname + window.location.search,
          { credentials: "same-origin", headers: { Accept: "text/html" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-inbox-part]").forEach(function (part) {
          var next = fresh.querySelector('[data-inbox-part="' + part.getAttribute("data-inbox-part") + '"]');
          if (next) { part.replaceWith(document.importNode(next, true)); }
        });
        inbox = document.querySelector("[data-live-inbox]");
        if (inbox) {
          inbox.querySelectorAll("[data-id]").forEach(function (li) {
            if (!known[li.getAttribute("data-id")]) { li.classList.add("arrived"); }
          });
        }
      })
      .catch(function () {})
      .then(function () {
        inboxBusy = false;
        if (inboxAgain) { inboxAgain = false; refreshInbox(); }
      });
  }

  function live() {
    var socket = window.io({ reconnectionDelayMax: 10000 });
    window.beiyangNotifications = { socket: socket };
    var connectedBefore = false;
    socket.on("connect", function () {
      refresh();
      if (connectedBefore) { refreshInbox(); }
      connectedBefore = true;
    });
    socket.on("notifications_read", function () { refresh(); refreshInbox(); });
    socket.on("notification", function (message) {
      if (badge) { setCount((parseInt(badge.textContent, 10) || 0) + 1); }
      if (inbox) { refreshInbox(); } else { toast(message); }
      document.dispatchEvent(new CustomEvent("beiyang:notification", { detail: message }));
    });
  }

  function quiet() {
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { refresh(); }
    });
    window.addEventListener("pageshow", function (event) { if (event.persisted) { refresh(); } });
  }

  // Deferred scripts run in order while the document is "interactive", before DOMContentLoaded, and a live page's
  // own scripts (the Socket.IO client among them) come after this one: decide at DOMContentLoaded, once all ran.
  var started = false;
  function start() {
    if (started) { return; }
    started = true;
    if (typeof window.io === "function") { live(); } else { quiet(); }
  }
  if (document.readyState === "complete") {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
    window.addEventListener("load", start);
  }
})();
