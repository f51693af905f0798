/* Tickets' service worker (scope /tickets/): ticket pages are fetched from the network first and kept in a cache,
   so a ticket that was opened once still shows when the phone is offline at the door. */
"use strict";
var CACHE = "beiyang-tickets-v1";
var SHELL = ["/static/css/app.css", "/static/checkin-pages.css"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.cache) || [];
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (response.ok) return cache.put(new URL(url, self.location).pathname, response);
      }).catch(function () {});
    }));
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  var isTicket = url.origin === self.location.origin && /^\/tickets\/\d+$/.test(url.pathname);
  var isShell = SHELL.indexOf(url.pathname) !== -1;
  if (!isTicket && !isShell) return;
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(url.pathname).then(function (cached) {
      return cached || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
    });
  }));
});
