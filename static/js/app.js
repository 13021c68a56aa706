// Behaviour shared by every page. No inline scripts anywhere: the CSP forbids them.
(function () {
  "use strict";

  function applyTheme(theme) {
    document.documentElement.dataset.theme = theme;
    try { window.localStorage.setItem("cv-theme", theme); } catch (e) { /* storage disabled */ }
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      var dark = theme === "dark";
      button.setAttribute("aria-pressed", String(dark));
      button.setAttribute("aria-label", dark ? "Switch to light theme" : "Switch to dark theme");
    });
    document.dispatchEvent(new CustomEvent("cv:theme", { detail: { theme: theme } }));
  }

  function setupThemeToggle() {
    applyTheme(document.documentElement.dataset.theme || "light");
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.addEventListener("click", function () {
        applyTheme(document.documentElement.dataset.theme === "dark" ? "light" : "dark");
      });
    });
  }

  // Live events over a websocket, reconnecting with backoff; the page shows the state.
  function setupLiveEvents() {
    var status = document.querySelector("[data-live-events]");
    if (!status) return;
    var label = status.querySelector("[data-live-label]");
    var delay = 1000;
    function show(state, text) { status.dataset.state = state; label.textContent = text; }
    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + status.dataset.liveEvents);
      socket.addEventListener("message", function (event) {
        var message = JSON.parse(event.data);
        if (message.type === "connected") { delay = 1000; show("live", "Live updates on"); }
        document.dispatchEvent(new CustomEvent("cv:event", { detail: message }));
      });
      socket.addEventListener("close", function () {
        show("offline", "Live updates paused — reconnecting…");
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }
    connect();
  }

  // Notifications sent "in the app" (accounts/notify.py) appear with the page's messages.
  function showNotification(payload) {
    var area = document.querySelector(".messages");
    if (!area) {
      area = document.createElement("section");
      area.className = "messages";
      area.setAttribute("aria-label", "Messages");
      area.setAttribute("aria-live", "polite");
      document.querySelector("main").before(area);
    }
    var line = document.createElement("p");
    line.className = "message message-info";
    line.setAttribute("role", "status");
    line.dataset.testid = "notification";
    line.textContent = payload.title + " — " + payload.body;
    area.append(line);
  }

  document.addEventListener("cv:event", function (event) {
    if (event.detail.type === "notification") showNotification(event.detail.payload);
  });

  document.addEventListener("DOMContentLoaded", function () {
    setupThemeToggle();
    setupLiveEvents();
  });
})();
