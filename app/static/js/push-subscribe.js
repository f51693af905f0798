/* Push on the settings page. The server shows the push row only when it has VAPID keys; this script says whether
   THIS device is subscribed and offers "Turn on push notifications on this device" when it is not: register the
   site's service worker (/sw.js, scope /), subscribe with the server's VAPID key, and send the subscription to the
   API (cookie session + CSRF header). */
(function () {
  "use strict";
  var box = document.querySelector("[data-push-toggle]");
  if (!box) { return; }
  var button = box.querySelector("[data-push-enable]");
  var state = box.querySelector("[data-push-state]");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content;

  function show(which) {
    state.textContent = box.getAttribute("data-" + which) || "";
    box.setAttribute("data-device", which);
    button.hidden = which !== "off";
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window)) { show("unsupported"); return; }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function send(subscription) {
    return fetch("/api/v1/notifications/push/subscriptions", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(subscription.toJSON())
    });
  }

  fetch("/api/v1/notifications/push/config", { credentials: "same-origin" }).then(function (r) { return r.json(); })
    .then(function (config) {
      if (!config.enabled) { show("unsupported"); return; }
      navigator.serviceWorker.getRegistration("/").then(function (registration) {
        return registration && registration.pushManager.getSubscription();
      }).then(function (subscription) {
        if (!subscription || !(window.Notification && Notification.permission === "granted")) { show("off"); return; }
        show("on");
        // Send the current subscription again: it may have been replaced while no page was open and the service
        // worker could not prove the old one.
        send(subscription).catch(function () {});
      }).catch(function () { show("off"); });
      button.addEventListener("click", function () {
        button.disabled = true;
        navigator.serviceWorker.register("/sw.js", { scope: "/" })
          .then(function () { return navigator.serviceWorker.ready; })
          .then(function (registration) {
            return registration.pushManager.subscribe({ userVisibleOnly: true,
                                                        applicationServerKey: keyBytes(config.public_key) });
          })
          .then(send)
          .then(function (response) {
            show(response.ok ? "on" : "off");
            state.setAttribute("data-ok", response.ok ? "1" : "0");
          })
          .catch(function (error) { show("off"); state.textContent = String(error && error.message || error); })
          .finally(function () { button.disabled = false; });
      });
    }).catch(function () { show("off"); });
})();
