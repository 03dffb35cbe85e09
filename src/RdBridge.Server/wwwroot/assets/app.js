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
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(new DOMException('aborted', 'AbortError')); }, { once: true });
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
      const given = await askToken(token ? 'The server did not accept the stored token. 令牌无效，请重新输入。' : 'This server needs its token for this action. 此操作需要服务器令牌。');
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
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'save' && input.value.trim() ? input.value.trim() : null), { once: true });
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
  const given = await askToken('Enter the server token (stored in this browser only); leave empty to forget it. 输入服务器令牌（仅保存在本浏览器）。');
  if (given) localStorage.setItem(TOKEN_KEY, given);
  else localStorage.removeItem(TOKEN_KEY);
});

function render() {
  current.abort();
  current = new AbortController();
  const signal = current.signal;
  const r = v.route(location.pathname);
  for (const a of document.querySelectorAll('nav.main a')) a.classList.toggle('active', a.dataset.page === (r.page === 'loop' || r.page === 'run' ? 'loops' : r.page));
  root.replaceChildren();
  const page = {
    factors: () => catalogPage('factors', signal),
    models: () => catalogPage('models', signal),
    strategies: () => catalogPage('strategies', signal),
    loops: () => catalogPage('loops', signal),
    loop: () => loopPage(r.taskRunId, r.loopId, signal),
    run: () => runPage(r.taskRunId, signal),
    sync: () => syncPage(signal),
    verify: () => verifyPage(signal),
  }[r.page];
  document.title = `${v.LABELS[r.page] ?? 'Not found'} · RdBridge`;
  if (!page) {
    show(el('h1', {}, 'Not found 未找到'), el('p', {}, `No page at ${r.path}. `, el('a', { href: `${v.BASE}/factors` }, v.LABELS.factors)));
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
    if (data.items.length === 0) tbody.append(el('tr', {}, el('td', { colspan: t.columns.length, class: 'empty' }, data.total === 0 && !hasFilters() ? 'No records yet: press sync. 暂无数据，请同步。' : 'Nothing matches. 无匹配结果。')));
    renderPager(data.total, data.total_exact !== false);
    renderHeaders();
    table.removeAttribute('aria-busy');
  }

  const hasFilters = () => state.q || Object.values(state.filters).some(Boolean) || Object.keys(state.ranges).length > 0;

  function renderPager(count, exact) {
    const pages = v.pageCount(count, state.page_size);
    const go = (p) => { state = { ...state, page: p }; load(); };
    pager.replaceChildren(
      el('button', { type: 'button', disabled: state.page <= 1, onclick: () => go(state.page - 1) }, '‹ Prev 上一页'),
      el('span', { class: 'page-of' }, `page ${state.page} of ${pages}${exact ? '' : '+'} 页`),
      el('button', { type: 'button', disabled: exact && state.page >= pages, onclick: () => go(state.page + 1) }, 'Next 下一页 ›'),
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
        el('button', { type: 'button', class: 'sort', dataset: { sort: c.sort }, onclick: () => { state = v.nextSort(state, c.sort); load(); } },
          c.label, active ? (state.order === 'asc' ? ' ▲' : ' ▼') : ''));
    }));
  }
  renderHeaders();
  const table = el('table', { class: 'catalog', id: 'catalog' }, el('thead', {}, headRow), tbody);

  let typing;
  const search = el('input', {
    type: 'search', id: 'search', placeholder: `Search ${t.search}`, value: state.q,
    oninput: (e) => { clearTimeout(typing); typing = setTimeout(() => { state = { ...state, q: e.target.value, page: 1 }; load(); }, 300); },
  });
  const filters = t.filters.map((f) => {
    const listId = `list-${f.param}`;
    return el('label', { class: 'filter' }, f.label, ' ',
      el('input', {
        type: 'text', name: f.param, list: f.options ? listId : null, value: state.filters[f.param] ?? '', size: f.param === 'task_run_id' ? 20 : 14,
        onchange: (e) => { state = { ...state, filters: { ...state.filters, [f.param]: e.target.value.trim() }, page: 1 }; load(); },
      }),
      f.options ? el('datalist', { id: listId }, f.options.map((o) => el('option', { value: o }))) : null);
  });

  show(
    el('div', { class: 'page-head' }, el('h1', {}, v.LABELS[kind]), syncPanel(signal, () => load())),
    el('div', { class: 'toolbar' }, search, filters, total),
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

// -------------------------------------------------------------------------------------------------------------
// Sync: the button, live progress, and the refresh when it ends

function syncPanel(signal, onDone, opts = {}) {
  const line = el('span', { class: 'sync-line', id: 'sync-line' }, '…');
  const bar = el('progress', { id: 'sync-progress', max: 1, value: 0, hidden: true });
  const counts = el('ul', { class: 'counts', id: 'sync-counts' });
  const error = el('div', { class: 'sync-error' });
  const button = el('button', { type: 'button', id: 'sync-button', class: 'primary', onclick: () => start('incremental') }, v.LABELS.syncButton);
  const full = opts.full ? el('button', { type: 'button', id: 'sync-full-button', onclick: () => start('full') }, 'Full sync 全量同步') : null;
  const panel = el('div', { class: 'sync', id: 'sync-panel', dataset: { phase: 'idle' } }, button, full, bar, line, counts, error);

  function show(run) {
    line.textContent = v.syncLine(run);
    panel.dataset.status = run?.status ?? 'never';
    bar.hidden = run?.status !== 'running';
    bar.value = run?.progress ?? 0;
    counts.replaceChildren(...(run?.status === 'running' || panel.dataset.phase !== 'idle' ? v.countsSummary(run?.counts) : [])
      .map((c) => el('li', {}, el('b', {}, c.stage), ' ', c.text)));
    const errs = run?.errors ?? [];
    error.replaceChildren(...errs.slice(0, 5).map((e) => el('div', { class: 'error' }, typeof e === 'string' ? e : JSON.stringify(e))));
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
      const started = await send('POST', `/api/rdagent/catalog/sync${mode === 'full' ? '?mode=full' : ''}`, signal);
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
      el('td', { class: run.status === 'succeeded' ? 'ok' : run.status === 'failed' ? 'bad' : '' }, run.status ?? '—'),
      el('td', {}, run.stage ?? '—'),
      el('td', {}, v.fmtTime(run.started_at)),
      el('td', {}, v.fmtTime(run.finished_at)),
      el('td', {}, el('ul', { class: 'counts' }, v.countsSummary(run.counts).map((c) => el('li', {}, el('b', {}, c.stage), ' ', c.text)))),
      el('td', {}, (run.errors ?? []).length === 0 ? '—' : el('details', {}, el('summary', { class: 'bad' }, `${run.errors.length} errors 错误`),
        run.errors.map((e) => el('div', { class: 'error' }, typeof e === 'string' ? e : JSON.stringify(e))))),
    )));
    if (data.runs.length === 0) history_.append(el('tr', {}, el('td', { colspan: 8, class: 'empty' }, 'No sync has run yet. 尚无同步记录。')));
  }
  show(
    el('div', { class: 'page-head' }, el('h1', {}, v.LABELS.sync), syncPanel(signal, () => loadRuns().catch(ignoreAbort), { full: true, onProgress: () => loadRuns().catch(ignoreAbort) })),
    el('h2', {}, 'History 历史'),
    el('div', { class: 'table-wrap' }, el('table', { class: 'catalog', id: 'sync-runs' },
      el('thead', {}, el('tr', {}, ['Run', 'Mode 模式', 'Status 状态', 'Stage 阶段', 'Started 开始', 'Finished 结束', 'Counts 计数', 'Errors 错误'].map((h) => el('th', {}, h)))),
      history_)),
  );
  await loadRuns();
}

// -------------------------------------------------------------------------------------------------------------
// Verify: the checklist, run from the page

async function verifyPage(signal) {
  const out = el('div', { id: 'verify-result' });
  const button = el('button', {
    type: 'button', id: 'verify-button', class: 'primary',
    onclick: async () => {
      button.disabled = true;
      out.replaceChildren(el('p', { class: 'muted' }, 'Running the checklist… 正在检查…'));
      try {
        const result = await send('POST', '/api/rdagent/verify', signal);
        out.replaceChildren();
        append(out, verifyView(result));
      } catch (e) {
        if (e.name !== 'AbortError') out.replaceChildren(errorBox(e));
      } finally {
        button.disabled = false;
      }
    },
  }, 'Run checklist 运行检查');
  show(
    el('div', { class: 'page-head' }, el('h1', {}, v.LABELS.verify), button),
    el('p', { class: 'muted' }, 'The 验证检查清单: the RD-Agent side, the AIstock side, every link between them, and asset_bundle_id coverage.'),
    out,
  );
}

function verifyView(result) {
  const checks = result.checks ?? [];
  const passed = checks.filter((c) => c.passed).length;
  const groups = [...new Set(checks.map((c) => c.group))];
  const coverage = Object.entries(result.coverage ?? {});
  return [
    el('p', { class: result.passed ? 'summary ok' : 'summary bad', id: 'verify-summary', dataset: { passed: String(!!result.passed) } },
      result.passed ? '✓ ' : '✗ ', `${passed} of ${checks.length} checks passed 项通过`),
    coverage.length ? el('table', { class: 'catalog narrow', id: 'coverage' },
      el('thead', {}, el('tr', {}, ['Catalog 目录', 'Rows 行', 'With asset_bundle_id', 'Coverage 覆盖率'].map((h) => el('th', {}, h)))),
      el('tbody', {}, coverage.map(([k, c]) => el('tr', {}, el('td', {}, k), el('td', { class: 'num' }, v.fmtNum(c.total)),
        el('td', { class: 'num' }, v.fmtNum(c.with_bundle_id)), el('td', { class: 'num' }, `${v.fmtNum(c.coverage_pct, 1)}%`))))) : null,
    groups.map((g) => [
      el('h2', {}, g),
      el('table', { class: 'catalog checks' }, el('tbody', {}, checks.filter((c) => c.group === g).map((c) => el('tr', { class: c.passed ? 'pass' : 'fail' },
        el('td', { class: c.passed ? 'ok' : 'bad' }, c.passed ? '✓ pass' : '✗ fail'),
        el('td', { class: 'mono' }, c.id), el('td', {}, c.title), el('td', { class: 'muted' }, c.detail ?? ''))))),
    ]),
  ];
}

// -------------------------------------------------------------------------------------------------------------
// Loop detail: lineage graph, metrics, bundle files, feedback

async function loopPage(taskRunId, loopId, signal) {
  const lin = await getJson(`/api/rdagent/loops/${encodeURIComponent(taskRunId)}/${loopId}`, signal);
  const loop = lin.loop ?? {};
  const bundle = lin.bundle ?? {};
  const files = bundle.manifest?.files ?? [];
  const primary = new Set(Object.values(bundle.manifest?.primary_assets ?? {}).flat().filter((x) => typeof x === 'string'));
  const metrics = Object.entries(loop.metrics ?? {});
  const texts = Object.entries(loop.summary_texts ?? {}).filter(([, t]) => t);

  show(
    el('p', { class: 'crumbs' }, el('a', { href: `${v.BASE}/loops` }, v.LABELS.loops), ' › ',
      el('a', { href: v.runHref(taskRunId), title: taskRunId }, `${v.LABELS.run} ${v.shortId(taskRunId, 12)}`), ' › ', `loop ${loopId}`),
    el('div', { class: 'page-head' },
      el('h1', {}, `${v.LABELS.loop} ${loopId}`),
      el('span', { class: 'badge' }, loop.action ?? '?'),
      el('span', { class: 'badge' }, loop.status ?? '?'),
      el('span', { class: `badge ${loop.decision ? 'ok' : 'muted'}` }, v.decisionCell(loop.decision).text),
      el('span', { class: `badge ${lin.verified ? 'ok' : 'bad'}`, id: 'lineage-verified', dataset: { verified: String(!!lin.verified) } },
        lin.verified ? '✓ lineage verified 关联已验证' : '✗ lineage broken 关联断开')),
    el('p', { class: 'muted mono' }, `${taskRunId} · workspace ${loop.workspace_id ?? '—'} · ${v.fmtTime(loop.started_at_utc)} → ${v.fmtTime(loop.ended_at_utc)}`),

    el('h2', {}, 'Lineage 血缘'),
    lineageGraph(lin),
    el('table', { class: 'catalog narrow', id: 'links' },
      el('thead', {}, el('tr', {}, ['Link 关联', '', 'Detail 详情'].map((h) => el('th', {}, h)))),
      el('tbody', {}, (lin.links ?? []).map((l) => el('tr', { class: l.ok ? 'pass' : 'fail', dataset: { from: l.from, to: l.to, ok: String(!!l.ok) } },
        el('td', { class: 'mono' }, `${l.from} → ${l.to}`), el('td', { class: l.ok ? 'ok' : 'bad' }, l.ok ? '✓ verified' : '✗ broken'), el('td', {}, l.detail ?? ''))))),

    el('div', { class: 'columns' },
      el('section', {},
        el('h2', {}, 'Metrics 指标'),
        el('table', { class: 'catalog narrow', id: 'metrics' }, el('tbody', {}, metrics.map(([k, val]) => el('tr', {}, el('th', {}, k.replaceAll('_', ' ')),
          el('td', { class: 'num' }, /return|drawdown/.test(k) ? v.fmtPct(val) : v.fmtNum(val))))))),
      el('section', {},
        el('h2', {}, 'Feedback 反馈'),
        texts.length === 0 ? el('p', { class: 'muted' }, 'No feedback recorded. 无反馈。') :
          el('dl', { class: 'feedback', id: 'feedback' }, texts.map(([k, t]) => [el('dt', {}, k.replaceAll('_', ' ')), el('dd', {}, t)])),
        el('h2', {}, 'Model & strategy 模型与策略'),
        el('dl', { class: 'facts' },
          el('dt', {}, 'Model 模型'), el('dd', {}, lin.model ? `${lin.model.model_type ?? '?'} (${lin.model.network_class ?? lin.model.model_id})` : `${loop.model_type ?? 'baseline'} (no model row; baseline 基线)`),
          el('dt', {}, 'Strategy 策略'), el('dd', {}, lin.strategy
            ? `${lin.strategy.portfolio_config?.class ?? '?'} · topk ${lin.strategy.portfolio_config?.kwargs?.topk ?? '—'} · n_drop ${lin.strategy.portfolio_config?.kwargs?.n_drop ?? '—'}`
            : '—'),
          el('dt', {}, 'Python'), el('dd', { class: 'mono' }, lin.strategy?.python_implementation ? `${lin.strategy.python_implementation.module}.${lin.strategy.python_implementation.func}()` : '—')))),

    el('h2', {}, `Factors 因子 (${(lin.factors ?? []).length})`),
    el('div', { class: 'factor-list', id: 'loop-factors' }, (lin.factors ?? []).map((f) =>
      el('a', { href: v.kindHref('factors', { q: f.name }), class: 'chip', title: `${f.source} · IC ${v.fmtNum(f.ic)}` }, f.name))),

    el('h2', {}, 'Bundle files 资产包文件'),
    el('dl', { class: 'facts' },
      el('dt', {}, 'Bundle 资产包'), el('dd', { class: 'mono' }, bundle.asset_bundle_id ?? '—'),
      el('dt', {}, 'Archive 存档'), el('dd', {}, bundle.cached
        ? [el('a', { href: v.bundleHref(bundle.asset_bundle_id), download: '' , id: 'bundle-download' }, 'download .tar.gz 下载'), ` · ${v.fmtBytes(bundle.size_bytes)}`]
        : 'not in the asset cache 未缓存'),
      el('dt', {}, 'sha256'), el('dd', { class: 'mono' }, bundle.sha256 ?? '—'),
      el('dt', {}, 'Files 文件'), el('dd', {}, `${files.length} · ${v.fmtBytes(files.reduce((s, f) => s + (f.size ?? 0), 0))}`)),
    files.length === 0 ? el('p', { class: 'muted' }, 'No manifest: the bundle is not extracted in the asset cache. 未解压。') :
      el('div', { class: 'table-wrap' }, el('table', { class: 'catalog files', id: 'files' },
        el('thead', {}, el('tr', {}, ['Path 路径', 'Size 大小', 'sha256'].map((h) => el('th', {}, h)))),
        el('tbody', {}, files.map((f) => el('tr', { dataset: { path: f.path } },
          el('td', { class: 'mono' }, el('a', { href: v.bundleFileHref(bundle.asset_bundle_id, f.path), download: '' }, f.path),
            primary.has(f.path) ? el('span', { class: 'badge small' }, 'primary 主要') : null),
          el('td', { class: 'num' }, v.fmtBytes(f.size)),
          el('td', { class: 'mono hash', title: f.sha256 }, f.sha256)))))),
  );
}

function lineageGraph(lin) {
  const g = v.lineageLayout(lin);
  const marker = (id, cls) => svg('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
    svg('path', { d: 'M0,0 L10,5 L0,10 z', class: cls }));
  return el('div', { class: 'graph-wrap' }, svg('svg', {
    id: 'lineage', class: 'lineage', viewBox: `0 0 ${g.width} ${g.height}`, width: g.width, height: g.height, role: 'img', 'aria-label': 'lineage graph 血缘图',
  },
  svg('defs', {}, marker('arrow-ok', 'edge-ok-fill'), marker('arrow-bad', 'edge-bad-fill')),
  g.edges.map((e) => svg('g', { class: `edge ${e.ok ? 'ok' : 'bad'}`, dataset: { from: e.from, to: e.to, ok: String(e.ok) } },
    svg('title', {}, `${e.from} → ${e.to}: ${e.ok ? 'verified' : 'BROKEN'} — ${e.detail}`),
    svg('line', { x1: e.x1, y1: e.y1, x2: e.x2, y2: e.y2, 'marker-end': `url(#${e.ok ? 'arrow-ok' : 'arrow-bad'})` }))),
  g.nodes.map((n) => svg('g', { class: `node ${n.ok ? 'ok' : 'bad'}`, dataset: { node: n.id, ok: String(n.ok) } },
    svg('title', {}, `${n.label}: ${n.detail}`),
    svg('rect', { x: n.x, y: n.y, width: n.w, height: n.h, rx: 6 }),
    svg('text', { x: n.x + 10, y: n.y + 20, class: 'label' }, n.label),
    svg('text', { x: n.x + 10, y: n.y + 38, class: 'detail' }, n.detail)))));
}

// -------------------------------------------------------------------------------------------------------------
// Task run: the key metrics loop by loop, accepted loops marked

async function runPage(taskRunId, signal) {
  const loops = [];
  for (let page = 1; ; page++) {
    const data = await getJson(`/api/rdagent/loops${v.queryString({ task_run_id: taskRunId, sort: 'loop_id', order: 'asc', page, page_size: 500 })}`, signal);
    loops.push(...data.items);
    if (loops.length >= data.total || data.items.length === 0) break;
  }
  const rows = await withCacheState(loops, signal);
  const accepted = loops.filter((l) => l.decision === true).length;
  show(
    el('p', { class: 'crumbs' }, el('a', { href: `${v.BASE}/loops` }, v.LABELS.loops), ' › ', `${v.LABELS.run}`),
    el('div', { class: 'page-head' }, el('h1', {}, `${v.LABELS.run} `, el('span', { class: 'mono' }, taskRunId))),
    el('p', { class: 'muted' }, `${loops.length} loops 循环 · ${accepted} accepted by RD-Agent 被采纳`),
    loops.length === 0 ? el('p', { class: 'error' }, 'AIstock has no loops of this task run. 无此任务的循环。') : null,
    el('div', { class: 'legend' }, el('span', { class: 'dot accepted' }), ' accepted 采纳  ', el('span', { class: 'dot' }), ' not accepted 未采纳'),
    el('div', { class: 'charts', id: 'run-charts' }, v.RUN_METRICS.map((m) => metricChart(taskRunId, loops, m))),
    el('h2', {}, v.LABELS.loops),
    el('div', { class: 'table-wrap' }, el('table', { class: 'catalog' },
      el('thead', {}, el('tr', {}, v.TABLES.loops.columns.map((c) => el('th', {}, c.label)))),
      el('tbody', {}, v.tableRows('loops', rows).map((cells) => el('tr', {}, cells.map(renderCell)))))),
  );
}

function metricChart(taskRunId, loops, m) {
  const series = v.metricSeries(loops, m.key);
  const c = v.chartLayout(series);
  return el('figure', { class: 'chart', dataset: { metric: m.key } }, el('figcaption', {}, m.label),
    svg('svg', { viewBox: `0 0 ${c.width} ${c.height}`, width: c.width, height: c.height, role: 'img', 'aria-label': m.label },
      c.yTicks.map((t) => [svg('line', { x1: c.margin?.left ?? 0, x2: c.width - (c.margin?.right ?? 0), y1: t.y, y2: t.y, class: 'grid' }),
        svg('text', { x: (c.margin?.left ?? 0) - 6, y: t.y + 4, class: 'tick', 'text-anchor': 'end' }, m.fmt(t.value))]),
      c.zeroY !== null && c.zeroY !== undefined ? svg('line', { x1: c.margin.left, x2: c.width - c.margin.right, y1: c.zeroY, y2: c.zeroY, class: 'zero' }) : null,
      c.xTicks.map((t) => svg('text', { x: t.x, y: c.height - 8, class: 'tick', 'text-anchor': 'middle' }, String(t.value))),
      svg('path', { d: c.path, class: 'series' }),
      c.points.map((p) => svg('a', { href: v.loopHref(taskRunId, p.loopId) },
        svg('circle', { cx: p.x, cy: p.y, r: p.accepted ? 6 : 4.5, class: p.accepted ? 'point accepted' : 'point', dataset: { loop: p.loopId, accepted: String(p.accepted) } },
          svg('title', {}, `loop ${p.loopId}: ${m.fmt(p.value)}${p.accepted ? ' · accepted 采纳' : ''}`))))));
}

render();
