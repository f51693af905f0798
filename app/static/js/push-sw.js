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

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  /* The push service replaced this browser's subscription (it expired or was rotated): subscribe again if the
     browser did not already, and tell the server, proving the old one with its auth secret (no cookie, no CSRF:
     a service worker has neither). Without the old subscription there is nothing to prove: the next visit of the
     settings page sends the current one with the person's session (push-subscribe.js). */
  function resubscribe(oldSubscription, newSubscription) {
    var fresh = newSubscription ? Promise.resolve(newSubscription) :
      fetch("/api/v1/notifications/push/config", { credentials: "omit" })
        .then(function (r) { return r.json(); })
        .then(function (config) {
          var key = (oldSubscription && oldSubscription.options && oldSubscription.options.applicationServerKey) ||
                    keyBytes(config.public_key);
          return self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
        });
    return fresh.then(function (subscription) {
      if (!oldSubscription || !subscription) { return null; }
      return fetch("/api/v1/notifications/push/resubscribe", {
        method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ old: oldSubscription.toJSON(), "new": subscription.toJSON() })
      });
    });
  }
  self.beiyangPush = { resubscribe: resubscribe };

  self.addEventListener("pushsubscriptionchange", function (event) {
    event.waitUntil(resubscribe(event.oldSubscription, event.newSubscription));
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
