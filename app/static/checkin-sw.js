/* Tickets' service worker (scope /tickets/): ticket pages are fetched from the network first and kept in a cache,
   so a ticket that was opened once still shows when the phone is offline at the door. The copy follows the
   registration: a ticket page that answers 410 (cancelled, moved off its seat, event cancelled) or 404 replaces the
   kept copy, so offline the phone shows "no longer valid", never a code it knows to be dead; a page this account may
   not see (401/403) drops the copy. app/static/js/page.js updates the same cache from the event's page. */
"use strict";
var CACHE = "beiyang-tickets-v1";
// The page and what it needs to run offline: its style, and its script (which keeps the copy true once online).
var SHELL = ["/static/css/app.css", "/static/checkin-pages.css", "/static/checkin-ticket.js", "/static/js/page.js"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

// What the network said about a ticket page decides what is kept: the page (valid or void), nothing, or no change.
function keep(cache, path, response) {
  if (response.redirected) return Promise.resolve();  // signed out: a sign-in page is no ticket
  if (response.ok || response.status === 404 || response.status === 410) return cache.put(path, response);
  if (response.status === 401 || response.status === 403) return cache.delete(path);
  return Promise.resolve();  // a server error says nothing about the ticket
}

self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.cache) || [];
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        return keep(cache, new URL(url, self.location).pathname, response);
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
    var copy = response.clone();
    var kept = caches.open(CACHE).then(function (cache) {
      return isTicket ? keep(cache, url.pathname, copy) : (copy.ok ? cache.put(url.pathname, copy) : null);
    });
    event.waitUntil(kept);
    return response;
  }).catch(function () {
    return caches.match(url.pathname).then(function (cached) {
      return cached || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
    });
  }));
});
