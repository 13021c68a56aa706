// One market's chart (templates/market/chart.html): candlesticks and volume from the market API, a timeframe
// switch, SMA/EMA/Bollinger overlays, RSI and MACD in panes of their own, and the last candle moving with the
// ticks prices.js re-dispatches as "cv:prices" events. Drawn with lightweight-charts 5 (window.LightweightCharts,
// served from node_modules). Everything the script needs comes from data-* attributes: the CSP allows no
// inline script. The DOM says what is on screen for people and tests alike: [data-chart-state] (loading, ready,
// empty, error), [data-panes] on the chart, [data-timeframe] and [data-bars] on the card.
(function () {
  "use strict";

  var TF_SECONDS = { "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400, "1w": 604800 };
  var MONDAY = 4 * 86400; // 1970-01-01 was a Thursday; weekly candles open on Mondays, 00:00 UTC
  var VISIBLE_BARS = 160;
  var NAMES = {
    "sma:20": "SMA 20", "ema:50": "EMA 50", "bbands:20:2": "Bollinger 20, 2", "rsi:14": "RSI 14",
    "macd:12:26:9": "MACD 12, 26, 9"
  };

  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  function withAlpha(color, alpha) {
    var hex = /^#([0-9a-f]{6})$/i.exec(color);
    if (!hex) return color;
    var n = parseInt(hex[1], 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function palette() {
    return {
      surface: cssVar("--surface"), text: cssVar("--text"), muted: cssVar("--muted"), border: cssVar("--border"),
      good: cssVar("--good"), bad: cssVar("--bad"), accent: cssVar("--accent"),
      sma: "#e8590c", ema: "#9c36b5", bands: "#1098ad", rsi: "#9c36b5", signal: "#e8590c"
    };
  }

  function bucketOf(seconds, timeframe) {
    var size = TF_SECONDS[timeframe];
    if (timeframe === "1w") return Math.floor((seconds - MONDAY) / size) * size + MONDAY;
    return Math.floor(seconds / size) * size;
  }

  function utcText(seconds) {
    var date = new Date(seconds * 1000);
    return date.toLocaleString("en-GB", {
      timeZone: "UTC", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit"
    }) + " UTC";
  }

  // A row of the candles answer: {time, open, high, low, close, volume} (numbers or decimal strings).
  function toBar(row) {
    if (Array.isArray(row)) {
      row = { time: row[0], open: row[1], high: row[2], low: row[3], close: row[4], volume: row[5] };
    }
    var time = typeof row.time === "string" && !/^\d+$/.test(row.time) ? Date.parse(row.time) / 1000 : Number(row.time);
    return {
      time: time, open: Number(row.open), high: Number(row.high), low: Number(row.low),
      close: Number(row.close), volume: Number(row.volume || 0)
    };
  }

  // Why a request failed, in the API's own words: the first field message of a 400, else its detail.
  function reasonOf(status, body) {
    if (body && body.errors) {
      var messages = [];
      Object.keys(body.errors).forEach(function (field) {
        [].concat(body.errors[field]).forEach(function (message) { messages.push(String(message)); });
      });
      if (messages.length) return messages.join(" ");
    }
    if (status === 401 || status === 403) return "your session has ended; reload the page to sign in again.";
    if (status === 429) return "too many requests; wait a minute and try again.";
    if (body && body.detail) {
      return body.detail + (status >= 500 && body.request_id ? " (request " + body.request_id + ")" : "");
    }
    return "the server answered " + status + ".";
  }

  function getJson(url) {
    return window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(
      function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          if (!response.ok) throw new Error(reasonOf(response.status, body));
          return body;
        });
      },
      function () { throw new Error("the server could not be reached. Check your connection."); }
    );
  }

  function setup(root) {
    var LC = window.LightweightCharts;
    var container = root.querySelector("[data-chart-canvas]");
    var stateBox = root.querySelector("[data-chart-state]");
    var message = root.querySelector("[data-chart-message]");
    var retry = root.querySelector("[data-chart-retry]");
    var sourceBadge = root.querySelector("[data-chart-source]");
    var rangeText = root.querySelector("[data-chart-range]");
    var symbol = root.dataset.symbol;
    var timeframe = root.dataset.timeframe;
    var colors = palette();
    var chart = null;
    var candles = null;
    var volume = null;
    var bars = [];
    var lastStored = null;
    var loadSeq = 0;
    var replay = {
      first: Number(root.dataset.replayFirst), end: Number(root.dataset.replayEnd), speed: Number(root.dataset.replaySpeed)
    };
    var mode = root.dataset.mode === "replay" ? "replay" : "live";
    var lastTick = null;
    var loadedEnd = null; // the end the candles were asked up to (replay mode), for indicators asked later
    var overlays = {}; // indicator key -> {series: [...], kind}

    function setState(state, text) {
      stateBox.dataset.chartState = state;
      root.dataset.state = state;
      message.textContent = text;
      retry.hidden = state !== "error";
    }

    function chartOptions() {
      return {
        autoSize: true,
        layout: {
          background: { type: "solid", color: colors.surface }, textColor: colors.muted,
          fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
          attributionLogo: false, // it would inject a <style> element, which the CSP refuses; credited in the page
          panes: { separatorColor: colors.border, separatorHoverColor: withAlpha(colors.accent, 0.2) }
        },
        grid: { vertLines: { color: withAlpha(colors.border, 0.5) }, horzLines: { color: withAlpha(colors.border, 0.5) } },
        rightPriceScale: { borderColor: colors.border },
        timeScale: { borderColor: colors.border, timeVisible: true, secondsVisible: false, rightOffset: 4 },
        crosshair: { mode: 0 }
      };
    }

    function ensureChart() {
      if (chart) return;
      chart = LC.createChart(container, chartOptions());
      candles = chart.addSeries(LC.CandlestickSeries, {
        upColor: colors.good, downColor: colors.bad, wickUpColor: colors.good, wickDownColor: colors.bad,
        borderVisible: false
      });
      volume = chart.addSeries(LC.HistogramSeries, {
        priceScaleId: "volume", priceFormat: { type: "volume" }, lastValueVisible: false, priceLineVisible: false
      });
      chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
      candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.24 } });
      countPanes();
    }

    function countPanes() { container.dataset.panes = String(chart ? chart.panes().length : 0); }

    function volumeBar(bar) {
      return { time: bar.time, value: bar.volume, color: withAlpha(bar.close >= bar.open ? colors.good : colors.bad, 0.35) };
    }

    function precisionFor(price) {
      if (!isFinite(price) || price <= 0) return 2;
      return Math.min(8, Math.max(2, 4 - Math.floor(Math.log10(price))));
    }

    function drawCandles() {
      ensureChart();
      var decimals = precisionFor(bars[bars.length - 1].close);
      candles.applyOptions({
        priceFormat: {
          type: "custom", minMove: Math.pow(10, -decimals),
          formatter: function (price) {
            return price.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
          }
        }
      });
      candles.setData(bars.map(function (bar) {
        return { time: bar.time, open: bar.open, high: bar.high, low: bar.low, close: bar.close };
      }));
      volume.setData(bars.map(volumeBar));
      chart.timeScale().setVisibleLogicalRange({ from: Math.max(0, bars.length - VISIBLE_BARS), to: bars.length + 3 });
      root.dataset.bars = String(bars.length);
      root.dataset.storedBars = String(bars.length);
    }

    function showRange() {
      if (!bars.length) { rangeText.textContent = ""; return; }
      var stored = bars.filter(function (bar) { return bar.time <= lastStored; }).length;
      var text = stored + " " + timeframe + " candles, " + utcText(bars[0].time) + " – " + utcText(lastStored);
      var last = bars[bars.length - 1];
      if (mode === "replay") text += ", on the replay's clock" + (last.live ? "; the last one is forming" : "");
      else if (last.live && last.time > lastStored) text += "; the last candle (" + utcText(last.time) + ") follows the live price";
      else if (last.live) text += "; the last one follows the live price";
      rangeText.textContent = text;
    }

    // --- indicators -----------------------------------------------------------------------------------------
    function indicatorButtons() { return root.querySelectorAll("[data-indicator]"); }

    function activeKeys() {
      var keys = [];
      indicatorButtons().forEach(function (button) {
        if (button.getAttribute("aria-pressed") === "true") keys.push(button.dataset.indicator);
      });
      return keys;
    }

    function lineOptions(color, title, extra) {
      var options = {
        color: color, lineWidth: 2, title: title, priceLineVisible: false, lastValueVisible: true,
        crosshairMarkerVisible: false
      };
      Object.keys(extra || {}).forEach(function (key) { options[key] = extra[key]; });
      return options;
    }

    function removeIndicator(key) {
      var overlay = overlays[key];
      if (!overlay) return;
      overlay.series.forEach(function (series) { chart.removeSeries(series); });
      delete overlays[key];
      countPanes();
    }

    function createIndicator(key) {
      var kind = key.split(":")[0];
      var series = [];
      var pane = chart.panes().length; // a new pane below the others
      if (kind === "sma") series.push(chart.addSeries(LC.LineSeries, lineOptions(colors.sma, NAMES[key])));
      if (kind === "ema") series.push(chart.addSeries(LC.LineSeries, lineOptions(colors.ema, NAMES[key])));
      if (kind === "bbands") {
        var band = { lineWidth: 1, lastValueVisible: false, title: "" };
        series.push(chart.addSeries(LC.LineSeries, lineOptions(colors.bands, "", band)));
        series.push(chart.addSeries(LC.LineSeries, lineOptions(colors.bands, "BB 20, 2", { lineWidth: 1, lineStyle: 2 })));
        series.push(chart.addSeries(LC.LineSeries, lineOptions(colors.bands, "", band)));
      }
      if (kind === "rsi") {
        var rsi = chart.addSeries(LC.LineSeries, lineOptions(colors.rsi, NAMES[key], {
          autoscaleInfoProvider: function () { return { priceRange: { minValue: 0, maxValue: 100 } }; }
        }), pane);
        [70, 30].forEach(function (level) {
          rsi.createPriceLine({ price: level, color: colors.muted, lineWidth: 1, lineStyle: 2, axisLabelVisible: true, title: "" });
        });
        series.push(rsi);
      }
      if (kind === "macd") {
        series.push(chart.addSeries(LC.HistogramSeries, { priceLineVisible: false, lastValueVisible: false, title: "" }, pane));
        series.push(chart.addSeries(LC.LineSeries, lineOptions(colors.accent, "MACD", { lineWidth: 1.5 }), pane));
        series.push(chart.addSeries(LC.LineSeries, lineOptions(colors.signal, "Signal", { lineWidth: 1.5 }), pane));
      }
      if (kind === "rsi" || kind === "macd") {
        // The price pane keeps most of the height: 3 parts to its 1 for each indicator pane.
        chart.panes()[0].setStretchFactor(3);
        chart.panes()[chart.panes().length - 1].setStretchFactor(1);
      }
      overlays[key] = { series: series, kind: kind };
      countPanes();
      return overlays[key];
    }

    function points(times, values, color) {
      var out = [];
      for (var i = 0; i < times.length && i < values.length; i += 1) {
        if (values[i] === null || values[i] === undefined) {
          out.push({ time: times[i] }); // whitespace during the warm-up keeps the series aligned with the candles
        } else if (color) {
          out.push({ time: times[i], value: values[i], color: values[i] >= 0 ? withAlpha(colors.good, 0.5) : withAlpha(colors.bad, 0.5) });
        } else {
          out.push({ time: times[i], value: values[i] });
        }
      }
      return out;
    }

    function drawIndicator(key, times, outputs) {
      var overlay = overlays[key] || createIndicator(key);
      var kind = overlay.kind;
      if (kind === "sma" || kind === "ema" || kind === "rsi") overlay.series[0].setData(points(times, outputs.value));
      if (kind === "bbands") {
        overlay.series[0].setData(points(times, outputs.upper));
        overlay.series[1].setData(points(times, outputs.middle));
        overlay.series[2].setData(points(times, outputs.lower));
      }
      if (kind === "macd") {
        overlay.series[0].setData(points(times, outputs.histogram, true));
        overlay.series[1].setData(points(times, outputs.macd));
        overlay.series[2].setData(points(times, outputs.signal));
      }
    }

    function indicatorTimes(data) {
      if (data.times) return data.times.map(Number);
      if (data.time) return data.time.map(Number);
      if (data.candles) return data.candles.map(function (row) { return toBar(row).time; });
      return bars.map(function (bar) { return bar.time; });
    }

    function loadIndicators(keys, seq, end) {
      if (!keys.length) return Promise.resolve();
      var days = root.querySelector('[data-timeframe-option="' + timeframe + '"]').dataset.days;
      var url = root.dataset.indicatorsUrl + "?timeframe=" + encodeURIComponent(timeframe) + "&days=" + days +
        "&names=" + encodeURIComponent(keys.join(","));
      if (end !== null && end !== undefined) url += "&end=" + end;
      root.dataset.indicatorsState = "loading";
      return getJson(url).then(function (data) {
        if (seq !== loadSeq) return;
        var times = indicatorTimes(data);
        var values = data.indicators || {};
        keys.forEach(function (key) {
          var button = root.querySelector('[data-indicator="' + key + '"]');
          if (values[key] && button && button.getAttribute("aria-pressed") === "true") drawIndicator(key, times, values[key]);
        });
        root.dataset.indicatorsState = "ready";
      }).catch(function (error) {
        if (seq !== loadSeq) return;
        keys.forEach(function (key) {
          removeIndicator(key);
          var button = root.querySelector('[data-indicator="' + key + '"]');
          if (button) button.setAttribute("aria-pressed", "false");
        });
        root.dataset.indicatorsState = "error";
        setNotice("Could not load " + keys.map(function (key) { return NAMES[key] || key; }).join(", ") + ": " + error.message);
      });
    }

    function setNotice(text) {
      var notice = root.querySelector("[data-chart-notice]");
      notice.textContent = text;
      notice.hidden = !text;
    }

    // --- candles --------------------------------------------------------------------------------------------
    function load() {
      loadSeq += 1;
      var seq = loadSeq;
      var button = root.querySelector('[data-timeframe-option="' + timeframe + '"]');
      if (!button) { setState("empty", "No candles are stored for " + symbol + " yet."); return; }
      root.dataset.timeframe = timeframe;
      delete root.dataset.liveClose;
      delete root.dataset.liveTime;
      setNotice("");
      setState("loading", "Loading " + timeframe + " candles…");
      var url = root.dataset.candlesUrl + "?timeframe=" + encodeURIComponent(timeframe) + "&days=" + button.dataset.days;
      var end = candlesEnd();
      if (end !== null) url += "&end=" + end;
      getJson(url).then(function (data) {
        if (seq !== loadSeq) return;
        var rows = data.candles || data.bars || data.results || [];
        bars = rows.map(toBar).filter(function (bar) { return isFinite(bar.time) && isFinite(bar.close); });
        if (data.source_label) {
          sourceBadge.textContent = data.source_label;
          sourceBadge.classList.toggle("badge-warn", data.source === "replay");
        }
        if (!bars.length) {
          setState("empty", "No " + timeframe + " candles are stored for " + symbol + " in the last " +
            button.dataset.days + " days.");
          rangeText.textContent = "";
          return;
        }
        lastStored = bars[bars.length - 1].time;
        loadedEnd = end;
        drawCandles();
        setState("ready", "");
        if (lastTick && (lastTick.source === "replay") === (mode === "replay")) applyTick(lastTick);
        showRange();
        return loadIndicators(activeKeys(), seq, end);
      }).catch(function (error) {
        if (seq !== loadSeq) return;
        setState("error", "Could not load candles: " + error.message);
        sourceBadge.textContent = "none loaded";
        rangeText.textContent = "";
      });
    }

    function chooseTimeframe(button) {
      if (button.disabled || (button.dataset.timeframeOption === timeframe && root.dataset.state !== "error")) return;
      root.querySelectorAll("[data-timeframe-option]").forEach(function (other) {
        other.setAttribute("aria-pressed", String(other === button));
      });
      timeframe = button.dataset.timeframeOption;
      load();
    }

    function toggleIndicator(button) {
      var key = button.dataset.indicator;
      var on = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", String(on));
      if (!chart || !bars.length) return; // drawn with the candles once they load
      if (on) loadIndicators([key], loadSeq, loadedEnd);
      else removeIndicator(key);
    }

    // --- the live last candle -------------------------------------------------------------------------------
    // Live ticks carry the exchange's time. Replayed ticks carry the wall clock: the replay plays recorded candles
    // MARKET_REPLAY_SPEED times faster (exchanges/market/replay.py), so the market instant is computed from the
    // same pure function, and in replay mode the candles are asked for up to that instant.
    function replayedTime(wallSeconds) {
      return replay.first + ((wallSeconds * replay.speed) % (replay.end - replay.first));
    }

    function candlesEnd() {
      return mode === "replay" && isFinite(replay.first) ? Math.floor(replayedTime(Date.now() / 1000)) : null;
    }

    function applyTick(tick) {
      var price = Number(tick.last);
      var wall = Date.parse(tick.updated_at) / 1000;
      if (!isFinite(price) || !isFinite(wall)) return;
      var at = tick.source === "replay" ? replayedTime(wall) : wall;
      var bucket = bucketOf(at, timeframe);
      var last = bars[bars.length - 1];
      if (bucket < last.time) {
        // Only the replay goes back in time: it started over from the beginning of its window.
        if (mode === "replay" && bucket < last.time - TF_SECONDS[timeframe]) load();
        return;
      }
      if (bucket === last.time) {
        if (mode === "replay" && !last.live) {
          // The stored candle is the whole recorded one; the replay is only part-way through it.
          last.high = Math.max(last.open, price);
          last.low = Math.min(last.open, price);
        }
        last.close = price;
        last.high = Math.max(last.high, price);
        last.low = Math.min(last.low, price);
        last.live = true;
      } else {
        last = {
          time: bucket, open: last.close, high: Math.max(last.close, price), low: Math.min(last.close, price),
          close: price, volume: 0, live: true
        };
        bars.push(last);
        root.dataset.bars = String(bars.length);
      }
      candles.update({ time: last.time, open: last.open, high: last.high, low: last.low, close: last.close });
      volume.update(volumeBar(last));
      root.dataset.liveClose = String(price);
      root.dataset.liveTime = String(last.time);
      showRange();
    }

    function onTick(event) {
      var tick = (event.detail.ticks || []).filter(function (t) { return t.symbol === symbol; })[0];
      if (!tick) return;
      lastTick = tick;
      var tickMode = tick.source === "replay" ? "replay" : "live";
      if (tickMode !== mode) { // the exchange went away or came back: the candles to show change too
        mode = tickMode;
        root.dataset.mode = mode;
        load();
        return;
      }
      if (chart && bars.length && root.dataset.state === "ready") applyTick(tick);
    }

    function applyTheme() {
      colors = palette();
      if (!chart) return;
      chart.applyOptions(chartOptions());
      candles.applyOptions({ upColor: colors.good, downColor: colors.bad, wickUpColor: colors.good, wickDownColor: colors.bad });
      if (bars.length) volume.setData(bars.map(volumeBar));
    }

    root.querySelectorAll("[data-timeframe-option]").forEach(function (button) {
      button.addEventListener("click", function () { chooseTimeframe(button); });
    });
    indicatorButtons().forEach(function (button) {
      button.addEventListener("click", function () { toggleIndicator(button); });
    });
    retry.addEventListener("click", load);
    document.addEventListener("cv:prices", onTick);
    document.addEventListener("cv:theme", applyTheme);
    load();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-chart]");
    if (!root) return;
    if (!window.LightweightCharts) {
      var state = root.querySelector("[data-chart-state]");
      state.dataset.chartState = "error";
      state.querySelector("[data-chart-message]").textContent = "The chart library did not load; reload the page.";
      return;
    }
    setup(root);
  });
})();
