
(function () {
  'use strict';
  var errors = [];
  window.onerror = function (msg, src, line, col) { errors.push(String(msg) + ' at ' + line + ':' + col); };
  var DATA = JSON.parse(document.getElementById('perfaudit-data').textContent);
  var BANDS = DATA.bands;
  var CONFIDENCE = ['definite', 'probable', 'possible'];
  var table = document.getElementById('findings-table');
  var tbody = table.tBodies[0];
  var controls = {
    band: document.getElementById('f-band'),
    rule: document.getElementById('f-rule'),
    service: document.getElementById('f-service'),
    text: document.getElementById('f-text')
  };
  var state = { key: 'rank', dir: 1 };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  // Rule text marks code with backticks: show those spans as <code>, all as text nodes.
  function rich(parent, text) {
    var parts = String(text).split('`');
    if (parts.length % 2 === 0) { parent.appendChild(document.createTextNode(text)); return parent; }
    parts.forEach(function (p, i) {
      if (i % 2 === 1) parent.appendChild(el('code', null, p));
      else if (p) parent.appendChild(document.createTextNode(p));
    });
    return parent;
  }
  function option(select, value, label) {
    var o = el('option', null, label);
    o.value = value;
    select.appendChild(o);
  }
  function unique(values) {
    var seen = {}, out = [];
    values.forEach(function (v) { if (!Object.prototype.hasOwnProperty.call(seen, v)) { seen[v] = 1; out.push(v); } });
    return out.sort();
  }

  BANDS.forEach(function (b) {
    var n = DATA.findings.filter(function (f) { return f.severity === b; }).length;
    option(controls.band, b, b + ' (' + n + ')');
  });
  unique(DATA.findings.map(function (f) { return f.code + ' ' + f.rule; })).forEach(function (r) {
    option(controls.rule, r.split(' ')[0], r);
  });
  unique([].concat.apply([], DATA.findings.map(function (f) { return f.services; }))).forEach(function (s) {
    option(controls.service, s, s);
  });

  function detail(f) {
    var tr = el('tr', 'detail');
    tr.hidden = true;
    var td = el('td');
    td.colSpan = 9;
    if (f.excerpt) {
      var pre = el('div', 'excerpt');
      f.excerpt.lines.forEach(function (text, i) {
        var n = f.excerpt.start + i;
        var line = el('div', n === f.line ? 'hl' : null);
        line.appendChild(el('span', 'ln', n));
        line.appendChild(document.createTextNode(text));
        pre.appendChild(line);
      });
      td.appendChild(pre);
    }
    var dl = el('dl', 'facts');
    function fact(name, node) {
      dl.appendChild(el('dt', null, name));
      var dd = el('dd');
      if (typeof node === 'string') rich(dd, node); else dd.appendChild(node);
      dl.appendChild(dd);
    }
    if (f.chain.length > 0) {
      var ol = el('ol', 'chain');
      f.chain.forEach(function (s) { ol.appendChild(el('li', s.library ? 'library' : null, s.function + ' — ' + s.path + ':' + s.line + (s.via ? ' (' + s.via + ')' : '') + (s.library ? ' (library)' : ''))); });
      fact('Chain', ol);
    }
    fact('Context', f.context);
    if (f.basis) fact('Cost basis', f.cost + ': ' + f.basis);
    if (f.memory_mb !== null && f.memory_mb !== undefined) fact('Memory', f.memory_mb + ' MB');
    fact('Fix', f.help);
    fact('Category', f.category);
    fact('Fingerprint', f.fingerprint);
    td.appendChild(dl);
    tr.appendChild(td);
    return tr;
  }

  var byRow = new Map();
  var rows = DATA.findings.map(function (f) {
    var tr = el('tr', 'finding' + (f.not_run ? ' not-run' : ''));
    tr.tabIndex = 0;
    var rank = el('td', 'num');
    rank.appendChild(el('span', 'caret', '\u25B8'));
    rank.appendChild(document.createTextNode(f.rank));
    tr.appendChild(rank);
    tr.id = 'finding-' + f.rank;
    var band = el('td');
    band.appendChild(el('span', 'badge band-' + f.severity, f.severity));
    tr.appendChild(band);
    var rule = el('td', 'rule');
    var doc = DATA.docs && DATA.docs[f.code];
    if (doc) {
      var link = el('a', null, f.code);
      link.href = doc;
      link.rel = 'noopener';
      rule.appendChild(link);
    } else {
      rule.appendChild(document.createTextNode(f.code));
    }
    rule.appendChild(el('small', null, f.rule));
    tr.appendChild(rule);
    tr.appendChild(el('td', null, f.services.join(', ')));
    tr.appendChild(el('td', 'loc', f.path + ':' + f.line));
    tr.appendChild(el('td', 'fn', f.function));
    tr.appendChild(el('td', 'num cost', f.cost));
    tr.appendChild(el('td', null, f.confidence));
    var msg = rich(el('td', 'msg'), f.message);
    if (f.not_run) msg.appendChild(el('span', 'tag', 'not run: ' + f.not_run));
    if (f.copies.length) msg.appendChild(el('span', 'tag', 'copies: ' + f.copies.join(', ')));
    tr.appendChild(msg);
    var haystack = [f.code, f.rule, f.path + ':' + f.line, f.function, f.message, f.help, f.context,
      f.services.join(' '), f.chain_short].join('\n').toLowerCase();
    var r = { f: f, tr: tr, detail: null, haystack: haystack };
    // Detail rows are built on first open: a large audit would otherwise build thousands.
    function toggle() {
      if (!r.detail) {
        r.detail = detail(f);
        tr.parentNode.insertBefore(r.detail, tr.nextSibling);
      }
      r.detail.hidden = !r.detail.hidden;
      tr.classList.toggle('open', !r.detail.hidden);
    }
    tr.addEventListener('click', toggle);
    tr.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(); } });
    byRow.set(tr, r);
    return r;
  });

  function sortValue(r, key) {
    var f = r.f;
    switch (key) {
      case 'severity': return BANDS.indexOf(f.severity);
      case 'cost': return -f.typical_ms;
      case 'confidence': return CONFIDENCE.indexOf(f.confidence);
      case 'services': return f.services.join(', ');
      case 'path': return f.path + '\u0000' + ('000000000' + f.line).slice(-9);
      case 'code': return f.code;
      default: return f[key];
    }
  }
  function compare(a, b) {
    var x = sortValue(a, state.key), y = sortValue(b, state.key);
    var c = x < y ? -1 : x > y ? 1 : 0;
    return c * state.dir || a.f.rank - b.f.rank;
  }
  function render() {
    var frag = document.createDocumentFragment();
    rows.slice().sort(compare).forEach(function (r) {
      frag.appendChild(r.tr);
      if (r.detail) frag.appendChild(r.detail);
    });
    tbody.appendChild(frag);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.classList.remove('sorted-asc', 'sorted-desc');
      if (th.getAttribute('data-key') === state.key) th.classList.add(state.dir > 0 ? 'sorted-asc' : 'sorted-desc');
    });
  }
  function applyFilters() {
    var band = controls.band.value, rule = controls.rule.value, service = controls.service.value;
    var text = controls.text.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (r) {
      var ok = (!band || r.f.severity === band) && (!rule || r.f.code === rule) &&
        (!service || r.f.services.indexOf(service) >= 0) && (!text || r.haystack.indexOf(text) >= 0);
      r.tr.hidden = !ok;
      if (!ok && r.detail) { r.detail.hidden = true; r.tr.classList.remove('open'); }
      if (ok) shown++;
    });
    document.getElementById('f-count').textContent = 'Showing ' + shown + ' of ' + rows.length + ' findings';
    return shown;
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    th.addEventListener('click', function () {
      var key = th.getAttribute('data-key');
      state.dir = state.key === key ? -state.dir : 1;
      state.key = key;
      render();
    });
  });
  ['band', 'rule', 'service'].forEach(function (k) { controls[k].addEventListener('change', applyFilters); });
  controls.text.addEventListener('input', applyFilters);
  render();
  applyFilters();

  function selftest() {
    var out = { expected_rows: DATA.findings.length };
    try {
      var visible = function () { return tbody.querySelectorAll('tr.finding:not([hidden])').length; };
      out.rows = visible();
      var present = BANDS.filter(function (b) { return DATA.findings.some(function (f) { return f.severity === b; }); });
      out.band = present.length ? present[0] : BANDS[0];
      controls.band.value = out.band;
      controls.band.dispatchEvent(new Event('change'));
      out.band_rows = visible();
      out.band_expected = DATA.findings.filter(function (f) { return f.severity === out.band; }).length;
      controls.band.value = '';
      controls.band.dispatchEvent(new Event('change'));
      out.rows_after_reset = visible();
      controls.text.value = 'no finding mentions this \u2603';
      controls.text.dispatchEvent(new Event('input'));
      out.text_rows = visible();
      controls.text.value = '';
      controls.text.dispatchEvent(new Event('input'));
      table.querySelector('th[data-key="cost"]').click();
      var costs = Array.prototype.map.call(tbody.querySelectorAll('tr.finding'), function (tr) {
        return byRow.get(tr).f.typical_ms;
      });
      out.sorted_by_cost = costs.every(function (c, i) { return i === 0 || costs[i - 1] >= c; });
      table.querySelector('th[data-key="rank"]').click();
      var first = tbody.querySelector('tr.finding');
      if (first) {
        first.click();
        out.detail_opens = !first.nextSibling.hidden;
        out.excerpt_lines = first.nextSibling.querySelectorAll('.excerpt div').length;
        first.click();
      }
      out.scripts = document.scripts.length;
    } catch (e) {
      errors.push(String(e && e.stack || e));
    }
    out.errors = errors;
    out.elapsed_ms = Math.round(performance.now());
    out.ok = errors.length === 0 && out.rows === out.expected_rows && out.band_rows === out.band_expected &&
      out.rows_after_reset === out.expected_rows && out.text_rows === 0 && out.sorted_by_cost === true &&
      out.scripts === 2 && (out.expected_rows === 0 || out.detail_opens === true);
    var pre = document.getElementById('selftest');
    pre.textContent = JSON.stringify(out);
    pre.hidden = false;
  }
  if (location.hash === '#selftest') selftest();
  // `#finding-N` opens finding N (its rank) and scrolls to it: a link to one finding.
  var linked = /^#finding-(\d+)$/.exec(location.hash);
  if (linked) {
    rows.forEach(function (r) {
      if (r.f.rank === Number(linked[1])) { r.tr.click(); r.tr.scrollIntoView(); }
    });
  }
})();
