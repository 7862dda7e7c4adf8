/* Progressive enhancement only: every page works without this file.
   Upload forms marked data-upload-progress show a progress bar while the file is sent. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-upload-progress]") || !window.FormData) {
      return;
    }
    var bar = form.querySelector("progress.upload-progress");
    if (!bar) {
      return;
    }
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open(form.method || "post", form.action);
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.max = e.total;
        bar.value = e.loaded;
      }
    });
    request.addEventListener("load", function () {
      // The server answers with a redirect on success or the page with its errors.
      if (request.responseURL && request.responseURL !== form.action) {
        window.location.assign(request.responseURL);
        return;
      }
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", function () {
      form.submit();
    });
    bar.hidden = false;
    var button = form.querySelector("[type=submit]");
    if (button) {
      button.disabled = true;
    }
    request.send(new FormData(form));
  });
})();
