/* The scanner's service worker (served at /events/scanner-sw.js, registered by checkin-scanner.js with the scope of
   one event's scanner, /events/<id>/scan): the gate's page and the static files it runs on are kept on the first
   online visit, so the scanner opens again without a network (not only stays open). Network first, the copy when the
   network fails. The offline kit (public key and ticket list) is kept by the page itself (localStorage); the API and
   Socket.IO are never answered from here. */
"use strict";
var CACHE = "beiyang-scanner-v1";

function isScannerPage(url) { return /^\/events\/\d+\/scan$/.test(url.pathname); }
function key(url) { return url.pathname + url.search; }  // one copy per gate (?gate=A)

function keep(cache, url, response) {
  if (!response.ok || response.redirected || response.type === "opaque") return Promise.resolve();
  return cache.put(key(url), response);
}

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

// The page lists what it runs on (itself, its scripts, styles, the camera's worker, the offline verifier) and is told
// when all of it is kept.
self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.cache) || [], port = event.ports && event.ports[0];
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (href) {
      var url = new URL(href, self.location);
      if (url.origin !== self.location.origin) return false;
      return fetch(url.href, { credentials: "same-origin" }).then(function (response) {
        return keep(cache, url, response).then(function () { return response.ok; });
      }).catch(function () { return false; });
    }));
  }).then(function (kept) {
    if (port) port.postMessage({ kept: kept.filter(Boolean).length, of: urls.length });
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var page = request.mode === "navigate" && isScannerPage(url);
  if (!page && url.pathname.indexOf("/static/") !== 0) return;
  event.respondWith(fetch(request).then(function (response) {
    var copy = response.clone();
    event.waitUntil(caches.open(CACHE).then(function (cache) { return keep(cache, url, copy); }));
    return response;
  }).catch(function () {
    return caches.match(key(url)).then(function (cached) {
      return cached || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
    });
  }));
});
