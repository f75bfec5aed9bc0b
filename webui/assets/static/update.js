// callbox web admin: the firmware upload with a progress bar. The bundle
// goes as the raw request body (application/octet-stream), so the box
// streams it into the inactive slot without buffering it.
"use strict";
(function () {
  var card = document.getElementById("update");
  var form = document.getElementById("update-upload");
  if (!card || !form) {
    return;
  }
  var bar = document.getElementById("update-progress");
  var msg = document.getElementById("update-message");
  function show(id, text) {
    document.getElementById(id).textContent = text || "";
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var file = document.getElementById("update-file").files[0];
    if (!file) {
      return;
    }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/update");
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRF-Token", card.getAttribute("data-csrf"));
    bar.hidden = false;
    bar.value = 0;
    msg.textContent = "";
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.floor((e.loaded * 100) / e.total);
      }
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch (e) {}
      if (xhr.status !== 200) {
        msg.textContent = card.getAttribute("data-msg-fail") + " " + (body.error || xhr.status);
        return;
      }
      bar.value = 100;
      msg.textContent = card.getAttribute("data-msg-done");
      var m = body.manifest;
      show("m-version", m.version);
      show("m-min", m.min_version);
      show("m-boards", (m.compatible || []).join(", "));
      show("m-created", m.created);
      show("m-images", (m.images || []).map(function (i) { return i.name + " (" + i.size + " B)"; }).join(" "));
      show("m-notes", m.notes);
      document.getElementById("update-pending").hidden = false;
    });
    xhr.addEventListener("error", function () {
      msg.textContent = card.getAttribute("data-msg-fail");
    });
    xhr.send(file);
  });
})();
