/* What the live room's scripts share (live-room.js, live-polls.js, live-peoples-choice.js): the JSON call with the
   page's CSRF token, whose refusal throws the API's error ({code, message}) in the reader's language, and the small
   element builders. Loaded before them on every page that has them. */
(function () {
  "use strict";
  var i18n = document.getElementById("live-i18n");
  var T = i18n ? JSON.parse(i18n.textContent) : {};
  var CSRF = (document.querySelector("meta[name=csrf-token]") || {}).content;

  function call(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": CSRF },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw (data && data.error) || { message: T.failed };
        return data;
      });
    });
  }

  function el(tag, className, text, testid) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = text;
    if (testid) e.setAttribute("data-testid", testid);
    return e;
  }

  function button(label, testid, onClick, secondary) {
    var b = el("button", "button small" + (secondary ? " secondary" : ""), label, testid);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  window.liveKit = { call: call, el: el, button: button };
})();
