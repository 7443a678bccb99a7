// Copy buttons: <button type="button" data-copy="ID" hidden> copies the value of the field
// with that id. The button stays hidden where this script does not run; the field itself is
// always selectable. Same-origin file, no inline script: the CSP stays strict.
(function () {
  "use strict";

  function say(text) {
    var status = document.getElementById("copy-status");
    if (status) status.textContent = text;
  }

  function copy(field) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(field.value);
    }
    // Plain-http fallback: select the text and use the older copy command.
    field.select();
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        copy(field).then(
          function () {
            say("Copied to the clipboard.");
          },
          function () {
            field.select();
            say("Could not copy: the token is selected, copy it with your keyboard.");
          }
        );
      });
    });
  });
})();
