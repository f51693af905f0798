/* Live messages: the personal room user:<id> (joined by the server on connect) sends "notification" when a message
   arrives and "notifications_read" when another page of the same person read some. The badge is re-fetched over HTTP
   on every (re)connect, so a message missed while offline still counts. Message text goes in via textContent only. */
(function () {
  "use strict";
  if (!window.io) { return; }
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

  var socket = window.io({ reconnectionDelayMax: 10000 });
  window.beiyangNotifications = { socket: socket };
  socket.on("connect", refresh);
  socket.on("notifications_read", refresh);
  socket.on("notification", function (message) {
    if (badge) { setCount((parseInt(badge.textContent, 10) || 0) + 1); }
    toast(message);
    document.dispatchEvent(new CustomEvent("beiyang:notification", { detail: message }));
  });
})();
