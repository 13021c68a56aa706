// Withdrawal addresses page: the network select offers only the chosen asset's networks, the memo
// field shows only where the chain has one, and cooling-down addresses count down to usable.
// Without JavaScript every network and the memo field show, and the server checks the pair.
(function () {
  "use strict";

  function fieldBox(input) {
    return input && input.closest("div");
  }

  function setUpNetworks(form) {
    var asset = form.querySelector("select[name=asset]");
    var network = form.querySelector("select[name=network]");
    var memo = form.querySelector("input[name=memo]");
    if (!asset || !network) return;
    var memoBox = fieldBox(memo);
    var memoLabel = memoBox && memoBox.querySelector("label");

    function chosenOption() {
      return network.options[network.selectedIndex];
    }

    function updateMemo() {
      if (!memoBox) return;
      var option = chosenOption();
      var rule = option && option.dataset.memo;
      var show = rule === "required" || rule === "optional" || (memo.value !== "");
      memoBox.hidden = !show;
      if (memoLabel && option && option.dataset.memoName) {
        var name = option.dataset.memoName;
        memoLabel.textContent = name.charAt(0).toUpperCase() + name.slice(1) + (rule === "optional" ? " (optional)" : "") + ":";
      }
    }

    function updateNetworks() {
      var wanted = asset.value;
      var keep = false;
      var first = null;
      Array.prototype.forEach.call(network.options, function (option) {
        if (!option.dataset.asset) return; // "Choose…"
        var offered = option.dataset.asset === wanted;
        option.hidden = !offered;
        option.disabled = !offered;
        if (offered && !first) first = option;
        if (offered && option.selected) keep = true;
      });
      if (!keep) {
        if (first) first.selected = true; else network.selectedIndex = 0;
      }
      updateMemo();
    }

    asset.addEventListener("change", updateNetworks);
    network.addEventListener("change", updateMemo);
    updateNetworks();
  }

  function remaining(until) {
    var seconds = Math.max(0, Math.floor((until - Date.now()) / 1000));
    if (seconds === 0) return "usable now: reload the page";
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var secs = seconds % 60;
    return (hours ? hours + " h " : "") + (hours || minutes ? minutes + " min " : "") + secs + " s left";
  }

  function startCountdowns() {
    var items = document.querySelectorAll("[data-countdown]");
    if (!items.length) return;
    function tick() {
      items.forEach(function (item) {
        var until = Date.parse(item.dataset.countdown);
        if (!isNaN(until)) item.textContent = remaining(until);
      });
    }
    tick();
    window.setInterval(tick, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("add-withdrawal-address");
    if (form) setUpNetworks(form);
    startCountdowns();
  });
})();
