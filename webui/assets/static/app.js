// callbox web admin: progressive enhancement only; every page works without
// this file. Inline scripts are barred by the Content-Security-Policy.
"use strict";
document.addEventListener("submit", function (ev) {
  var msg = ev.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
});
