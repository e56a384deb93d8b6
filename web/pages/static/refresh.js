// Refresh figures without a full reload: every element with data-refresh="URL" is re-fetched with
// X-Fragment: 1 (the server answers with just that element's fragment) every data-interval ms.
// Pauses while the tab is hidden, while the user is typing in a form inside the element, and while a
// checkbox inside it is ticked (a selection for a bulk button must not vanish under the user).
(function () {
  "use strict";
  function refresh(el) {
    var typing = el.contains(document.activeElement) && document.activeElement.tagName === "INPUT";
    if (document.hidden || typing || el.querySelector("input[type=checkbox]:checked")) {
      return;
    }
    fetch(el.dataset.refresh, {headers: {"X-Fragment": "1"}, credentials: "same-origin", redirect: "manual"})
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401) {
          window.location.reload();  // the session ended: let the server send us to /login
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== undefined) {
          el.innerHTML = html;
          el.dataset.refreshedAt = String(Date.now());
        }
      })
      .catch(function () { /* network blip: try again next tick */ });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh]").forEach(function (el) {
      var every = parseInt(el.dataset.interval || "5000", 10);
      window.setInterval(function () { refresh(el); }, every);
    });
  });
})();
