// The backtest pages (templates/analytics/backtest_*.html). app.js owns the /ws/events socket and re-dispatches each
// message as a "cv:event" DOM event; this file listens for backtest.progress / backtest.finished and keeps every
// [data-backtest-status] on the page current. A detail page whose backtest finishes reloads itself to show the
// results; it also asks the API once per (re)connection, so an event missed while offline is not a page stuck on
// "running". Charts are lightweight-charts 5 (window.LightweightCharts), fed from the backtest's API answer: the CSP
// allows no inline script, so everything comes from data-* attributes. The DOM says what is on screen for people and
// tests alike: [data-chart-state] on each chart (ready, empty, error), [data-markers] on the candles chart.
(function () {
  "use strict";

  var ACTIVE = { queued: true, running: true };
  var LABELS = { queued: "Queued", running: "Running", done: "Done", failed: "Failed", cancelled: "Cancelled" };
  var BADGES = { queued: "badge-muted", running: "badge-warn", done: "badge-good", failed: "badge-bad", cancelled: "badge-muted" };
  var COMPARE_COLOURS = ["#1c7ed6", "#e8590c", "#2f9e44", "#9c36b5"];

  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  function getJson(url) {
    return window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) throw new Error("the server answered " + response.status);
      return response.json();
    });
  }

  // --- live status -----------------------------------------------------------------------------------------------
  function showStatus(payload) {
    document.querySelectorAll('[data-backtest-status="' + String(payload.id) + '"]').forEach(function (box) {
      var active = !!ACTIVE[payload.status];
      box.dataset.status = payload.status;
      var badge = box.querySelector('[data-field="status"]');
      if (badge) {
        badge.textContent = LABELS[payload.status] || payload.status;
        Object.keys(BADGES).forEach(function (key) { badge.classList.remove(BADGES[key]); });
        badge.classList.add(BADGES[payload.status] || "badge-muted");
      }
      var bar = box.querySelector('[data-field="progress"]');
      if (bar) { bar.value = payload.progress; bar.textContent = payload.progress + " %"; bar.hidden = !active; }
      var percent = box.querySelector('[data-field="percent"]');
      if (percent) { percent.textContent = payload.progress + " %"; percent.hidden = !active; }
      var message = box.querySelector('[data-field="message"]');
      if (message) message.textContent = active ? (payload.message || "") : "";
    });
    var detail = document.querySelector('[data-backtest-detail="' + String(payload.id) + '"]');
    if (detail && ACTIVE[detail.dataset.status] && !ACTIVE[payload.status]) {
      detail.dataset.status = payload.status;
      window.location.reload(); // the results (or the error) are rendered by the server
    }
  }

  function catchUp() {
    var detail = document.querySelector("[data-backtest-detail]");
    if (!detail || !ACTIVE[detail.dataset.status]) return;
    getJson(detail.dataset.apiUrl).then(function (body) {
      showStatus({ id: body.id, status: body.status, progress: body.progress, message: body.progress_message });
    }).catch(function () { /* the socket's next event will do */ });
  }

  document.addEventListener("cv:event", function (event) {
    var message = event.detail || {};
    if (message.type === "connected") { catchUp(); return; }
    if (message.type === "backtest.progress" || message.type === "backtest.finished" || message.type === "backtest.created") {
      showStatus(message.payload);
    }
  });

  // --- the new-backtest form ---------------------------------------------------------------------------------------
  function setupForm() {
    var form = document.querySelector("[data-backtest-form]");
    if (!form) return;
    var strategy = form.querySelector('select[name="strategy"]');
    var kind = form.querySelector('select[name="kind"]');
    var search = form.querySelector("[data-search-fields]");
    function sync() {
      form.querySelectorAll("[data-strategy-params]").forEach(function (group) {
        group.hidden = group.dataset.strategyParams !== strategy.value;
      });
      if (search) search.hidden = kind.value === "single";
    }
    strategy.addEventListener("change", sync);
    kind.addEventListener("change", sync);
    sync();
  }

  // --- charts ----------------------------------------------------------------------------------------------------
  function chartOptions() {
    return {
      autoSize: true,
      layout: {
        background: { type: "solid", color: cssVar("--surface") }, textColor: cssVar("--muted"),
        attributionLogo: false // it would inject a <style> element, which the CSP refuses; credited in the page
      },
      grid: { vertLines: { visible: false }, horzLines: { color: cssVar("--border") } },
      rightPriceScale: { borderColor: cssVar("--border") },
      timeScale: { borderColor: cssVar("--border"), timeVisible: true, secondsVisible: false }
    };
  }

  function points(pairs) {
    var out = [];
    var last = -Infinity;
    (pairs || []).forEach(function (pair) {
      var time = Math.floor(pair[0] / 1000);
      if (pair[1] === null || time <= last) return; // strictly increasing times, as the library asks
      last = time;
      out.push({ time: time, value: pair[1] });
    });
    return out;
  }

  function state(container, value, text) {
    container.dataset.chartState = value;
    if (text) container.setAttribute("aria-label", container.getAttribute("aria-label") + " — " + text);
  }

  function drawCandles(LC, container, chart) {
    var view = LC.createChart(container, chartOptions());
    var series = view.addSeries(LC.CandlestickSeries, {
      upColor: cssVar("--good"), downColor: cssVar("--bad"), wickUpColor: cssVar("--good"), wickDownColor: cssVar("--bad"),
      borderVisible: false
    });
    series.setData(chart.candles.map(function (row) {
      return { time: Math.floor(row[0] / 1000), open: row[1], high: row[2], low: row[3], close: row[4] };
    }));
    var labelled = chart.markers.length <= 24; // beyond that the labels only hide each other
    var markers = chart.markers.map(function (marker) {
      var buy = marker.side === "buy";
      var words = (buy ? "Buy " : "Sell ") + Number(marker.price).toFixed(2) + (marker.reason !== "signal" ? " (" + marker.reason + ")" : "");
      return {
        time: Math.floor(marker.time / 1000),
        position: buy ? "belowBar" : "aboveBar",
        shape: buy ? "arrowUp" : "arrowDown",
        color: buy ? cssVar("--good") : cssVar("--bad"),
        text: labelled ? words : (marker.reason !== "signal" ? marker.reason : "")
      };
    }).sort(function (a, b) { return a.time - b.time; });
    LC.createSeriesMarkers(series, markers);
    view.timeScale().fitContent();
    container.dataset.markers = String(markers.length);
    var note = document.querySelector("[data-chart-markers]");
    if (note) note.textContent = markers.length + " fills marked.";
    state(container, chart.candles.length ? "ready" : "empty");
  }

  function drawEquity(LC, container, results) {
    var source = results.walk_forward || results;
    var view = LC.createChart(container, chartOptions());
    var equity = view.addSeries(LC.LineSeries, { color: cssVar("--accent") || "#1c7ed6", lineWidth: 2, title: "Strategy" });
    equity.setData(points(source.equity));
    if (results.benchmark_equity && !results.walk_forward) {
      var benchmark = view.addSeries(LC.LineSeries, { color: cssVar("--muted"), lineWidth: 1, lineStyle: 2, title: "Buy and hold" });
      benchmark.setData(points(results.benchmark_equity));
    }
    var drawdown = view.addSeries(LC.AreaSeries, {
      lineColor: cssVar("--bad"), topColor: "rgba(224, 49, 49, 0.05)", bottomColor: "rgba(224, 49, 49, 0.35)",
      lineWidth: 1, title: "Drawdown", priceFormat: { type: "percent" }
    }, 1);
    drawdown.setData(points(source.drawdown).map(function (point) { return { time: point.time, value: point.value * 100 }; }));
    view.timeScale().fitContent();
    state(container, (source.equity || []).length ? "ready" : "empty");
  }

  function setupDetailCharts(LC) {
    var detail = document.querySelector("[data-backtest-detail]");
    if (!detail || detail.dataset.status !== "done") return;
    var candles = document.querySelector('[data-backtest-chart="candles"]');
    var equity = document.querySelector('[data-backtest-chart="equity"]');
    getJson(detail.dataset.apiUrl).then(function (body) {
      var results = body.results || {};
      if (candles && results.chart) drawCandles(LC, candles, results.chart);
      if (equity) drawEquity(LC, equity, results);
    }).catch(function (error) {
      [candles, equity].forEach(function (container) { if (container) state(container, "error", "could not be loaded: " + error.message); });
    });
  }

  function setupCompareChart(LC) {
    var card = document.querySelector("[data-backtest-compare]");
    if (!card) return;
    var container = card.querySelector('[data-backtest-chart="compare"]');
    var legend = card.querySelector("[data-compare-legend]");
    getJson(card.dataset.apiUrl).then(function (body) {
      var view = LC.createChart(container, chartOptions());
      body.backtests.forEach(function (backtest, index) {
        var colour = COMPARE_COLOURS[index % COMPARE_COLOURS.length];
        var line = view.addSeries(LC.LineSeries, { color: colour, lineWidth: 2, title: "#" + backtest.id });
        line.setData(points(backtest.equity));
        var item = document.createElement("li");
        var swatch = document.createElement("span");
        swatch.textContent = "━ ";
        swatch.style.color = colour;
        item.append(swatch, document.createTextNode(backtest.label));
        item.dataset.testid = "compare-legend-item";
        legend.append(item);
      });
      view.timeScale().fitContent();
      container.dataset.series = String(body.backtests.length);
      state(container, "ready");
    }).catch(function (error) { state(container, "error", "could not be loaded: " + error.message); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupForm();
    var LC = window.LightweightCharts;
    if (!LC) return;
    setupDetailCharts(LC);
    setupCompareChart(LC);
  });
})();
