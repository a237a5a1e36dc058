/* A scrolling time chart on a canvas, for the live page's load curves.
 *
 * Why not plotly here: redrawing a plotly line chart of 2 x 1000 points costs 40-70 ms per
 * frame in software rendering (measured on the live page, see docs in dashboards/_live_server.py);
 * this canvas draws the same in a millisecond or two, so the curves keep up with the feed.
 * Labels are drawn with fillText (never parsed as HTML).
 */
(function (global) {
  'use strict';

  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
  var GRID = '#eef2f7', AXIS = '#94a3b8', INK = '#374151', MARK = '#7c3aed';

  function ticks(lo, hi, n) {
    var span = hi - lo;
    if (!(span > 0)) return [lo];
    var raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), step = mag;
    [1, 2, 2.5, 5, 10].some(function (m) { step = m * mag; return step >= raw; });
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6);
    return out;
  }

  function TimeChart(container, opts) {
    opts = opts || {};
    this.container = container;
    this.colors = opts.colors || {};
    this.yLabel = opts.yLabel || '';
    this.xLabel = opts.xLabel || 'session time (s)';
    this.canvas = document.createElement('canvas');
    this.canvas.style.width = '100%';
    this.canvas.style.height = '100%';
    this.canvas.style.display = 'block';
    container.appendChild(this.canvas);
    this.last = null;
    var self = this;
    this.resize();
    if (global.ResizeObserver) new ResizeObserver(function () { self.resize(); if (self.last) self.draw.apply(self, self.last); }).observe(container);
  }

  TimeChart.prototype.resize = function () {
    var dpr = global.devicePixelRatio || 1, r = this.container.getBoundingClientRect();
    this.w = Math.max(50, r.width); this.h = Math.max(50, r.height);
    this.canvas.width = Math.round(this.w * dpr); this.canvas.height = Math.round(this.h * dpr);
    this.ctx = this.canvas.getContext('2d');
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  };

  /* series: {key: {t: [], v: []}}; steps: {key: {t: [], v: [], kind: []}} ('hs' | 'to');
   * marks: [{t, n}]; the x axis shows [tEnd - windowS, tEnd], the y axis [yMin (default 0), yMax]. */
  TimeChart.prototype.draw = function (series, steps, marks, tEnd, windowS, yMax, yMin) {
    this.last = [series, steps, marks, tEnd, windowS, yMax, yMin];
    yMin = yMin || 0;
    var ctx = this.ctx, L = 58, R = 12, T = 12, B = 40, W = this.w - L - R, H = this.h - T - B;
    var t0 = tEnd - windowS, sx = W / windowS, sy = H / (yMax - yMin);
    function X(t) { return L + (t - t0) * sx; }
    function Y(v) { return T + H - (Math.max(yMin, Math.min(yMax * 1.05, v)) - yMin) * sy; }
    ctx.clearRect(0, 0, this.w, this.h);
    ctx.font = '11px ' + FONT; ctx.lineWidth = 1;
    // grid and axes
    ctx.strokeStyle = GRID; ctx.fillStyle = INK; ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    ticks(yMin, yMax, 5).forEach(function (v) {
      var y = Math.round(Y(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(L + W, y); ctx.stroke();
      ctx.fillText(String(v), L - 6, y);
    });
    ctx.textAlign = 'center'; ctx.textBaseline = 'top';
    ticks(t0, tEnd, 6).forEach(function (t) {
      var x = Math.round(X(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, T); ctx.lineTo(x, T + H); ctx.stroke();
      ctx.fillText(String(t), x, T + H + 5);
    });
    ctx.strokeStyle = AXIS;
    ctx.beginPath(); ctx.moveTo(L + 0.5, T); ctx.lineTo(L + 0.5, T + H + 0.5); ctx.lineTo(L + W, T + H + 0.5); ctx.stroke();
    ctx.fillStyle = INK; ctx.font = '12px ' + FONT;
    ctx.fillText(this.xLabel, L + W / 2, T + H + 21);
    ctx.save(); ctx.translate(14, T + H / 2); ctx.rotate(-Math.PI / 2); ctx.textBaseline = 'middle';
    ctx.fillText(this.yLabel, 0, 0); ctx.restore();

    ctx.save();
    ctx.beginPath(); ctx.rect(L, T - 6, W, H + 6); ctx.clip();
    // marks under the data
    (marks || []).forEach(function (m) {
      if (m.t < t0 || m.t > tEnd) return;
      var x = Math.round(X(m.t)) + 0.5;
      ctx.strokeStyle = MARK; ctx.setLineDash([4, 3]); ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(x, T); ctx.lineTo(x, T + H); ctx.stroke(); ctx.setLineDash([]);
      ctx.fillStyle = MARK; ctx.font = '600 11px ' + FONT; ctx.textAlign = 'left'; ctx.textBaseline = 'top';
      ctx.fillText(String(m.n), x + 3, T);
    });
    var colors = this.colors;
    Object.keys(series).forEach(function (key) {
      var s = series[key], pen = false;
      ctx.strokeStyle = colors[key] || INK; ctx.lineWidth = 2; ctx.lineJoin = 'round';
      ctx.beginPath();
      for (var i = 0; i < s.t.length; i++) {
        var v = s.v[i];
        if (v === null || v !== v || s.t[i] < t0 - 0.5) { pen = false; continue; }
        var x = X(s.t[i]), y = Y(v);
        if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        pen = true;
      }
      ctx.stroke();
    });
    Object.keys(steps || {}).forEach(function (key) {
      var s = steps[key];
      ctx.fillStyle = colors[key] || INK; ctx.strokeStyle = '#ffffff'; ctx.lineWidth = 1;
      for (var i = 0; i < s.t.length; i++) {
        if (s.t[i] < t0) continue;
        var x = X(s.t[i]), y = Y(s.v[i] || yMin), up = s.kind[i] === 'hs', d = 6;
        ctx.beginPath();
        if (up) { ctx.moveTo(x, y - d); ctx.lineTo(x + d, y + d * 0.8); ctx.lineTo(x - d, y + d * 0.8); }
        else { ctx.moveTo(x, y + d); ctx.lineTo(x + d, y - d * 0.8); ctx.lineTo(x - d, y - d * 0.8); }
        ctx.closePath(); ctx.fill(); ctx.stroke();
      }
    });
    ctx.restore();
  };

  global.InsoleTimeChart = TimeChart;
})(window);
