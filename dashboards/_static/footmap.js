/* Pressure maps on the insole outline, drawn on a canvas; shared by the live page and the
 * offline dashboard.
 *
 * The server (dashboards/_footmap.py) sends a display grid over the insole outline with, for
 * each cell that gets a value, its nearest sensors and their inverse-distance weights. One
 * sample (one value per sensor) becomes a small image with a few multiply-adds per cell; the
 * image is scaled up smoothly and clipped to the outline. Sensors with no value (null/NaN: a
 * dead sensor, a gap) are left out and the others' weights renormalised; a cell with no
 * measured neighbour stays empty, showing the grey insole underneath.
 *
 * Display frame: feet seen from above, toes up; display x is +y_mm (medial) for the left
 * foot and -y_mm for the right, so both big toes point to the middle.
 *
 * Every text drawn comes from the page's own strings or fillText (canvas text is never HTML);
 * the hover tip is set with textContent.
 */
(function (global) {
  'use strict';

  // Sequential scale: near-white = sensor reads ~0; grey insole behind = no sensor there.
  var COLORSCALE = [
    [0.0, '#f8fafc'], [0.03, '#dbeafe'], [0.16, '#60a5fa'], [0.36, '#22c55e'],
    [0.56, '#facc15'], [0.76, '#f97316'], [1.0, '#b91c1c']
  ];
  var SIGN = { left: 1, right: -1 };
  var INSOLE_FILL = '#e2e8f0', INSOLE_LINE = '#64748b', INK = '#1f2937', MUTED = '#6b7280';
  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';

  function hexRgb(h) { return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)]; }
  var LUT = (function () {
    var lut = new Uint8ClampedArray(256 * 3), stops = COLORSCALE.map(function (s) { return [s[0], hexRgb(s[1])]; });
    for (var i = 0; i < 256; i++) {
      var f = i / 255, j = 1;
      while (j < stops.length - 1 && stops[j][0] < f) j++;
      var a = stops[j - 1], b = stops[j], u = (f - a[0]) / (b[0] - a[0]);
      for (var c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(a[1][c] + u * (b[1][c] - a[1][c]));
    }
    return lut;
  })();

  function niceStep(span, n) {
    var raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), step = mag;
    [1, 2, 2.5, 5, 10].some(function (m) { step = m * mag; return step >= raw; });
    return step;
  }
  function niceTicks(min, max, n) {
    if (!(max > min)) return [min];
    var step = niceStep(max - min, n), ticks = [];
    for (var v = Math.ceil(min / step - 1e-9) * step; v <= max * 1.0001 + 1e-12; v += step) ticks.push(Math.round(v / step) * step);
    return ticks;
  }
  function tickDigits(step) { return step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9)); }

  /* The grid maths: sensor values -> cell values (display order: rows heel->toe, columns left->right). */
  function FootMap(grid, layout) {
    this.grid = grid;
    this.layout = layout;
    this.rows = grid.x_mm.length;
    this.cols = grid.y_mm.length;
    this.cell = this.rows > 1 ? grid.x_mm[1] - grid.x_mm[0] : layout.foot_length_mm;
    this.cells = Int32Array.from(grid.cells);
    this.k = grid.k;
    this.neighbours = Int32Array.from(grid.neighbours);
    this.weights = Float32Array.from(grid.weights);
    this._flat = new Float64Array(this.rows * this.cols);
  }

  /* Cell values for one sample, NaN where nothing is measured; ``get(i)`` reads sensor i. */
  FootMap.prototype.fillWith = function (get) {
    var flat = this._flat, k = this.k, cells = this.cells, nb = this.neighbours, w = this.weights;
    flat.fill(NaN);
    for (var i = 0; i < cells.length; i++) {
      var sum = 0, wsum = 0;
      for (var j = 0; j < k; j++) {
        var wij = w[i * k + j];
        if (wij === 0) continue;
        var v = get(nb[i * k + j]);
        if (v === null || v === undefined || v !== v) continue;
        sum += wij * v; wsum += wij;
      }
      if (wsum > 0) flat[cells[i]] = sum / wsum;
    }
    return flat;
  };
  FootMap.prototype.fill = function (values) {
    return this.fillWith(function (i) { return values[i]; });
  };

  FootMap.prototype.extent = function () {
    var o = this.layout.outline_mm, half = 0, xmin = Infinity, xmax = -Infinity;
    o.forEach(function (p) { xmin = Math.min(xmin, p[0]); xmax = Math.max(xmax, p[0]); half = Math.max(half, Math.abs(p[1])); });
    return { half: half, xmin: xmin, xmax: xmax };
  };

  /* A canvas with one foot panel per side and a colour bar.
   * opts: sides, unit (colour bar title), labels {side: text}, colorbar (default true), title. */
  function FootCanvas(container, fm, opts) {
    opts = opts || {};
    this.fm = fm;
    this.sides = opts.sides || ['left', 'right'];
    this.unit = opts.unit || '';
    this.labels = opts.labels || { left: 'Left', right: 'Right' };
    this.colorbar = opts.colorbar !== false;
    this.title = opts.title || '';
    this.container = container;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'footmap-canvas';
    this.canvas.style.width = '100%';
    this.canvas.style.height = '100%';
    this.canvas.style.display = 'block';
    container.appendChild(this.canvas);
    this.tip = document.createElement('div');
    this.tip.className = 'footmap-tip';
    this.tip.hidden = true;
    container.appendChild(this.tip);
    if (getComputedStyle(container).position === 'static') container.style.position = 'relative';
    this.images = {};
    var self = this;
    this.sides.forEach(function (s) {
      var c = document.createElement('canvas');
      c.width = fm.cols; c.height = fm.rows;
      self.images[s] = { canvas: c, ctx: c.getContext('2d'), data: c.getContext('2d').createImageData(fm.cols, fm.rows) };
    });
    this.values = {};
    this.cop = {};
    this.cmax = 1;
    this.cmin = 0;
    this.notes = {};
    this.resize();
    if (global.ResizeObserver) new ResizeObserver(function () { self.resize(); self.redraw(); }).observe(container);
    this.canvas.addEventListener('mousemove', function (e) { self._hover(e); });
    this.canvas.addEventListener('mouseleave', function () { self.tip.hidden = true; });
  }

  FootCanvas.prototype.resize = function () {
    var dpr = global.devicePixelRatio || 1, r = this.container.getBoundingClientRect();
    this.w = Math.max(50, r.width); this.h = Math.max(50, r.height);
    this.canvas.width = Math.round(this.w * dpr); this.canvas.height = Math.round(this.h * dpr);
    this.ctx = this.canvas.getContext('2d');
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    var ext = this.fm.extent(), cbw = this.colorbar ? 62 : 0, top = this.title ? 24 : 6, bottom = 22;
    var n = this.sides.length, gap = 14, panelW = (this.w - cbw - gap * (n - 1) - 8) / n, panelH = this.h - top - bottom;
    var footW = 2 * ext.half + 8, footL = ext.xmax - ext.xmin + 8;
    var s = Math.max(0.05, Math.min(panelW / footW, panelH / footL));
    this.scale = s;
    this.panels = {};
    var self = this;
    this.sides.forEach(function (side, i) {
      var cx = 4 + i * (panelW + gap) + panelW / 2;
      var base = top + panelH / 2 + (footL * s) / 2 - 4 * s;
      self.panels[side] = { cx: cx, base: base, xmin: ext.xmin, left: cx - panelW / 2, right: cx + panelW / 2 };
    });
    this.cbar = { x: this.w - cbw + 10, y0: top + 10, y1: top + panelH - 10 };
    this.top = top;
  };

  FootCanvas.prototype.px = function (side, x_mm, y_mm) {
    var p = this.panels[side];
    return [p.cx + this.scale * SIGN[side] * y_mm, p.base - this.scale * (x_mm - p.xmin)];
  };

  FootCanvas.prototype._outlinePath = function (side) {
    var ctx = this.ctx, o = this.fm.layout.outline_mm;
    ctx.beginPath();
    for (var i = 0; i < o.length; i++) {
      var q = this.px(side, o[i][0], o[i][1]);
      if (i === 0) ctx.moveTo(q[0], q[1]); else ctx.lineTo(q[0], q[1]);
    }
    ctx.closePath();
  };

  FootCanvas.prototype._paintImage = function (side, flat) {
    var img = this.images[side], d = img.data.data, rows = this.fm.rows, cols = this.fm.cols;
    var mirror = side === 'right', lo = this.cmin, inv = this.cmax > lo ? 255 / (this.cmax - lo) : 0;
    for (var r = 0; r < rows; r++) {
      var dst = (rows - 1 - r) * cols;
      for (var c = 0; c < cols; c++) {
        var v = flat[r * cols + (mirror ? cols - 1 - c : c)], o = (dst + c) * 4;
        if (v !== v) { d[o + 3] = 0; continue; }
        var li = Math.max(0, Math.min(255, Math.round((v - lo) * inv))) * 3;
        d[o] = LUT[li]; d[o + 1] = LUT[li + 1]; d[o + 2] = LUT[li + 2]; d[o + 3] = 255;
      }
    }
    img.ctx.putImageData(img.data, 0, 0);
  };

  /* values: {side: sensor values or null}; cop: {side: {x_mm: [], y_mm: []}};
   * cmax (and cmin, default 0): the ends of the colour scale. */
  FootCanvas.prototype.draw = function (values, cop, cmax, cmin) {
    if (values) this.values = values;
    if (cop) this.cop = cop;
    if (cmax) this.cmax = cmax;
    this.cmin = cmin || 0;
    this.redraw();
  };

  FootCanvas.prototype.redraw = function () {
    var ctx = this.ctx, fm = this.fm, self = this, g = fm.grid, cell = fm.cell;
    ctx.clearRect(0, 0, this.w, this.h);
    if (this.title) {
      ctx.fillStyle = INK; ctx.font = '600 13px ' + FONT; ctx.textAlign = 'left'; ctx.textBaseline = 'top';
      ctx.fillText(this.title, 6, 4);
    }
    this.sides.forEach(function (side) {
      self._outlinePath(side);
      ctx.fillStyle = INSOLE_FILL; ctx.fill();
      var vals = self.values[side];
      if (vals) {
        self._paintImage(side, fm.fill(vals));
        ctx.save();
        self._outlinePath(side); ctx.clip();
        ctx.imageSmoothingEnabled = true; ctx.imageSmoothingQuality = 'low';  // bilinear: 'high' costs several ms of raster per frame
        var ys = g.y_mm, xs = g.x_mm;
        // image column 0 is the leftmost display column
        var leftY = side === 'left' ? ys[0] - cell / 2 : -(ys[ys.length - 1] + cell / 2);
        var p0 = self.px('left', xs[xs.length - 1] + cell / 2, 0), p1 = self.px('left', xs[0] - cell / 2, 0);
        var xLeft = self.panels[side].cx + self.scale * leftY;
        ctx.drawImage(self.images[side].canvas, xLeft, p0[1], self.scale * cell * fm.cols, p1[1] - p0[1]);
        ctx.restore();
      }
      self._outlinePath(side);
      ctx.strokeStyle = INSOLE_LINE; ctx.lineWidth = 1.5; ctx.stroke();
      // sensors: small rings where the insole really measures
      // dense sensel grids get no rings: they would hide the map
      var L = fm.layout, rad = L.n_sensors > 64 ? 1.2 : 2.6, rings = L.n_sensors <= 150 ? L.n_sensors : 0;
      ctx.strokeStyle = L.n_sensors > 64 ? 'rgba(15,23,42,0.25)' : 'rgba(15,23,42,0.45)'; ctx.lineWidth = 1;
      for (var i = 0; i < rings; i++) {
        var q = self.px(side, L.x_mm[i], L.y_mm[i]);
        ctx.beginPath(); ctx.arc(q[0], q[1], rad, 0, 2 * Math.PI); ctx.stroke();
      }
      var c = self.cop[side];
      if (c && c.x_mm && c.x_mm.length) {
        ctx.strokeStyle = '#0f172a'; ctx.lineWidth = 2; ctx.lineJoin = 'round';
        ctx.beginPath();
        var pen = false, last = null;
        for (var j = 0; j < c.x_mm.length; j++) {
          var a = c.x_mm[j], b = c.y_mm[j];
          if (a === null || b === null || a !== a || b !== b) { pen = false; continue; }
          var pt = self.px(side, a, b);
          if (pen) ctx.lineTo(pt[0], pt[1]); else ctx.moveTo(pt[0], pt[1]);
          pen = true; last = pt;
        }
        ctx.stroke();
        if (last) {
          ctx.fillStyle = '#0f172a'; ctx.beginPath(); ctx.arc(last[0], last[1], 4.5, 0, 2 * Math.PI); ctx.fill();
          ctx.strokeStyle = '#fff'; ctx.lineWidth = 1.5; ctx.stroke();
        }
      }
      var note = self.notes[side] || (vals ? '' : 'no data');
      var p = self.panels[side];
      ctx.textAlign = 'center'; ctx.textBaseline = 'alphabetic';
      if (note) {
        ctx.fillStyle = MUTED; ctx.font = '12px ' + FONT;
        ctx.fillText(note, p.cx, self.top + 14);
      }
      ctx.fillStyle = MUTED; ctx.font = '600 11px ' + FONT;
      ctx.fillText((self.labels[side] || side).toUpperCase(), p.cx, self.h - 6);
    });
    if (this.colorbar) this._drawColorbar();
  };

  FootCanvas.prototype._drawColorbar = function () {
    var ctx = this.ctx, cb = this.cbar, width = 12, height = cb.y1 - cb.y0;
    if (height < 20) return;
    for (var i = 0; i < height; i++) {
      var li = Math.round(255 * (1 - i / height)) * 3;
      ctx.fillStyle = 'rgb(' + LUT[li] + ',' + LUT[li + 1] + ',' + LUT[li + 2] + ')';
      ctx.fillRect(cb.x, cb.y0 + i, width, 1.5);
    }
    ctx.strokeStyle = '#cbd5e1'; ctx.lineWidth = 1; ctx.strokeRect(cb.x, cb.y0, width, height);
    ctx.fillStyle = INK; ctx.font = '11px ' + FONT; ctx.textAlign = 'left'; ctx.textBaseline = 'middle';
    var self = this, lo = this.cmin, span = this.cmax - lo, digits = tickDigits(niceStep(span, 5));
    niceTicks(lo, this.cmax, 5).forEach(function (v) {
      var y = cb.y1 - ((v - lo) / span) * height;
      ctx.fillRect(cb.x + width, y, 3, 1);
      ctx.fillText(v.toFixed(digits), cb.x + width + 5, y);
    });
    ctx.fillStyle = MUTED; ctx.textAlign = 'left'; ctx.textBaseline = 'bottom';
    ctx.fillText(this.unit, cb.x - 2, cb.y0 - 3);
  };

  FootCanvas.prototype._hover = function (e) {
    var rect = this.canvas.getBoundingClientRect(), mx = e.clientX - rect.left, my = e.clientY - rect.top;
    var L = this.fm.layout, best = null, bestD = 14;
    for (var s = 0; s < this.sides.length; s++) {
      var side = this.sides[s];
      for (var i = 0; i < L.n_sensors; i++) {
        var q = this.px(side, L.x_mm[i], L.y_mm[i]), d = Math.hypot(q[0] - mx, q[1] - my);
        if (d < bestD) { bestD = d; best = [side, i, q]; }
      }
    }
    if (!best) { this.tip.hidden = true; return; }
    var vals = this.values[best[0]], v = vals ? vals[best[1]] : null;
    this.tip.textContent = best[0] + ' · ' + L.sensor_names[best[1]] + ': ' +
      (v === null || v === undefined || v !== v ? 'no value' : (Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(1)) + ' ' + this.unit);
    this.tip.style.left = (best[2][0] + 10) + 'px';
    this.tip.style.top = (best[2][1] - 28) + 'px';
    this.tip.hidden = false;
  };

  global.InsoleFootMap = { FootMap: FootMap, FootCanvas: FootCanvas, COLORSCALE: COLORSCALE, niceTicks: niceTicks, niceStep: niceStep };
})(window);
