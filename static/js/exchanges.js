// Exchange pages: Show/Hide buttons on key inputs, and connection cards that follow live events.
// app.js owns the /ws/events socket and re-dispatches each message as a "cv:event" DOM event; this
// file only listens. The buttons start hidden, so a page without JavaScript shows no dead control.
(function () {
  "use strict";

  var STATUS = {
    connected: ["Connected", "badge-good"],
    degraded: ["Degraded", "badge-warn"],
    error: ["Error", "badge-bad"],
    revoked: ["Revoked", "badge-muted"]
  };

  function setupSecretToggles() {
    document.querySelectorAll("[data-secret-toggle]").forEach(function (button) {
      var input = document.getElementById(button.dataset.secretToggle);
      if (!input) return;
      var name = button.getAttribute("aria-label").replace(/^Show /, "");
      button.hidden = false;
      button.addEventListener("click", function () {
        var shown = button.getAttribute("aria-pressed") !== "true";
        if (input.tagName === "TEXTAREA") {
          input.classList.toggle("secret-text-shown", shown);
        } else {
          input.type = shown ? "text" : "password";
        }
        button.setAttribute("aria-pressed", String(shown));
        button.setAttribute("aria-label", (shown ? "Hide " : "Show ") + name);
        button.textContent = shown ? "Hide" : "Show";
      });
    });
    // A secret shown while typing is hidden again before the form leaves the page.
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("[data-secret-toggle][aria-pressed='true']").forEach(function (button) {
          button.click();
        });
      });
    });
  }

  function exactTime(date) {
    return date.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit"
    });
  }

  function updateCard(payload) {
    var card = document.querySelector('[data-connection-id="' + String(payload.id) + '"]');
    if (!card) return;
    var badge = card.querySelector("[data-status-badge]");
    var status = STATUS[payload.status];
    if (badge && status) {
      badge.textContent = status[0];
      badge.classList.remove("badge-good", "badge-warn", "badge-bad", "badge-muted");
      badge.classList.add(status[1]);
    }
    var lastCheck = card.querySelector("[data-last-check]");
    if (lastCheck && payload.last_checked_at) {
      var when = new Date(payload.last_checked_at);
      var time = document.createElement("time");
      time.dateTime = payload.last_checked_at;
      time.title = exactTime(when);
      time.textContent = "just now";
      lastCheck.replaceChildren(time);
      if (payload.last_error_code) {
        var code = document.createElement("code");
        code.className = "small";
        code.textContent = payload.last_error_code;
        lastCheck.append(" ", code);
      }
    }
    var latency = card.querySelector("[data-latency]");
    if (latency) {
      latency.textContent = payload.latency_ms === null || payload.latency_ms === undefined ? "—" : payload.latency_ms + " ms";
    }
    card.dataset.updated = "live";
  }

  document.addEventListener("cv:event", function (event) {
    var message = event.detail || {};
    if (message.type === "exchange.connection" && message.payload) updateCard(message.payload);
  });

  document.addEventListener("DOMContentLoaded", setupSecretToggles);
})();
