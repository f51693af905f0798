/* Web Push in the site's service worker (imported by /sw.js with importScripts). The payload is
   {id, title, body, url, tag, category, urgent}. One notification per message: the tag is the message id, so a
   repeated push (at-least-once delivery after a retry) replaces the one shown instead of adding a second, and a
   message already shown is not shown again. */
(function () {
  "use strict";
  var shown = new Set();  // message ids shown while this worker lives; the tag covers the rest

  self.addEventListener("push", function (event) {
    var data = {};
    try { data = event.data ? event.data.json() : {}; } catch (e) { data = { title: event.data && event.data.text() }; }
    var title = data.title || "北杨小镇";
    var tag = data.tag || (data.id ? "n" + data.id : undefined);
    event.waitUntil(
      self.registration.getNotifications(tag ? { tag: tag } : undefined).then(function (existing) {
        if (data.id && (shown.has(data.id) || existing.length)) { return undefined; }  // a duplicate: drop it
        if (data.id) { shown.add(data.id); }
        return self.registration.showNotification(title, {
          body: data.body || "",
          tag: tag,
          data: { url: data.url || "/notifications", id: data.id },
          icon: "/static/icons/icon-192.png",
          badge: "/static/icons/icon-192.png",
          requireInteraction: !!data.urgent
        });
      })
    );
  });

  self.addEventListener("notificationclick", function (event) {
    event.notification.close();
    var url = (event.notification.data && event.notification.data.url) || "/notifications";
    event.waitUntil(
      self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
        for (var i = 0; i < windows.length; i++) {
          if (windows[i].url === url && "focus" in windows[i]) { return windows[i].focus(); }
        }
        return self.clients.openWindow(url);
      })
    );
  });
})();
