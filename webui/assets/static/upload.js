// callbox web admin: uploads of large files (update bundles, backups to
// restore) as the raw request body (application/octet-stream) with a
// progress bar, so the box streams them without buffering them. A form
// with data-upload="URL" holds a file input, a progress bar and a status
// line; once the box has checked the file the page at data-next shows
// what it holds.
"use strict";
document.querySelectorAll("form[data-upload]").forEach(function (form) {
  var bar = form.querySelector("progress");
  var msg = form.querySelector("[role=status]");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var file = form.querySelector("input[type=file]").files[0];
    if (!file) {
      return;
    }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("data-upload"));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
    form.querySelector("button").disabled = true;
    bar.hidden = false;
    bar.value = 0;
    msg.textContent = "";
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.floor((e.loaded * 100) / e.total);
      }
    });
    function failed(text) {
      form.querySelector("button").disabled = false;
      msg.className = "error";
      msg.textContent = form.getAttribute("data-msg-fail") + " " + text;
    }
    xhr.addEventListener("load", function () {
      var body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch (e) {}
      if (xhr.status !== 200) {
        failed(body.error || String(xhr.status));
        return;
      }
      bar.value = 100;
      msg.className = "notice";
      msg.textContent = form.getAttribute("data-msg-done");
      window.location.assign(form.getAttribute("data-next"));
    });
    xhr.addEventListener("error", function () {
      failed("");
    });
    xhr.send(file);
  });
});
