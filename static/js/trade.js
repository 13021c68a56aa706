// Trading pages: live regions that follow the trader's orders, and the trade ticket's form.
//
// Live regions (dashboard, portfolio, open orders, history, an order's page) are htmx elements that
// fetch their own page again on the "cv-orders" and "cv-prices" events of <body> (hx-trigger ... from:body)
// and swap themselves in: the server recomputes the figures, nothing about money is computed here.
// app.js owns the /ws/events socket and re-dispatches each message as "cv:event"; an order event
// (order.placed, order.filled, order.cancelled, order.rejected, order.expired) becomes one "cv-orders"
// (a burst of events, one refresh). prices.js re-dispatches ticks as "cv:prices"; at most one
// "cv-prices" every PRICE_REFRESH_MS follows, for the regions that value holdings at the current prices.
//
// The ticket: trading/forms.py TYPE_FIELDS (in data-type-fields) says which fields each order type
// takes; the others are hidden (the server drops them too). The last price follows /ws/prices for the
// chosen market, and the estimate (value, fee, total) is recomputed as the trader types, the same way
// trading/views/trade.py estimates it on the confirmation, which is the figure that counts.
(function () {
  "use strict";

  var ORDER_EVENTS = ["order.placed", "order.filled", "order.cancelled", "order.rejected", "order.expired"];
  var ORDER_DEBOUNCE_MS = 150;
  var PRICE_REFRESH_MS = 15000;
  var orderTimer = null;
  var lastPriceRefresh = 0;
  var prices = {}; // symbol -> the latest tick seen

  document.addEventListener("cv:event", function (event) {
    var message = event.detail || {};
    if (ORDER_EVENTS.indexOf(message.type) === -1) return;
    window.clearTimeout(orderTimer);
    orderTimer = window.setTimeout(function () {
      document.body.dispatchEvent(new CustomEvent("cv-orders", { detail: message }));
    }, ORDER_DEBOUNCE_MS);
  });

  document.addEventListener("cv:prices", function (event) {
    var detail = event.detail || {};
    (detail.ticks || []).forEach(function (tick) { prices[tick.symbol] = tick; });
    if (detail.kind !== "tick") return;
    var now = Date.now();
    if (now - lastPriceRefresh < PRICE_REFRESH_MS) return;
    lastPriceRefresh = now;
    document.body.dispatchEvent(new CustomEvent("cv-prices"));
  });

  // The ticket ------------------------------------------------------------------------------------

  function parseJson(text, fallback) {
    try { return JSON.parse(text || ""); } catch (e) { return fallback; }
  }

  function number(value) {
    if (value === null || value === undefined) return null;
    var text = String(value).replace(/,/g, "").trim();
    if (text === "" || text === "—") return null;
    var parsed = Number(text);
    return isFinite(parsed) ? parsed : null;
  }

  function usdText(value) {
    if (value === null || !isFinite(value)) return "—";
    return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " USDT";
  }

  function setupTicket(form) {
    var typeFields = parseJson(form.dataset.typeFields, {});
    var fees = parseJson(form.dataset.fees, {});
    var paper = parseJson(form.dataset.paperAccounts, []);
    var slippage = Number(form.dataset.slippageBps || "0") / 10000;
    var typeSelect = form.querySelector("[data-order-type]");
    var symbolSelect = form.querySelector("[data-order-symbol]");
    var accountSelect = form.querySelector("[data-order-account]");
    var priceBox = form.querySelector("[data-trade-price]");
    var estimateBox = form.querySelector("[data-estimate]");
    var estimateNote = form.querySelector("[data-estimate-note]");
    var initialSymbol = priceBox ? priceBox.dataset.ticker : "";

    function field(name) { return form.querySelector('[name="' + name + '"]'); }
    function value(name) {
      var input = field(name);
      var group = form.querySelector('[data-order-group="' + name + '"]');
      if (!input || (group && group.hidden)) return null;
      return number(input.value);
    }
    function side() {
      var checked = form.querySelector('[name="side"]:checked');
      return checked ? checked.value : "buy";
    }

    function showFields() {
      var used = typeFields[typeSelect.value] || [];
      form.querySelectorAll("[data-order-group]").forEach(function (group) {
        group.hidden = used.indexOf(group.dataset.orderGroup) === -1;
      });
    }

    function lastPrice() {
      var symbol = symbolSelect.value;
      if (prices[symbol]) return number(prices[symbol].last);
      if (symbol === initialSymbol && priceBox) return number(priceBox.dataset.last || "");
      return null;
    }

    function showPrice() {
      if (!priceBox) return;
      var symbol = symbolSelect.value;
      if (priceBox.dataset.ticker === symbol) return;
      priceBox.dataset.ticker = symbol; // prices.js moves [data-ticker] elements: this one now follows `symbol`
      var tick = prices[symbol];
      var formatted = tick && window.CryptoVaultPrices ? window.CryptoVaultPrices.priceText(tick.last) : "—";
      priceBox.querySelector('[data-field="last"]').textContent = formatted;
      priceBox.dataset.last = tick ? String(Number(tick.last)) : "";
      var source = priceBox.querySelector('[data-field="source"]');
      if (source) source.textContent = tick ? tick.source_label : "";
      var change = priceBox.querySelector('[data-field="change"]');
      if (change) change.textContent = "";
    }

    // The same reference price and fee as trading/views/trade.py's estimate().
    function estimate() {
      var type = typeSelect.value;
      var buy = side() === "buy";
      var last = lastPrice();
      var accountFees = fees[accountSelect.value];
      if (!accountFees) return null;
      var reference = null;
      if (type === "market" || type === "trailing_stop") {
        var move = paper.indexOf(accountSelect.value) !== -1 ? slippage : 0;
        if (last !== null) reference = buy ? last * (1 + move) : last * (1 - move);
      } else if (type === "limit" || type === "stop_limit" || type === "oco") {
        reference = value("price");
      } else {
        reference = value("stop_price");
      }
      var resting = type === "limit" && last !== null && reference !== null && (buy ? reference < last : reference > last);
      var rate = Number(resting ? accountFees.maker : accountFees.taker);
      var quantity = value("quantity");
      var notional = null;
      if (quantity !== null && reference !== null) notional = quantity * reference;
      else if (value("quote_amount") !== null) notional = value("quote_amount");
      if (notional === null) return null;
      var fee = notional * rate;
      return { notional: notional, fee: fee, total: buy ? notional + fee : notional - fee, buy: buy };
    }

    function showEstimate() {
      if (!estimateBox) return;
      var figures = estimate();
      estimateBox.hidden = figures === null;
      if (estimateNote) estimateNote.hidden = figures === null;
      if (!figures) return;
      estimateBox.querySelector('[data-estimate-field="notional"]').textContent = usdText(figures.notional);
      estimateBox.querySelector('[data-estimate-field="fee"]').textContent = usdText(figures.fee);
      estimateBox.querySelector('[data-estimate-field="total-label"]').textContent =
        figures.buy ? "Estimated cost" : "Estimated proceeds";
      estimateBox.querySelector('[data-estimate-field="total"]').textContent = usdText(figures.total);
    }

    function refresh() {
      showFields();
      showPrice();
      showEstimate();
    }

    form.addEventListener("input", refresh);
    form.addEventListener("change", refresh);
    document.addEventListener("cv:prices", showEstimate);
    refresh();
    form.dataset.ready = "true"; // the ticket is wired: tests and people may type
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-trade-form]").forEach(setupTicket);
  });
})();
