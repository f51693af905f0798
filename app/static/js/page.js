/* Every page (base.html). Progressive enhancement only, driven by data attributes, so pages carry no inline script
 * (the Content-Security-Policy allows scripts from this site only; see app/security.py):
 * - confirmations before destructive buttons and forms (data-confirm);
 * - one tap sends a form once (form[data-once]; the server also answers a repeat with the same result);
 * - copy buttons (.copy-button[data-copy]);
 * - adding a team member row in place ([data-add-member] with #member-row-template);
 * - a ticket this person no longer has leaves the phone's offline copy ([data-void-ticket]).
 */
(function () {
  "use strict";

  // ---- confirmations ----------------------------------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
  });
  document.addEventListener("submit", function (event) {  // capture: before a form's own listeners (data-once)
    var form = event.target;
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
  }, true);

  // ---- forms sent once --------------------------------------------------------------------------------------------
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = true;
          if (button.dataset.busy) { button.dataset.label = button.textContent; button.textContent = button.dataset.busy; }
        });
      }, 0);
    });
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = false;
        if (button.dataset.label) { button.textContent = button.dataset.label; }
      });
    });
  });

  // ---- copy buttons: the clipboard API where allowed, otherwise select the text so a long-press copies it ----------
  document.querySelectorAll(".copy-button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.querySelector(button.dataset.copy);
      if (!input) { return; }
      var label = button.textContent;
      function done() { button.textContent = button.dataset.copied; setTimeout(function () { button.textContent = label; }, 2000); }
      function legacy() { if (document.execCommand && document.execCommand("copy")) { done(); } }
      input.focus(); input.select(); input.setSelectionRange(0, input.value.length);
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, legacy);
      } else {
        legacy();
      }
    });
  });

  // ---- team application: add a member row in place; without JavaScript the same button asks the server -------------
  (function () {
    var button = document.querySelector("[data-add-member]");
    var template = document.getElementById("member-row-template");
    var rows = document.getElementById("member-rows");
    if (!button || !template || !rows || !("content" in template)) return;
    button.addEventListener("click", function (event) {
      var count = rows.querySelectorAll("[data-testid=member-row]").length;
      var max = parseInt(button.getAttribute("data-max"), 10);
      if (count >= max) return;
      event.preventDefault();
      var html = template.innerHTML.split("999").join(String(count)).split("1000").join(String(count + 1));
      rows.insertAdjacentHTML("beforeend", html);
      var added = rows.lastElementChild;
      if (added) { var input = added.querySelector("input.input"); if (input) input.focus(); }
      if (count + 1 >= max) button.hidden = true;
    });
  })();

  // ---- a ticket this person no longer has ([data-void-ticket]: its registration, on the event's page after a
  // cancellation): the copy kept on this phone for offline use (app/static/checkin-sw.js, same cache and paths) is
  // replaced by the server's "no longer valid" page, or dropped when that cannot be fetched, so offline the phone
  // never shows the dead code ----------------------------------------------------------------------------------------
  document.querySelectorAll("[data-void-ticket]").forEach(function (element) {
    var id = element.getAttribute("data-void-ticket"), path = "/tickets/" + id;
    if (!window.caches || !/^\d+$/.test(id)) return;
    window.caches.open("beiyang-tickets-v1").then(function (cache) {
      return cache.match(path).then(function (kept) {
        if (!kept) return null;
        return fetch(path, { credentials: "same-origin" }).then(function (response) {
          return response.status === 410 || response.status === 404 ? cache.put(path, response) : cache.delete(path);
        }, function () { return cache.delete(path); });
      });
    }).then(function () { element.setAttribute("data-ticket-cache", "updated"); },
            function () { element.setAttribute("data-ticket-cache", "failed"); });
  });
})();
