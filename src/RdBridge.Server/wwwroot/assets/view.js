// The web UI's view logic: routing, query strings, number formatting, table cells from catalog records, the lineage
// graph's layout and the metric chart's scales. No DOM and no fetch here, so the browser tests can call every
// function directly (page.evaluate) and check what the pages will draw.

export const BASE = '/rdagent';

/** Labels in English and Chinese, one place for every page. */
export const LABELS = {
  factors: 'Factors 因子',
  models: 'Models 模型',
  strategies: 'Strategies 策略',
  loops: 'Loops 循环',
  sync: 'Sync 同步',
  verify: 'Verify 验证',
  run: 'Task run 任务',
  runs: 'Task runs 任务',
  factor: 'Factor 因子',
  loop: 'Loop 循环',
  compare: 'Compare 对比',
  syncButton: '同步 Catalog / Sync catalog',
};

const KINDS = ['factors', 'models', 'strategies', 'loops'];

/** Which page a path under /rdagent/ shows, with its parameters. */
export function route(pathname) {
  let rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest.split('/').filter((p) => p.length > 0).map(safeDecode);
  if (parts.length === 0) return { page: 'factors' };
  const [head, ...tail] = parts;
  if (KINDS.includes(head) && tail.length === 0) return { page: head };
  if (head === 'loops' && tail.length === 2 && /^\d+$/.test(tail[1])) {
    return { page: 'loop', taskRunId: tail[0], loopId: Number(tail[1]) };
  }
  if (head === 'runs' && tail.length === 0) return { page: 'runs' };
  if (head === 'runs' && tail.length === 1) return { page: 'run', taskRunId: tail[0] };
  if (head === 'factors' && tail.length === 1) return { page: 'factor', factorId: tail[0] };
  if ((head === 'sync' || head === 'verify' || head === 'compare') && tail.length === 0) return { page: head };
  return { page: 'notfound', path: pathname };
}

function safeDecode(s) {
  try { return decodeURIComponent(s); } catch { return s; }
}

export const loopHref = (taskRunId, loopId) =>
  `${BASE}/loops/${encodeURIComponent(taskRunId)}/${encodeURIComponent(String(loopId))}`;
/** Two loops side by side: a and b as TASK_RUN_ID:LOOP_ID, the form the compare verb takes. */
export const loopKey = (taskRunId, loopId) => `${taskRunId}:${loopId}`;
export const compareHref = (a, b) => `${BASE}/compare${queryString({ a, b })}`;
/** "tr:12" as { taskRunId, loopId }; null when it does not name a loop. */
export function parseLoopKey(key) {
  const m = /^(.+):(\d+)$/.exec(key ?? '');
  return m ? { taskRunId: m[1], loopId: Number(m[2]) } : null;
}
export const runHref = (taskRunId) => `${BASE}/runs/${encodeURIComponent(taskRunId)}`;
export const factorHref = (factorId) => `${BASE}/factors/${encodeURIComponent(factorId)}`;
/** Compare up to eight loops: each as TASK_RUN_ID:LOOP_ID, in the order given. */
export const compareManyHref = (keys) => `${BASE}/compare${queryString({ loops: keys.join(',') })}`;
export const kindHref = (kind, params = {}) => `${BASE}/${kind}${queryString(params)}`;
export const bundleHref = (bundleId) => `/api/aistock/bundles/${encodeURIComponent(bundleId)}`;
/** A bundle file's download address: every path segment encoded, the slashes kept. */
export const bundleFileHref = (bundleId, path) =>
  `${bundleHref(bundleId)}/files/${String(path).split('/').map(encodeURIComponent).join('/')}`;

/** "?a=1&b=x" from the non-empty entries, in the given order; "" when there are none. */
export function queryString(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    q.append(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

// ---------------------------------------------------------------------------------------------------------------
// Numbers, sizes, times

export function fmtNum(v, digits = 4) {
  if (v === null || v === undefined || v === '' || Number.isNaN(Number(v))) return '—';
  const n = Number(v);
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return n.toLocaleString('en-US');
  return n.toFixed(digits);
}

/**
 * A count and its English noun in the right number: "1 loop", "2 loops", "0 loops". The page's one such helper (the
 * server's texts use Counted); an irregular plural is given, and fmt writes the number as the text around it does.
 */
export function countOf(n, one, many = `${one}s`, fmt = String) {
  return `${fmt(n)} ${Number(n) === 1 ? one : many}`;
}

export function fmtPct(v, digits = 2) {
  if (v === null || v === undefined || v === '' || Number.isNaN(Number(v))) return '—';
  return (Number(v) * 100).toFixed(digits) + '%';
}

export function fmtBytes(v) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return '—';
  const n = Number(v);
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let x = n / 1024;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
  return `${x.toFixed(x < 10 ? 1 : 0)} ${units[i]}`;
}

/** An ISO time as "YYYY-MM-DD HH:MM:SS UTC"; anything unparsable is shown as given. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
}

export const shortId = (id, n = 8) =>
  (id && String(id).length > n + 1 ? String(id).slice(0, n) + '…' : String(id ?? '—'));

// ---------------------------------------------------------------------------------------------------------------
// Catalog tables: filters, columns and the cells of one record

const metric = (r, name) => (r.performance_metrics ?? r.metrics ?? {})[name];
const processors = (pc) =>
  [...(pc?.infer_processors ?? []), ...(pc?.learn_processors ?? [])].map((p) => p?.class).filter(Boolean);

/** A cell is plain data: text, and optionally a link, a hover title, a style class, or a list of linked parts. */
const cell = (text, extra = {}) => ({ text: text === null || text === undefined ? '—' : String(text), ...extra });
const loopCell = (r) => cell(`${shortId(r.task_run_id)} / ${r.loop_id}`, {
  href: loopHref(r.task_run_id, r.loop_id),
  title: `${r.task_run_id} / loop ${r.loop_id}`,
});
const num = (v, digits) => cell(fmtNum(v, digits), { cls: 'num' });
const pct = (v) => cell(fmtPct(v), { cls: 'num' });

/**
 * Every catalog page's filters (the API parameters they set) and columns (sort: the API column it sorts by, when the
 * database can sort by it).
 */
export const TABLES = {
  factors: {
    search: 'name, expression, description 名称/表达式/描述',
    filters: [
      { param: 'source', label: 'source 来源', options: ['rdagent_generated', 'qlib_alpha158', 'qlib_alpha360'] },
      { param: 'task_run_id', label: 'task run (id prefix) 任务' },
      { param: 'tag', label: 'tag 标签', options: ['rdagent', 'alpha158', 'base', 'sota'] },
      { param: 'origin', label: 'origin 来源机器' },
    ],
    ranges: ['ic', 'icir', 'rank_ic', 'annualized_return', 'information_ratio', 'max_drawdown', 'occurrences'],
    // By how many loops found it: a property of the factor. The metric columns are the backtests of the loops that
    // found each factor (every factor of a loop shares them), so sorting by them ranks loops, not factors.
    defaultSort: 'occurrences',
    columns: [
      {
        label: 'Factor 因子',
        sort: 'name',
        cell: (r) => cell(r.name, {
          sub: r.description_cn ?? r.expression ?? '', cls: 'name', title: r.factor_id, href: factorHref(r.factor_id),
        }),
      },
      { label: 'Source 来源', sort: 'source', cell: (r) => cell(r.source) },
      { label: 'Tags 标签', cell: (r) => cell((r.tags ?? []).join(', ')) },
      { label: 'Loop IC 循环IC', sort: 'ic', cell: (r) => num(metric(r, 'ic')) },
      { label: 'Loop ICIR', sort: 'icir', cell: (r) => num(metric(r, 'icir')) },
      { label: 'Loop Rank IC', sort: 'rank_ic', cell: (r) => num(metric(r, 'rank_ic')) },
      { label: 'Loop return 循环年化', sort: 'annualized_return', cell: (r) => pct(metric(r, 'annualized_return')) },
      { label: 'Loop IR 循环信息比率', sort: 'information_ratio', cell: (r) => num(metric(r, 'information_ratio'), 3) },
      { label: 'Loop max DD 循环回撤', sort: 'max_drawdown', cell: (r) => pct(metric(r, 'max_drawdown')) },
      { label: 'Input schema 输入', cell: (r) => cell(inputSchemaText(r.input_schema), { cls: 'schema' }) },
      { label: 'Found in 出处', sort: 'occurrences', cell: (r) => provenanceCell(r) },
    ],
  },
  models: {
    search: 'model id, type, network 模型',
    filters: [{ param: 'task_run_id', label: 'task run (id prefix) 任务' }, { param: 'origin', label: 'origin 来源机器' }],
    defaultSort: 'task_run_id',
    columns: [
      {
        label: 'Model 模型',
        sort: 'model_id',
        cell: (r) => cell(r.model_id, { cls: 'name', sub: r.network_class ?? '' }),
      },
      { label: 'Loop 循环', sort: 'loop_id', cell: loopCell },
      { label: 'Type 类型', sort: 'model_type', cell: (r) => cell(r.model_type) },
      { label: 'Preprocessing 预处理', cell: (r) => cell(processors(r.preprocess_config).join(' → ') || '—') },
      { label: 'IC', cell: (r) => num(metric(r, 'ic')) },
      { label: 'Ann. return 年化', cell: (r) => pct(metric(r, 'annualized_return')) },
      { label: 'Max DD 最大回撤', cell: (r) => pct(metric(r, 'max_drawdown')) },
    ],
  },
  strategies: {
    search: 'strategy id, model type 策略',
    filters: [{ param: 'task_run_id', label: 'task run (id prefix) 任务' }, { param: 'origin', label: 'origin 来源机器' }],
    defaultSort: 'task_run_id',
    columns: [
      {
        label: 'Strategy 策略',
        sort: 'strategy_id',
        cell: (r) => cell(r.strategy_id, { cls: 'name', sub: r.python_implementation?.func ?? '' }),
      },
      { label: 'Loop 循环', sort: 'loop_id', cell: loopCell },
      { label: 'Class 类', cell: (r) => cell(r.portfolio_config?.class) },
      { label: 'topk', cell: (r) => num(r.portfolio_config?.kwargs?.topk) },
      { label: 'n_drop', cell: (r) => num(r.portfolio_config?.kwargs?.n_drop) },
      { label: 'Model 模型', cell: (r) => cell(r.model_type) },
      { label: 'Ann. return 年化', cell: (r) => pct(metric(r, 'annualized_return')) },
      { label: 'Max DD 最大回撤', cell: (r) => pct(metric(r, 'max_drawdown')) },
    ],
  },
  loops: {
    search: 'task run, action, status, model type 循环',
    filters: [
      { param: 'task_run_id', label: 'task run (id prefix) 任务' }, { param: 'origin', label: 'origin 来源机器' },
      {
        param: 'decision', label: 'decision 决策',
        choices: [['', 'any 全部'], ['true', 'accepted 采纳'], ['false', 'rejected 拒绝']],
      },
      { param: 'status', label: 'status 状态', options: ['success', 'failed', 'running'] },
      { param: 'started_from', label: 'started from 开始于', type: 'date' },
      { param: 'started_before', label: 'before 早于', type: 'date' },
    ],
    ranges: ['annualized_return', 'ic', 'max_drawdown', 'information_ratio', 'rank_ic', 'ic_ir'],
    defaultSort: 'task_run_id',
    columns: [
      {
        label: 'Compare 对比',
        cell: (r) => cell('', { check: loopKey(r.task_run_id, r.loop_id), title: `compare loop ${r.loop_id} 选择对比` }),
      },
      {
        label: 'Task run 任务',
        sort: 'task_run_id',
        cell: (r) => cell(shortId(r.task_run_id, 12), { href: runHref(r.task_run_id), title: r.task_run_id }),
      },
      {
        label: 'Loop 循环',
        sort: 'loop_id',
        cell: (r) => cell(`loop ${r.loop_id}`, { href: loopHref(r.task_run_id, r.loop_id) }),
      },
      { label: 'Action 动作', cell: (r) => cell(r.action) },
      { label: 'Decision 决策', cell: (r) => decisionCell(r.decision) },
      { label: 'Ann. return 年化', sort: 'annualized_return', cell: (r) => pct(r.annualized_return) },
      { label: 'IC', sort: 'ic', cell: (r) => num(r.ic) },
      { label: 'Max DD 最大回撤', sort: 'max_drawdown', cell: (r) => pct(r.max_drawdown) },
      { label: 'IR 信息比率', sort: 'information_ratio', cell: (r) => num(r.information_ratio, 3) },
      { label: 'Bundle 资产包', cell: (r) => bundleCell(r) },
    ],
  },
};

export function decisionCell(decision) {
  if (decision === true) return cell('✓ accepted 采纳', { cls: 'ok' });
  if (decision === false) return cell('✗ rejected 拒绝', { cls: 'muted' });
  return cell('—');
}

/** The cache-state calls for a page of loops: the distinct bundle ids, at most 100 to a call (URLs stay short). */
export function cacheStateUrls(records, chunk = 100) {
  const ids = [...new Set(records.map((r) => r.asset_bundle_id).filter(Boolean))];
  const urls = [];
  for (let i = 0; i < ids.length; i += chunk) {
    urls.push(`/api/aistock/bundles/cache-state${queryString({ ids: ids.slice(i, i + chunk).join(',') })}`);
  }
  return urls;
}

/** A loop row's bundle: whether the asset cache holds it (bundle_status: from cache-state, merged in by the page). */
export function bundleCell(r) {
  if (!r.asset_bundle_id) return cell('no bundle 无', { cls: 'bad' });
  const status = r.bundle_status ?? 'unknown';
  const text = {
    extracted: '✓ cached 已缓存',
    cached: '◐ not extracted 未解压',
    missing: '✗ not in cache 未同步',
  }[status] ?? status;
  return cell(text, { cls: status === 'extracted' ? 'ok' : 'bad', title: r.asset_bundle_id });
}

export function inputSchemaText(s) {
  if (!s) return '—';
  const fields = (s.required_fields ?? []).join(', ') || '—';
  const lookback = s.lookback_days === null || s.lookback_days === undefined ? '' : ` · ${s.lookback_days}d`;
  return `${fields}${lookback}${s.freq ? ' · ' + s.freq : ''}`;
}

/**
 * The loops that found a factor, each a link to its loop page (the first few, then "+N"). A record of catalog format
 * v2 names only its first loop and how many found it (the rest are on the factor's page); an older one lists them all.
 */
export function provenanceCell(r, max = 3) {
  const prov = r.provenance ?? (r.task_run_id ? [{ task_run_id: r.task_run_id, loop_id: r.loop_id }] : []);
  const count = r.provenance ? prov.length : (r.occurrences ?? prov.length);
  const links = prov.slice(0, max).map((p) => ({
    text: `${shortId(p.task_run_id, 6)}/${p.loop_id}`,
    href: loopHref(p.task_run_id, p.loop_id),
    title: `${p.task_run_id} / loop ${p.loop_id}`,
  }));
  const more = count > links.length ? `+${count - links.length}` : '';
  return { text: `${count}×`, links, more, cls: 'prov' };
}

/** Table rows for records: one array of cells per record, in column order. */
export function tableRows(kind, records) {
  const t = TABLES[kind];
  return records.map((r) => t.columns.map((c) => c.cell(r)));
}

/** The parameters every catalog page keeps in its URL and passes to the API unchanged. */
export function tableState(kind, search) {
  const p = new URLSearchParams(search);
  const t = TABLES[kind];
  const state = {
    q: p.get('q') ?? '',
    sort: p.get('sort') ?? t.defaultSort,
    order: p.get('order') === 'asc' ? 'asc' : 'desc',
    page: positive(p.get('page'), 1),
    page_size: positive(p.get('page_size'), 50),
    filters: {},
    ranges: {},
  };
  for (const f of t.filters) state.filters[f.param] = p.get(f.param) ?? '';
  if (p.get('loop_id')) state.filters.loop_id = p.get('loop_id');
  for (const [k, v] of p) if (/^(min|max)_[a-z_]+$/.test(k)) state.ranges[k] = v;
  return state;
}

function positive(v, fallback) {
  const n = Number.parseInt(v ?? '', 10);
  return Number.isFinite(n) && n >= 1 ? n : fallback;
}

/** The query string for both the page's URL and the API call (defaults left out, so URLs stay short). */
export function stateQuery(kind, state) {
  const t = TABLES[kind];
  return queryString({
    q: state.q?.trim(),
    ...state.filters,
    ...state.ranges,
    sort: state.sort === t.defaultSort ? '' : state.sort,
    order: state.order === 'desc' ? '' : state.order,
    page: state.page === 1 ? '' : state.page,
    page_size: state.page_size === 50 ? '' : state.page_size,
  });
}

/** The API address for a page of the table: everything explicit, so the server's defaults never matter. */
export const apiUrl = (kind, state) => `/api/rdagent/${kind}` + queryString({
  q: state.q?.trim(), ...state.filters, ...state.ranges, sort: state.sort, order: state.order, page: state.page,
  page_size: state.page_size,
});

/** Clicking a sortable header: the same column flips the order, a new column starts descending; back to page 1. */
export function nextSort(state, column) {
  const order = state.sort === column ? (state.order === 'desc' ? 'asc' : 'desc') : 'desc';
  return { ...state, sort: column, order, page: 1 };
}

export function pageCount(total, pageSize) {
  return Math.max(1, Math.ceil(Number(total) / Number(pageSize)));
}

/** "1–50 of 1,234" for a page of results; a total the server only counted up to a cap reads "10,000+". */
export function rangeText(total, page, pageSize, exact = true) {
  if (!total) return '0 rows 条';
  const from = (page - 1) * pageSize + 1;
  const to = exact ? Math.min(total, page * pageSize) : page * pageSize;
  return `${fmtNum(from)}–${fmtNum(to)} of ${fmtNum(total)}${exact ? '' : '+'} 条`;
}

// ---------------------------------------------------------------------------------------------------------------
// Sync progress

/** One line for a sync run: status, stage and percentage. */
export function syncLine(run) {
  if (!run || run.status === 'never') return 'never synced 尚未同步';
  const pctText = run.status === 'running' ? ` · ${Math.round((run.progress ?? 0) * 100)}%` : '';
  const stage = run.stage ? ` · ${run.stage}` : '';
  const names = { running: 'running 同步中', succeeded: 'succeeded 成功', failed: 'failed 失败' };
  return `#${run.id ?? '?'} ${names[run.status] ?? run.status}${stage}${pctText}`;
}

/** The counters of a run, one entry per stage: "inserted 3, unchanged 40". Zero counters are left out. */
export function countsSummary(counts) {
  if (!counts || typeof counts !== 'object') return [];
  return Object.entries(counts).map(([stage, c]) => ({
    stage,
    text: c && typeof c === 'object'
      ? Object.entries(c)
        .filter(([, n]) => n !== 0)
        .map(([k, n]) => `${k.replaceAll('_', ' ')} ${fmtNum(n)}`)
        .join(', ') || 'nothing 无变化'
      : String(c),
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Lineage graph: nodes placed in columns by their longest distance from the task run, edges as the API lists them

const NODE_LABELS = {
  task_run: 'Task run 任务', loop: 'Loop 循环', workspace: 'Workspace 工作区', bundle: 'Bundle 资产包', cache: 'Asset cache 缓存',
  manifest: 'Manifest 清单', strategy: 'Strategy 策略', model: 'Model 模型', factors: 'Factors 因子',
};

function nodeDetail(id, lin) {
  const loop = lin.loop ?? {};
  const bundle = lin.bundle ?? {};
  switch (id) {
    case 'task_run': return shortId(lin.task_run_id, 14);
    case 'loop': return `loop ${lin.loop_id} · ${loop.action ?? '?'}`;
    case 'workspace': return shortId(loop.workspace_id, 14);
    case 'bundle': return shortId(bundle.asset_bundle_id ?? loop.asset_bundle_id, 18);
    case 'cache': return bundle.extracted ? 'extracted 已解压' : bundle.cached ? 'archive only 仅存档' : 'missing 缺失';
    case 'manifest': return bundle.manifest ? `${countOf((bundle.manifest.files ?? []).length, 'file')} 文件` : 'none 无';
    case 'strategy':
      return lin.strategy?.portfolio_config?.class
        ?? (lin.strategy ? shortId(lin.strategy.strategy_id, 14) : 'none 无');
    case 'model': return lin.model?.model_type ?? 'baseline 基线';
    case 'factors': return `${countOf((lin.factors ?? []).length, 'factor')} 个`;
    default: return '';
  }
}

/** Node and edge positions (in SVG units) for a loop's lineage as GET /api/rdagent/loops/{t}/{l} returns it. */
export function lineageLayout(lin, opts = {}) {
  const colWidth = opts.colWidth ?? 200;
  const rowHeight = opts.rowHeight ?? 74;
  const nodeW = opts.nodeWidth ?? 164;
  const nodeH = opts.nodeHeight ?? 50;
  const pad = opts.pad ?? 12;
  const links = lin.links ?? [];
  const ids = [];
  const add = (id) => { if (!ids.includes(id)) ids.push(id); };
  for (const l of links) { add(l.from); add(l.to); }

  // Longest path from the roots; the API's links form a small DAG, so a few relaxation rounds settle it.
  const depth = Object.fromEntries(ids.map((id) => [id, 0]));
  for (let round = 0; round < ids.length; round++) {
    let changed = false;
    for (const l of links) if (depth[l.to] < depth[l.from] + 1) { depth[l.to] = depth[l.from] + 1; changed = true; }
    if (!changed) break;
  }
  const columns = [];
  for (const id of ids) (columns[depth[id]] ??= []).push(id);
  const rows = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  const height = pad * 2 + rows * rowHeight - (rowHeight - nodeH);
  const nodes = [];
  columns.forEach((col, c) => {
    const offset = ((rows - col.length) * rowHeight) / 2;
    col.forEach((id, r) => {
      const incoming = links.filter((l) => l.to === id);
      nodes.push({
        id, label: NODE_LABELS[id] ?? id, detail: nodeDetail(id, lin),
        x: pad + c * colWidth, y: pad + offset + r * rowHeight, w: nodeW, h: nodeH,
        ok: incoming.every((l) => l.ok),
      });
    });
  });
  const at = Object.fromEntries(nodes.map((n) => [n.id, n]));
  const edges = links.map((l) => {
    const a = at[l.from];
    const b = at[l.to];
    const sameColumn = a.x === b.x;
    return {
      from: l.from, to: l.to, ok: !!l.ok, detail: l.detail ?? '',
      x1: sameColumn ? a.x + a.w / 2 : a.x + a.w, y1: sameColumn ? (a.y < b.y ? a.y + a.h : a.y) : a.y + a.h / 2,
      x2: sameColumn ? b.x + b.w / 2 : b.x, y2: sameColumn ? (a.y < b.y ? b.y : b.y + b.h) : b.y + b.h / 2,
    };
  });
  const width = pad * 2 + (columns.length - 1) * colWidth + nodeW;
  return { width, height, nodes, edges };
}

// ---------------------------------------------------------------------------------------------------------------
// Task run chart: one small chart per metric, loops on the x axis

export const RUN_METRICS = [
  { key: 'ic', label: 'IC', fmt: (v) => fmtNum(v) },
  { key: 'annualized_return', label: 'Annualized return 年化收益', fmt: (v) => fmtPct(v) },
  { key: 'max_drawdown', label: 'Max drawdown 最大回撤', fmt: (v) => fmtPct(v) },
  { key: 'information_ratio', label: 'Information ratio 信息比率', fmt: (v) => fmtNum(v, 3) },
];

/** A metric's value per loop, in loop order; accepted: RD-Agent's decision for the loop. */
export function metricSeries(loops, key) {
  return [...loops]
    .sort((a, b) => a.loop_id - b.loop_id)
    .map((l) => ({ loopId: l.loop_id, value: pick(l, key), accepted: l.decision === true }))
    .filter((p) => p.value !== null && p.value !== undefined && Number.isFinite(Number(p.value)));
}

function pick(loop, key) {
  if (loop[key] !== undefined && loop[key] !== null) return loop[key];
  return loop.metrics?.[key];
}

/** Points scaled into a width × height box with a margin; the y range always includes 0 when values cross it. */
export function chartLayout(points, width = 420, height = 180, margin = { left: 56, right: 12, top: 14, bottom: 28 }) {
  if (points.length === 0) return { width, height, points: [], path: '', yTicks: [], xTicks: [] };
  const xs = points.map((p) => p.loopId);
  const ys = points.map((p) => Number(p.value));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  let yMin = Math.min(...ys);
  let yMax = Math.max(...ys);
  if (yMin > 0 && yMin < (yMax - yMin)) yMin = 0;
  if (yMax < 0 && -yMax < (yMax - yMin)) yMax = 0;
  if (yMin === yMax) { yMin -= Math.abs(yMin) * 0.1 || 1; yMax += Math.abs(yMax) * 0.1 || 1; }
  const ticks = niceTicks(yMin, yMax, 4);
  yMin = ticks[0]; yMax = ticks[ticks.length - 1];
  const innerW = width - margin.left - margin.right;
  const innerH = height - margin.top - margin.bottom;
  const sx = (x) => margin.left + (xMax === xMin ? innerW / 2 : ((x - xMin) / (xMax - xMin)) * innerW);
  const sy = (y) => margin.top + (1 - (y - yMin) / (yMax - yMin)) * innerH;
  const scaled = points.map((p) => ({ ...p, x: sx(p.loopId), y: sy(Number(p.value)) }));
  const path = scaled.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  const yTicks = ticks.map((v) => ({ value: v, y: sy(v) }));
  const step = Math.max(1, Math.ceil((xMax - xMin + 1) / 8));
  const xTicks = [];
  for (let x = xMin; x <= xMax; x += step) xTicks.push({ value: x, x: sx(x) });
  return { width, height, points: scaled, path, yTicks, xTicks, zeroY: yMin < 0 && yMax > 0 ? sy(0) : null, margin };
}

// ---------------------------------------------------------------------------------------------------------------
// Backtest curves: days on a time axis, so two loops' curves over different days share one chart

/** The curves of one backtest chart: cumulative excess return with and without cost against the benchmark. */
export const RETURN_SERIES = [
  { key: 'excess_return_with_cost', label: 'Excess return, with cost 超额收益(含成本)', cls: 'with-cost' },
  { key: 'excess_return_without_cost', label: 'Excess return, without cost 超额收益(不含成本)', cls: 'without-cost' },
  { key: 'benchmark_return', label: 'Benchmark 基准', cls: 'bench' },
];
export const DRAWDOWN_SERIES = [{ key: 'drawdown', label: 'Drawdown 回撤', cls: 'drawdown' }];
/** Qlib's signal analysis: the daily IC and Rank IC of the predictions against the label. */
export const IC_SERIES = [
  { key: 'ic', label: 'IC', cls: 'ic' },
  { key: 'rank_ic', label: 'Rank IC', cls: 'rank-ic' },
];

/** A date of the report ("2020-01-02" or with a time) as milliseconds, read as UTC. */
export function dayValue(date) {
  const s = String(date);
  return Date.parse(s.length === 10 ? s + 'T00:00:00Z' : s.endsWith('Z') ? s : s + 'Z');
}

/**
 * Lines from a backtest API response: one per wanted series, each point a day that has a number (null days are
 * gaps, never zeros). suffix and cls tell two loops' lines apart on one chart.
 */
export function curveLines(bt, series, extra = {}) {
  const dates = bt?.dates ?? [];
  return series.filter((s) => Array.isArray(bt?.series?.[s.key])).map((s) => {
    const values = bt.series[s.key];
    const points = [];
    dates.forEach((d, i) => {
      const value = values[i];
      if (value === null || value === undefined || !Number.isFinite(Number(value))) return;
      points.push({ date: d, t: dayValue(d), value: Number(value) });
    });
    return { key: s.key, label: (extra.prefix ?? '') + s.label, cls: `${s.cls} ${extra.cls ?? ''}`.trim(), points };
  });
}

/** The last point's value of a line (what the curve ends at), or null. */
export const finalValue = (line) => (line.points.length ? line.points[line.points.length - 1].value : null);

/**
 * Lines scaled into a width × height box: x by date, y by value with 0 always in range (returns start at 0).
 * Each line gets its SVG path and its scaled points (for hover).
 */
export function curveLayout(lines, width = 900, height = 280, margin = { left: 64, right: 16, top: 14, bottom: 28 },
  opts = {}) {
  const all = lines.flatMap((l) => l.points);
  if (all.length === 0) return { width, height, margin, lines: [], yTicks: [], xTicks: [], zeroY: null };
  let tMin = Infinity; let tMax = -Infinity; let yMin = 0; let yMax = 0;
  for (const p of all) {
    if (p.t < tMin) tMin = p.t;
    if (p.t > tMax) tMax = p.t;
    if (p.value < yMin) yMin = p.value;
    if (p.value > yMax) yMax = p.value;
  }
  if (yMin === yMax) { yMin -= 0.01; yMax += 0.01; }
  // The value axis spans round ticks around the data, so every gridline reads as a round number.
  const ticks = niceTicks(yMin, yMax, opts.yTickCount ?? 5);
  yMin = ticks[0]; yMax = ticks[ticks.length - 1];
  const innerW = width - margin.left - margin.right;
  const innerH = height - margin.top - margin.bottom;
  const sx = (t) => margin.left + (tMax === tMin ? innerW / 2 : ((t - tMin) / (tMax - tMin)) * innerW);
  const sy = (y) => margin.top + (1 - (y - yMin) / (yMax - yMin)) * innerH;
  const scaled = lines.map((l) => {
    const points = l.points.map((p) => ({ ...p, x: sx(p.t), y: sy(p.value) }));
    const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    return { ...l, points, path };
  });
  const yTicks = ticks.map((value) => ({ value, y: sy(value) }));
  const xTicks = [0, 1, 2, 3, 4].map((i) => tMin + ((tMax - tMin) * i) / 4)
    .map((t, i) => ({
      label: new Date(t).toISOString().slice(0, 10), x: sx(t), anchor: i === 0 ? 'start' : i === 4 ? 'end' : 'middle',
    }));
  // xToT: what timeAt needs to turn a hover position back into a time.
  const xToT = { left: margin.left, innerW, tMin, tMax };
  return { width, height, margin, lines: scaled, yTicks, xTicks, zeroY: sy(0), xToT };
}

/** The time under a horizontal SVG position of a curve layout. */
export function timeAt(layout, x) {
  const a = layout.xToT;
  if (!a || a.tMax === a.tMin) return a?.tMin ?? 0;
  const f = Math.min(1, Math.max(0, (x - a.left) / a.innerW));
  return a.tMin + f * (a.tMax - a.tMin);
}

/** The point of a line nearest in time to t (binary search: lines are in date order). */
export function nearestPoint(points, t) {
  if (!points.length) return null;
  let lo = 0; let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid].t <= t) lo = mid; else hi = mid;
  }
  return Math.abs(points[lo].t - t) <= Math.abs(points[hi].t - t) ? points[lo] : points[hi];
}

/** The hover read-out at time t: each line's nearest day and value. */
export function hoverValues(layout, t) {
  return layout.lines.map((l) => ({ key: l.key, label: l.label, cls: l.cls, point: nearestPoint(l.points, t) }))
    .filter((h) => h.point);
}

// ---------------------------------------------------------------------------------------------------------------
// Compare page

/** Metric rows with a formatted delta; higher is better for every metric the catalog keeps (drawdowns are negative). */
export function metricDeltaRows(metrics) {
  return (metrics ?? []).map((m) => {
    const asPct = /return|drawdown/.test(m.name);
    const f = (x) => (asPct ? fmtPct(x) : fmtNum(x));
    const d = m.delta;
    const sign = d === null || d === undefined ? '' : d > 0 ? '+' : '';
    return {
      name: m.name, a: f(m.a), b: f(m.b), delta: d === null || d === undefined ? '—' : sign + f(d),
      cls: d === null || d === undefined || d === 0 ? '' : d > 0 ? 'up' : 'down',
    };
  });
}

/** Config changes grouped by section, in the order the server gave them. */
export function groupChanges(changes) {
  const groups = [];
  for (const c of changes ?? []) {
    let g = groups.find((x) => x.section === c.section);
    if (!g) groups.push(g = { section: c.section, changes: [] });
    g.changes.push(c);
  }
  return groups;
}

/** The class of a diff line by its operation. */
export const diffClass = (op) => ({ '+': 'add', '-': 'del' }[op] ?? 'ctx');

// ---------------------------------------------------------------------------------------------------------------
// Axes: ticks on round values (1, 2, 2.5 or 5 times a power of ten), so a chart reads 0%, 5%, 10%, never 47.73%

/** A tick's label: a round value without trailing zeros (5%, 0.02), in the chart's own format. */
export function tickText(fmt, value) {
  if (fmt === fmtPct) return `${Number((value * 100).toPrecision(10))}%`;
  if (value === null || value === undefined || !Number.isFinite(Number(value))) return '—';
  return String(Number(Number(value).toPrecision(10)));
}

/** Round tick values covering [min, max], about `count` of them; the range they span may reach past the data. */
export function niceTicks(min, max, count = 5) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) { const d = Math.abs(min) * 0.1 || 1; min -= d; max += d; }
  const raw = (max - min) / Math.max(1, count - 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const from = Math.floor(min / step + 1e-9);
  const to = Math.max(from + 1, Math.ceil(max / step - 1e-9));
  const ticks = [];
  for (let i = from; i <= to && ticks.length <= 50; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

// ---------------------------------------------------------------------------------------------------------------
// Task runs: the index and one run's story

/** The metrics a task run's story can follow (the loop table's columns), with how to show them. */
export const STORY_METRICS = {
  annualized_return: { label: 'Ann. return 年化收益', fmt: fmtPct },
  ic: { label: 'IC', fmt: (x) => fmtNum(x) },
  rank_ic: { label: 'Rank IC', fmt: (x) => fmtNum(x) },
  ic_ir: { label: 'ICIR', fmt: (x) => fmtNum(x, 3) },
  information_ratio: { label: 'Information ratio 信息比率', fmt: (x) => fmtNum(x, 3) },
  max_drawdown: { label: 'Max drawdown 最大回撤', fmt: fmtPct },
};

/** What a loop reached, in one word: results, or RD-Agent's status when it has none (failed, running, …). */
export function loopState(l) {
  if (l.in_catalog) return 'results';
  const s = String(l.status ?? 'unknown').toLowerCase();
  if (s === 'success' || s === 'succeeded') return 'no results';
  return s;
}

export const STATE_LABELS = {
  results: 'results 有结果', failed: 'failed 失败', running: 'running 运行中', 'no results': 'no results 无结果',
  unknown: 'unknown 未知',
};

/** "failed 2 · success 7" from an index row's by_status. */
export function statusSummary(byStatus) {
  return Object.entries(byStatus ?? {}).map(([k, n]) => `${k} ${n}`).join(' · ') || '—';
}

/**
 * The best-so-far chart of a story: every loop's value as a faint dot, the best so far as a bold step line from the
 * baseline (the first point), accepted (SOTA) loops as filled marks. x is the loop id.
 */
export function bestSoFarLayout(story, width = 900, height = 220,
  margin = { left: 64, right: 16, top: 14, bottom: 30 }) {
  const pts = story.best_so_far ?? [];
  const decided = Object.fromEntries((story.loop_items ?? []).map((l) => [l.loop_id, l.decision === true]));
  if (pts.length === 0) return { width, height, margin, dots: [], path: '', yTicks: [], xTicks: [] };
  const xs = (story.loop_items ?? []).map((l) => l.loop_id);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const vals = pts.flatMap((p) => [p.value, p.best]);
  const ticks = niceTicks(Math.min(...vals), Math.max(...vals), 5);
  const yMin = Math.min(ticks[0], ...vals);
  const yMax = Math.max(ticks[ticks.length - 1], ...vals);
  const innerW = width - margin.left - margin.right;
  const innerH = height - margin.top - margin.bottom;
  const sx = (x) => margin.left + (xMax === xMin ? innerW / 2 : ((x - xMin) / (xMax - xMin)) * innerW);
  const sy = (y) => margin.top + (1 - (y - yMin) / (yMax - yMin || 1)) * innerH;
  const dots = pts.map((p) => ({
    loopId: p.loop_id, value: p.value, best: p.best, baseline: !!p.baseline, improved: !!p.improved,
    sota: !!decided[p.loop_id], x: sx(p.loop_id), y: sy(p.value),
  }));
  // A step line: the best holds flat until a loop beats it.
  let path = '';
  dots.forEach((d, i) => {
    const y = sy(d.best).toFixed(1);
    path += i === 0 ? `M${d.x.toFixed(1)},${y}` : ` H${d.x.toFixed(1)} V${y}`;
  });
  if (dots.length) path += ` H${sx(xMax).toFixed(1)}`;
  const xStep = niceTicks(xMin, xMax, 8).filter((x) => Number.isInteger(x) && x >= xMin && x <= xMax);
  return {
    width, height, margin, dots, path,
    yTicks: ticks.filter((t) => t >= yMin && t <= yMax).map((value) => ({ value, y: sy(value) })),
    xTicks: xStep.map((value) => ({ value, x: sx(value) })),
    zeroY: yMin < 0 && yMax > 0 ? sy(0) : null,
  };
}

/** The curves response as lines for curveLayout: each loop's thinned curve; SOTA and the best loop bold. */
export function storyCurveLines(curves, bestLoopId) {
  return (curves?.curves ?? []).map((c) => {
    const sota = c.decision === true;
    const best = c.loop_id === bestLoopId;
    const points = [];
    c.dates.forEach((d, i) => {
      const value = c.values[i];
      if (value === null || value === undefined || !Number.isFinite(Number(value))) return;
      points.push({ date: d, t: dayValue(d), value: Number(value) });
    });
    return {
      key: `loop-${c.loop_id}`, label: `loop ${c.loop_id}`, loopId: c.loop_id, sota, best,
      cls: best ? `best${sota ? ' sota' : ''}` : sota ? 'sota' : 'faint', points,
    };
  });
}

/** Rows sorted by a key, numbers as numbers (9 before 29), missing values last in either order. */
export function sortRows(rows, key, order = 'asc') {
  const val = (r) => (typeof key === 'function' ? key(r) : r[key]);
  const dir = order === 'desc' ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = val(a);
    const y = val(b);
    const xm = x === null || x === undefined || x === '';
    const ym = y === null || y === undefined || y === '';
    if (xm || ym) return xm && ym ? 0 : xm ? 1 : -1;
    const nx = Number(x);
    const ny = Number(y);
    if (Number.isFinite(nx) && Number.isFinite(ny)) return (nx - ny) * dir;
    return String(x).localeCompare(String(y), 'en', { numeric: true }) * dir;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// CSV: every table leaves the page as it is filtered

/** RFC 4180 text from a header and rows of values: quotes where a value needs them, CRLF line ends. */
export function toCsv(header, rows) {
  const q = (v) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(q).join(',')).join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------------------------------------------
// Code: Python split into tokens for highlighting (the page sets each as text; nothing here is markup)

const PY_KEYWORDS = new Set(('False None True and as assert async await break class continue def del elif else '
  + 'except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield')
  .split(' '));
const PY_TOKEN = new RegExp([
  /(#[^\n]*)/.source,
  /("""[\s\S]*?(?:"""|$)|'''[\s\S]*?(?:'''|$)|[rbfuRBFU]{0,2}"(?:\\.|[^"\\\n])*"?|[rbfuRBFU]{0,2}'(?:\\.|[^'\\\n])*'?)/
    .source,
  /(\b\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?\b)/.source,
  /([A-Za-z_][A-Za-z0-9_]*)/.source,
].join('|'), 'g');

/** Python source as [kind, text] tokens: comment, string, keyword, number, name, other; joined they give the source. */
export function pythonTokens(src) {
  const re = new RegExp(PY_TOKEN.source, 'g');
  const out = [];
  let last = 0;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    if (m[0].length === 0) { re.lastIndex++; continue; }
    if (m.index > last) out.push(['other', src.slice(last, m.index)]);
    const kind = m[1] ? 'comment' : m[2] ? 'string' : m[3] ? 'number' : PY_KEYWORDS.has(m[4]) ? 'keyword' : 'name';
    out.push([kind, m[0]]);
    last = re.lastIndex;
  }
  if (last < src.length) out.push(['other', src.slice(last)]);
  return out;
}

/** Where a lineage node leads: the page (or the part of the page) that shows what it stands for. */
export function lineageNodeHref(id, lin) {
  const t = lin.task_run_id;
  const l = lin.loop_id;
  const bundle = lin.bundle?.asset_bundle_id ?? lin.loop?.asset_bundle_id;
  switch (id) {
    case 'task_run': return runHref(t);
    case 'loop': return loopHref(t, l);
    case 'workspace': case 'cache': case 'manifest': return '#files';
    case 'bundle': return bundle ? bundleHref(bundle) : '#files';
    case 'strategy': return lin.strategy ? kindHref('strategies', { q: lin.strategy.strategy_id }) : '#facts';
    case 'model': return lin.model ? kindHref('models', { q: lin.model.model_id }) : '#facts';
    case 'factors': return '#loop-factors';
    default: return '#';
  }
}

/** A catalog table's rows as CSV values: each column's shown text (links and sub-lines as plain text). */
export function catalogCsv(kind, records) {
  const cols = TABLES[kind].columns.filter((c) => !c.label.startsWith('Compare'));
  const text = (c) => (c.links ? [c.text, ...c.links.map((l) => l.title ?? l.text)].join(' ') : c.text);
  return toCsv(cols.map((c) => c.label), records.map((r) => cols.map((c) => text(c.cell(r)))));
}

// ---------------------------------------------------------------------------------------------------------------
// Qlib's report panels from a loop's backtest (full daily series)

/**
 * Monthly excess return with cost: the cumulative (summed, as Qlib's report sums daily returns) curve's change over
 * each calendar month, the first month from 0. Rows by year, one column per month.
 */
export function monthlyReturns(bt, key = 'excess_return_with_cost') {
  const dates = bt?.dates ?? [];
  const cum = bt?.series?.[key] ?? [];
  const months = new Map();
  let before = 0;
  let current = null;
  let last = null;
  dates.forEach((d, i) => {
    const value = cum[i];
    if (value === null || value === undefined || !Number.isFinite(Number(value))) return;
    const month = String(d).slice(0, 7);
    if (month !== current) {
      if (current !== null) { months.set(current, last - before); before = last; }
      current = month;
    }
    last = Number(value);
  });
  if (current !== null) months.set(current, last - before);
  const years = [...new Set([...months.keys()].map((m) => m.slice(0, 4)))];
  return years.map((y) => ({
    year: y,
    months: Array.from({ length: 12 }, (_, i) => months.get(`${y}-${String(i + 1).padStart(2, '0')}`) ?? null),
    total: [...months.entries()].filter(([m]) => m.startsWith(y)).reduce((s, [, x]) => s + x, 0),
  }));
}

/** The deepest drawdown's span: from the peak before it to its trough (indexes into the dates), and its depth. */
export function maxDrawdownSpan(bt) {
  const dd = bt?.series?.drawdown ?? [];
  let trough = -1;
  dd.forEach((x, i) => { if (x !== null && Number.isFinite(x) && (trough < 0 || x < dd[trough])) trough = i; });
  if (trough < 0 || !(dd[trough] < 0)) return null;
  let peak = trough;
  while (peak > 0 && !(dd[peak - 1] >= 0)) peak--;
  peak = Math.max(0, peak - 1);
  return { from: bt.dates[peak], to: bt.dates[trough], depth: dd[trough] };
}

/** Qlib's risk analysis table (mean, std, annualized_return, information_ratio, max_drawdown), both cost columns. */
export function riskRows(summary) {
  const names = ['mean', 'std', 'annualized_return', 'information_ratio', 'max_drawdown'];
  return names.map((n) => ({
    name: n, without: summary?.without_cost?.[n] ?? null, with: summary?.with_cost?.[n] ?? null,
  }));
}
