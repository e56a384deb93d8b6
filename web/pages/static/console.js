// Page behaviour without inline scripts or handlers (the Content-Security-Policy forbids both):
// - <form data-confirm="text"> or <button data-confirm="text">: asks before submitting (destructive ones);
// - flash messages (.flash) fade out after a few seconds;
// - <input type="checkbox" data-select-all="name">: ticks every checkbox called name;
// - a form with data-needs-selection submits only when a checkbox in it (or given by form=) is ticked;
// - <button data-copy="text">: copies text to the clipboard;
// - the scheduled-task form's next-runs preview and handler help.
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
  // The schedule form: the next runs previewed as you type (debounced), the handler's description.
  var previewTimer = null;
  function preview() {
    var box = document.getElementById("schedule-preview");
    var schedule = document.querySelector('[name="schedule"][data-preview-source]');
    var zone = document.querySelector('[name="timezone"][data-preview-source]');
    if (!box || !schedule) {
      return;
    }
    var url = box.getAttribute("data-preview-url") + "?schedule=" + encodeURIComponent(schedule.value) +
      "&timezone=" + encodeURIComponent(zone ? zone.value : "UTC");
    fetch(url, {headers: {"X-Fragment": "1"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) { box.innerHTML = html; } })
      .catch(function () { /* keep the last preview */ });
  }
  document.addEventListener("input", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-preview-source")) {
      window.clearTimeout(previewTimer);
      previewTimer = window.setTimeout(preview, 250);
    }
  });
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.hasAttribute || !select.hasAttribute("data-handler-select")) {
      return;
    }
    var option = select.options[select.selectedIndex];
    var help = document.querySelector("[data-handler-help]");
    if (help && option) {
      var text = option.getAttribute("data-description") || "no description";
      var params = option.getAttribute("data-params");
      help.textContent = params ? text + " · parameters: " + params : text;
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (document.getElementById("schedule-preview")) {
      preview();
    }
    document.querySelectorAll(".flash").forEach(function (flash) {
      window.setTimeout(function () {
        flash.classList.remove("show");
        window.setTimeout(function () { flash.remove(); }, 400);
      }, 8000);
    });
  });
})();
