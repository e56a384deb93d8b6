// Dark mode: follow the system's prefers-color-scheme (Bootstrap 5.3 reads data-bs-theme), and follow
// it live when the system switches. Loaded in <head> without defer so the page never flashes light.
(function () {
  "use strict";
  var query = window.matchMedia("(prefers-color-scheme: dark)");
  function apply() {
    document.documentElement.setAttribute("data-bs-theme", query.matches ? "dark" : "light");
  }
  apply();
  if (query.addEventListener) {
    query.addEventListener("change", apply);
  }
})();
