// Account pages: "Copy" buttons next to a secret shown once (authenticator key, recovery codes,
// a new API key). The buttons start hidden, so a page without JavaScript shows no dead control.
(function () {
  "use strict";

  function textOf(element) {
    var items = element.querySelectorAll("li");
    if (items.length) {
      return Array.prototype.map.call(items, function (item) { return item.textContent.trim(); }).join("\n");
    }
    return element.textContent.trim();
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      var target = document.getElementById(button.dataset.copyTarget);
      if (!target) return;
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        var done = function () {
          button.textContent = "Copied";
          window.setTimeout(function () { button.textContent = label; }, 2000);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(textOf(target)).then(done, function () { selectText(target); });
        } else {
          selectText(target);
        }
      });
    });
  });
})();
