/* The offline dashboard's pressure-map player: scrubs a whole session smoothly.
 *
 * The frames arrive once, compactly: one byte per sensor per frame (square-root companding,
 * code 255 = no data), base64 in the page. They are decoded once into Uint8Arrays; each draw
 * turns one frame into sensor values through a 256-entry table and paints it on a canvas
 * (InsoleFootMap.FootCanvas), so seeking anywhere costs the same small amount of work.
 * Draws are coalesced to one per screen refresh.
 */
(function (global) {
  'use strict';

  function decodeBase64(text) {
    var bin = global.atob(text), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  /* opts: container, fm (FootMap), data (payload.player), sides, unit, loadWeights, onFrame(player) */
  function Player(opts) {
    var data = opts.data, self = this;
    this.data = data;
    this.sides = opts.sides;
    this.n = data.n_frames;
    this.k = data.n_sensors;
    this.rate = data.rate_hz;
    this.t0 = data.t0_s;
    this.onFrame = opts.onFrame || function () {};
    this.frames = {};
    this.sides.forEach(function (s) { self.frames[s] = decodeBase64(data.frames[s]); });
    // code -> value: zero + (code / full_scale_code)^2 x (full - zero); the missing code -> NaN
    this.table = new Float64Array(256);
    var zero = data.zero_scale || 0, span = data.full_scale - zero;
    for (var c = 0; c < 256; c++) {
      var f = c / data.full_scale_code;
      this.table[c] = c === data.missing_code ? NaN : zero + f * f * span;
    }
    this._computeLoads(opts.fm.layout, opts.loadWeights);
    this.canvas = new global.InsoleFootMap.FootCanvas(opts.container, opts.fm, { sides: this.sides, unit: opts.unit });
    this.cmax = niceMax(data.full_scale);
    this.cmin = zero < 0 ? -niceMax(-zero) : 0;
    this.withCop = this.k >= 3;  // a centre of pressure needs sensors spread over the foot
    this.index = 0;
    this.playing = false;
    this.speed = 1;
    this.draws = 0;
    this._pending = false;
    this._values = {};
    this.sides.forEach(function (s) { self._values[s] = new Float64Array(self.k); });
    this.seek(0);
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    var mag = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 1.5, 2, 3, 5, 7, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * mag >= v) return steps[i] * mag;
    return 10 * mag;
  }

  /* Load and COP of every frame, once (whole arrays, typed). */
  Player.prototype._computeLoads = function (layout, weights) {
    var self = this, n = this.n, k = this.k, table = this.table;
    this.load = {}; this.copX = {}; this.copY = {}; this.loadPeak = {};
    this.sides.forEach(function (s) {
      var fr = self.frames[s], load = new Float32Array(n), cx = new Float32Array(n), cy = new Float32Array(n);
      for (var i = 0; i < n; i++) {
        var sum = 0, sx = 0, sy = 0, missing = false, base = i * k;
        for (var j = 0; j < k; j++) {
          var v = table[fr[base + j]];
          if (v !== v) { missing = true; break; }
          var w = v * weights[j];
          sum += w; sx += w * layout.x_mm[j]; sy += w * layout.y_mm[j];
        }
        if (missing) { load[i] = NaN; cx[i] = NaN; cy[i] = NaN; continue; }
        load[i] = sum; cx[i] = sum > 0 ? sx / sum : NaN; cy[i] = sum > 0 ? sy / sum : NaN;
      }
      // the 98th percentile of the load, from at most ~5000 evenly spread frames (a sort of all would be slow)
      var stride = Math.max(1, Math.floor(n / 5000)), sample = [];
      for (var q = 0; q < n; q += stride) if (load[q] === load[q]) sample.push(load[q]);
      sample.sort(function (a, b) { return a - b; });
      self.loadPeak[s] = sample.length ? sample[Math.floor(0.98 * (sample.length - 1))] : 0;
      self.load[s] = load; self.copX[s] = cx; self.copY[s] = cy;
    });
  };

  Player.prototype.time = function (index) { return this.t0 + (index === undefined ? this.index : index) / this.rate; };
  Player.prototype.duration = function () { return (this.n - 1) / this.rate; };
  Player.prototype.indexOf = function (t) { return Math.max(0, Math.min(this.n - 1, Math.round((t - this.t0) * this.rate))); };

  Player.prototype.seek = function (index) {
    this.index = Math.max(0, Math.min(this.n - 1, Math.round(index)));
    this._seeked = true;
    this._schedule();
  };
  Player.prototype.seekTime = function (t) { this.seek(this.indexOf(t)); };

  Player.prototype._schedule = function () {
    if (this._pending) return;
    this._pending = true;
    var self = this;
    global.requestAnimationFrame(function () { self._pending = false; self._draw(); });
  };

  Player.prototype._draw = function () {
    var self = this, i = this.index, k = this.k, values = {}, cop = {};
    this.sides.forEach(function (s) {
      var fr = self.frames[s], out = self._values[s], base = i * k, any = false;
      for (var j = 0; j < k; j++) { out[j] = self.table[fr[base + j]]; if (out[j] === out[j]) any = true; }
      values[s] = any ? out : null;
      // the COP of the current stance: back from this frame while the foot is loaded (at most 2 s)
      var floor = 0.05 * self.loadPeak[s], start = i, limit = Math.max(0, i - Math.round(2 * self.rate));
      while (start > limit && self.load[s][start - 1] > floor) start--;
      var xs = [], ys = [];
      if (self.withCop && self.load[s][i] > floor) {
        for (var m = start; m <= i; m++) { xs.push(self.copX[s][m]); ys.push(self.copY[s][m]); }
      }
      cop[s] = { x_mm: xs, y_mm: ys };
      self.canvas.notes[s] = any ? '' : 'no data at this moment (gap)';
    });
    this.canvas.draw(values, cop, this.cmax, this.cmin);
    this.draws += 1;
    this.onFrame(this);
  };

  Player.prototype.play = function () {
    if (this.playing) return;
    if (this.index >= this.n - 1) this.index = 0;
    this.playing = true;
    var self = this, last = null, position = this.index;
    function tick(now) {
      if (!self.playing) return;
      if (self._seeked) { position = self.index; self._seeked = false; }
      if (last !== null) {
        position += (now - last) / 1000 * self.rate * self.speed;
        if (position >= self.n - 1) { position = self.n - 1; self.playing = false; }
        if (Math.round(position) !== self.index) { self.index = Math.round(position); self._draw(); }
        if (!self.playing) { self.onFrame(self); return; }
      }
      last = now;
      global.requestAnimationFrame(tick);
    }
    global.requestAnimationFrame(tick);
    this.onFrame(this);
  };
  Player.prototype.pause = function () { this.playing = false; this.onFrame(this); };
  Player.prototype.toggle = function () { if (this.playing) this.pause(); else this.play(); };

  global.InsolePlayer = Player;
})(window);
