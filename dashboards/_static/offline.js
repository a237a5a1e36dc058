/* The offline session dashboard: builds every section from the JSON payload in the page.
 *
 * Nothing here reaches the network. Every text that comes from the recording (subject,
 * notes, marks, sensor and device names, exclusion reasons) is set with textContent.
 * window.__dashboardStats records when the page became ready and what the player shows,
 * for the tests and the benchmark.
 */
(function () {
  'use strict';

  var stats = window.__dashboardStats = window.__dashboardStats || { errors: [] };
  stats.script_start_ms = performance.now();
  var P = JSON.parse(document.getElementById('payload').textContent);
  stats.parsed_ms = performance.now();
  var M = P.meta, SIDES = M.sides;
  var CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d'] };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function fmt(v, digits) { return isNum(v) ? v.toFixed(digits) : '–'; }
  function fmtClock(t, cs) {
    if (!isNum(t)) return '–';
    var scale = cs ? 100 : 10, units = Math.round(Math.abs(t) * scale);  // round first: 59.999 s is 1:00.00
    var sign = t < 0 ? '-' : '', m = Math.floor(units / (60 * scale)), s = (units - m * 60 * scale) / scale;
    return sign + m + ':' + (s < 10 ? '0' : '') + s.toFixed(cs ? 2 : 1);
  }
  var DIGITS = { s: 3, '%': 1, BW: 2, 'BW·s': 3, 'BW/s': 1, N: 0, 'N/s': 0, mm: 0, 'steps/min': 1, au: 1, 'au/s': 1 };
  function unitDigits(unit) { return DIGITS[unit] !== undefined ? DIGITS[unit] : 2; }
  function metricUnit(name) {
    var m = /_(s|pct|n|n_s|bw|bw_s|mm|kpa|kpa_s|au|au_s|steps_per_min)$/.exec(name);
    if (!m) return '';
    // the suffix "_n_s" is N·s for an impulse but N/s for a rate: a loading rate is force per second
    if (/^loading_rate_/.test(name)) return { n_s: 'N/s', bw_s: 'BW/s', au_s: 'au/s' }[m[1]] || '';
    return { s: 's', pct: '%', n: 'N', n_s: 'N·s', bw: 'BW', bw_s: 'BW·s', mm: 'mm', kpa: 'kPa', kpa_s: 'kPa·s', au: 'au', au_s: 'au·s', steps_per_min: 'steps/min' }[m[1]];
  }
  stats.sections = {};
  function guard(name, fn) {
    var t0 = performance.now();
    try { fn(); } catch (e) { stats.errors.push(name + ': ' + e); console.error(name, e); }
    stats.sections[name] = Math.round(performance.now() - t0);
  }

  /* ---- header, warnings, key figures ---------------------------------------------------- */

  function header() {
    $('subject').textContent = M.subject_id || 'unnamed subject';
    $('condition').textContent = M.condition || '';
    var facts = [];
    if (M.recorded_at) facts.push('recorded ' + M.recorded_at);
    facts.push(fmtClock(M.duration_s) + ' min:s');
    facts.push(SIDES.join(' + ') + ' foot');
    facts.push(M.layout.name + ' (' + M.layout.n_sensors + ' sensor' + (M.layout.n_sensors === 1 ? '' : 's') + ')');
    facts.push(M.sample_rate_hz + ' Hz, ' + M.unit);
    if (isNum(M.body_mass_kg)) facts.push(M.body_mass_kg + ' kg');
    if (M.source) facts.push(M.source);
    $('facts').textContent = facts.join(' · ');
    if (M.notes) { $('notes').textContent = M.notes; $('notes-row').hidden = false; }
    var warnings = [];
    if (!M.analysis.available) warnings.push('Gait analysis unavailable' + (M.analysis.error ? ': ' + M.analysis.error : '') + '. Events, strides and curves are not shown.');
    // where the positions come from (file names of a vendor's SDK, fitting methods) is under "How this was made"
    if (M.layout.n_sensors < 2) warnings.push('Layout ' + M.layout.name + ' has one sensor per foot: pressure maps and ' +
      'centre of pressure are not available (each foot\u2019s load over time is).');
    else if (M.layout.approximate) warnings.push('Sensor positions of layout ' + M.layout.name + ' are approximate: maps and ' +
      'centre of pressure are indicative (where the positions come from: "How this was made", at the end).');
    // the body weight check (the walk's load far from mass x g): every figure in BW carries that error
    var S = M.summary || {};
    if (S.body_weight_note) warnings.push('Body weight check: ' + S.body_weight_note.replace(/^body weight check: /, '') +
      ' (the stance curves, the left/right table and the stride table are in BW).');
    // each uncalibrated insole has its own gain: the analysis calls a left/right load difference uninterpretable
    if (M.unit === 'au') warnings.push('Loads are in arbitrary units (uncalibrated sensors): compare the shape and timing of each foot; ' +
      'absolute values and left/right differences in load are not interpretable (each insole has its own gain).');
    if (!P.player.every_sample) warnings.push('The player shows ' + P.player.rate_hz.toFixed(1) + ' frames/s (of ' + M.sample_rate_hz + ' Hz) to keep this file small; the load curves keep every sample.');
    warnings.forEach(function (w) { $('warnings').appendChild(el('div', 'warn-box', w)); });
  }

  function kpis() {
    var box = $('kpis'), S = M.summary || {};
    function card(k, v, sub) {
      var c = el('div', 'kpi');
      c.appendChild(el('div', 'k', k));
      if (v instanceof Node) c.appendChild(v); else c.appendChild(el('div', 'v', v));
      if (sub) c.appendChild(el('div', 's', sub));
      box.appendChild(c);
    }
    function lr(getter, digits, unit) {
      var d = el('div', 'lr');
      SIDES.forEach(function (s, i) {
        if (i) d.appendChild(document.createTextNode('  '));
        // each foot's figure stays on one line ("100.0" and its "%" were split in a narrow card)
        var fig = el('span', 'fig');
        fig.appendChild(el('span', s === 'left' ? 'foot-l' : 'foot-r', s === 'left' ? 'L ' : 'R '));
        fig.appendChild(document.createTextNode(fmt(getter(s), digits) + (unit || '')));
        d.appendChild(fig);
      });
      return d;
    }
    card('Duration', fmtClock(M.duration_s), 'min:s');
    if (M.analysis.available) {
      card('Cadence', fmt(S.cadence_steps_per_min, 1), 'steps/min');
      card('Stride time', lr(function (s) { return S.stride_time_s[s]; }, 3, ' s'), 'mean over used strides');
      card('Stance', lr(function (s) { return S.stance_pct[s]; }, 1, ' %'), 'of the stride');
      card('Strides used', lr(function (s) { return S.strides_used[s]; }, 0), 'stride-time CV ' + SIDES.map(function (s) { return fmt(S.stride_time_cv_pct[s], 1) + ' %'; }).join(' / '));
      // the analysis' robust stride-time CV per foot, as insole analyze prints it and the report's key numbers show it
      if (S.stride_time_robust_cv_pct) {
        card('Stride-time robust CV', lr(function (s) { return S.stride_time_robust_cv_pct[s]; }, 2, ' %'), '1.4826 × MAD / median of the used stride times');
      }
    }
    card('Valid samples', lr(function (s) { return P.quality[s].valid_pct; }, 1, ' %'), 'gaps ' + SIDES.map(function (s) { return P.quality[s].gaps; }).join(' / '));
  }

  /* ---- load over the session, synchronised with the player ----------------------------- */

  var forceDiv = $('fig-force'), cursor = $('cursor'), player = null, windowS = null;

  function decodeBase64(text) {
    var bin = atob(text), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  /* Every sample of each foot's load; the chart shows a min/max view of the visible range. */
  var force = {}, EVENT_SPAN_S = 120, fullRange = null;
  function forceData() {
    SIDES.forEach(function (s) {
      var e = P.force.sides[s];
      force[s] = { load: new Float32Array(decodeBase64(e.load)), n: e.n, t0: e.t0_s, dt: e.dt_s,
        time: e.time ? new Float64Array(decodeBase64(e.time)) : null };
    });
    var lo = Infinity, hi = -Infinity;
    SIDES.forEach(function (s) { lo = Math.min(lo, timeAt(force[s], 0)); hi = Math.max(hi, timeAt(force[s], force[s].n - 1)); });
    fullRange = [lo, hi];
  }
  function timeAt(f, i) { return f.time ? f.time[i] : f.t0 + i * f.dt; }
  function indexAt(f, t) {  // first index with time >= t
    if (!f.time) return Math.max(0, Math.min(f.n, Math.ceil((t - f.t0) / f.dt - 1e-9)));
    var a = 0, b = f.n;
    while (a < b) { var m = (a + b) >> 1; if (f.time[m] < t) a = m + 1; else b = m; }
    return a;
  }

  function minMaxView(f, t0, t1, buckets) {
    var i0 = Math.max(0, indexAt(f, t0) - 1), i1 = Math.min(f.n, indexAt(f, t1) + 1), n = i1 - i0;
    if (n <= 2 * buckets) {
      var xs = new Float64Array(n), ys = new Float32Array(n);
      for (var i = 0; i < n; i++) { xs[i] = timeAt(f, i0 + i); ys[i] = f.load[i0 + i]; }
      return { x: xs, y: ys };
    }
    var size = Math.ceil(n / buckets), x = [], y = [];
    for (var start = i0; start < i1; start += size) {
      var end = Math.min(i1, start + size), lo = Infinity, hi = -Infinity, ilo = -1, ihi = -1, gap = false;
      for (var j = start; j < end; j++) {
        var v = f.load[j];
        if (v !== v) { gap = true; continue; }
        if (v < lo) { lo = v; ilo = j; }
        if (v > hi) { hi = v; ihi = j; }
      }
      if (ilo >= 0) {
        if (ilo <= ihi) { x.push(timeAt(f, ilo), timeAt(f, ihi)); y.push(lo, hi); }
        else { x.push(timeAt(f, ihi), timeAt(f, ilo)); y.push(hi, lo); }
      }
      if (gap) { x.push(timeAt(f, end - 1)); y.push(null); }  // keep a gap visible at any zoom
    }
    return { x: x, y: y };
  }

  var forceBusy = false;
  function forceUpdate(range) {
    var view = forceView(range);
    return Plotly.restyle(forceDiv, { x: view.x, y: view.y }, view.idx);
  }
  function forceView(range) {
    var t0 = range ? range[0] : fullRange[0], t1 = range ? range[1] : fullRange[1];
    var buckets = Math.max(200, Math.round(forceDiv.clientWidth || 1200));
    var xs = [], ys = [], idx = [];
    SIDES.forEach(function (s, i) { var v = minMaxView(force[s], t0, t1, buckets); xs.push(v.x); ys.push(v.y); idx.push(i); });
    var showEvents = t1 - t0 <= EVENT_SPAN_S, k = SIDES.length;
    Object.keys(P.force.events).forEach(function (s) {
      ['hs', 'to'].forEach(function (kind) {
        var ex = [], ey = [], f = force[s];
        if (showEvents) {
          P.force.events[s][kind].forEach(function (t) {
            if (t < t0 || t > t1) return;
            var i = Math.min(f.n - 1, indexAt(f, t)), v = f.load[i];
            ex.push(t); ey.push(v === v ? v : 0);
          });
        }
        xs.push(ex); ys.push(ey); idx.push(k++);
      });
    });
    $('load-hint').textContent = P.load.label + (P.load.note ? ' · ' + P.load.note : '') + (showEvents || !Object.keys(P.force.events).length ? '' : ' · zoom in below ' + EVENT_SPAN_S + ' s to see heel strikes and toe offs');
    return { x: xs, y: ys, idx: idx };
  }

  function forceChart() {
    var fig = P.figures.force;
    forceData();
    // the first view goes into the figure itself: one draw instead of a draw and a restyle
    var first = forceView(null);
    first.idx.forEach(function (traceIndex, k) { fig.data[traceIndex].x = first.x[k]; fig.data[traceIndex].y = first.y[k]; });
    return Plotly.newPlot(forceDiv, fig.data, fig.layout, CONFIG).then(function () {
      forceDiv.on('plotly_click', function (ev) {
        if (ev && ev.points && ev.points.length && player) { player.seekTime(ev.points[0].x); }
      });
      forceDiv.on('plotly_relayout', function (ev) {
        if (!forceBusy && ev && (ev['xaxis.range[0]'] !== undefined || ev['xaxis.range'] || ev['xaxis.autorange'])) {
          forceBusy = true;
          var range = ev['xaxis.autorange'] ? null : (ev['xaxis.range'] || [ev['xaxis.range[0]'], ev['xaxis.range[1]']]);
          forceUpdate(range).then(function () { forceBusy = false; placeCursor(); }, function () { forceBusy = false; });
        }
        placeCursor();
      });
    });
  }

  function placeCursor() {
    var fl = forceDiv._fullLayout;
    if (!player || !fl || !fl.xaxis || !fl.yaxis) { cursor.hidden = true; return; }
    var xa = fl.xaxis, ya = fl.yaxis, t = player.time(), range = xa.range;
    if (t < Math.min(range[0], range[1]) || t > Math.max(range[0], range[1])) { cursor.hidden = true; return; }
    cursor.hidden = false;
    cursor.style.left = (xa._offset + xa.l2p(t)) + 'px';
    cursor.style.top = ya._offset + 'px';
    cursor.style.height = ya._length + 'px';
  }

  function followPlayer() {
    if (!windowS || !player) return;
    var xa = forceDiv._fullLayout && forceDiv._fullLayout.xaxis;
    if (!xa) return;
    var t = player.time(), r = xa.range;
    if (t < r[0] || t > r[1]) Plotly.relayout(forceDiv, { 'xaxis.range': [t - 0.1 * windowS, t + 0.9 * windowS] });
  }

  function windowButtons() {
    var buttons = document.querySelectorAll('#window-btns button');
    buttons.forEach(function (b) {
      b.addEventListener('click', function () {
        buttons.forEach(function (o) { o.classList.toggle('on', o === b); });
        var w = b.getAttribute('data-window');
        if (w === 'all') { windowS = null; Plotly.relayout(forceDiv, { 'xaxis.autorange': true }); }
        else {
          windowS = Number(w);
          var t = player ? player.time() : 0;
          Plotly.relayout(forceDiv, { 'xaxis.range': [t - 0.3 * windowS, t + 0.7 * windowS] });
        }
      });
    });
  }

  /* ---- player ----------------------------------------------------------------------------- */

  function nearestMark(t) {
    var best = null;
    (M.marks || []).forEach(function (m) { if (!best || Math.abs(m.t - t) < Math.abs(best.t - t)) best = m; });
    return best;
  }

  /* The load chart's value at time t (the load as the analysis uses it, every sample), for the player's readout. */
  function loadAt(s, t) {
    if (!force[s]) forceData();
    var f = force[s], i = indexAt(f, t);
    if (i > 0 && (i >= f.n || Math.abs(timeAt(f, i - 1) - t) <= Math.abs(timeAt(f, i) - t))) i -= 1;
    return Math.abs(timeAt(f, i) - t) <= 0.75 * f.dt ? f.load[i] : NaN;
  }

  function setupPlayer(fm) {
    var unitLoad = P.load.unit, lastCursor = 0;
    $('player-load-unit').textContent = P.load.label;
    $('player-hint').textContent = (P.player.every_sample ? 'every sample' : P.player.rate_hz.toFixed(1) + ' frames/s') +
      ' · ' + M.unit + ' per sensor · black line: centre of pressure of the current stance';
    player = new window.InsolePlayer({
      container: $('player-map'), fm: fm, data: P.player, sides: SIDES, unit: M.unit,
      loadWeights: P.player.load_weights,
      onFrame: function (p) {
        var t = p.time();
        $('player-time').textContent = fmtClock(t, true);
        $('scrub').value = String(p.index);
        SIDES.forEach(function (s) {
          var v = loadAt(s, t);
          // noise just below the unloaded level rounds to 0, not "-0.0"
          var text = v === v ? v.toFixed(unitLoad === 'N' ? 0 : 1) : 'gap';
          $('player-load-' + s).textContent = /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
        });
        var m = nearestMark(t);
        $('player-mark').textContent = m ? m.n + ' · ' + m.label + ' (' + fmtClock(m.t) + ', ' + (m.t >= t ? 'in ' : '') + Math.abs(m.t - t).toFixed(1) + ' s' + (m.t < t ? ' ago' : '') + ')' : '–';
        $('play').textContent = p.playing ? 'Pause' : 'Play';
        stats.player = { index: p.index, time_s: t, draws: p.draws, playing: p.playing };
        var now = performance.now();
        if (!p.playing || now - lastCursor > 100) { lastCursor = now; placeCursor(); if (p.playing) followPlayer(); }
      }
    });
    ['left', 'right'].forEach(function (s) {
      if (SIDES.indexOf(s) < 0) $('player-load-' + s).parentNode.hidden = true;
    });
    // A flagged sensor (dead, flat, stuck...) has no data: drawn as the maps draw it (grey hatched, with a legend),
    // not as zero pressure (white), and left out of the colour field so its neighbours are not pulled to zero.
    if (flagLegend()) {
      var pc = player.canvas, pdraw = pc.draw, predraw = pc.redraw;
      pc.draw = function (values, cop, cmax, cmin) {
        SIDES.forEach(function (s) {
          var v = values && values[s];
          if (v) Object.keys(flaggedIndex(s)).forEach(function (i) { v[i] = NaN; });
        });
        pdraw.call(this, values, cop, cmax, cmin);
      };
      pc.redraw = function () { predraw.call(this); drawFlagged(this, 'no data:'); };
      $('player-hint').textContent += ' · grey hatched dots: no data (sensors the quality checks flagged: ' +
        flagLegend().replace(/^flagged: /, '') + ')';
    }
    $('scrub').max = String(player.n - 1);
    $('player-total').textContent = 'of ' + fmtClock(player.time(player.n - 1), true);
    $('scrub').addEventListener('input', function (e) { player.seek(Number(e.target.value)); });
    $('play').addEventListener('click', function () { player.toggle(); });
    $('step-back').addEventListener('click', function () { player.pause(); player.seek(player.index - 1); });
    $('step-fwd').addEventListener('click', function () { player.pause(); player.seek(player.index + 1); });
    $('speed').addEventListener('change', function (e) { player.speed = Number(e.target.value); });
    document.addEventListener('keydown', function (e) {
      if (e.target && (e.target.tagName === 'INPUT' && e.target.type !== 'range' || e.target.tagName === 'SELECT')) return;
      if (e.key === ' ') { e.preventDefault(); player.toggle(); }
      else if (e.key === 'ArrowLeft') { player.pause(); player.seek(player.index - 1); }
      else if (e.key === 'ArrowRight') { player.pause(); player.seek(player.index + 1); }
    });
    window.__player = player;
    if (ONE_SENSOR) {
      // the player still drives the time and load readouts and the cursor on the load chart
      $('player-map').hidden = true;
      var why = el('div');
      noMap(why, 'pressure map');
      $('player-map').parentNode.insertBefore(why, $('player-map'));
      $('player-hint').textContent = (P.player.every_sample ? 'every sample' : P.player.rate_hz.toFixed(1) + ' frames/s') +
        ' · the time and each foot\u2019s load';
    }
  }

  /* ---- maps -------------------------------------------------------------------------------- */

  // One sensor per foot (foot switches): a map would paint the whole insole in one colour, so say why there is none.
  var ONE_SENSOR = M.layout.n_sensors < 2;
  function noMap(box, what) {
    box.replaceChildren(el('div', 'empty', 'No ' + what + ': layout ' + M.layout.name + ' has one sensor per foot, ' +
      'so there is nothing to map; each foot\u2019s load over time is in the chart above.'));
  }

  function maps(fm) {
    if (ONE_SENSOR) { $('maps-hint').textContent = ''; noMap(document.querySelector('#sec-maps .maps'), 'pressure maps'); return; }
    var unit = P.maps.unit, units = { peak: unit, mean: unit, pti: unit + '·s' };
    // named by what the sensors measure: a force layout's integral is a force-time integral, not a pressure-time one
    $('map-pti-title').textContent = P.maps.pti_title;
    $('maps-hint').textContent = 'over ' + SIDES.map(function (s) { return P.maps.stances[s] + ' ' + s; }).join(' and ') +
      ' stances: ' + P.maps.how + ' · hover a sensor for its value';
    ['peak', 'mean', 'pti'].forEach(function (name) {
      var values = {}, max = 0, min = 0;
      SIDES.forEach(function (s) {
        var flagged = flaggedIndex(s);
        values[s] = P.maps[name][s].map(function (v, i) { return flagged[i] ? null : v; });
        values[s].forEach(function (v) { if (isNum(v) && v > max) max = v; if (isNum(v) && v < min) min = v; });
      });
      var canvas = new window.InsoleFootMap.FootCanvas($('map-' + name), fm, { sides: SIDES, unit: units[name] });
      var redraw = canvas.redraw, hover = canvas._hover;
      canvas.redraw = function () { redraw.call(this); drawFlagged(this); };  // also on every resize
      canvas._hover = function (e) {
        hover.call(this, e);
        var L = this.fm.layout, tip = this.tip;
        SIDES.forEach(function (s) {
          var idx = flaggedIndex(s);
          Object.keys(idx).forEach(function (i) {
            var head = s + ' \u00b7 ' + L.sensor_names[i] + ': ';
            if (!tip.hidden && tip.textContent.indexOf(head) === 0) tip.textContent = head + 'flagged ' + idx[i].status + ' (' + idx[i].detail + '), left out of the map';
          });
        });
      };
      canvas.draw(values, {}, niceCeil(max), min < 0 ? -niceCeil(-min) : 0);
      (window.__maps = window.__maps || {})[name] = canvas;
    });
    var all = P.maps.flagged || {}, feet = Object.keys(all);
    if (feet.length) {
      $('maps-flagged').hidden = false;
      $('maps-flagged').textContent = 'Grey hatched dots (' + flagLegend() + '): sensors the data-quality checks flagged, ' +
        'left out of the colour field, so their area shows its neighbours\u2019 values, not the sensor\u2019s: ' +
        feet.map(function (s) { return s + ' ' + namesText(all[s].map(function (f) { return f.sensor; })); }).join('; ') + '.';
    }
  }
  function namesText(names) {
    return names.slice(0, 6).join(', ') + (names.length > 6 ? ' and ' + (names.length - 6) + ' more' : '');
  }

  // Flagged sensors (the analysis' sensor checks: flat, dead, stuck...) are left out of the colour field (a dead
  // sensor interpolated would look like unloaded foot) and drawn on top as grey hatched dots, with a legend.
  var FLAG_FILL = '#9ca3af', FLAG_LINE = '#374151';
  function flagWords(status) { return status === 'flat' || status === 'dead' ? 'flat/dead' : status; }
  function flaggedIndex(side) {
    var out = {};
    ((P.maps.flagged || {})[side] || []).forEach(function (f) { if (f.index !== null && f.index !== undefined) out[f.index] = f; });
    return out;
  }
  function flagLegend() {
    var words = {}, all = P.maps.flagged || {};
    Object.keys(all).forEach(function (s) { all[s].forEach(function (f) { words[flagWords(f.status)] = 1; }); });
    return Object.keys(words).length ? 'flagged: ' + Object.keys(words).join(', ') : '';
  }
  function drawFlagged(canvas, heading) {
    var legend = flagLegend();
    heading = heading || 'flagged:';
    if (!legend) return;
    var ctx = canvas.ctx, L = canvas.fm.layout, r = Math.max(3, Math.min(7, 60 / Math.sqrt(L.n_sensors)));
    function dot(x, y) {
      ctx.save();
      ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fillStyle = FLAG_FILL; ctx.fill();
      ctx.clip();
      ctx.strokeStyle = FLAG_LINE; ctx.lineWidth = 1;
      for (var k = -2 * r; k <= 2 * r; k += 3) { ctx.beginPath(); ctx.moveTo(x + k - r, y + r); ctx.lineTo(x + k + r, y - r); ctx.stroke(); }
      ctx.restore();
      ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.strokeStyle = FLAG_LINE; ctx.lineWidth = 1; ctx.stroke();
    }
    canvas.sides.forEach(function (side) {
      var idx = flaggedIndex(side);
      Object.keys(idx).forEach(function (i) { var q = canvas.px(side, L.x_mm[i], L.y_mm[i]); dot(q[0], q[1]); });
    });
    // the legend: under the colour bar, clear of the feet and their labels ("flagged:" then the statuses)
    var x = canvas.cbar ? canvas.cbar.x : canvas.w - 52, y = canvas.h - 20;
    dot(x + r, y);
    ctx.fillStyle = FLAG_LINE; ctx.font = '10px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
    ctx.textAlign = 'left'; ctx.textBaseline = 'middle';
    ctx.fillText(heading, x + 2 * r + 3, y);
    ctx.fillText(legend.replace(/^flagged: /, ''), x, y + 12);
  }

  function niceCeil(v) {
    if (!(v > 0)) return 1;
    var mag = Math.pow(10, Math.floor(Math.log10(v))), steps = [1, 1.5, 2, 3, 5, 7, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * mag >= v) return steps[i] * mag;
    return 10 * mag;
  }

  /* ---- other figures ------------------------------------------------------------------------ */

  function figure(id, fig, emptyText) {
    var div = $(id);
    if (!fig) { div.classList.add('empty'); div.style.height = 'auto'; div.textContent = emptyText; return null; }
    return Plotly.newPlot(div, fig.data, fig.layout, CONFIG);
  }

  /* Under the stance curves (in BW): where the body weight came from, and its failed check when it failed. */
  function curvesNote() {
    var S = M.summary || {};
    if (!S.in_body_weights) return;
    if (S.body_weight_source) { $('curves-note').textContent = 'BW: body weight, ' + S.body_weight_source; $('curves-note').hidden = false; }
    if (S.body_weight_note) { $('curves-bw-check').textContent = '\u26a0 ' + S.body_weight_note; $('curves-bw-check').hidden = false; }
  }

  /* ---- tables ------------------------------------------------------------------------------- */

  function symmetryTable() {
    var table = $('sym-table');
    if (!P.symmetry.length) { table.replaceWith(el('div', 'empty', SIDES.length < 2 ? 'Only one foot was recorded.' : 'No strides to compare.')); return; }
    var head = el('thead'), tr = el('tr');
    ['metric', 'left', 'right', 'symmetry index', 'R − L'].forEach(function (h) { tr.appendChild(el('th', '', h)); });
    head.appendChild(tr); table.appendChild(head);
    var body = el('tbody');
    P.symmetry.forEach(function (r) {
      var unit = metricUnit(r.metric), d = unitDigits(unit), row = el('tr');
      var name = el('td', 'txt', r.label);
      name.appendChild(el('span', 'hint', ' ' + unit));
      var on = r.flagged_sensors || {}, feet = Object.keys(on);
      if (feet.length) {
        // as the report marks it: the value (and any left/right difference) may come from the sensor, not the foot
        name.appendChild(el('div', 'flag-note', '\u26a0 rests on flagged sensors: ' + feet.map(function (s) {
          return s + ' ' + namesText(on[s]);
        }).join('; ')));
        row.classList.add('flagged');
      }
      row.appendChild(name);
      row.appendChild(el('td', '', fmt(r.left_mean, d) + ' ± ' + fmt(r.left_sd, d)));
      row.appendChild(el('td', '', fmt(r.right_mean, d) + ' ± ' + fmt(r.right_sd, d)));
      var si = r.symmetry_index_pct;
      row.appendChild(el('td', isNum(si) && Math.abs(si) >= 10 ? 'warn' : '', isNum(si) ? (si > 0 ? '+' : '') + si.toFixed(1) + ' %' : '–'));
      var diff = isNum(r.difference) && Math.abs(r.difference) >= 0.5 * Math.pow(10, -d) ? r.difference : 0;
      row.appendChild(el('td', '', isNum(r.difference) ? (diff > 0 ? '+' : '') + diff.toFixed(d) : '–'));
      body.appendChild(row);
    });
    table.appendChild(body);
  }

  function strideTable() {
    var table = $('stride-table'), sides = Object.keys(P.strides);
    if (!sides.length) { table.replaceWith(el('div', 'empty', 'No stride table: gait analysis unavailable.')); return; }
    var columns = P.strides[sides[0]].columns, head = el('thead'), tr = el('tr');
    tr.appendChild(el('th', '', 'foot'));
    columns.forEach(function (c) { var th = el('th', '', c.label); if (c.unit) th.appendChild(el('span', 'u', c.unit)); tr.appendChild(th); });
    head.appendChild(tr); table.appendChild(head);
    var rows = [];
    sides.forEach(function (s) {
      var cols = P.strides[s].columns.map(function (c) { return c.key; });
      P.strides[s].rows.forEach(function (r) {
        var rec = {}; cols.forEach(function (k, i) { rec[k] = r[i]; }); rec.__side = s; rows.push(rec);
      });
    });
    rows.sort(function (a, b) {
      var ta = isNum(a.heel_strike_s) ? a.heel_strike_s : a.toe_off_s || 0, tb = isNum(b.heel_strike_s) ? b.heel_strike_s : b.toe_off_s || 0;
      return ta - tb;
    });
    var body = el('tbody');
    rows.forEach(function (r) {
      var row = el('tr', r.used ? '' : 'excluded');
      row.dataset.side = r.__side; row.dataset.used = r.used ? '1' : '0';
      row.appendChild(el('td', r.__side === 'left' ? 'foot-l' : 'foot-r', r.__side));
      columns.forEach(function (c) {
        var v = r[c.key], text;
        if (c.key === 'used') text = v ? 'yes' : 'no';
        else if (c.key === 'exclusion_reason') text = v || '';
        else if (c.key === 'stride') text = isNum(v) ? String(v + 1) : '–';
        else text = fmt(v, unitDigits(c.unit));
        row.appendChild(el('td', c.key === 'exclusion_reason' ? 'txt' : '', text));
      });
      row.addEventListener('click', function () {
        if (!player || !isNum(r.heel_strike_s)) return;
        player.pause();
        player.seekTime(r.heel_strike_s);
        var end = isNum(r.stride_time_s) ? r.heel_strike_s + r.stride_time_s : r.heel_strike_s + 1.2;
        Plotly.relayout(forceDiv, { 'xaxis.range': [r.heel_strike_s - 0.5, end + 0.5] });
        $('sec-player').scrollIntoView({ behavior: 'smooth', block: 'start' });
      });
      body.appendChild(row);
    });
    table.appendChild(body);
    var side = 'all', usedOnly = false;
    function filter() {
      body.querySelectorAll('tr').forEach(function (row) {
        row.hidden = (side !== 'all' && row.dataset.side !== side) || (usedOnly && row.dataset.used !== '1');
      });
    }
    var buttons = document.querySelectorAll('#stride-filter button');
    buttons.forEach(function (b) {
      b.addEventListener('click', function () {
        buttons.forEach(function (o) { o.classList.toggle('on', o === b); });
        side = b.getAttribute('data-side'); filter();
      });
    });
    $('used-only').addEventListener('change', function (e) { usedOnly = e.target.checked; filter(); });
  }

  /* ---- quality, marks, provenance ---------------------------------------------------------- */

  var QUALITY_ROWS = [
    ['valid_pct', 'valid samples', function (v) { return fmt(v, 2) + ' %'; }, function (v) { return v < 95 ? 'bad' : v < 99.5 ? 'warn' : 'ok'; }],
    ['gaps', 'gaps', String, function (v) { return v > 0 ? 'warn' : 'ok'; }],
    ['gap_total_s', 'time in gaps', function (v) { return fmt(v, 2) + ' s'; }],
    ['longest_gap_s', 'longest gap', function (v) { return fmt(v, 2) + ' s'; }],
    ['n_sensors_used', 'sensors used', null],
    ['contacts_detected', 'contacts detected', String],
    ['strides_detected', 'strides detected', String],
    ['strides_used', 'strides used', String],
    ['strides_excluded', 'strides excluded', function (v) { var k = Object.keys(v || {}); return k.length ? k.map(function (x) { return x + ': ' + v[x]; }).join(', ') : 'none'; }],
    ['event_confidence_mean', 'event confidence (mean)', function (v) { return fmt(v, 2); }, function (v) { return v < 0.8 ? 'warn' : 'ok'; }],
    ['low_confidence_events', 'low-confidence events', String, function (v) { return v > 0 ? 'warn' : 'ok'; }],
    ['force_source', 'load from', String],
    ['zero_offset', 'zero offset', String]
  ];

  function quality() {
    var box = $('quality');
    SIDES.forEach(function (s) {
      var q = P.quality[s], card = el('div', 'qcard'), dl = el('dl');
      card.appendChild(el('h3', s === 'left' ? 'foot-l' : 'foot-r', s + ' foot'));
      QUALITY_ROWS.forEach(function (r) {
        var key = r[0];
        if (q[key] === undefined || q[key] === null) return;
        var text = key === 'n_sensors_used' ? q.n_sensors_used + ' of ' + q.n_sensors : r[2](q[key]);
        dl.appendChild(el('dt', '', r[1]));
        dl.appendChild(el('dd', (r[3] ? r[3](q[key]) : '') + (String(text).length > 40 ? ' long' : ''), text));
      });
      var byStatus = {};
      (q.sensor_flags || []).forEach(function (f) {
        var key = (f.status || 'flagged') + (f.excluded ? ', left out' : '');
        (byStatus[key] = byStatus[key] || []).push(f.sensor);
      });
      Object.keys(byStatus).forEach(function (key) {
        var names = byStatus[key], shown = names.slice(0, 8).join(', ') + (names.length > 8 ? ' and ' + (names.length - 8) + ' more' : '');
        dl.appendChild(el('dt', '', 'sensors ' + key));
        dl.appendChild(el('dd', 'warn long', names.length + ': ' + shown));
      });
      // notes are sentences: under their label at the card's width (beside it they ran a word a line)
      (q.notes || []).forEach(function (n) { dl.appendChild(el('dt', '', 'note')); dl.appendChild(el('dd', 'long', n)); });
      card.appendChild(dl);
      box.appendChild(card);
    });
    if (M.capture_quality) box.appendChild(captureCard(M.capture_quality));
  }

  // What the live capture measured, in words (it was every stored field, nested ones as JSON text: a column of
  // braces a reader cannot use). The rest stays in the file; 'insole info' prints it.
  function captureCard(c) {
    var cq = el('div', 'qcard'), dl = el('dl');
    cq.appendChild(el('h3', '', 'capture'));
    var row = function (name, text, cls) {
      if (text === null || text === undefined) return;
      dl.appendChild(el('dt', '', name));
      dl.appendChild(el('dd', cls || '', text));
    };
    var num = function (v, d) { return typeof v === 'number' && isFinite(v) ? fmt(v, d) : null; };
    if (typeof c.speed === 'number' && c.speed !== 1) row('emulated at', fmt(c.speed, 0) + '\u00d7 real time');
    if (num(c.lr_alignment_residual_ms, 2) !== null) {
      row('left/right alignment', num(c.lr_alignment_residual_ms, 2) + ' ms' +
        (num(c.lr_alignment_uncertainty_ms, 2) !== null ? ' (uncertainty ' + num(c.lr_alignment_uncertainty_ms, 2) + ' ms)' : ''));
    }
    var disk = c.notification_to_disk_ms;
    if (disk && num(disk.p50, 0) !== null) {
      row('on disk after', 'median ' + num(disk.p50, 0) + ' ms, 99 % within ' + num(disk.p99, 0) + ' ms');
    }
    SIDES.forEach(function (s) {
      var f = (c.feet || {})[s];
      if (!f) return;
      if (typeof f.packets_sent === 'number') {
        row(s + ' packets', f.packets_received + ' of ' + f.packets_sent + ' received' +
          (f.packets_lost ? ', ' + f.packets_lost + ' lost (' + num(f.packet_loss_pct, 2) + ' %)' : ''),
          f.packets_lost ? 'warn' : 'ok');
      }
      if (typeof f.gaps === 'number') {
        row(s + ' gaps', f.gaps ? f.gaps + ' (' + num(f.gap_total_ms, 0) + ' ms in all, longest ' +
          num(f.longest_gap_ms, 0) + ' ms)' : 'none', f.gaps ? 'warn' : 'ok');
      }
      if (f.reconnects) row(s + ' reconnects', String(f.reconnects), 'warn');
      var clock = f.clock || {};
      if (num(clock.drift_ppm, 1) !== null) {
        row(s + ' clock drift', num(clock.drift_ppm, 1) + ' ppm' + (clock.drift_at_limit ?
          ' (at the limit of the clock fit: its time axis may be off by this much)' : ''), clock.drift_at_limit ? 'warn' : '');
      }
      if (typeof f.battery_pct_start === 'number') {
        row(s + ' battery', f.battery_pct_start + ' % \u2192 ' + (typeof f.battery_pct_end === 'number' ? f.battery_pct_end + ' %' : '?'),
          f.low_battery ? 'warn' : '');
      }
    });
    cq.appendChild(dl);
    cq.appendChild(el('div', 'hint', 'Everything the capture measured is stored in the file (insole info prints it).'));
    return cq;
  }

  function marks() {
    var list = $('marks');
    if (!M.marks.length) { list.replaceWith(el('div', 'empty', 'No marks in this recording.')); return; }
    M.marks.forEach(function (m) {
      var li = el('li');
      li.appendChild(el('span', 't', fmtClock(m.t)));
      li.appendChild(el('span', 'lbl', m.label));
      if (m.kind && m.kind !== 'mark') li.appendChild(el('span', 'hint', ' (' + m.kind + ')'));
      li.addEventListener('click', function () { if (player) { player.pause(); player.seekTime(m.t); } });
      list.appendChild(li);
    });
  }

  function provenance() {
    var box = $('provenance'), A = M.analysis.provenance;
    box.appendChild(el('p', '', 'Dashboard made by insole ' + M.generated.version + ' on ' + M.generated.at + '.' +
      (A ? ' Analysis by ' + A.software + ' ' + A.version + ' (schema ' + A.schema_version + ', event method: ' + A.event_method + ').' : '')));
    if (A && A.methods) box.appendChild(el('p', '', A.methods));
    if (A && A.references && A.references.length) {
      box.appendChild(el('h3', '', 'References'));
      var ol = el('ol');
      A.references.forEach(function (r) { ol.appendChild(el('li', '', typeof r === 'string' ? r : (r.citation || JSON.stringify(r)))); });
      box.appendChild(ol);
    }
    box.appendChild(el('h3', '', 'Sensor layout'));
    box.appendChild(el('p', '', M.layout.name + ': ' + M.layout.source));
    var details = el('details'), summary = el('summary', '', 'Parameters and input (JSON)');
    details.appendChild(summary);
    details.appendChild(el('pre', '', JSON.stringify({ analysis: A, recording_source: M.recording_source, devices: M.devices, dashboard: M.generated }, null, 2)));
    box.appendChild(details);
  }

  /* ---- clinic test: result card and the phases (shaded on the load chart by the figure) ------ */

  var CLINIC_UNITS = [  // longest suffix first: "_m_s" before "_s", "_pct_of_standing" before "_pct"
    ['_pct_of_standing', '% of standing'], ['_steps_per_min', 'steps/min'], ['_m_s', 'm/s'], ['_mm_s', 'mm/s'],
    ['_mm2', 'mm²'], ['_deg', '°'], ['_pct', '%'], ['_mm', 'mm'], ['_kg', 'kg'], ['_bw', 'BW'], ['_n', 'N'],
    ['_m', 'm'], ['_s', 's']
  ];
  var CLINIC_KEY = ['total_time_s', 'gait_speed_m_s', 'distance_m', 'distance_before_stop_m'];
  function clinicMeasure(key) {
    for (var i = 0; i < CLINIC_UNITS.length; i++) {
      var suffix = CLINIC_UNITS[i][0];
      if (key.length > suffix.length && key.slice(-suffix.length) === suffix) {
        var label = key.slice(0, -suffix.length).replace(/_/g, ' ');
        return { label: suffix === '_deg' ? label + ' angle' : label, unit: CLINIC_UNITS[i][1] };  // turn_out_s beside turn_out_deg
      }
    }
    return { label: key.replace(/_/g, ' '), unit: '' };
  }
  function clinicValue(v, unit) {
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (!isNum(v)) return v === null || v === undefined ? '–' : String(v);
    var digits = unit === '°' || unit === '% of standing' || unit === 'steps/min' ? 0 : unit === 's' ? 2 : unit === '' && Math.round(v) === v ? 0 : 2;
    return v.toFixed(digits) + (unit ? (unit === '°' ? '' : ' ') + unit : '');
  }

  function clinic() {
    var C = P.clinic || {}, phases = C.phases || [], R = C.result;
    stats.clinic = { phases: phases.length, result: !!R };
    if (!phases.length && !R) return;
    var box = $('clinic');
    $('sec-clinic').hidden = false;
    if (R) {
      $('clinic-test').textContent = (R.name || R.test || 'clinic test') + (R.name && R.test ? ' (' + R.test + ')' : '');
      var badge = $('clinic-status');
      badge.textContent = R.status || (R.complete ? 'complete' : 'incomplete');
      badge.className = 'status ' + (R.complete ? 'ok' : 'bad');
      if (R.reasons.length) {
        var why = el('ul', 'reasons');
        R.reasons.forEach(function (r) { why.appendChild(el('li', '', r)); });
        box.appendChild(why);
      }
      var keys = Object.keys(R.measures), dl = el('dl', 'measures');
      keys.sort(function (a, b) {
        var ka = CLINIC_KEY.indexOf(a), kb = CLINIC_KEY.indexOf(b);
        return (ka < 0 ? 99 : ka) - (kb < 0 ? 99 : kb);
      });
      keys.forEach(function (k, i) {
        var m = clinicMeasure(k), key = CLINIC_KEY.indexOf(k) >= 0;
        dl.appendChild(el('dt', key ? 'key' : '', m.label));
        dl.appendChild(el('dd', key ? 'key' : '', clinicValue(R.measures[k], m.unit)));
      });
      if (keys.length) box.appendChild(dl);
      else box.appendChild(el('div', 'empty', 'No measures: ' + (R.complete ? 'none stored.' : 'the test was not completed.')));
    } else {
      $('clinic-test').textContent = 'phases marked in this recording';
      box.appendChild(el('div', 'empty', 'No clinic test result is stored in this recording.'));
    }
    function comparisons() { if (R) R.comparisons.forEach(function (c) { box.appendChild(el('p', 'note', c)); }); }
    if (!phases.length) { box.appendChild(el('div', 'empty', 'No phases marked.')); comparisons(); return; }
    var table = el('table', 'tab phases'), head = el('tr');
    ['phase', 'from', 'to', 'lasts'].forEach(function (h, i) { head.appendChild(el('th', '', h + (i ? ' (s)' : ''))); });
    var thead = el('thead'); thead.appendChild(head); table.appendChild(thead);
    var body = el('tbody');
    phases.forEach(function (ph) {
      var row = el('tr'), name = el('td', 'txt');
      var sw = el('span', 'swatch phase'); sw.style.background = ph.fill;
      name.appendChild(sw);
      name.appendChild(el('span', '', ph.name.replace(/_/g, ' ')));
      if (R && R.found_by && R.found_by[ph.name]) name.title = 'found by ' + R.found_by[ph.name];
      row.appendChild(name);
      row.appendChild(el('td', '', ph.start_s.toFixed(2)));
      row.appendChild(el('td', '', ph.end_s.toFixed(2) + (ph.closed ? '' : ' (end of recording)')));
      row.appendChild(el('td', '', (ph.end_s - ph.start_s).toFixed(2)));
      row.addEventListener('click', function () {
        if (player) { player.pause(); player.seekTime(ph.start_s); }
        var pad = Math.max(0.5, 0.1 * (ph.end_s - ph.start_s));
        Plotly.relayout(forceDiv, { 'xaxis.range': [ph.start_s - pad, ph.end_s + pad] });
      });
      body.appendChild(row);
    });
    table.appendChild(body);
    box.appendChild(table);
    comparisons();
  }

  /* ---- go ----------------------------------------------------------------------------------- */

  guard('header', header);
  guard('kpis', kpis);
  guard('clinic', clinic);
  var fm = new window.InsoleFootMap.FootMap(P.grid, M.layout);
  P.player.load_weights = P.player.load_weights || P.load.weights;
  guard('player', function () { setupPlayer(fm); });
  guard('maps', function () { maps(fm); });
  guard('tables', symmetryTable);
  guard('curves-note', curvesNote);
  // the stride table (hundreds of rows) is built when it comes near the screen
  var stridesBuilt = false;
  function buildStrides() { if (!stridesBuilt) { stridesBuilt = true; guard('strides', strideTable); } }
  guard('quality', quality);
  guard('marks', marks);
  guard('provenance', provenance);
  windowButtons();
  // without a figure the reason is already the card's message
  $('butterfly-note').textContent = P.figures.butterfly ? (P.notes.butterfly || '') : '';
  // The load chart is drawn at once; the figures further down when they come near the screen
  // (plotly takes 0.1-1 s per figure, which would otherwise all be paid before the page is usable).
  var lazy = [
    ['curves', 'fig-curves', P.figures.curves, 'No stance curves: gait analysis unavailable or no strides used.'],
    ['butterfly', 'fig-butterfly', P.figures.butterfly, 'No centre of pressure: ' + (P.notes.butterfly || 'not available') + '.'],
    // one foot: the table beside it already says so; the chart's place says what it would have shown
    ['symmetry', 'fig-symmetry', P.figures.symmetry, SIDES.length < 2 ? 'No symmetry chart: it compares the two feet.' : 'No symmetry figures.'],
    ['regions', 'fig-regions', P.figures.regions, 'No regional loads.']
  ];
  var rendered = {}, pendingPlots = [];
  function render(item) {
    if (rendered[item[0]]) return;
    rendered[item[0]] = true;
    guard(item[0], function () { var p = figure(item[1], item[2], item[3]); if (p) pendingPlots.push(p); });
  }
  window.__renderAll = function () {
    buildStrides();
    lazy.forEach(render);
    return Promise.all(pendingPlots).then(function () { stats.all_rendered_ms = performance.now(); return true; });
  };
  if (window.IntersectionObserver) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        lazy.forEach(function (item) { if (item[1] === entry.target.id) render(item); });
        observer.unobserve(entry.target);
      });
    }, { rootMargin: '300px' });
    lazy.forEach(function (item) { observer.observe($(item[1])); });
    var strideObserver = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { buildStrides(); strideObserver.disconnect(); }
    }, { rootMargin: '400px' });
    strideObserver.observe($('sec-strides'));
  } else {
    lazy.forEach(render);
    buildStrides();
  }
  var first;
  guard('force', function () { first = forceChart(); });
  Promise.resolve(first).then(function () {
    placeCursor();
    stats.ready_ms = performance.now();
  }).catch(function (e) { stats.errors.push('plots: ' + e); stats.ready_ms = performance.now(); });
})();
