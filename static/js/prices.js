// Live prices from /ws/prices: the ticker strip, the markets table and the chart page's quote move in place.
// The page renders the feed's prices server-side; this file only moves them. Any element with
// data-ticker="BTC/USDT" follows that market: its [data-field] children (last, change, high, low,
// quote_volume, source) are rewritten from each tick and flash when they change. Each snapshot or tick is
// also re-dispatched as a "cv:prices" DOM event ({kind, ticks, at}) for chart.js.
// Protocol (exchanges/market/consumers.py): the server sends {"type": "snapshot"|"tick", "payload": {"ticks": [...]}}
// and {"type": "ping"}; we answer {"type": "pong"} and may send {"action": "subscribe", "symbols": [...]}.
(function () {
  "use strict";

  var FLASH_MS = 1600;

  // The same formatting as exchanges/views/market.py (price_text, change_text), so values don't jump in style.
  function priceText(value) {
    var number = Number(value);
    if (value === null || value === undefined || value === "" || !isFinite(number)) return "—";
    if (number === 0) return "0.00";
    var decimals = Math.min(8, Math.max(2, 4 - Math.floor(Math.log10(Math.abs(number)))));
    return number.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  }

  function changeText(value) {
    var number = Number(value);
    if (value === null || value === undefined || value === "" || !isFinite(number)) return ["—", "flat"];
    number = Math.round(number * 100) / 100;
    if (number > 0) return ["+" + number.toFixed(2) + "%", "up"];
    if (number < 0) return ["\u2212" + Math.abs(number).toFixed(2) + "%", "down"];
    return ["0.00%", "flat"];
  }

  function volumeText(value) {
    var number = Number(value);
    if (!isFinite(number)) return "—";
    return number.toLocaleString("en-US", { maximumFractionDigits: 0 });
  }

  function flash(cell, direction) {
    cell.classList.remove("flash-up", "flash-down", "flash");
    void cell.offsetWidth; // restart the animation when two ticks come close together
    cell.classList.add("flash", direction === "down" ? "flash-down" : "flash-up");
    window.setTimeout(function () { cell.classList.remove("flash-up", "flash-down", "flash"); }, FLASH_MS);
  }

  function setCell(row, field, text, direction) {
    var cell = row.querySelector('[data-field="' + field + '"]');
    if (!cell || cell.textContent === text) return false;
    cell.textContent = text;
    if (direction !== undefined) flash(cell, direction);
    return true;
  }

  function applyTick(tick) {
    var rows = document.querySelectorAll('[data-ticker="' + String(tick.symbol).replace(/"/g, "") + '"]');
    rows.forEach(function (row) {
      var previous = parseFloat(row.dataset.last || "NaN");
      var last = Number(tick.last);
      var direction = isFinite(previous) && last < previous ? "down" : "up";
      row.dataset.last = String(last);
      setCell(row, "last", priceText(tick.last), direction);
      var change = changeText(tick.change_24h_pct);
      var changeCell = row.querySelector('[data-field="change"]');
      if (changeCell) {
        changeCell.classList.remove("change-up", "change-down", "change-flat");
        changeCell.classList.add("change-" + change[1]);
      }
      setCell(row, "change", change[0]);
      setCell(row, "high", priceText(tick.high_24h));
      setCell(row, "low", priceText(tick.low_24h));
      setCell(row, "quote_volume", volumeText(tick.quote_volume_24h));
      setCell(row, "source", tick.source_label);
      row.dataset.source = tick.source;
    });
  }

  function showSources(ticks) {
    var labels = [];
    var offline = false;
    ticks.forEach(function (tick) {
      if (labels.indexOf(tick.source_label) === -1) labels.push(tick.source_label);
      if (tick.source === "replay") offline = true;
    });
    if (!labels.length) return;
    document.querySelectorAll("[data-prices-source]").forEach(function (badge) {
      badge.textContent = labels.join(" · ");
      badge.classList.toggle("badge-warn", offline);
      badge.classList.toggle("badge-good", !offline);
    });
  }

  function setup() {
    var root = document.querySelector("[data-prices-socket]");
    if (!root || !window.WebSocket) return;
    var statuses = document.querySelectorAll("[data-prices-status]");
    var symbols = (root.dataset.pricesSymbols || "").split(",").filter(Boolean);
    var delay = 1000;
    var received = 0;

    // The rows' current values, so the first tick's direction is known.
    document.querySelectorAll("[data-ticker]").forEach(function (row) {
      var cell = row.querySelector('[data-field="last"]');
      if (cell) row.dataset.last = cell.textContent.replace(/,/g, "");
    });

    function show(state, text) {
      statuses.forEach(function (status) {
        status.dataset.state = state;
        var label = status.querySelector("[data-prices-label]");
        if (label) label.textContent = text;
      });
    }

    function handle(socket, message) {
      if (message.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
        return;
      }
      if ((message.type !== "snapshot" && message.type !== "tick") || !message.payload) return;
      var ticks = message.payload.ticks || [];
      if (symbols.length) {
        ticks = ticks.filter(function (tick) { return symbols.indexOf(tick.symbol) !== -1; });
      }
      ticks.forEach(applyTick);
      showSources(ticks);
      if (message.type === "snapshot") {
        delay = 1000;
        show("live", "Connected to the price feed");
      }
      received += 1;
      root.dataset.pricesMessages = String(received);
      document.dispatchEvent(new CustomEvent("cv:prices", {
        detail: { kind: message.type, ticks: ticks, at: message.payload.at || null }
      }));
    }

    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + root.dataset.pricesSocket);
      socket.addEventListener("open", function () {
        if (symbols.length) socket.send(JSON.stringify({ action: "subscribe", symbols: symbols }));
      });
      socket.addEventListener("message", function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (e) { return; }
        handle(socket, message);
      });
      socket.addEventListener("close", function () {
        show("offline", "Price feed interrupted — reconnecting…");
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }
    connect();
  }

  window.CryptoVaultPrices = { priceText: priceText, changeText: changeText };
  document.addEventListener("DOMContentLoaded", setup);
})();
