// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // "Select all" checkboxes: <input type="checkbox" data-select-all="ids">.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-select-all]")) return;
    var name = box.getAttribute("data-select-all");
    // Disabled boxes (work the user may not review) stay unselected.
    var boxes = 'input[type="checkbox"][name="' + name + '"]:not(:disabled)';
    document.querySelectorAll(boxes).forEach(function (b) {
      b.checked = box.checked;
    });
  });

  // After a failed submission, move focus to the first field with an error.
  document.addEventListener("DOMContentLoaded", function () {
    var invalid = document.querySelector('main [aria-invalid="true"]');
    if (invalid) invalid.focus();
  });
})();
