/* "Turn on push notifications on this device": register the site's service worker (/sw.js, scope /), subscribe with
   the server's VAPID key, and send the subscription to the API (cookie session + CSRF header). */
(function () {
  "use strict";
  var box = document.querySelector("[data-push-toggle]");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window)) { return; }
  var button = box.querySelector("[data-push-enable]");
  var state = box.querySelector("[data-push-state]");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content;

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  fetch("/api/v1/notifications/push/config", { credentials: "same-origin" }).then(function (r) { return r.json(); })
    .then(function (config) {
      if (!config.enabled) { return; }
      box.hidden = false;
      // Already subscribed on this device: send the current subscription again (it may have been replaced while
      // no page was open and the service worker could not prove the old one).
      if (window.Notification && Notification.permission === "granted") {
        navigator.serviceWorker.getRegistration("/").then(function (registration) {
          return registration && registration.pushManager.getSubscription();
        }).then(function (subscription) {
          if (!subscription) { return; }
          fetch("/api/v1/notifications/push/subscriptions", {
            method: "POST", credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
            body: JSON.stringify(subscription.toJSON())
          });
        }).catch(function () {});
      }
      button.addEventListener("click", function () {
        button.disabled = true;
        navigator.serviceWorker.register("/sw.js", { scope: "/" })
          .then(function () { return navigator.serviceWorker.ready; })
          .then(function (registration) {
            return registration.pushManager.subscribe({ userVisibleOnly: true,
                                                        applicationServerKey: keyBytes(config.public_key) });
          })
          .then(function (subscription) {
            return fetch("/api/v1/notifications/push/subscriptions", {
              method: "POST", credentials: "same-origin",
              headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
              body: JSON.stringify(subscription.toJSON())
            });
          })
          .then(function (response) {
            state.textContent = response.ok ? button.getAttribute("data-done") || "✓" : "✗";
            state.setAttribute("data-ok", response.ok ? "1" : "0");
          })
          .catch(function (error) { state.textContent = String(error && error.message || error); })
          .finally(function () { button.disabled = false; });
      });
    }).catch(function () {});
})();
