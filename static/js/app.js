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
      // The answer is the page to show: the case page after the redirect (with its
      // message), or the form with its errors. Show it as it came: loading it again
      // would repeat the request and lose the one-time message.
      var shown = request.responseURL || form.action;
      document.open();
      document.write(request.responseText);
      document.close();
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", shown);
      }
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
