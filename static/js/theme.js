// Runs in <head> before first paint: apply the saved theme, else the system preference.
(function () {
  var saved = null;
  try { saved = window.localStorage.getItem("cv-theme"); } catch (e) { /* storage disabled */ }
  var prefersDark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.dataset.theme = saved === "dark" || saved === "light" ? saved : (prefersDark ? "dark" : "light");
})();
