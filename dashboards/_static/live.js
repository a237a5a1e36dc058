/* The live page: draws what the capture's websocket sends, at most once per screen refresh.
 *
 * Frames from the server are merged as they arrive (newest pressure map wins, curve samples
 * are appended) and drawn in requestAnimationFrame: heat maps every refresh that has a new
 * map, curves every refresh that has new samples (both are cheap canvas draws). Every text that comes from the server
 * (subject, notes, marks, device names, messages) is set with textContent, never as HTML.
 *
 * window.__liveStats counts draws and the age of what each draw showed (ms from the
 * server's send time to the end of the draw); tests and benchmarks read it.
 */
(function () {
  'use strict';

  var COP_TRAIL_MAX_S = 2.0;
  var SIDES = ['left', 'right'];
  var COLORS = { left: '#c2410c', right: '#1d4ed8' };
  var MAX_AGES = 5000;

  var stats = window.__liveStats = {
    heat_draws: 0, curve_draws: 0, heat_age_ms: [], curve_age_ms: [], heat_ms: [], curve_ms: [], frames: 0, hellos: 0,
    errors: [], acks: [], started_ms: Date.now(),
    // what the last draws showed: feet with a map, finite load points, the scales' lower ends (for the checks)
    maps_shown: 0, curve_points: 0, map_min: 0, load_min: 0
  };
  window.addEventListener('error', function (e) { stats.errors.push(String(e.message)); });
  window.addEventListener('unhandledrejection', function (e) { stats.errors.push(String(e.reason)); });

  var $ = function (id) { return document.getElementById(id); };
  var ws = null, hello = null, fm = null, footCanvas = null, shownMaps = {};
  var heatDiv = $('heat'), curveDiv = $('curves');
  var pending = { maps: {}, mapSendMs: null, curves: false, curveSendMs: null };
  var curves = {}, cop = {}, steps = {}, stepCounts = { left: 0, right: 0 };
  var marks = [], mapMax = 1, loadMax = 1, mapMin = 0, loadMin = 0, windowS = 10, sessionT = 0;
  var markCount = 0, chart = null, lastHeelStrike = { left: -Infinity, right: -Infinity }, lastCurveDraw = 0, lastSampleMs = 0, ready = false;
  var nextControlId = 1, recording = { active: false };
  // The session's secret, from this page's own address (printed by `insole live`): the server opens the
  // websocket only with it and acts on a control only when the control carries it.
  var token = new URLSearchParams(location.search).get('token') || '';

  function resetBuffers() {
    SIDES.forEach(function (s) {
      curves[s] = { t: [], load: [] };
      cop[s] = { t: [], x: [], y: [] };
      steps[s] = { t: [], load: [], kind: [] };
    });
  }
  resetBuffers();

  // only touch the page when a text really changes (each change costs a layout and a paint)
  function setText(id, text) { var el = $(id); if (el && el.textContent !== text) el.textContent = text; }
  function fmtClock(t) {
    if (t === null || t === undefined || !isFinite(t)) return '–';
    var m = Math.floor(t / 60), s = t - 60 * m;
    return m + ':' + (s < 10 ? '0' : '') + s.toFixed(1);
  }
  function toast(text, ok) {
    var el = $('toast');
    el.textContent = text;
    el.className = 'toast ' + (ok ? 'ok' : 'bad');
  }
  function pushAge(list, value) { list.push(value); if (list.length > MAX_AGES) list.splice(0, list.length - MAX_AGES); }

  /* ---- connection ---------------------------------------------------------------- */

  function connect() {
    if (!token) {
      setConn('bad', 'no session secret in this address: open the link that insole printed');
      return;
    }
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    ws = new WebSocket(scheme + location.host + '/ws?token=' + encodeURIComponent(token));
    setConn('wait', 'connecting…');
    ws.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { stats.errors.push('bad message'); return; }
      if (msg.type === 'hello') onHello(msg);
      else if (msg.type === 'frame') onFrame(msg);
      else if (msg.type === 'ack') onAck(msg);
    };
    ws.onclose = function () {
      setConn('bad', 'disconnected – retrying');
      enableControls(false);
      setTimeout(connect, 1000);
    };
  }
  function setConn(kind, text) { var el = $('conn'); el.className = 'conn ' + kind; el.textContent = text; }

  function send(obj) {
    if (!ws || ws.readyState !== WebSocket.OPEN) { toast('not connected to the capture', false); return false; }
    ws.send(JSON.stringify(obj));
    return true;
  }

  /* ---- hello: build the page for this layout -------------------------------------- */

  function onHello(msg) {
    stats.hellos += 1;
    hello = msg;
    windowS = msg.window_s;
    resetBuffers();
    lastHeelStrike = { left: -Infinity, right: -Infinity };
    stepCounts = { left: 0, right: 0 };
    marks = []; markCount = 0;
    $('events').textContent = '';
    resetClinic();
    setConn('ok', 'live');
    var info = msg.info || {};
    setText('subject', info.subject_id || '–');
    setText('notes', info.notes || '–');
    var metaParts = ['layout ' + msg.layout.name + ' (' + msg.layout.n_sensors + (msg.layout.n_sensors === 1 ? ' sensor' : ' sensors') +
      (msg.layout.approximate ? ', approximate geometry' : '') + ')',
      'values in ' + msg.unit, msg.sample_rate_hz + ' Hz'];
    if (info.source) metaParts.push(info.source);
    metaParts.push('insole ' + msg.version);
    setText('meta', metaParts.join(' · '));
    setText('map-hint', msg.unit + ' per sensor · black line: centre of pressure of the current stance');
    setText('load-hint', msg.load_label);
    setText('controls-hint', msg.controls ? '' : 'view only');

    heatDiv.textContent = '';
    shownMaps = {};
    if (msg.layout.n_sensors < 2) {
      // one sensor per foot (foot switches): a map would paint the whole insole in one colour; say why there is none
      fm = null; footCanvas = null;
      setText('map-hint', '');
      heatDiv.classList.add('empty');
      heatDiv.textContent = 'No pressure map: layout ' + msg.layout.name + ' has one sensor per foot, so there is ' +
        'nothing to map; each foot\u2019s load over time is in the curves.';
    } else {
      heatDiv.classList.remove('empty');
      fm = new window.InsoleFootMap.FootMap(msg.grid, msg.layout);
      footCanvas = new window.InsoleFootMap.FootCanvas(heatDiv, fm, { sides: SIDES, unit: msg.unit });
      footCanvas.draw(shownMaps, {}, mapMax);
    }
    // uncalibrated values (au) of two sensors are not comparable: no left/right share, the reason instead
    comparable = msg.load_unit !== 'au';
    $('balance').hidden = !comparable;
    setText('bal-note', comparable ? '' : 'Not shown: values in arbitrary units (uncalibrated); left and right ' +
      'loads are not comparable.');
    shownBalance = null;
    footSeen = {};
    curveDiv.textContent = '';
    chart = new window.InsoleTimeChart(curveDiv, {
      colors: COLORS, yLabel: msg.load_axis_label
    });
    enableControls(!!msg.controls);
    ready = true;
  }

  /* ---- frames: merge now, draw later --------------------------------------------- */

  function onFrame(msg) {
    stats.frames += 1;
    if (!ready) return;
    if (msg.feet) {
      SIDES.forEach(function (s) {
        var f = msg.feet[s];
        if (!f) return;
        if (f.map) { pending.maps[s] = f.map; pending.mapSendMs = msg.send_ms; }
        if (f.t && f.t.length) {
          footSeen[s] = true;
          Array.prototype.push.apply(curves[s].t, f.t);
          Array.prototype.push.apply(curves[s].load, f.load);
          Array.prototype.push.apply(cop[s].t, f.t);
          Array.prototype.push.apply(cop[s].x, f.cop_x);
          Array.prototype.push.apply(cop[s].y, f.cop_y);
          if (!pending.curves) { pending.curves = true; pending.curveSendMs = msg.send_ms; }
          lastSampleMs = Date.now();
        }
      });
    }
    if (msg.steps) {
      msg.steps.forEach(function (st) {
        var b = steps[st.side];
        if (!b) return;
        b.t.push(st.t); b.load.push(st.load === null ? 0 : st.load); b.kind.push(st.kind);
        if (st.kind === 'hs') { stepCounts[st.side] += 1; lastHeelStrike[st.side] = st.t; }
        pending.curves = true; if (pending.curveSendMs === null) pending.curveSendMs = msg.send_ms;
      });
    }
    if (msg.session) msg.session.forEach(onSessionEvent);
    if (msg.status) onStatus(msg.status);
    if (msg.recording && JSON.stringify(msg.recording) !== JSON.stringify(recording)) onRecording(msg.recording);
    sessionT = msg.t_s;
    mapMax = msg.map_max || mapMax;
    loadMax = msg.load_max || loadMax;
    mapMin = msg.map_min || 0;
    loadMin = msg.load_min || 0;
    gauges = msg;
    stats.playout_delay_ms = msg.playout_delay_ms;
  }

  /* The slow numbers (clock, balance, cadence, step counts) change the page a few times a second. */
  var gauges = null, shownBalance = null, comparable = true, footSeen = {};
  function updateGauges() {
    if (!gauges) return;
    setText('clock', fmtClock(sessionT));
    updateCountdown();
    setText('steps-left', String(stepCounts.left));
    setText('steps-right', String(stepCounts.right));
    var left = gauges.balance_left_pct;
    // one foot streaming (a one-foot recording or insole): no share to show, and the page says so
    var alone = comparable && sessionT > 3 && SIDES.filter(function (s) { return footSeen[s]; }).length === 1;
    $('balance').hidden = !comparable || alone;
    if (alone) setText('bal-note', 'Not shown: only the ' + SIDES.filter(function (s) { return footSeen[s]; })[0] +
      ' foot is streaming.');
    else if (comparable) setText('bal-note', '');
    if (comparable && left !== null && left !== undefined && Math.round(left) !== shownBalance) {
      shownBalance = Math.round(left);
      $('bal-left').style.width = left + '%';
      $('bal-right').style.width = (100 - left) + '%';
      setText('bal-left-text', 'L ' + shownBalance + '%');
      setText('bal-right-text', 'R ' + (100 - shownBalance) + '%');
    }
    setText('cadence', gauges.cadence_spm === null || gauges.cadence_spm === undefined ? '–' : gauges.cadence_spm.toFixed(0));
    $('stale').hidden = !(lastSampleMs && Date.now() - lastSampleMs > 1500);
  }
  setInterval(updateGauges, 200);

  function trim(buf, horizon) {
    var n = 0;
    while (n < buf.t.length && buf.t[n] < horizon) n++;
    if (n > 0) Object.keys(buf).forEach(function (k) { buf[k].splice(0, n); });
  }

  /* ---- drawing ------------------------------------------------------------------- */

  function drawHeat() {
    var sent = pending.mapSendMs, trails = {};
    SIDES.forEach(function (s) { if (pending.maps[s]) shownMaps[s] = pending.maps[s]; });
    pending.maps = {}; pending.mapSendMs = null;
    SIDES.forEach(function (s) {
      // the COP of the current (or last) stance: from the foot's latest heel strike on
      var c = cop[s];
      trim(c, Math.max(sessionT - COP_TRAIL_MAX_S, lastHeelStrike[s]));
      trails[s] = { x_mm: c.x, y_mm: c.y };
    });
    if (!footCanvas) return;  // a layout with nothing to map (one sensor per foot)
    try {
      var t0 = performance.now();
      footCanvas.draw(shownMaps, trails, mapMax, mapMin);
      stats.maps_shown = Object.keys(shownMaps).length;
      stats.map_min = mapMin;
      pushAge(stats.heat_ms, performance.now() - t0);
      stats.heat_draws += 1;
      if (sent !== null) pushAge(stats.heat_age_ms, Date.now() - sent);
    } catch (e) { stats.errors.push('heat: ' + e); }
  }

  function drawCurves(now) {
    var sent = pending.curveSendMs;
    pending.curves = false; pending.curveSendMs = null;
    var horizon = sessionT - windowS - 0.5, series = {}, stepSeries = {};
    SIDES.forEach(function (s) {
      trim(curves[s], horizon);
      trim(steps[s], horizon);
      series[s] = { t: curves[s].t, v: curves[s].load };
      stepSeries[s] = { t: steps[s].t, v: steps[s].load, kind: steps[s].kind };
    });
    marks = marks.filter(function (m) { return m.t >= horizon; });
    try {
      var t0 = performance.now();
      chart.draw(series, stepSeries, marks, Math.max(sessionT, windowS), windowS, loadMax, loadMin);
      stats.curve_points = SIDES.reduce(function (n, s) {
        return n + series[s].v.filter(function (v) { return v !== null && isFinite(v); }).length; }, 0);
      stats.load_min = loadMin;
      pushAge(stats.curve_ms, performance.now() - t0);
      stats.curve_draws += 1;
      lastCurveDraw = now;
      if (sent !== null) pushAge(stats.curve_age_ms, Date.now() - sent);
    } catch (e) { stats.errors.push('curves: ' + e); }
  }

  function frameLoop(now) {
    if (ready) {
      if (Object.keys(pending.maps).length) drawHeat();
      if (pending.curves) drawCurves(now);
    }
    requestAnimationFrame(frameLoop);
  }

  /* ---- status, events, recording -------------------------------------------------- */

  function fmtPct(v) { return v === null || v === undefined ? '–' : v.toFixed(v < 1 ? 2 : 1) + ' %'; }

  function onStatus(status) {
    SIDES.forEach(function (s) {
      var st = status[s], row = $('link-' + s);
      if (!st || !row) return;
      var cell = row.querySelector('.state');
      cell.textContent = '';
      var pill = document.createElement('span');
      pill.className = 'state-pill state-' + String(st.state).replace(/[^a-z]/g, '');
      pill.textContent = st.state;
      cell.appendChild(pill);
      row.querySelector('.dev').textContent = st.name || st.address || '–';
      row.querySelector('.dev').title = [st.name, st.address].filter(Boolean).join(' ');
      row.querySelector('.bat').textContent = st.battery_pct === null || st.battery_pct === undefined ? '–' : st.battery_pct + ' %';
      var sl = row.querySelector('.sloss');
      sl.textContent = fmtPct(st.sample_loss_pct) + (st.samples_lost ? ' (' + st.samples_lost + ')' : '');
      sl.className = 'sloss' + (st.sample_loss_pct > 1 ? ' bad-num' : '');
      var pl = row.querySelector('.ploss');
      pl.textContent = st.packet_loss_pct === null || st.packet_loss_pct === undefined ? '–' : fmtPct(st.packet_loss_pct);
      pl.className = 'ploss' + (st.packet_loss_pct > 1 ? ' bad-num' : '');
      var rc = row.querySelector('.reconn');
      rc.textContent = String(st.reconnects);
      rc.className = 'reconn' + (st.reconnects > 0 ? ' bad-num' : '');
      row.querySelector('.rate').textContent = st.rate_hz === null || st.rate_hz === undefined ? '–' : st.rate_hz + ' Hz';
    });
  }

  var EVENT_NAMES = { mark: 'mark', recording_started: 'recording', recording_stopped: 'saved', zeroed: 'zeroed', phase: 'phase' };

  /* ---- guided clinic test: phase, instruction, countdown, result ---------------------- */

  // SessionEvent("phase") data: test, phase, instruction, countdown_s, ends_at_s, lengths_completed | length;
  // SessionEvent("result") data: test, status, measures. Every text goes in with textContent.
  var clinic = { endsAt: null, phases: 0 };
  var CLINIC_TESTS = { '10mwt': '10-metre walk', '6mwt': '6-minute walk', tug: 'Timed Up and Go', balance: 'Standing balance' };

  function words(name) { return String(name === undefined || name === null ? '' : name).replace(/_/g, ' '); }

  function resetClinic() {
    clinic = { endsAt: null, phases: 0 };
    $('clinic').hidden = true;
    $('clinic-phases').textContent = '';
    $('clinic-result').hidden = true;
    $('clinic-countdown-box').hidden = true;
    $('clinic-measures').querySelector('tbody').textContent = '';
  }

  function fmtMeasure(v) {
    if (typeof v === 'number') return isFinite(v) ? String(Math.round(v * 1000) / 1000) : '–';
    return v === null || v === undefined ? '–' : String(v);
  }

  function onClinicPhase(ev) {
    var d = ev.data || {};
    $('clinic').hidden = false;
    $('clinic-result').hidden = true;
    setText('clinic-test', CLINIC_TESTS[d.test] || words(d.test));
    var name = d.phase || ev.label;
    setText('clinic-phase', words(name));
    setText('clinic-instruction', d.instruction || '');
    var progress = '';
    if (typeof d.lengths_completed === 'number') progress = d.lengths_completed + (d.lengths_completed === 1 ? ' length' : ' lengths') + ' completed';
    else if (typeof d.length === 'number') progress = 'length ' + d.length;
    setText('clinic-progress', progress);
    clinic.endsAt = typeof d.ends_at_s === 'number' ? d.ends_at_s : null;
    $('clinic-countdown-box').hidden = clinic.endsAt === null;
    updateCountdown();
    var list = $('clinic-phases');
    var previous = list.querySelector('li.current');
    if (previous) previous.className = '';
    var li = document.createElement('li');
    li.className = 'current';
    li.setAttribute('data-phase', String(name));
    li.textContent = words(name) + ' ' + fmtClock(ev.t);
    list.appendChild(li);
    clinic.phases += 1;
  }

  function updateCountdown() {
    if (clinic.endsAt === null) return;
    var left = Math.max(0, clinic.endsAt - sessionT);
    var m = Math.floor(left / 60), s = Math.floor(left - 60 * m);
    setText('clinic-countdown', m + ':' + (s < 10 ? '0' : '') + s);
  }

  function onClinicResult(ev) {
    var d = ev.data || {};
    $('clinic').hidden = false;
    if (d.test) setText('clinic-test', CLINIC_TESTS[d.test] || words(d.test));
    clinic.endsAt = null;
    $('clinic-countdown-box').hidden = true;
    var current = $('clinic-phases').querySelector('li.current');
    if (current) current.className = '';
    var status = $('clinic-status');
    status.textContent = d.status || '';
    status.className = 'clinic-status ' + (d.status === 'complete' ? 'complete' : 'incomplete');
    setText('clinic-summary', ev.label || '');
    var body = $('clinic-measures').querySelector('tbody');
    body.textContent = '';
    var measures = d.measures || {};
    Object.keys(measures).forEach(function (key) {
      var tr = document.createElement('tr');
      var k = document.createElement('td'); k.textContent = words(key);
      var v = document.createElement('td'); v.textContent = fmtMeasure(measures[key]);
      tr.appendChild(k); tr.appendChild(v); body.appendChild(tr);
    });
    $('clinic-result').hidden = false;
  }

  function onSessionEvent(ev) {
    if (ev.kind === 'phase') onClinicPhase(ev);
    else if (ev.kind === 'result') onClinicResult(ev);
    var li = document.createElement('li');
    var t = document.createElement('span'); t.className = 't'; t.textContent = fmtClock(ev.t);
    var k = document.createElement('span'); k.className = 'k ' + (ev.kind === 'mark' ? 'mark' : '');
    k.textContent = EVENT_NAMES[ev.kind] || ev.kind;
    var l = document.createElement('span'); l.className = 'lbl';
    var text = ev.label || (ev.kind === 'recording_started' ? 'started' : ev.kind === 'recording_stopped' ? 'stopped' : '');
    if ((ev.kind === 'recording_started' || ev.kind === 'recording_stopped') && ev.label) {
      l.title = ev.label;  // the full path on hover; the file name in the list
      text = String(ev.label).split(/[\\/]/).pop();
    }
    l.textContent = text + (ev.samples !== undefined ? ' (' + ev.samples + (ev.samples === 1 ? ' sample)' : ' samples)') : '');
    li.appendChild(t); li.appendChild(k); li.appendChild(l);
    var list = $('events');
    list.insertBefore(li, list.firstChild);
    if (ev.kind === 'mark') {
      markCount += 1;
      marks.push({ t: ev.t, n: markCount });
      k.textContent = 'mark ' + markCount;
      pending.curves = true;
    }
  }

  function onRecording(rec) {
    recording = rec;
    var box = $('rec'), btn = $('btn-record');
    if (rec.active) {
      box.className = 'rec on';
      var elapsed = rec.started_s === null ? '' : ' ' + fmtClock(Math.max(0, sessionT - rec.started_s));
      setText('rec-text', 'REC' + elapsed);
      box.title = rec.path || '';
      btn.textContent = 'Stop recording';
      btn.className = 'primary stop';
    } else {
      box.className = 'rec idle';
      setText('rec-text', 'not recording');
      box.title = rec.path ? 'last saved: ' + rec.path : '';
      btn.textContent = 'Start recording';
      btn.className = 'primary';
    }
  }

  /* ---- controls ------------------------------------------------------------------ */

  function enableControls(on) {
    var usable = on && hello && hello.controls;
    document.querySelectorAll('.controls button, .controls input').forEach(function (el) { el.disabled = !usable; });
  }

  function control(action, label) {
    var msg = { type: 'control', id: nextControlId++, token: token, action: action };
    if (label !== undefined) msg.label = label;
    if (send(msg)) toast(action.replace('_', ' ') + '…', true);
  }

  function onAck(msg) {
    stats.acks.push({ id: msg.id, action: msg.action, ok: msg.ok, message: msg.message });
    toast(String(msg.message || ''), !!msg.ok);
  }

  $('btn-record').addEventListener('click', function () {
    control(recording.active ? 'stop_recording' : 'start_recording');
  });
  $('btn-zero').addEventListener('click', function () { control('zero'); });
  document.querySelectorAll('.markbtn').forEach(function (b) {
    b.addEventListener('click', function () { control('mark', b.getAttribute('data-label')); });
  });
  $('mark-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = $('mark-text'), text = input.value.trim();
    if (!text) { toast('type a note for the mark first', false); return; }
    control('mark', text);
    input.value = '';
  });

  setInterval(function () {
    var n = stats.heat_age_ms.length, ages = stats.heat_age_ms.slice(-60).slice().sort(function (a, b) { return a - b; });
    var p50 = ages.length ? ages[Math.floor(ages.length / 2)] : null;
    var playout = stats.playout_delay_ms ? ' + ' + stats.playout_delay_ms + ' ms smoothing of the feed' : '';
    setText('perf', 'draws ' + stats.heat_draws + ' maps · ' + stats.curve_draws + ' curves' +
      (p50 === null ? '' : ' · display delay ~' + Math.round(p50) + ' ms' + playout));
    if (recording.active) onRecording(recording);
  }, 1000);

  connect();
  requestAnimationFrame(frameLoop);
})();
