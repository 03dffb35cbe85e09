// The web UI's pages. Data comes from the consumer API only; every catalog value reaches the page through
// textContent or an attribute set with setAttribute, never as markup. The view logic lives in view.js.
import * as v from './view.js';

const root = document.getElementById('app');
const TOKEN_KEY = 'rdbridge.token';
let current = new AbortController();

// -------------------------------------------------------------------------------------------------------------
// DOM building: text is always text

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  applyProps(e, props);
  append(e, children);
  return e;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function svg(tag, props = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  applyProps(e, props);
  append(e, children);
  return e;
}

function applyProps(e, props) {
  for (const [k, val] of Object.entries(props ?? {})) {
    if (val === null || val === undefined || val === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), val);
    else if (k === 'dataset') Object.assign(e.dataset, val);
    else e.setAttribute(k, val === true ? '' : String(val));
  }
}

function append(e, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Adds to the page; nested lists are flattened and null/false parts left out (never shown as "null"). */
const show = (...children) => append(root, children);

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => {
    clearTimeout(t);
    reject(new DOMException('aborted', 'AbortError'));
  }, { once: true });
});

// -------------------------------------------------------------------------------------------------------------
// API calls: problem details become errors with the server's own words; state changes carry the token

class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

async function fail(res) {
  let title = `HTTP ${res.status}`;
  let detail = '';
  try {
    const p = await res.json();
    title = p.title ?? title;
    detail = p.detail ?? '';
  } catch { /* not JSON: the status says enough */ }
  return new ApiError(res.status, title, detail);
}

async function getJson(url, signal) {
  const res = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  if (!res.ok) throw await fail(res);
  return res.json();
}

/** A state-changing call: with the stored token; on 401 asks for the token (kept in localStorage) and retries. */
async function send(method, url, signal) {
  for (let attempt = 0; ; attempt++) {
    const token = localStorage.getItem(TOKEN_KEY);
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(url, { method, headers, signal });
    if (res.status === 401 && attempt < 3) {
      const given = await askToken(token
        ? 'The server did not accept the stored token. 令牌无效，请重新输入。'
        : 'This server needs its token for this action. 此操作需要服务器令牌。');
      if (given === null) throw new ApiError(401, 'token required', 'no token entered 未输入令牌');
      localStorage.setItem(TOKEN_KEY, given);
      continue;
    }
    if (!res.ok) throw await fail(res);
    return res.json();
  }
}

function askToken(message) {
  const dialog = document.getElementById('token-dialog');
  const input = document.getElementById('token-input');
  document.getElementById('token-message').textContent = message;
  input.value = '';
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(
      dialog.returnValue === 'save' && input.value.trim() ? input.value.trim() : null), { once: true });
    dialog.showModal();
    input.focus();
  });
}

// -------------------------------------------------------------------------------------------------------------
// Navigation: one page, routed on the client

function navigate(href, replace = false) {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  render();
}

document.addEventListener('click', (e) => {
  const a = e.target.closest?.('a');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const href = a.getAttribute('href') ?? '';
  if (!href.startsWith(v.BASE + '/') || a.hasAttribute('download')) return;
  e.preventDefault();
  navigate(href);
});
window.addEventListener('popstate', () => render());
document.getElementById('token-button')?.addEventListener('click', async () => {
  const given = await askToken('Enter the server token (stored in this browser only); leave empty to forget it. '
    + '输入服务器令牌（仅保存在本浏览器）。');
  if (given) localStorage.setItem(TOKEN_KEY, given);
  else localStorage.removeItem(TOKEN_KEY);
});

function render() {
  current.abort();
  current = new AbortController();
  const signal = current.signal;
  const r = v.route(location.pathname);
  const section = { loop: 'loops', compare: 'loops', run: 'runs', factor: 'factors' }[r.page] ?? r.page;
  for (const a of document.querySelectorAll('nav.main a')) a.classList.toggle('active', a.dataset.page === section);
  root.replaceChildren();
  const page = {
    factors: () => catalogPage('factors', signal),
    models: () => catalogPage('models', signal),
    strategies: () => catalogPage('strategies', signal),
    loops: () => catalogPage('loops', signal),
    loop: () => loopPage(r.taskRunId, r.loopId, signal),
    run: () => runPage(r.taskRunId, signal),
    runs: () => runsPage(signal),
    factor: () => factorPage(r.factorId, signal),
    sync: () => syncPage(signal),
    verify: () => verifyPage(signal),
    compare: () => comparePage(signal),
  }[r.page];
  document.title = `${v.LABELS[r.page] ?? 'Not found'} · RdBridge`;
  if (!page) {
    show(el('h1', {}, 'Not found 未找到'),
      el('p', {}, `No page at ${r.path}. `, el('a', { href: `${v.BASE}/factors` }, v.LABELS.factors)));
    return;
  }
  page().catch((e) => {
    if (e.name === 'AbortError') return;
    show(errorBox(e));
  });
}

const errorBox = (e) => el('div', { class: 'error', role: 'alert' }, e.message ?? String(e));

// -------------------------------------------------------------------------------------------------------------
// Catalog pages: search, filters, sorting and paging, all done by the server

async function catalogPage(kind, signal) {
  const t = v.TABLES[kind];
  let state = v.tableState(kind, location.search);
  const total = el('span', { class: 'total', id: 'total' }, '…');
  const tbody = el('tbody');
  const pager = el('div', { class: 'pager' });
  const message = el('div', { class: 'message' });
  let loadSeq = 0;

  async function load() {
    const seq = ++loadSeq;
    history.replaceState(null, '', `${v.BASE}/${kind}${v.stateQuery(kind, state)}`);
    table.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await getJson(v.apiUrl(kind, state), signal);
    } catch (e) {
      if (e.name === 'AbortError' || seq !== loadSeq) return;
      message.replaceChildren(errorBox(e));
      table.removeAttribute('aria-busy');
      return;
    }
    if (seq !== loadSeq) return;
    if (kind === 'loops') data.items = await withCacheState(data.items, signal);
    if (seq !== loadSeq) return;
    message.replaceChildren();
    total.textContent = v.rangeText(data.total, data.page, data.page_size, data.total_exact !== false);
    total.dataset.total = String(data.total);
    tbody.replaceChildren(...v.tableRows(kind, data.items).map((cells) => el('tr', {}, cells.map(renderCell))));
    if (data.items.length === 0) {
      tbody.append(el('tr', {}, el('td', { colspan: t.columns.length, class: 'empty' },
        data.total === 0 && !hasFilters()
          ? 'No records yet: press sync. 暂无数据，请同步。'
          : 'Nothing matches. 无匹配结果。')));
    }
    renderPager(data.total, data.total_exact !== false);
    renderHeaders();
    table.removeAttribute('aria-busy');
  }

  const hasFilters = () => state.q || Object.values(state.filters).some(Boolean)
    || Object.keys(state.ranges).length > 0;

  function renderPager(count, exact) {
    const pages = v.pageCount(count, state.page_size);
    const go = (p) => { state = { ...state, page: p }; load(); };
    pager.replaceChildren(
      el('button', { type: 'button', disabled: state.page <= 1, onclick: () => go(state.page - 1) },
        '‹ Prev 上一页'),
      el('span', { class: 'page-of' }, `page ${state.page} of ${pages}${exact ? '' : '+'} 页`),
      el('button', { type: 'button', disabled: exact && state.page >= pages, onclick: () => go(state.page + 1) },
        'Next 下一页 ›'),
      el('label', {}, ' rows 每页 ', el('select', {
        onchange: (e) => { state = { ...state, page_size: Number(e.target.value), page: 1 }; load(); },
      }, [25, 50, 100, 200, 500].map((n) => el('option', { value: n, selected: n === state.page_size }, n)))),
    );
  }

  const headRow = el('tr');
  function renderHeaders() {
    headRow.replaceChildren(...t.columns.map((c) => {
      if (!c.sort) return el('th', {}, c.label);
      const active = state.sort === c.sort;
      return el('th', { 'aria-sort': active ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none' },
        el('button', {
          type: 'button', class: 'sort', dataset: { sort: c.sort },
          onclick: () => { state = v.nextSort(state, c.sort); load(); },
        },
          c.label, active ? (state.order === 'asc' ? ' ▲' : ' ▼') : ''));
    }));
  }
  renderHeaders();
  const table = el('table', { class: 'catalog', id: 'catalog' }, el('thead', {}, headRow), tbody);

  let typing;
  const search = el('input', {
    type: 'search', id: 'search', placeholder: `Search ${t.search}`, value: state.q,
    oninput: (e) => {
      clearTimeout(typing);
      typing = setTimeout(() => { state = { ...state, q: e.target.value, page: 1 }; load(); }, 300);
    },
  });
  const setFilter = (param, value) => {
    state = { ...state, filters: { ...state.filters, [param]: value }, page: 1 };
    load();
  };
  const filters = t.filters.map((f) => {
    const listId = `list-${f.param}`;
    if (f.choices) {
      return el('label', { class: 'filter' }, f.label, ' ', el('select', {
        name: f.param, onchange: (e) => setFilter(f.param, e.target.value),
      }, f.choices.map(([value, text]) =>
        el('option', { value, selected: (state.filters[f.param] ?? '') === value }, text))));
    }
    if (f.type === 'date') {
      return el('label', { class: 'filter' }, f.label, ' ', el('input', {
        type: 'date', name: f.param, value: state.filters[f.param] ?? '',
        onchange: (e) => setFilter(f.param, e.target.value),
      }));
    }
    return el('label', { class: 'filter' }, f.label, ' ',
      el('input', {
        type: 'text', name: f.param, list: f.options ? listId : null, value: state.filters[f.param] ?? '',
        size: f.param === 'task_run_id' ? 20 : 14,
        onchange: (e) => {
          state = { ...state, filters: { ...state.filters, [f.param]: e.target.value.trim() }, page: 1 };
          load();
        },
      }),
      f.options ? el('datalist', { id: listId }, f.options.map((o) => el('option', { value: o }))) : null);
  });

  // A metric range: one column at a time in the form; every range in the URL is kept and sent.
  const ranges = t.ranges ? (() => {
    const firstSet = Object.keys(state.ranges)[0]?.slice(4);
    let column = firstSet && t.ranges.includes(firstSet) ? firstSet : t.ranges[0];
    const min = el('input', { type: 'number', step: 'any', name: 'range-min', size: 7, placeholder: 'min' });
    const max = el('input', { type: 'number', step: 'any', name: 'range-max', size: 7, placeholder: 'max' });
    const fill = () => {
      min.value = state.ranges[`min_${column}`] ?? '';
      max.value = state.ranges[`max_${column}`] ?? '';
    };
    const apply = () => {
      const next = { ...state.ranges };
      delete next[`min_${column}`];
      delete next[`max_${column}`];
      if (min.value !== '') next[`min_${column}`] = min.value;
      if (max.value !== '') next[`max_${column}`] = max.value;
      state = { ...state, ranges: next, page: 1 };
      load();
    };
    min.addEventListener('change', apply);
    max.addEventListener('change', apply);
    fill();
    return el('label', { class: 'filter range' }, 'range 范围 ', el('select', {
      name: 'range-column', onchange: (e) => { column = e.target.value; fill(); },
    }, t.ranges.map((c) => el('option', { value: c, selected: c === column }, c))), ' ', min, ' – ', max);
  })() : null;

  // CSV of every row the filters match (up to 10,000), fetched a page of 500 at a time.
  const csv = el('button', {
    type: 'button', id: 'csv-button', class: 'csv',
    onclick: async () => {
      csv.disabled = true;
      try {
        const rows = [];
        for (let page = 1; page <= 20; page++) {
          const data = await getJson(v.apiUrl(kind, { ...state, page, page_size: 500 }), signal);
          rows.push(...data.items);
          if (data.items.length < 500) break;
        }
        const blob = new Blob([v.catalogCsv(kind, rows)], { type: 'text/csv;charset=utf-8' });
        const a = el('a', { href: URL.createObjectURL(blob), download: `${kind}.csv` });
        document.body.append(a);
        a.click();
        a.remove();
      } catch (e) {
        if (e.name !== 'AbortError') message.replaceChildren(errorBox(e));
      } finally {
        csv.disabled = false;
      }
    },
  }, 'CSV ⭳');

  show(
    el('div', { class: 'page-head' }, el('h1', {}, v.LABELS[kind]), syncPanel(signal, () => load())),
    el('div', { class: 'toolbar' }, search, filters, ranges, csv, kind === 'loops' ? compareBar() : null, total),
    kind === 'loops' ? el('p', { class: 'muted', id: 'loops-note' }, 'Loops with results. Failed and running loops '
      + 'are listed with their status on their ', el('a', { href: `${v.BASE}/runs` }, 'task runs’ pages'),
    '. 此处为有结果的循环；失败与运行中的循环见任务页面。') : null,
    message,
    el('div', { class: 'table-wrap' }, table),
    pager,
  );
  await load();
}

/** Loops with bundle_status from the asset cache; a failed lookup leaves the status unknown, never the page empty. */
async function withCacheState(loops, signal) {
  const states = {};
  try {
    for (const url of v.cacheStateUrls(loops)) Object.assign(states, (await getJson(url, signal)).states);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
  }
  return loops.map((l) => ({ ...l, bundle_status: states[l.asset_bundle_id] }));
}

function renderCell(c) {
  const td = el('td', { class: c.cls, title: c.title });
  if (c.check) {
    const toggle = (e) => { if (e.target.checked) picked.add(c.check); else picked.delete(c.check); pickChanged(); };
    td.append(el('input', {
      type: 'checkbox', class: 'pick', value: c.check, 'aria-label': c.title,
      checked: picked.has(c.check), onchange: toggle,
    }));
    return td;
  }
  if (c.links) {
    td.append(el('span', { class: 'count' }, c.text), ' ');
    c.links.forEach((l, i) => td.append(i ? ' ' : '', el('a', { href: l.href, title: l.title }, l.text)));
    if (c.more) td.append(' ', el('span', { class: 'muted' }, c.more));
    return td;
  }
  td.append(c.href ? el('a', { href: c.href }, c.text) : c.text);
  if (c.sub) td.append(el('div', { class: 'sub' }, c.sub));
  return td;
}

// Loops picked for comparison (kept while paging); the Compare button opens the compare page for exactly two.
const picked = new Set();
let pickChanged = () => {};

function compareBar() {
  const open = () => {
    const keys = [...picked];
    picked.clear();
    navigate(keys.length === 2 ? v.compareHref(keys[0], keys[1]) : v.compareManyHref(keys));
  };
  const button = el('button', { type: 'button', id: 'compare-button', class: 'primary', disabled: true, onclick: open },
    'Compare 对比');
  const note = el('span', { class: 'muted', id: 'compare-note' });
  pickChanged = () => {
    button.disabled = picked.size < 2 || picked.size > 8;
    note.textContent = picked.size >= 2 && picked.size <= 8
      ? [...picked].join(' ↔ ')
      : `pick two to eight loops 选择二至八个循环 (${picked.size})`;
  };
  pickChanged();
  return el('span', { class: 'compare-bar' }, button, ' ', note);
}

// -------------------------------------------------------------------------------------------------------------
// Sync: the button, live progress, and the refresh when it ends

function syncPanel(signal, onDone, opts = {}) {
  const line = el('span', { class: 'sync-line', id: 'sync-line' }, '…');
  const bar = el('progress', { id: 'sync-progress', max: 1, value: 0, hidden: true });
  const counts = el('ul', { class: 'counts', id: 'sync-counts' });
  const error = el('div', { class: 'sync-error' });
  const button = el('button', {
    type: 'button', id: 'sync-button', class: 'primary', onclick: () => start('incremental'),
  },
    v.LABELS.syncButton);
  const full = opts.full
    ? el('button', { type: 'button', id: 'sync-full-button', onclick: () => start('full') }, 'Full sync 全量同步')
    : null;
  const panel = el('div', { class: 'sync', id: 'sync-panel', dataset: { phase: 'idle' } },
    button, full, bar, line, counts, error);

  function show(run) {
    line.textContent = v.syncLine(run);
    panel.dataset.status = run?.status ?? 'never';
    bar.hidden = run?.status !== 'running';
    bar.value = run?.progress ?? 0;
    counts.replaceChildren(...(run?.status === 'running' || panel.dataset.phase !== 'idle'
      ? v.countsSummary(run?.counts)
      : [])
      .map((c) => el('li', {}, el('b', {}, c.stage), ' ', c.text)));
    const errs = run?.errors ?? [];
    error.replaceChildren(...errs.slice(0, 5).map((e) =>
      el('div', { class: 'error' }, typeof e === 'string' ? e : JSON.stringify(e))));
  }

  async function follow(runId) {
    panel.dataset.phase = 'running';
    button.disabled = true;
    if (full) full.disabled = true;
    let run;
    for (;;) {
      run = await getJson('/api/rdagent/catalog/sync-status', signal);
      show(run);
      opts.onProgress?.(run);
      if (run.status !== 'running' && (runId === null || (run.id ?? 0) >= runId)) break;
      await sleep(600, signal);
    }
    panel.dataset.phase = 'done';
    button.disabled = false;
    if (full) full.disabled = false;
    onDone?.(run);
  }

  async function start(mode) {
    error.replaceChildren();
    button.disabled = true;
    let runId = null;
    try {
      // A bare POST is the guide's full sync: the page says which it means.
      const query = `mode=${mode === 'full' ? 'full' : 'incremental'}`;
      const started = await send('POST', `/api/rdagent/catalog/sync?${query}`, signal);
      runId = started.id ?? null;
    } catch (e) {
      if (e.name === 'AbortError') return;
      button.disabled = false;
      // One is already running (here or from the command line): follow it instead.
      if (e.status === 409) return follow(null).catch(ignoreAbort);
      error.replaceChildren(errorBox(e));
      return;
    }
    await follow(runId).catch(ignoreAbort);
  }

  getJson('/api/rdagent/catalog/sync-status', signal).then((run) => {
    show(run);
    if (run.status === 'running') follow(null).catch(ignoreAbort);
  }).catch(ignoreAbort);
  return panel;
}

function ignoreAbort(e) {
  if (e?.name !== 'AbortError') console.error(e);
}

async function syncPage(signal) {
  const history_ = el('tbody');
  async function loadRuns() {
    const data = await getJson('/api/rdagent/sync-runs?limit=50', signal);
    history_.replaceChildren(...data.runs.map((run) => el('tr', { class: run.status },
      el('td', { class: 'num' }, `#${run.id}`),
      el('td', {}, run.mode ?? '—'),
      el('td', { class: run.status === 'succeeded' ? 'ok' : run.status === 'failed' ? 'bad' : '' },
        run.status ?? '—'),
      el('td', {}, run.stage ?? '—'),
      el('td', {}, v.fmtTime(run.started_at)),
      el('td', {}, v.fmtTime(run.finished_at)),
      el('td', {}, el('ul', { class: 'counts' },
        v.countsSummary(run.counts).map((c) => el('li', {}, el('b', {}, c.stage), ' ', c.text)))),
      el('td', {}, (run.errors ?? []).length === 0 ? '—' : el('details', {},
        el('summary', { class: 'bad' }, `${v.countOf(run.errors.length, 'error')} 错误`),
        run.errors.map((e) => el('div', { class: 'error' }, typeof e === 'string' ? e : JSON.stringify(e))))),
    )));
    if (data.runs.length === 0) {
      history_.append(el('tr', {},
        el('td', { colspan: 8, class: 'empty' }, 'No sync has run yet. 尚无同步记录。')));
    }
  }
  show(
    el('div', { class: 'page-head' }, el('h1', {}, v.LABELS.sync),
      syncPanel(signal, () => loadRuns().catch(ignoreAbort),
        { full: true, onProgress: () => loadRuns().catch(ignoreAbort) })),
    el('h2', {}, 'History 历史'),
    el('div', { class: 'table-wrap' }, el('table', { class: 'catalog', id: 'sync-runs' },
      el('thead', {}, el('tr', {}, [
        'Run', 'Mode 模式', 'Status 状态', 'Stage 阶段', 'Started 开始', 'Finished 结束', 'Counts 计数',
        'Errors 错误',
      ].map((h) => el('th', {}, h)))),
      history_)),
  );
  await loadRuns();
}

// -------------------------------------------------------------------------------------------------------------
// Verify: the checklist, run from the page

async function verifyPage(signal) {
  const out = el('div', { id: 'verify-result' });
  // Who ran it: this page's button, `rdbridge verify`, or the checklist at the end of an init or sync.
  const showRun = (at, result, by, syncRun) => {
    out.replaceChildren();
    const how = by === 'page' ? ' (this page)' : by ? ` (rdbridge ${by}${syncRun ? `, sync run ${syncRun}` : ''})` : '';
    append(out, [el('p', { class: 'muted', id: 'verify-last', dataset: { at: at ?? '', by: by ?? '' } },
      `Last run 上次运行: ${v.fmtTime(at)}${how}`), verifyView(result)]);
  };
  const button = el('button', {
    type: 'button', id: 'verify-button', class: 'primary',
    onclick: async () => {
      button.disabled = true;
      out.replaceChildren(el('p', { class: 'muted' }, 'Running the checklist… 正在检查…'));
      try {
        const result = await send('POST', '/api/rdagent/verify', signal);
        // The server keeps the run with its time; reading it back shows exactly what the next visitor sees.
        const last = await getJson('/api/rdagent/verify/last', signal).catch(() => null);
        if (last?.result) showRun(last.ran_at_utc, last.result, last.ran_by, last.sync_run_id);
        else showRun(new Date().toISOString(), result, 'page');
      } catch (e) {
        if (e.name !== 'AbortError') out.replaceChildren(errorBox(e));
      } finally {
        button.disabled = false;
      }
    },
  }, 'Run checklist 运行检查');
  show(
    el('div', { class: 'page-head' }, el('h1', {}, v.LABELS.verify), button),
    el('p', { class: 'muted' }, 'The 验证检查清单: the RD-Agent side, the AIstock side, every link between them, '
      + 'and asset_bundle_id coverage.'),
    out,
  );
  // The last checklist run (from any browser, kept by the server) shows on open, with when it ran.
  try {
    const last = await getJson('/api/rdagent/verify/last', signal);
    if (last?.result && !out.hasChildNodes()) showRun(last.ran_at_utc, last.result, last.ran_by, last.sync_run_id);
    else if (!out.hasChildNodes()) {
      out.replaceChildren(el('p', { class: 'muted', id: 'verify-never' },
        'The checklist has not been run on this server yet. 尚未运行检查。'));
    }
  } catch (e) {
    if (e.name !== 'AbortError' && !out.hasChildNodes()) out.replaceChildren(errorBox(e));
  }
}

function verifyView(result) {
  const checks = result.checks ?? [];
  const passed = checks.filter((c) => c.passed).length;
  const groups = [...new Set(checks.map((c) => c.group))];
  const coverage = Object.entries(result.coverage ?? {});
  return [
    el('p', {
      class: result.passed ? 'summary ok' : 'summary bad', id: 'verify-summary',
      dataset: { passed: String(!!result.passed) },
    },
      result.passed ? '✓ ' : '✗ ', `${passed} of ${v.countOf(checks.length, 'check')} passed 项通过`),
    coverage.length ? el('table', { class: 'catalog narrow', id: 'coverage' },
      el('thead', {}, el('tr', {},
        ['Catalog 目录', 'Rows 行', 'With asset_bundle_id', 'Coverage 覆盖率'].map((h) => el('th', {}, h)))),
      el('tbody', {}, coverage.map(([k, c]) => el('tr', {},
        el('td', {}, k), el('td', { class: 'num' }, v.fmtNum(c.total)),
        el('td', { class: 'num' }, v.fmtNum(c.with_bundle_id)),
        el('td', { class: 'num' }, `${v.fmtNum(c.coverage_pct, 1)}%`))))) : null,
    groups.map((g) => [
      el('h2', {}, g),
      el('table', { class: 'catalog checks' }, el('tbody', {}, checks.filter((c) => c.group === g).map((c) =>
        el('tr', { class: c.passed ? 'pass' : 'fail' },
        el('td', { class: c.passed ? 'ok' : 'bad' }, c.passed ? '✓ pass' : '✗ fail'),
        el('td', { class: 'mono' }, c.id), el('td', {}, c.title), el('td', { class: 'muted' }, c.detail ?? ''))))),
    ]),
  ];
}

// -------------------------------------------------------------------------------------------------------------
// Loop detail: lineage graph, metrics, bundle files, feedback

/** A loop's place in its task run (hypothesis, status, neighbours), or null when the server cannot tell. */
async function loopStory(taskRunId, loopId, signal) {
  try {
    return await getJson(`/api/rdagent/task-runs/${encodeURIComponent(taskRunId)}/loops/${loopId}`, signal);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    return null;
  }
}

/** A loop RD-Agent ran without results (failed, running, stopped): what it tried and how far it got. */
function noResultsLoopPage(taskRunId, loopId, st) {
  const state = v.loopState(st);
  const texts = Object.entries(st.texts ?? {});
  show(
    el('p', { class: 'crumbs' }, el('a', { href: `${v.BASE}/runs` }, v.LABELS.runs), ' › ',
      el('a', { href: v.runHref(st.task_run_id), title: st.task_run_id }, st.task_run_name ?? v.shortId(taskRunId, 12)),
      ' › ', `loop ${loopId}`),
    el('div', { class: 'page-head' },
      el('h1', {}, `${v.LABELS.loop} ${loopId}`),
      el('span', { class: 'badge' }, st.action ?? '?'),
      el('span', { class: `badge st-${state.replace(' ', '-')}`, id: 'loop-state' }, v.STATE_LABELS[state] ?? state),
      st.decision === true ? el('span', { class: 'badge ok' }, '✓ accepted 采纳')
        : st.decision === false ? el('span', { class: 'badge muted' }, '✗ rejected 拒绝') : null),
    el('p', { class: 'muted mono' },
      `${st.task_run_id} · ${v.fmtTime(st.started_at_utc)} → ${v.fmtTime(st.ended_at_utc)}`),
    el('p', { class: 'note', id: 'no-results-note' }, 'This loop has no results: RD-Agent recorded it, but it '
      + 'produced no backtest, so it has no bundle, factors, model or strategy. 此循环无回测结果。'),
    el('h2', {}, 'Hypothesis 假设'),
    el('p', { class: 'hypothesis', id: 'loop-hypothesis' }, st.hypothesis ?? 'no hypothesis recorded 无假设记录'),
    el('h2', {}, 'What happened 运行情况'),
    el('dl', { class: 'facts', id: 'loop-facts' },
      el('dt', {}, 'Status 状态'), el('dd', {}, st.status ?? '—'),
      el('dt', {}, 'Error 错误'), el('dd', { class: st.error_message ? 'bad' : '' },
        st.error_type || st.error_message
          ? `${st.error_type ?? ''}${st.error_message ? ': ' + st.error_message : ''}` : '—'),
      // Discovery's further texts (the step reached, feedback, …) appear under their own names as it records them.
      texts.map(([k, t]) => [el('dt', {}, k.replaceAll('_', ' ')), el('dd', { dataset: { text: k } }, t)])),
    el('p', {},
      st.previous_loop_id !== null && st.previous_loop_id !== undefined
        ? el('a', { href: v.loopHref(st.task_run_id, st.previous_loop_id) }, `‹ loop ${st.previous_loop_id}`) : null,
      ' ',
      st.next_loop_id !== null && st.next_loop_id !== undefined
        ? el('a', { href: v.loopHref(st.task_run_id, st.next_loop_id) }, `loop ${st.next_loop_id} ›`) : null),
  );
}

async function loopPage(taskRunId, loopId, signal) {
  const storyP = loopStory(taskRunId, loopId, signal);
  let lin;
  try {
    lin = await getJson(`/api/rdagent/loops/${encodeURIComponent(taskRunId)}/${loopId}`, signal);
  } catch (e) {
    if (e.status !== 404) throw e;
    const st = await storyP;
    if (!st) throw e;
    noResultsLoopPage(taskRunId, loopId, st);
    return;
  }
  const st = await storyP;
  // Failed and running loops are in AIstock too, without results: their page is what they tried and how far.
  if (st && (lin.loop?.has_result === false || (lin.loop && !lin.loop.asset_bundle_id))) {
    noResultsLoopPage(taskRunId, loopId, st);
    return;
  }
  const loop = lin.loop ?? {};
  const bundle = lin.bundle ?? {};
  const files = bundle.manifest?.files ?? [];
  const primary = new Set(Object.values(bundle.manifest?.primary_assets ?? {}).flat()
    .filter((x) => typeof x === 'string'));
  const metrics = Object.entries(loop.metrics ?? {});
  const texts = Object.entries(loop.summary_texts ?? {}).filter(([, t]) => t);

  show(
    el('p', { class: 'crumbs' }, el('a', { href: `${v.BASE}/loops` }, v.LABELS.loops), ' › ',
      el('a', { href: v.runHref(taskRunId), title: taskRunId }, `${v.LABELS.run} ${v.shortId(taskRunId, 12)}`),
      ' › ', `loop ${loopId}`),
    el('div', { class: 'page-head' },
      el('h1', {}, `${v.LABELS.loop} ${loopId}`),
      el('span', { class: 'badge' }, loop.action ?? '?'),
      el('span', { class: 'badge' }, loop.status ?? '?'),
      el('span', { class: `badge ${loop.decision ? 'ok' : 'muted'}` }, v.decisionCell(loop.decision).text),
      el('span', {
        class: `badge ${lin.verified ? 'ok' : 'bad'}`, id: 'lineage-verified',
        dataset: { verified: String(!!lin.verified) },
      },
        lin.verified ? '✓ lineage verified 关联已验证' : '✗ lineage broken 关联断开')),
    el('p', { class: 'muted mono', id: 'loop-ids' },
      el('span', { dataset: { id: 'task_run_id' } }, copyable(taskRunId)),
      ' · workspace ', el('span', { dataset: { id: 'workspace_id' } }, copyable(loop.workspace_id ?? '—',
        loop.workspace_id)),
      ` · ${v.fmtTime(loop.started_at_utc)} → ${v.fmtTime(loop.ended_at_utc)}`),
    st?.hypothesis ? el('p', { class: 'hypothesis', id: 'loop-hypothesis' }, el('b', {}, 'Hypothesis 假设: '),
      st.hypothesis) : null,
    el('p', { class: 'compare-links', id: 'compare-links' },
      st?.previous_result_loop_id !== null && st?.previous_result_loop_id !== undefined
        ? el('a', {
          id: 'compare-previous',
          href: v.compareHref(v.loopKey(taskRunId, st.previous_result_loop_id), v.loopKey(taskRunId, loopId)),
        }, `Compare with the previous loop 与上一轮对比 (loop ${st.previous_result_loop_id})`) : null,
      st?.sota_loop_id !== null && st?.sota_loop_id !== undefined ? [' · ', el('a', {
        id: 'compare-sota',
        href: v.compareHref(v.loopKey(taskRunId, st.sota_loop_id), v.loopKey(taskRunId, loopId)),
      }, `Compare with SOTA 与 SOTA 对比 (loop ${st.sota_loop_id})`)] : null),

    el('h2', {}, 'Lineage 血缘'),
    lineageGraph(lin),
    el('table', { class: 'catalog narrow', id: 'links' },
      el('thead', {}, el('tr', {}, ['Link 关联', '', 'Detail 详情'].map((h) => el('th', {}, h)))),
      el('tbody', {}, (lin.links ?? []).map((l) => el('tr', {
        class: l.ok ? 'pass' : 'fail', dataset: { from: l.from, to: l.to, ok: String(!!l.ok) },
      },
        el('td', { class: 'mono' }, `${l.from} → ${l.to}`),
        el('td', { class: l.ok ? 'ok' : 'bad' }, l.ok ? '✓ verified' : '✗ broken'),
        el('td', {}, l.detail ?? ''))))),

    el('h2', {}, 'Backtest 回测'),
    backtestSection(taskRunId, loopId, signal),
    qlibPanels(taskRunId, loopId, signal),

    el('div', { class: 'columns' },
      el('section', {},
        el('h2', {}, 'Metrics 指标'),
        el('table', { class: 'catalog narrow', id: 'metrics' }, el('tbody', {}, metrics.map(([k, val]) =>
          el('tr', { dataset: { metric: k } }, el('th', {}, k.replaceAll('_', ' ')),
          el('td', { class: 'num' }, copyable(/return|drawdown/.test(k) ? v.fmtPct(val) : v.fmtNum(val), val))))))),
      el('section', {},
        el('h2', {}, 'Feedback 反馈'),
        texts.length === 0 ? el('p', { class: 'muted' }, 'No feedback recorded. 无反馈。') :
          el('dl', { class: 'feedback', id: 'feedback' },
            texts.map(([k, t]) => [el('dt', {}, k.replaceAll('_', ' ')), el('dd', {}, t)])),
        el('h2', {}, 'Model & strategy 模型与策略'),
        el('dl', { class: 'facts' },
          el('dt', {}, 'Model 模型'), el('dd', {}, lin.model
            ? `${lin.model.model_type ?? '?'} (${lin.model.network_class ?? lin.model.model_id})`
            : `${loop.model_type ?? 'baseline'} (no model row; baseline 基线)`),
          el('dt', {}, 'Strategy 策略'), el('dd', {}, lin.strategy
            ? `${lin.strategy.portfolio_config?.class ?? '?'} · `
              + `topk ${lin.strategy.portfolio_config?.kwargs?.topk ?? '—'} · `
              + `n_drop ${lin.strategy.portfolio_config?.kwargs?.n_drop ?? '—'}`
            : '—'),
          el('dt', {}, 'Python'), el('dd', { class: 'mono' }, lin.strategy?.python_implementation
            ? `${lin.strategy.python_implementation.module}.${lin.strategy.python_implementation.func}()`
            : '—')))),

    el('h2', {}, `Factors 因子 (${(lin.factors ?? []).length})`),
    el('div', { class: 'factor-list', id: 'loop-factors' }, (lin.factors ?? []).map((f) =>
      el('a', {
        href: f.factor_id ? v.factorHref(f.factor_id) : v.kindHref('factors', { q: f.name }), class: 'chip',
        title: `${f.source}`,
      },
        f.name))),

    el('h2', {}, 'Bundle files 资产包文件'),
    el('dl', { class: 'facts' },
      el('dt', {}, 'Bundle 资产包'), el('dd', { class: 'mono', dataset: { id: 'asset_bundle_id' } },
        copyable(bundle.asset_bundle_id ?? '—', bundle.asset_bundle_id)),
      el('dt', {}, 'Archive 存档'), el('dd', {}, bundle.cached
        ? [
          el('a', { href: v.bundleHref(bundle.asset_bundle_id), download: '' , id: 'bundle-download' },
            'download .tar.gz 下载'),
          ` · ${v.fmtBytes(bundle.size_bytes)}`,
        ]
        : 'not in the asset cache 未缓存'),
      el('dt', {}, 'sha256'), el('dd', { class: 'mono', dataset: { id: 'sha256' } },
        copyable(bundle.sha256 ?? '—', bundle.sha256)),
      el('dt', {}, 'Files 文件'),
      el('dd', {}, `${files.length} · ${v.fmtBytes(files.reduce((s, f) => s + (f.size ?? 0), 0))}`)),
    files.length === 0
      ? el('p', { class: 'muted' }, 'No manifest: the bundle is not extracted in the asset cache. 未解压。') :
      el('div', { class: 'table-wrap' }, el('table', { class: 'catalog files', id: 'files' },
        el('thead', {}, el('tr', {}, ['Path 路径', 'Size 大小', 'sha256'].map((h) => el('th', {}, h)))),
        el('tbody', {}, files.map((f) => el('tr', { dataset: { path: f.path } },
          el('td', { class: 'mono' },
            el('a', { href: v.bundleFileHref(bundle.asset_bundle_id, f.path), download: '' }, f.path),
            primary.has(f.path) ? el('span', { class: 'badge small' }, 'primary 主要') : null),
          el('td', { class: 'num' }, v.fmtBytes(f.size)),
          el('td', { class: 'mono hash', title: f.sha256 }, f.sha256)))))),
  );
}

/** The loop's curves, loaded after the page is drawn: a loop without a report says so instead of failing the page. */
function backtestSection(taskRunId, loopId, signal) {
  const box = el('div', { id: 'backtest' },
    el('p', { class: 'muted' }, 'Loading the backtest curve… 正在加载回测曲线…'));
  getJson(`/api/rdagent/loops/${encodeURIComponent(taskRunId)}/${loopId}/backtest`, signal).then((bt) => {
    const span = `${bt.dates[0] ?? '—'} → ${bt.dates[bt.dates.length - 1] ?? '—'}`;
    const thinned = bt.decimated
      ? ` · ${v.countOf(bt.points, 'point')} shown 显示点数 (first, last and each stretch's highs and lows)` : '';
    const maxDd = bt.summary?.max_drawdown;
    const deepest = maxDd === null || maxDd === undefined ? '' : ` · max drawdown 最大回撤 ${v.fmtPct(maxDd)}`;
    box.replaceChildren(
      el('p', { class: 'muted', id: 'backtest-span' },
        `${v.countOf(bt.trading_days, 'trading day')} 交易日 · ${span}${deepest}${thinned}`),
      curveChart('backtest-chart', v.curveLines(bt, v.RETURN_SERIES), v.fmtPct),
      curveChart('drawdown-chart', v.curveLines(bt, v.DRAWDOWN_SERIES), v.fmtPct, 180));
  }).catch((e) => {
    if (e.name === 'AbortError') return;
    box.replaceChildren(el('p', { class: e.status === 404 ? 'muted' : 'error', id: 'backtest-missing' }, e.message));
  });
  return box;
}

/**
 * Qlib's report beside the curves, from the loop's full daily series: the risk-analysis table as Qlib prints it,
 * the drawdown with its deepest span shaded, turnover, and the monthly excess returns.
 */
function qlibPanels(taskRunId, loopId, signal) {
  const report = el('div', { id: 'qlib-report' });
  const box = el('div', { id: 'qlib-panels' }, report, icPanel(taskRunId, loopId, signal));
  getJson(`/api/rdagent/loops/${encodeURIComponent(taskRunId)}/${loopId}/backtest?full=1`, signal).then((bt) => {
    const span = v.maxDrawdownSpan(bt);
    const risk = v.riskRows(bt.summary);
    const months = v.monthlyReturns(bt);
    const fmtRisk = (n, x) => (x === null ? '—' : /return|drawdown|mean|std/.test(n) && n !== 'std' && n !== 'mean'
      ? v.fmtPct(x) : v.fmtNum(x, 6));
    const dd = curveChart('drawdown-span-chart', v.curveLines(bt, v.DRAWDOWN_SERIES), v.fmtPct, 180);
    if (span) {
      // The deepest drawdown's span, shaded under the curve.
      const svgEl = dd.querySelector('svg');
      const c = v.curveLayout(v.curveLines(bt, v.DRAWDOWN_SERIES), 900, 180);
      const a = c.xToT;
      const x = (d) => a.left + ((v.dayValue(d) - a.tMin) / ((a.tMax - a.tMin) || 1)) * a.innerW;
      svgEl.insertBefore(svg('rect', {
        x: x(span.from), y: c.margin.top, width: Math.max(1, x(span.to) - x(span.from)),
        height: 180 - c.margin.top - c.margin.bottom, class: 'dd-span', id: 'max-dd-span',
        dataset: { from: span.from, to: span.to },
      }, svg('title', {}, `max drawdown 最大回撤 ${v.fmtPct(span.depth)}: ${span.from} → ${span.to}`)), svgEl.firstChild);
    }
    report.replaceChildren();
    append(report, [
      el('h2', {}, 'Qlib report 报告'),
      el('div', { class: 'columns' },
        el('section', {},
          el('h3', {}, 'Risk analysis 风险分析 (excess return 超额收益)'),
          el('table', { class: 'catalog narrow', id: 'risk-analysis' },
            el('thead', {}, el('tr', {}, ['', 'without cost 不含成本', 'with cost 含成本'].map((h) => el('th', {}, h)))),
            el('tbody', {}, risk.map((r) => el('tr', { dataset: { risk: r.name } }, el('th', {}, r.name),
              el('td', { class: 'num' }, fmtRisk(r.name, r.without)),
              el('td', { class: 'num' }, fmtRisk(r.name, r.with))))))),
        el('section', {},
          el('h3', {}, 'Drawdown 回撤', span ? el('span', { class: 'muted' },
            ` · deepest 最深 ${v.fmtPct(span.depth)} (${span.from} → ${span.to})`) : null),
          dd)),
      bt.series?.turnover ? [el('h3', {}, 'Turnover 换手率'),
        curveChart('turnover-chart', v.curveLines(bt, [{ key: 'turnover', label: 'Turnover 换手率', cls: 'turnover' }]),
          v.fmtPct, 160)] : null,
      el('h3', {}, 'Monthly excess return with cost 月度超额收益(含成本)'),
      el('div', { class: 'table-wrap' }, el('table', { class: 'catalog monthly', id: 'monthly-returns' },
        el('thead', {}, el('tr', {}, ['Year 年', ...Array.from({ length: 12 }, (_, i) => `${i + 1}`), 'Year 全年']
          .map((h) => el('th', { class: 'num' }, h)))),
        el('tbody', {}, months.map((y) => el('tr', { dataset: { year: y.year } }, el('th', {}, y.year),
          y.months.map((m) => el('td', { class: `num ${m === null ? '' : m >= 0 ? 'up' : 'down'}` }, v.fmtPct(m, 1))),
          el('td', { class: 'num total' }, v.fmtPct(y.total, 1))))))),
    ]);
  }).catch((e) => {
    if (e.name !== 'AbortError' && e.status !== 404) report.replaceChildren(errorBox(e));
  });
  return box;
}

/**
 * Daily IC and Rank IC from the loop's sig_analysis pickles, with their means and ICIR printed beside the chart (a
 * daily correlation's last value says little; its mean is what Qlib reports).
 */
function icPanel(taskRunId, loopId, signal) {
  const box = el('div', { id: 'ic-panel' });
  getJson(`/api/rdagent/loops/${encodeURIComponent(taskRunId)}/${loopId}/ic`, signal).then((ic) => {
    const defs = v.IC_SERIES.filter((s) => ic.series?.[s.key]);
    const lines = v.curveLines(ic, defs);
    const chart = curveChart('ic-chart', lines, (x) => v.fmtNum(x, 3), 200);
    chart.querySelector('.curve-legend')?.remove();
    // Each mean as a dashed level across the chart, on the chart's own value scale (read off its first and last tick).
    const c = v.curveLayout(lines, 900, 200);
    const [lo, hi] = [c.yTicks[0], c.yTicks[c.yTicks.length - 1]];
    if (lo && hi && hi.value !== lo.value) {
      const y = (x) => lo.y + ((x - lo.value) * (hi.y - lo.y)) / (hi.value - lo.value);
      const svgEl = chart.querySelector('svg');
      for (const s of defs) {
        const mean = ic.stats?.[s.key]?.mean;
        if (mean === null || mean === undefined) continue;
        svgEl.insertBefore(svg('line', {
          x1: c.margin.left, x2: c.width - c.margin.right, y1: y(mean), y2: y(mean), class: `mean-line ${s.cls}`,
          dataset: { series: s.key, mean },
        }, svg('title', {}, `${s.label} mean 均值 ${v.fmtNum(mean, 4)}`)), svgEl.querySelector('.rule'));
      }
    }
    box.replaceChildren(
      el('h3', {}, 'Daily IC and Rank IC 每日 IC 与 Rank IC'),
      el('dl', { class: 'facts ic-means', id: 'ic-means' }, defs.map((s) => {
        const st = ic.stats?.[s.key] ?? {};
        return [el('dt', { class: s.cls }, el('span', { class: 'swatch' }), ` ${s.label} mean 均值`),
          el('dd', { class: 'num', dataset: { series: s.key, mean: st.mean ?? '' } },
            copyable(v.fmtNum(st.mean, 4), st.mean), el('span', { class: 'muted' },
              ` · ICIR ${v.fmtNum(st.ir, 4)} · ${v.countOf(st.days, 'day', 'days', (n) => v.fmtNum(n, 0))} 天`))];
      })),
      chart,
      el('p', { class: 'muted mono small' }, `${ic.files?.ic ?? ''}${ic.decimated
        ? ` · ${ic.points} of ${v.countOf(ic.trading_days, 'day')} drawn 显示点数` : ''}`));
  }).catch((e) => {
    if (e.name === 'AbortError') return;
    box.replaceChildren(el('h3', {}, 'Daily IC and Rank IC 每日 IC 与 Rank IC'),
      // A pickle RdBridge cannot read is the loop's (422), said plainly; the rest of the page stands.
      el('p', { class: e.status === 404 ? 'muted' : e.status === 422 ? 'note' : 'error', id: 'ic-missing' },
        e.message));
  });
  return box;
}

/** The grid, the value ticks, the zero line and the date ticks of a curve layout. */
function curveAxes(c, fmt) {
  const { width, height, margin } = c;
  const across = (y, cls) => svg('line', { x1: margin.left, x2: width - margin.right, y1: y, y2: y, class: cls });
  return [
    c.yTicks.map((t) => [across(t.y, 'grid'),
      svg('text', { x: margin.left - 6, y: t.y + 4, class: 'tick', 'text-anchor': 'end' }, v.tickText(fmt, t.value))]),
    c.zeroY !== null ? across(c.zeroY, 'zero') : null,
    c.xTicks.map((t) => svg('text', { x: t.x, y: height - 8, class: 'tick', 'text-anchor': t.anchor }, t.label)),
  ];
}

const curvesSvg = (c, props, ...children) => svg('svg',
  { class: 'curves', viewBox: `0 0 ${c.width} ${c.height}`, role: 'img', ...props },
  ...children);

/**
 * A line chart of backtest curves with a legend (each line's final value) and a hover read-out: a vertical rule and
 * every line's value on the day under the pointer.
 */
function curveChart(id, lines, fmt, height = 280, width = 900) {
  const c = v.curveLayout(lines, width, height);
  const { margin } = c;
  const rule = svg('line', { class: 'rule', y1: margin.top, y2: height - margin.bottom, x1: -10, x2: -10 });
  const readout = svg('g', { class: 'readout', id: `${id}-hover` });
  const moveRule = (x) => { rule.setAttribute('x1', x); rule.setAttribute('x2', x); };
  const hover = (e) => {
    const box = chart.getBoundingClientRect();
    const values = v.hoverValues(c, v.timeAt(c, ((e.clientX - box.left) / box.width) * width));
    if (!values.length) return;
    const px = values[0].point.x;
    moveRule(px);
    // The read-out sits on the side of the rule with more room.
    const anchor = px > width * 0.6 ? 'end' : 'start';
    const tx = anchor === 'end' ? px - 8 : px + 8;
    const text = (i, cls, content) =>
      svg('text', { x: tx, y: margin.top + 12 + i * 15, 'text-anchor': anchor, class: cls }, content);
    readout.replaceChildren(text(0, 'hover-date', values[0].point.date),
      ...values.map((h, i) => text(i + 1, `hover-value ${h.cls}`, `${h.label}: ${fmt(h.point.value)}`)));
  };
  const leave = () => { readout.replaceChildren(); moveRule(-10); };
  const chart = curvesSvg(c, { id, 'aria-label': id, onmousemove: hover, onmouseleave: leave },
    curveAxes(c, fmt),
    c.lines.map((l) => svg('path', {
      d: l.path, class: `curve ${l.cls}`,
      dataset: { series: l.key, points: l.points.length, final: v.finalValue(l) ?? '' },
    }, svg('title', {}, l.label))),
    rule, readout,
    svg('rect', {
      x: margin.left, y: margin.top, class: 'hover-area',
      width: width - margin.left - margin.right, height: height - margin.top - margin.bottom,
    }));
  return el('figure', { class: 'chart wide', dataset: { chart: id } }, chart,
    el('ul', { class: 'curve-legend' }, c.lines.map((l) => el('li', { class: l.cls, dataset: { series: l.key } },
      el('span', { class: 'swatch' }), ` ${l.label}: `, el('b', { class: 'final' }, fmt(v.finalValue(l)))))));
}

function lineageGraph(lin) {
  const g = v.lineageLayout(lin);
  const marker = (id, cls) => svg('marker', {
    id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
  },
    svg('path', { d: 'M0,0 L10,5 L0,10 z', class: cls }));
  return el('div', { class: 'graph-wrap' }, svg('svg', {
    id: 'lineage', class: 'lineage', viewBox: `0 0 ${g.width} ${g.height}`, width: g.width, height: g.height,
    role: 'img', 'aria-label': 'lineage graph 血缘图',
  },
  svg('defs', {}, marker('arrow-ok', 'edge-ok-fill'), marker('arrow-bad', 'edge-bad-fill')),
  g.edges.map((e) => svg('g', {
    class: `edge ${e.ok ? 'ok' : 'bad'}`, dataset: { from: e.from, to: e.to, ok: String(e.ok) },
  },
    svg('title', {}, `${e.from} → ${e.to}: ${e.ok ? 'verified' : 'BROKEN'} — ${e.detail}`),
    svg('line', { x1: e.x1, y1: e.y1, x2: e.x2, y2: e.y2, 'marker-end': `url(#${e.ok ? 'arrow-ok' : 'arrow-bad'})` }))),
  g.nodes.map((n) => svg('a', { href: v.lineageNodeHref(n.id, lin), class: 'node-link' },
    svg('g', { class: `node ${n.ok ? 'ok' : 'bad'}`, dataset: { node: n.id, ok: String(n.ok) } },
      svg('title', {}, `${n.label}: ${n.detail}`),
      svg('rect', { x: n.x, y: n.y, width: n.w, height: n.h, rx: 6 }),
      svg('text', { x: n.x + 10, y: n.y + 20, class: 'label' }, n.label),
      svg('text', { x: n.x + 10, y: n.y + 38, class: 'detail' }, n.detail))))));
}

// -------------------------------------------------------------------------------------------------------------
// Task runs: the index, and one run's story (hypotheses in order, best so far, every loop's status and curve)

/** A CSV download of rows already on the page (what the table shows, as filtered). */
function csvButton(id, name, header, rowsOf) {
  return el('button', {
    type: 'button', id, class: 'csv',
    onclick: () => {
      // The header may be read when the button is pressed (a table drawn after the button).
      const head = typeof header === 'function' ? header() : header;
      const blob = new Blob([v.toCsv(head, rowsOf())], { type: 'text/csv;charset=utf-8' });
      const a = el('a', { href: URL.createObjectURL(blob), download: `${name}.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    },
  }, 'CSV ⭳');
}

/** A table sorted in the page: every column header a button; numbers sort as numbers. */
function sortableTable(id, columns, rows, initial) {
  let sort = initial ?? { key: null, order: 'asc' };
  const tbody = el('tbody');
  const head = el('tr');
  const table = el('table', { class: 'catalog', id }, el('thead', {}, head), tbody);
  const draw = () => {
    const col = columns.find((c) => c.key === sort.key);
    const shown = col ? v.sortRows(rows, col.value, sort.order) : rows;
    table.sorted = shown;
    head.replaceChildren(...columns.map((c) => {
      const active = c.key === sort.key;
      return el('th', { 'aria-sort': active ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none' },
        el('button', {
          type: 'button', class: 'sort', dataset: { sort: c.key },
          onclick: () => {
            sort = { key: c.key, order: active && sort.order === 'asc' ? 'desc' : 'asc' };
            draw();
          },
        }, c.label, active ? (sort.order === 'asc' ? ' ▲' : ' ▼') : ''));
    }));
    tbody.replaceChildren(...shown.map((r) => el('tr', { dataset: r.dataset ?? {} },
      columns.map((c) => {
        const cellValue = c.cell ? c.cell(r) : c.value(r);
        return el('td', { class: c.cls }, cellValue instanceof Node ? cellValue : String(cellValue ?? '—'));
      }))));
  };
  draw();
  table.csv = () => (table.sorted ?? rows).map((r) => columns.map((c) => c.value(r)));
  table.header = columns.map((c) => c.csvLabel ?? c.key);
  return table;
}

async function runsPage(signal) {
  const p = new URLSearchParams(location.search);
  const state = {
    q: p.get('q') ?? '', scenario: p.get('scenario') ?? '', metric: p.get('metric') ?? 'annualized_return',
  };
  const box = el('div', { id: 'runs-box' });
  const total = el('span', { class: 'total', id: 'total' }, '…');
  const metricSelect = el('select', {
    id: 'runs-metric',
    onchange: (e) => { state.metric = e.target.value; load(); },
  }, Object.entries(v.STORY_METRICS).map(([k, m]) =>
    el('option', { value: k, selected: k === state.metric }, m.label)));
  const scenarioSelect = el('select', {
    id: 'runs-scenario',
    onchange: (e) => { state.scenario = e.target.value; load(); },
  }, el('option', { value: '' }, 'all scenarios 全部场景'));
  let typing;
  const search = el('input', {
    type: 'search', id: 'search', value: state.q, placeholder: 'id prefix or name 任务编号前缀或名称',
    oninput: (e) => {
      clearTimeout(typing);
      typing = setTimeout(() => { state.q = e.target.value.trim(); load(); }, 250);
    },
  });
  let table = null;
  const csv = csvButton('runs-csv', 'task-runs', () => table.header, () => table.csv());
  async function load() {
    const query = v.queryString({
      q: state.q, scenario: state.scenario, metric: state.metric === 'annualized_return' ? '' : state.metric,
    });
    history.replaceState(null, '', `${v.BASE}/runs${query}`);
    const data = await getJson(`/api/rdagent/task-runs${v.queryString({ ...state })}`, signal);
    const known = new Set([...scenarioSelect.options].map((o) => o.value));
    for (const sc of data.scenarios) if (!known.has(sc)) scenarioSelect.append(el('option', { value: sc }, sc));
    scenarioSelect.value = state.scenario;
    total.textContent = `${v.countOf(data.total, 'task run')} 个任务`;
    total.dataset.total = String(data.total);
    const m = v.STORY_METRICS[state.metric];
    table = sortableTable('runs', [
      {
        key: 'name', label: 'Task run 任务', value: (r) => r.name, csvLabel: 'name',
        cell: (r) => el('div', {}, el('a', { href: v.runHref(r.task_run_id), class: 'run-name' }, r.name),
          el('div', { class: 'sub mono', title: r.task_run_id }, v.shortId(r.task_run_id, 12),
            r.log_folder ? ` · ${r.log_folder}` : '')),
      },
      {
        key: 'task_run_id', label: 'Id', value: (r) => r.task_run_id, cell: (r) => v.shortId(r.task_run_id, 8),
        cls: 'mono',
      },
      { key: 'scenario', label: 'Scenario 场景', value: (r) => r.scenario },
      {
        key: 'started_at_utc', label: 'Started 开始', value: (r) => r.started_at_utc,
        cell: (r) => v.fmtTime(r.started_at_utc),
      },
      {
        key: 'ended_at_utc', label: 'Ended 结束', value: (r) => r.ended_at_utc,
        cell: (r) => v.fmtTime(r.ended_at_utc),
      },
      { key: 'loops', label: 'Loops 循环', value: (r) => r.loops, cls: 'num' },
      {
        key: 'by_status', label: 'By status 状态', value: (r) => v.statusSummary(r.by_status),
        cell: (r) => el('span', { class: 'statuses' }, Object.entries(r.by_status ?? {}).map(([k, n]) =>
          el('span', { class: `badge small st-${k}` }, `${k} ${n}`))),
      },
      { key: 'with_results', label: 'With results 有结果', value: (r) => r.with_results, cls: 'num' },
      { key: 'accepted', label: 'Accepted 采纳', value: (r) => r.accepted, cls: 'num' },
      {
        key: 'best', label: `Best 最佳 ${m.label}`, value: (r) => r.best?.value, cls: 'num',
        csvLabel: `best_${state.metric}`,
        cell: (r) => (r.best
          ? el('span', {}, m.fmt(r.best.value), el('span', { class: 'sub' }, ` loop ${r.best.loop_id}`))
          : '—'),
      },
    ], data.task_runs.map((r) => ({ ...r, dataset: { run: r.task_run_id } })),
    { key: 'started_at_utc', order: 'desc' });
    box.replaceChildren(el('div', { class: 'table-wrap' }, table));
    if (data.total === 0) {
      box.append(el('p', { class: 'empty' }, state.q || state.scenario
        ? 'Nothing matches. 无匹配结果。' : 'No task runs yet: sync. 暂无任务，请同步。'));
    }
  }
  show(
    el('div', { class: 'page-head' }, el('h1', {}, v.LABELS.runs)),
    el('div', { class: 'toolbar' }, search, scenarioSelect,
      el('label', { class: 'filter' }, 'best by 最佳指标 ', metricSelect), csv, total),
    box,
  );
  await load();
}

async function runPage(taskRunId, signal) {
  const p = new URLSearchParams(location.search);
  let metric = p.get('metric') ?? 'annualized_return';
  const head = el('div', { id: 'run-head' });
  const storyBox = el('div', { id: 'run-story' });
  const chartBox = el('div', { id: 'best-so-far' });
  const curvesBox = el('div', { id: 'run-curves' }, el('p', { class: 'muted' }, 'Loading curves… 正在加载…'));
  const tableBox = el('div', { id: 'run-loops-box' });
  show(
    el('p', { class: 'crumbs' }, el('a', { href: `${v.BASE}/runs` }, v.LABELS.runs), ' › ', v.LABELS.run),
    head, chartBox,
    el('h2', {}, 'The story 研究过程: each loop\u2019s hypothesis and decision 每轮假设与决策'),
    storyBox,
    el('h2', {}, 'Backtest curves 回测曲线 (excess return with cost 含成本超额收益)'),
    curvesBox,
    el('h2', {}, `${v.LABELS.loops} (every loop 全部循环)`),
    tableBox,
  );
  const storyUrl = (m) => `/api/rdagent/task-runs/${encodeURIComponent(taskRunId)}${v.queryString({
    metric: m === 'annualized_return' ? '' : m,
  })}`;
  let story = await getJson(storyUrl(metric), signal);
  const id = story.task_run_id;
  // The curves: one request for every loop, thinned on the server; drawn once they arrive.
  const curvesPromise = getJson(`/api/rdagent/task-runs/${encodeURIComponent(id)}/curves`, signal);

  const drawHead = () => {
    const sota = story.loop_items.filter((l) => l.decision === true).map((l) => l.loop_id);
    head.replaceChildren(
      el('div', { class: 'page-head' }, el('h1', { id: 'run-name' }, story.name),
        story.scenario ? el('span', { class: 'badge' }, story.scenario) : null,
        csvButton('run-csv', `task-run-${id}`, () => loopTable.header, () => loopTable.csv())),
      el('p', { class: 'muted mono', id: 'run-id' }, `${id}${story.log_folder ? ' · ' + story.log_folder : ''} · `
        + `${v.fmtTime(story.started_at_utc)} → ${v.fmtTime(story.ended_at_utc)}`),
      el('p', { id: 'run-summary' },
        `${v.countOf(story.loops, 'loop')} 循环 · ${story.with_results} with results 有结果 · `
          + `${story.accepted} accepted 采纳 · `,
        Object.entries(story.by_status).map(([k, n]) => el('span', { class: `badge small st-${k}` }, `${k} ${n}`)),
        sota.length ? el('span', { class: 'muted' }, ` · SOTA loops ${sota.join(', ')}`) : null),
    );
  };

  const drawChart = () => {
    const m = v.STORY_METRICS[metric];
    const c = v.bestSoFarLayout(story);
    const select = el('select', {
      id: 'run-metric',
      onchange: async (e) => {
        metric = e.target.value;
        history.replaceState(null, '', `${v.runHref(id)}${v.queryString({
          metric: metric === 'annualized_return' ? '' : metric,
        })}`);
        story = await getJson(storyUrl(metric), signal);
        drawChart();
        drawStory();
      },
    }, Object.entries(v.STORY_METRICS).map(([k, x]) => el('option', { value: k, selected: k === metric }, x.label)));
    const { margin } = c;
    const base = c.dots.find((d) => d.baseline);
    chartBox.replaceChildren(
      el('div', { class: 'chart-head' }, el('h2', {}, 'Best so far 迄今最佳 '), select,
        base ? el('span', { class: 'muted', id: 'baseline-note' },
          `baseline 基线 = loop ${base.loopId}: ${m.fmt(base.value)} · best 最佳 ${m.fmt(story.best?.value)}`
          + ` (loop ${story.best?.loop_id})`) : el('span', { class: 'muted' }, 'no loop has this metric 无数据')),
      el('figure', { class: 'chart wide' }, svg('svg', {
        id: 'best-chart', class: 'curves', viewBox: `0 0 ${c.width} ${c.height}`, role: 'img',
        'aria-label': 'best so far',
      },
      c.yTicks.map((t) => [
        svg('line', { x1: margin.left, x2: c.width - margin.right, y1: t.y, y2: t.y, class: 'grid' }),
        svg('text', { x: margin.left - 6, y: t.y + 4, class: 'tick', 'text-anchor': 'end' },
          v.tickText(m.fmt, t.value))]),
      c.zeroY !== null ? svg('line', {
        x1: margin.left, x2: c.width - margin.right, y1: c.zeroY, y2: c.zeroY, class: 'zero',
      }) : null,
      c.xTicks.map((t) => svg('text', { x: t.x, y: c.height - 10, class: 'tick', 'text-anchor': 'middle' },
        `${t.value}`)),
      svg('path', { d: c.path, class: 'best-line', id: 'best-line' }),
      c.dots.map((d) => svg('a', { href: v.loopHref(id, d.loopId) }, svg('circle', {
        cx: d.x, cy: d.y, r: d.sota ? 6 : 4,
        class: `dot-loop${d.sota ? ' sota' : ''}${d.baseline ? ' baseline' : ''}${d.improved ? ' improved' : ''}`,
        dataset: { loop: d.loopId, sota: String(d.sota), value: d.value, best: d.best },
      }, svg('title', {}, `loop ${d.loopId}: ${m.fmt(d.value)} · best so far ${m.fmt(d.best)}`
        + `${d.sota ? ' · SOTA accepted 采纳' : ''}${d.baseline ? ' · baseline 基线' : ''}`)))))),
      el('div', { class: 'legend' }, el('span', { class: 'swatch best' }), ' best so far 迄今最佳  ',
        el('span', { class: 'dot accepted' }), ' accepted (SOTA) 采纳  ', el('span', { class: 'dot' }),
        ' other loops 其他  · x: loop 循环'),
    );
  };

  const drawStory = () => {
    const m = v.STORY_METRICS[metric];
    storyBox.replaceChildren(el('ol', { class: 'story', id: 'story' }, story.loop_items.map((l) => {
      const state = v.loopState(l);
      const value = l.metrics?.[metric];
      return el('li', { class: `story-loop st-${state.replace(' ', '-')}`, dataset: { loop: l.loop_id, state } },
        el('div', { class: 'story-line' },
          el('a', { href: v.loopHref(id, l.loop_id), class: 'story-loop-id' }, `loop ${l.loop_id}`),
          el('span', { class: `badge small st-${state.replace(' ', '-')}` }, v.STATE_LABELS[state] ?? state),
          l.decision === true ? el('span', { class: 'badge small ok' }, '✓ SOTA 采纳')
            : l.decision === false ? el('span', { class: 'badge small muted' }, '✗ rejected 拒绝') : null,
          l.action ? el('span', { class: 'muted' }, l.action) : null,
          value !== undefined && value !== null
            ? el('span', { class: 'num story-metric' }, `${m.label} ${m.fmt(value)}`) : null),
        el('div', { class: 'hypothesis' }, l.hypothesis ?? 'no hypothesis recorded 无假设记录'),
        l.error_message || l.error_type
          ? el('div', { class: 'story-error bad' }, `${l.error_type ?? 'error'}: ${l.error_message ?? ''}`) : null);
    })));
  };

  let loopTable;
  const drawTable = () => {
    loopTable = sortableTable('run-loops', [
      {
        key: 'loop_id', label: 'Loop 循环', value: (l) => l.loop_id,
        cell: (l) => el('a', { href: v.loopHref(id, l.loop_id) }, `loop ${l.loop_id}`),
      },
      { key: 'state', label: 'Status 状态', value: (l) => v.loopState(l) },
      { key: 'action', label: 'Action 动作', value: (l) => l.action },
      {
        key: 'decision', label: 'Decision 决策',
        value: (l) => (l.decision === true ? 'accepted' : l.decision === false ? 'rejected' : ''),
        cell: (l) => v.decisionCell(l.decision).text,
      },
      ...Object.entries(v.STORY_METRICS).map(([k, x]) => ({
        key: k, label: x.label, value: (l) => l.metrics?.[k], cell: (l) => x.fmt(l.metrics?.[k]), cls: 'num',
      })),
      { key: 'hypothesis', label: 'Hypothesis 假设', value: (l) => l.hypothesis, cls: 'hyp' },
    ], story.loop_items.map((l) => ({ ...l, dataset: { loop: l.loop_id, state: v.loopState(l) } })),
    { key: 'loop_id', order: 'asc' });
    tableBox.replaceChildren(el('div', { class: 'table-wrap' }, loopTable));
  };

  drawHead();
  drawChart();
  drawStory();
  drawTable();

  try {
    const curves = await curvesPromise;
    const started = performance.now();
    const lines = v.storyCurveLines(curves, story.best?.loop_id);
    const figure = storyCurves(id, lines, curves);
    curvesBox.replaceChildren(figure);
    // For the benchmark: time from the curves' arrival to a drawn chart (layout forced by reading a size).
    figure.getBoundingClientRect();
    curvesBox.dataset.drawMs = String(Math.round((performance.now() - started) * 10) / 10);
    curvesBox.dataset.lines = String(lines.length);
    // What the page fetched for its curves (the benchmark checks it is one request).
    curvesBox.dataset.curveRequests = String(performance.getEntriesByType('resource')
      .filter((r) => /\/curves|\/backtest/.test(r.name)).length);
  } catch (e) {
    if (e.name !== 'AbortError') curvesBox.replaceChildren(errorBox(e));
  }
}

/**
 * Every loop's curve on one chart that stays readable at 150 loops: the SOTA loops and the best loop bold, the rest
 * faint; hovering a line (or its legend entry) raises it and names it with its final value.
 */
function storyCurves(taskRunId, lines, curves) {
  const c = v.curveLayout(lines, 900, 300);
  const order = (l) => (l.best ? 2 : l.sota ? 1 : 0);
  const ordered = [...c.lines].sort((a, b) => order(a) - order(b));
  const label = el('p', { class: 'muted', id: 'run-curves-hover' }, 'hover a line for its loop 悬停查看循环');
  const raise = (l, on) => {
    for (const path of chart.querySelectorAll(`[data-loop="${l.loopId}"]`)) path.classList.toggle('hover', on);
    if (on) {
      label.textContent = `loop ${l.loopId}: ${v.fmtPct(v.finalValue(l))}${l.sota ? ' · SOTA 采纳' : ''}`
        + `${l.best ? ' · best 最佳' : ''}`;
    }
  };
  const chart = curvesSvg(c, { 'aria-label': 'loop curves', id: 'run-curves-chart' }, curveAxes(c, v.fmtPct),
    ordered.map((l) => svg('a', { href: v.loopHref(taskRunId, l.loopId) }, svg('path', {
      d: l.path, class: `curve loop-line ${l.cls}`,
      dataset: { loop: l.loopId, sota: String(l.sota), best: String(l.best), final: v.finalValue(l) ?? '' },
      onmouseenter: () => raise(l, true), onmouseleave: () => raise(l, false),
    }, svg('title', {}, `loop ${l.loopId}: ${v.fmtPct(v.finalValue(l))}${l.sota ? ' · SOTA accepted 采纳' : ''}`)))));
  const missing = curves.missing ?? [];
  return el('figure', { class: 'chart wide' }, chart, label,
    el('div', { class: 'legend' }, el('span', { class: 'swatch best' }), ' best loop 最佳  ',
      el('span', { class: 'swatch sota' }), ' accepted (SOTA) 采纳  ',
      el('span', { class: 'swatch faint' }), ` other loops 其他 (${v.countOf(lines.length, 'curve')}, one request 一次请求)`),
    missing.length
      ? el('p', { class: 'muted', id: 'run-curves-missing' },
        `No curve for loop ${missing.map((x) => x.loop_id).join(', ')}. 无回测曲线。`)
      : null);
}

// -------------------------------------------------------------------------------------------------------------
// Factor: what it is, its code, where it was found

/**
 * A number or id the reader can take away: the shown text selects as one piece, and the button next to it puts the
 * exact value (full precision, not the rounded display) on the clipboard.
 */
function copyable(text, raw = text) {
  const value = raw === null || raw === undefined ? '' : String(raw);
  const shown = el('span', { class: 'copy-text', dataset: { value } }, text);
  if (!value) return shown;
  const button = el('button', {
    type: 'button', class: 'copy-value', title: `Copy 复制: ${value}`, 'aria-label': `copy ${value}`,
    dataset: { copy: value },
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(value);
        button.dataset.copied = 'true';
        button.textContent = '✓';
      } catch {
        // No clipboard (an insecure origin): select the value so Ctrl+C copies it.
        const range = document.createRange();
        range.selectNodeContents(shown);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        button.textContent = 'Ctrl+C';
      }
    },
  }, '复制');
  return el('span', { class: 'copyable' }, shown, button);
}

function codeBlock(text, id) {
  const pre = el('pre', { class: 'code', id }, el('code', {}, v.pythonTokens(text).map(([kind, t]) =>
    (kind === 'other' || kind === 'name' ? t : el('span', { class: `tok-${kind}` }, t)))));
  const copy = el('button', {
    type: 'button', class: 'copy', id: `${id}-copy`,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(text);
        copy.textContent = 'Copied ✓ 已复制';
      } catch {
        // No clipboard (an insecure origin): select the code so Ctrl+C copies it.
        const range = document.createRange();
        range.selectNodeContents(pre);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        copy.textContent = 'Selected: press Ctrl+C 已选中';
      }
    },
  }, 'Copy 复制');
  return el('div', { class: 'code-wrap' }, copy, pre);
}

async function factorPage(factorId, signal) {
  const d = await getJson(`/api/rdagent/factors/${encodeURIComponent(factorId)}`, signal);
  const f = d.factor;
  const m = f.performance_metrics ?? {};
  const of = d.metrics_of ?? {};
  const code = d.code ?? {};
  document.title = `${f.name} · ${v.LABELS.factor} · RdBridge`;
  show(
    el('p', { class: 'crumbs' }, el('a', { href: `${v.BASE}/factors` }, v.LABELS.factors), ' › ', f.name),
    el('div', { class: 'page-head' }, el('h1', { id: 'factor-name' }, f.name),
      el('span', { class: 'badge' }, f.source ?? '?'),
      (f.tags ?? []).map((t) => el('span', { class: 'badge small' }, t))),
    el('p', { class: 'muted mono' }, `${f.factor_id} · fingerprint ${v.shortId(f.fingerprint, 16)}`),
    el('div', { class: 'columns' },
      el('section', {},
        el('h2', {}, 'Description 描述'),
        el('p', { id: 'factor-description' }, f.description_cn ?? '—'),
        el('h2', {}, 'Formulation 公式'),
        el('p', { class: 'mono', id: 'factor-formulation' }, f.formulation ?? f.expression
          ?? 'no formula recorded: the code below defines it 无公式，见代码'),
        el('h2', {}, 'Input 输入'),
        el('p', {}, v.inputSchemaText(f.input_schema))),
      el('section', {},
        el('h2', {}, 'Metrics 指标'),
        el('p', { class: 'note', id: 'metrics-meaning' }, 'Loop 循环 ',
          el('a', { href: v.loopHref(of.task_run_id, of.loop_id) },
            `${v.shortId(of.task_run_id, 10)} / loop ${of.loop_id}`),
          ` — ${of.meaning}. 这是整个循环（全部因子与模型、策略）的回测，不是该因子单独的表现。`),
        el('table', { class: 'catalog narrow', id: 'factor-metrics' }, el('tbody', {}, Object.entries(m).map(([k, x]) =>
          el('tr', {}, el('th', {}, `loop ${k.replaceAll('_', ' ')}`),
            el('td', { class: 'num' }, /return|drawdown/.test(k) ? v.fmtPct(x) : v.fmtNum(x)))))))),
    el('h2', {}, 'Code 代码 ', code.path ? el('span', { class: 'muted mono' }, code.path) : null,
      code.text !== null && code.text !== undefined
        ? [' ', el('a', { href: `/api/rdagent/factors/${encodeURIComponent(f.factor_id)}/code`, id: 'factor-raw' },
          'raw 原文')] : null),
    code.text !== null && code.text !== undefined
      ? codeBlock(code.text, 'factor-code')
      : el('p', { class: 'muted', id: 'factor-code-missing' }, code.missing ?? 'no code 无代码'),
    el('h2', {}, `Found in 出处 (${v.countOf(d.found_in_total, 'loop')} 个循环)`),
    el('div', { class: 'table-wrap' }, el('table', { class: 'catalog', id: 'found-in' },
      el('thead', {}, el('tr', {}, ['Loop 循环', 'Task run 任务', 'Decision 决策', 'Loop return 循环年化',
        'Loop IC', 'Hypothesis 假设'].map((h) => el('th', {}, h)))),
      el('tbody', {}, d.found_in.map((p) => el('tr', { dataset: { loop: `${p.task_run_id}:${p.loop_id}` } },
        el('td', {}, el('a', { href: v.loopHref(p.task_run_id, p.loop_id) }, `loop ${p.loop_id}`),
          p.loaded_from ? el('div', { class: 'sub' }, `from ${p.loaded_from}`) : null),
        el('td', {}, el('a', { href: v.runHref(p.task_run_id), title: p.task_run_id }, p.task_run_name
          ?? v.shortId(p.task_run_id, 12))),
        el('td', {}, v.decisionCell(p.decision).text),
        el('td', { class: 'num' }, v.fmtPct(p.annualized_return)), el('td', { class: 'num' }, v.fmtNum(p.ic)),
        el('td', { class: 'hyp' }, p.hypothesis ?? '—')))))),
    d.found_in_total > d.found_in.length
      ? el('p', { class: 'muted' },
        `and ${v.countOf(d.found_in_total - d.found_in.length, 'more loop')} 另有更多循环`) : null,
  );
}

// -------------------------------------------------------------------------------------------------------------
// Compare: two loops side by side — metrics, config, factors, code, curves

/** Up to eight loops side by side: their metrics in one table and their with-cost curves on one chart. */
async function compareManyPage(keys, signal) {
  const loops = keys.map(v.parseLoopKey);
  const data = await Promise.all(loops.map(async (k) => {
    const lin = await getJson(`/api/rdagent/loops/${encodeURIComponent(k.taskRunId)}/${k.loopId}`, signal);
    let bt = null;
    try {
      bt = await getJson(`/api/rdagent/loops/${encodeURIComponent(k.taskRunId)}/${k.loopId}/backtest`, signal);
    } catch (e) {
      if (e.name === 'AbortError') throw e;
    }
    return { k, loop: lin.loop ?? {}, bt };
  }));
  const names = [...new Set(data.flatMap((d) => Object.keys(d.loop.metrics ?? {})))];
  const lines = data.flatMap((d, i) => (d.bt ? v.curveLines(d.bt, [v.RETURN_SERIES[0]], {
    prefix: `loop ${d.k.loopId} `, cls: `pick-${i}`,
  }) : []));
  const fmt = (n, x) => (/return|drawdown/.test(n) ? v.fmtPct(x) : v.fmtNum(x));
  show(
    el('p', { class: 'crumbs' }, el('a', { href: `${v.BASE}/loops` }, v.LABELS.loops), ' › ', v.LABELS.compare),
    el('div', { class: 'page-head' }, el('h1', {}, `${v.LABELS.compare} · ${v.countOf(data.length, 'loop')} 个循环`)),
    el('div', { class: 'table-wrap' }, el('table', { class: 'catalog', id: 'compare-many' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Metric 指标'), data.map((d, i) => el('th', { class: `num pick-${i}` },
        el('a', { href: v.loopHref(d.k.taskRunId, d.k.loopId) }, `${v.shortId(d.k.taskRunId, 6)} / ${d.k.loopId}`),
        el('div', { class: 'sub' }, v.decisionCell(d.loop.decision).text))))),
      el('tbody', {}, names.map((n) => el('tr', { dataset: { metric: n } }, el('th', {}, n.replaceAll('_', ' ')),
        data.map((d) => el('td', { class: 'num' }, fmt(n, d.loop.metrics?.[n])))))))),
    el('h2', {}, 'Backtest curves 回测曲线 (excess return with cost 含成本超额收益)'),
    curveChart('compare-many-chart', lines, v.fmtPct),
  );
}

async function comparePage(signal) {
  const q = new URLSearchParams(location.search);
  const many = (q.get('loops') ?? '').split(',').filter((k) => v.parseLoopKey(k));
  if (many.length >= 2 && many.length <= 8) {
    await compareManyPage(many, signal);
    return;
  }
  if (!v.parseLoopKey(q.get('a')) || !v.parseLoopKey(q.get('b'))) {
    show(el('h1', {}, v.LABELS.compare), el('p', { class: 'error' },
      'Pick two loops on the loops page. 请在循环页面选择两个循环。 (?a=TASK_RUN_ID:LOOP_ID&b=…)'));
    return;
  }
  const c = await getJson(`/api/rdagent/compare${v.queryString({ a: q.get('a'), b: q.get('b') })}`, signal);
  const side = (s, name) => el('div', { class: `side side-${name}` }, el('b', {}, `${name.toUpperCase()} `),
    el('a', { href: v.loopHref(s.task_run_id, s.loop_id), class: 'mono' },
      `${v.shortId(s.task_run_id, 12)} / loop ${s.loop_id}`),
    ` · ${s.action ?? '?'} · `, v.decisionCell(s.decision).text, s.origin ? ` · ${s.origin}` : '');
  const groups = v.groupChanges(c.config?.changes);
  const factors = c.factors ?? {};
  const count = (kind) => (factors[kind] ?? []).length;
  // Each side's with-cost curve and benchmark; the without-cost curves would crowd the chart.
  const drawn = [v.RETURN_SERIES[0], v.RETURN_SERIES[2]];
  const curveLinesOf = (bt, name) =>
    (bt ? v.curveLines(bt, drawn, { prefix: `${name.toUpperCase()} `, cls: `side-${name}` }) : []);
  const changeRow = (g, ch) => el('tr', { class: ch.kind, dataset: { path: ch.path, section: g.section } },
    el('td', {}, g.section), el('td', { class: 'mono' }, ch.path),
    el('td', { class: 'mono del' }, ch.before ?? '—'), el('td', { class: 'mono add' }, ch.after ?? '—'));
  const chip = (f, cls, mark) => el('span', { class: `chip ${cls}`, title: f.factor_id }, `${mark}${f.name}`);
  const fileDiff = (f) => el('details', {
    class: `diff ${f.status.replaceAll(' ', '-')}`, open: f.status !== 'same', dataset: { file: f.file },
  },
  el('summary', {}, el('span', { class: 'mono' }, f.file), ' ', el('span', { class: 'badge small' }, f.status)),
  f.status === 'same' ? el('p', { class: 'muted eol-note' }, 'Identical in both loops 两边相同') : null,
  f.line_endings ? el('p', { class: 'muted eol-note' },
    `Only the line endings differ 仅换行符不同 (${f.line_endings}); every line is the same.`) : null,
  (f.hunks ?? []).length === 0 ? null : el('pre', { class: 'diff-body' },
    el('div', { class: 'diff-file' }, `--- ${f.a_path ? 'a/' + f.a_path : '/dev/null'}`),
    el('div', { class: 'diff-file' }, `+++ ${f.b_path ? 'b/' + f.b_path : '/dev/null'}`),
    f.hunks.map((h) => [el('div', { class: 'hunk' }, h.header),
      h.lines.map(([op, text]) => el('div', { class: `line ${v.diffClass(op)}` }, op + text))])));
  show(
    el('p', { class: 'crumbs' }, el('a', { href: `${v.BASE}/loops` }, v.LABELS.loops), ' › ', v.LABELS.compare),
    el('div', { class: 'page-head' }, el('h1', {}, v.LABELS.compare)),
    el('div', { class: 'sides' }, side(c.a, 'a'), side(c.b, 'b')),
    (c.notes ?? []).map((n) => el('p', { class: 'muted note' }, n)),

    el('h2', {}, 'Metrics 指标 (B − A)'),
    el('table', { class: 'catalog narrow', id: 'metric-deltas' },
      el('thead', {}, el('tr', {}, ['Metric 指标', 'A', 'B', 'Δ'].map((h) => el('th', {}, h)))),
      el('tbody', {}, v.metricDeltaRows(c.metrics).map((m) => el('tr', { dataset: { metric: m.name } },
        el('th', {}, m.name.replaceAll('_', ' ')), el('td', { class: 'num' }, m.a), el('td', { class: 'num' }, m.b),
        el('td', { class: `num delta ${m.cls}` }, m.delta))))),

    el('h2', {}, 'Backtest curves 回测曲线'),
    curveChart('compare-chart', [...curveLinesOf(c.curves?.a, 'a'), ...curveLinesOf(c.curves?.b, 'b')], v.fmtPct),

    el('h2', {}, `Workflow config 配置 (${v.countOf((c.config?.changes ?? []).length, 'change')} 处变化)`),
    el('p', { class: 'muted mono' }, `A ${c.config?.a_file ?? '—'} · B ${c.config?.b_file ?? '—'}`),
    groups.length === 0 ? el('p', { class: 'muted' }, 'No setting differs. 配置相同。') :
      el('table', { class: 'catalog', id: 'config-changes' },
        el('thead', {}, el('tr', {}, ['Section 部分', 'Key 键', 'A', 'B'].map((h) => el('th', {}, h)))),
        el('tbody', {}, groups.map((g) => g.changes.map((ch) => changeRow(g, ch))))),

    el('h2', {}, `Factors 因子: ${count('added')} added 新增 · ${count('removed')} removed 移除 · `
      + `${count('kept')} kept 保留`),
    el('div', { class: 'factor-list', id: 'factor-changes' },
      (factors.added ?? []).map((f) => chip(f, 'add', '+ ')),
      (factors.removed ?? []).map((f) => chip(f, 'del', '− ')),
      (factors.kept ?? []).map((f) => chip(f, '', ''))),

    el('h2', {}, 'Code 代码'),
    el('div', { id: 'code-diffs' }, (c.code ?? []).map(fileDiff)),
  );
}

render();
