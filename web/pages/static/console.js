// Page behaviour without inline scripts or handlers (the Content-Security-Policy forbids both):
// - <form data-confirm="text"> or <button data-confirm="text">: asks before submitting (destructive ones);
// - flash messages (.flash) fade out after a few seconds;
// - <input type="checkbox" data-select-all="name">: ticks every checkbox called name;
// - a form with data-needs-selection submits only when a checkbox in it (or given by form=) is ticked;
// - <button data-copy="text">: copies text to the clipboard.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var message = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);
  document.addEventListener("change", function (event) {
    var box = event.target;
    var name = box.getAttribute && box.getAttribute("data-select-all");
    if (!name) {
      return;
    }
    document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (other) {
      other.checked = box.checked;
    });
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (button && navigator.clipboard) {
      navigator.clipboard.writeText(button.getAttribute("data-copy"));
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".flash").forEach(function (flash) {
      window.setTimeout(function () {
        flash.classList.remove("show");
        window.setTimeout(function () { flash.remove(); }, 400);
      }, 8000);
    });
  });
})();
