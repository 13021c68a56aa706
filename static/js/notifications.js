// The nav's unread-notifications badge, kept live from /ws/events (accounts/notify.py pushes each
// notification with the new unread count; reading them elsewhere pushes "notifications.unread").
// Pages that show the live-events status already hold a socket (static/js/app.js), whose messages
// arrive as "cv:event"; on the others this opens one quietly and re-dispatches its messages the same
// way, so a notification appears on every page. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function setBadge(count) {
    document.querySelectorAll("[data-notification-badge]").forEach(function (badge) {
      var n = Math.max(0, parseInt(count, 10) || 0);
      badge.textContent = String(n);
      badge.setAttribute("aria-label", n + " unread");
      badge.hidden = n === 0;
    });
  }

  document.addEventListener("cv:event", function (event) {
    var message = event.detail || {};
    var payload = message.payload || {};
    if ((message.type === "notification" || message.type === "notifications.unread") && "unread" in payload) {
      setBadge(payload.unread);
    }
  });

  function connectQuietly() {
    var delay = 1000;
    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + "/ws/events/");
      socket.addEventListener("message", function (event) {
        var message = JSON.parse(event.data);
        if (message.type === "connected") { delay = 1000; return; }
        document.dispatchEvent(new CustomEvent("cv:event", { detail: message }));
      });
      socket.addEventListener("close", function () {
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, 60000);
      });
    }
    connect();
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector("[data-notification-badge]")) return;  // not signed in
    if (!document.querySelector("[data-live-events]")) connectQuietly();
  });
})();
