// status.js: the status page's logic. Polls /v1/status once a second (with the bearer token
// when the node asks for one: typed once, kept in this script's memory, never in the address
// or the browser's storage) and draws what it says. Plain ES2017, no library, no build step.
'use strict';

(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const POLL_MS = 1000;
  const HISTORY_MS = 5 * 60 * 1000; // the chart's span
  let token = null; // the bearer token, in memory only
  let needsToken = false;
  let paused = false;
  let timer = null;
  let history = []; // {t, boundNs, offsetNs}

  const $ = (id) => document.getElementById(id);

  function text(id, value) {
    $(id).textContent = value;
  }

  function svgEl(name, attrs, parent) {
    const el = document.createElementNS(SVG, name);
    for (const k of Object.keys(attrs)) el.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(el);
    return el;
  }

  // A duration in ns as a short human figure.
  function duration(ns) {
    const a = Math.abs(ns);
    if (a >= 1e9) return (ns / 1e9).toFixed(3) + ' s';
    if (a >= 1e6) return (ns / 1e6).toFixed(3) + ' ms';
    if (a >= 1e3) return (ns / 1e3).toFixed(1) + ' µs';
    return ns.toFixed(0) + ' ns';
  }

  function signed(ns) {
    return (ns > 0 ? '+' : ns < 0 ? '−' : '±') + duration(Math.abs(ns));
  }

  function clear(node, keep) {
    for (const child of Array.from(node.childNodes)) {
      if (!keep || !keep.includes(child)) node.removeChild(child);
    }
  }

  // What a source's state means, in words (the colour only repeats it).
  function stateText(a) {
    const reasons = {
      accepted: 'accepted',
      outlier: 'outlier: its interval misses the agreement',
      rejected: 'rejected',
      unsynchronised: 'not counted: it says it is unsynchronised',
      silent: 'silent: no answer in the round',
      no_agreement: 'no agreement in the round',
      unknown: 'not reported yet',
    };
    let t = reasons[a.state] || a.state;
    if (a.problem) t += ' (' + a.problem.replace(/_/g, ' ') + ')';
    if (a.quarantined) t += ', quarantined' + (a.quarantine_reason ? ' (' + a.quarantine_reason + ')' : '');
    return t;
  }

  function drawClock(s) {
    text('node-name', '— ' + s.node);
    const sync = $('sync-status');
    sync.textContent = s.status;
    sync.className = s.status;
    text('time', s.time_iso8601 || 'unsynchronised: no time is served');
    text('bound', s.status === 'synchronised' ? '± ' + duration(s.error_bound_ns) : '-');
    text('round', s.round ? String(s.round) : '-'); // 0: no agreement served
    text('mode', s.mode || '-');
    if (s.circuit_breaker) {
      text('breaker', (s.circuit_breaker.tripped ? 'tripped' : 'closed') +
           ', rejection streak ' + s.circuit_breaker.rejection_streak);
    } else {
      text('breaker', '-');
    }
  }

  // Every authority's interval of the last round on one axis, with the agreement's band.
  function drawIntervals(s) {
    const svg = $('intervals');
    const authorities = (s.authorities || []).filter((a) => a.type === 'quorumd' || a.interval);
    const ri = s.round_intervals;
    const rowH = 34, top = 30, left = 150, right = 780;
    const height = top + rowH * Math.max(authorities.length, 1) + 30;
    clear(svg, [$('intervals-title'), $('intervals-desc')]);
    svg.setAttribute('viewBox', '0 0 800 ' + height);

    // The axis spans the agreement and the intervals that overlap it (all of them without
    // an agreement); one far off (a liar 1 s out) is drawn cut at the edge, its offset said.
    const ag = ri && ri.agreement;
    let lo = Infinity, hi = -Infinity;
    for (const a of authorities) {
      if (!a.interval || (ag && a.state !== 'accepted')) continue;
      lo = Math.min(lo, a.interval.earliest_offset_ns);
      hi = Math.max(hi, a.interval.latest_offset_ns);
    }
    if (ag) {
      lo = Math.min(lo, ag.earliest_offset_ns, ag.authorities_earliest_offset_ns);
      hi = Math.max(hi, ag.latest_offset_ns, ag.authorities_latest_offset_ns);
    }
    if (!isFinite(lo) || !isFinite(hi)) { lo = -1e6; hi = 1e6; }
    if (hi - lo < 1000) { lo -= 500; hi += 500; }
    const pad = (hi - lo) * 0.05;
    lo -= pad; hi += pad;
    const x = (ns) => left + (right - left) * (Math.min(Math.max(ns, lo), hi) - lo) / (hi - lo);

    const bottom = top + rowH * authorities.length;
    if (ag) {
      svgEl('rect', { class: 'agreement-band', x: x(ag.earliest_offset_ns), y: top - 8,
        width: Math.max(1, x(ag.latest_offset_ns) - x(ag.earliest_offset_ns)),
        height: bottom - top + 8 }, svg);
      svgEl('rect', { class: 'hull-band', x: x(ag.authorities_earliest_offset_ns), y: top - 8,
        width: Math.max(1, x(ag.authorities_latest_offset_ns) - x(ag.authorities_earliest_offset_ns)),
        height: bottom - top + 8 }, svg);
      svgEl('text', { x: x(0), y: 14, 'text-anchor': 'middle' }, svg).textContent =
        'agreement, round ' + ri.round + ' (' + duration(ag.latest_offset_ns - ag.earliest_offset_ns) + ' wide)';
    } else {
      svgEl('text', { x: left, y: 14 }, svg).textContent = ri
        ? 'round ' + ri.round + ': no agreement (offsets from this node\'s clock)'
        : 'no round reported yet';
    }
    svgEl('line', { class: 'axis', x1: left, x2: right, y1: bottom + 4, y2: bottom + 4 }, svg);
    for (const v of [lo + pad, 0, hi - pad]) {
      if (v < lo || v > hi) continue;
      svgEl('text', { x: x(v), y: bottom + 20, 'text-anchor': 'middle' }, svg).textContent =
        v === 0 ? '0' : signed(v);
    }

    const described = [];
    authorities.forEach((a, i) => {
      const y = top + rowH * i + rowH / 2;
      const g = svgEl('g', { class: 'interval ' + (a.interval ? a.state : 'none'),
        'data-source': a.id }, svg);
      svgEl('text', { x: 4, y: y + 4 }, g).textContent = a.id;
      if (a.interval) {
        const iv = a.interval;
        svgEl('line', { x1: x(iv.earliest_offset_ns), x2: x(iv.latest_offset_ns), y1: y, y2: y }, g);
        svgEl('circle', { cx: x(iv.estimate_offset_ns), cy: y, r: 4 }, g);
        if (iv.latest_offset_ns < lo || iv.earliest_offset_ns > hi) {
          const before = iv.latest_offset_ns < lo;
          svgEl('text', { class: 'offscale', x: before ? left + 8 : right - 8, y: y + 16,
            'text-anchor': before ? 'start' : 'end' }, g).textContent =
            (before ? '← ' : '') + 'off scale: ' + signed(iv.estimate_offset_ns) + (before ? '' : ' →');
        }
      }
      if (!a.interval || a.state !== 'accepted') {
        const st = svgEl('text', { class: 'state', x: right, y: y - 6, 'text-anchor': 'end' }, g);
        st.textContent = stateText(a);
      }
      svgEl('title', {}, g).textContent = a.id + ': ' + stateText(a);
      described.push(a.id + ' ' + stateText(a));
    });
    text('intervals-desc', described.join('; '));
    text('agreement-summary', ag
      ? 'Round ' + ri.round + ': ' + authorities.filter((a) => a.state === 'accepted').length +
        ' of ' + s.n + ' authorities overlap the agreement (n = ' + s.n + ', f = ' + s.f + ').'
      : ri ? 'Round ' + ri.round + ' reached no agreement.' : 'No round yet.');
  }

  function drawTable(s) {
    const body = $('sources').tBodies[0];
    const ri = s.round_intervals;
    $('sources').caption.textContent = 'Authorities in the last round (offsets from ' +
      (ri && !ri.agreed ? 'this node\'s clock: no agreement' : 'the agreed estimate') + ')';
    clear(body);
    for (const a of s.authorities || []) {
      const tr = document.createElement('tr');
      const cells = [
        a.id + (a.type === 'ntp' ? ' (NTP)' : ''),
        stateText(a),
        a.interval ? signed(a.interval.earliest_offset_ns) + ' … ' + signed(a.interval.latest_offset_ns) : '-',
        a.interval ? signed(a.interval.estimate_offset_ns) : '-',
        a.rtt_ns ? duration(a.rtt_ns) : '-',
      ];
      cells.forEach((c, i) => {
        const td = document.createElement(i === 0 ? 'th' : 'td');
        if (i === 0) td.setAttribute('scope', 'row');
        if (i >= 2) td.className = 'num';
        td.textContent = c;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
  }

  function drawHistory(s) {
    const now = Date.now();
    history.push({ t: now, boundNs: s.status === 'synchronised' ? 2 * s.error_bound_ns : null,
      offsetNs: s.status === 'synchronised' ? s.estimate_offset_ns : null });
    history = history.filter((p) => now - p.t <= HISTORY_MS);
    const svg = $('history');
    clear(svg, [$('history-title'), $('history-desc')]);
    const left = 70, right = 790, top = 10, bottom = 190;
    const values = [];
    for (const p of history) {
      if (p.boundNs !== null) values.push(p.boundNs, p.offsetNs);
    }
    let lo = values.length ? Math.min(0, ...values) : 0;
    let hi = values.length ? Math.max(0, ...values) : 1e6;
    if (hi - lo < 1000) hi = lo + 1000;
    const x = (t) => right - (right - left) * (now - t) / HISTORY_MS;
    const y = (v) => bottom - (bottom - top) * (v - lo) / (hi - lo);
    svgEl('line', { class: 'axis', x1: left, x2: right, y1: y(0), y2: y(0) }, svg);
    svgEl('text', { x: left - 6, y: y(hi) + 10, 'text-anchor': 'end' }, svg).textContent = signed(hi);
    svgEl('text', { x: left - 6, y: y(lo), 'text-anchor': 'end' }, svg).textContent = lo === 0 ? '0' : signed(lo);
    svgEl('text', { x: left, y: 210 }, svg).textContent = '−5 min';
    svgEl('text', { x: right, y: 210, 'text-anchor': 'end' }, svg).textContent = 'now';
    for (const [key, cls] of [['boundNs', 'series-bound'], ['offsetNs', 'series-offset']]) {
      // a gap while unsynchronised: one polyline per synchronised stretch
      let points = [];
      const flush = () => {
        if (points.length) svgEl('polyline', { class: 'series ' + cls, points: points.join(' ') }, svg);
        points = [];
      };
      for (const p of history) {
        if (p[key] === null) { flush(); continue; }
        points.push(x(p.t).toFixed(1) + ',' + y(p[key]).toFixed(1));
      }
      flush();
    }
    const last = history[history.length - 1];
    text('history-desc', last.boundNs === null
      ? 'Unsynchronised now; ' + history.length + ' samples kept.'
      : 'Now: bound width ' + duration(last.boundNs) + ', offset ' + signed(last.offsetNs) +
        '; ' + history.length + ' samples kept.');
  }

  // The C2SP signed note: origin, size, root, a blank line, then "— name signature" lines;
  // the merkle stage's witnesses sign as "<name>/witness".
  function drawCheckpoint(s) {
    const note = s.merkle && s.merkle.checkpoint;
    if (!note) {
      text('cp-size', s.merkle ? 'no checkpoint yet' : 'no merkle stage on this node');
      for (const id of ['cp-root', 'cp-signer', 'cp-cosigners']) text(id, '-');
      return;
    }
    const lines = note.split('\n');
    const sigs = lines.slice(lines.indexOf('') + 1).filter((l) => l.startsWith('\u2014 '))
      .map((l) => l.split(' ')[1]);
    const cosigners = sigs.filter((n) => /\/witness$/.test(n));
    text('cp-size', lines[1] + ' records (' + lines[0] + ')');
    text('cp-root', lines[2]);
    text('cp-signer', sigs.filter((n) => !/\/witness$/.test(n)).join(', ') || '-');
    text('cp-cosigners', cosigners.length
      ? cosigners.length + ': ' + cosigners.map((n) => n.replace(/\/witness$/, '')).join(', ')
      : 'none yet');
  }

  function showTokenForm(message) {
    $('token-form').hidden = false;
    text('token-error', message || '');
    $('token').focus();
  }

  async function poll() {
    timer = null;
    if (paused) return;
    if (needsToken && token === null) {
      showTokenForm('');
      return;
    }
    const headers = { Accept: 'application/json' };
    if (token !== null) headers.Authorization = 'Bearer ' + token;
    try {
      const res = await fetch('/v1/status', { headers, cache: 'no-store', credentials: 'omit' });
      if (res.status === 401) {
        token = null;
        needsToken = true;
        showTokenForm('The node refused this token.');
        return;
      }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const s = await res.json();
      drawClock(s);
      drawIntervals(s);
      drawTable(s);
      drawHistory(s);
      drawCheckpoint(s);
      text('updated', 'Updated ' + new Date().toLocaleTimeString());
    } catch (e) {
      text('updated', 'Could not reach the node: ' + e.message);
    }
    schedule();
  }

  function schedule() {
    if (!paused && timer === null) timer = setTimeout(poll, POLL_MS);
  }

  async function start() {
    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = $('token');
      token = input.value;
      input.value = '';
      $('token-form').hidden = true;
      text('token-error', '');
      $('main').focus();
      if (timer !== null) clearTimeout(timer);
      timer = null;
      poll();
    });
    $('pause').addEventListener('click', () => {
      paused = !paused;
      $('pause').setAttribute('aria-pressed', String(paused));
      $('pause').textContent = paused ? 'Resume updates' : 'Pause updates';
      if (paused && timer !== null) { clearTimeout(timer); timer = null; }
      if (!paused) poll();
    });
    try {
      const res = await fetch('/status-page.json', { cache: 'no-store', credentials: 'omit' });
      needsToken = res.ok && (await res.json()).bearer_token === true;
    } catch (e) {
      text('updated', 'Could not reach the node: ' + e.message);
    }
    poll();
  }

  document.addEventListener('DOMContentLoaded', start);
})();
