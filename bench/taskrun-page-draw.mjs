// Opens a page in Debian's headless Chromium over the DevTools protocol (real time, no virtual clock) and waits for
// the task-run page's curves to be drawn; prints the page's own figures as JSON: data-draw-ms (curves arrived →
// chart drawn), data-curve-requests, data-lines, and the load's total milliseconds.
// Usage: node --experimental-websocket bench/taskrun-page-draw.mjs URL
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const url = process.argv[2];
const profile = mkdtempSync(join(tmpdir(), 'rdbridge-chromium-'));
const chrome = spawn('/usr/bin/chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--remote-debugging-port=0',
  `--user-data-dir=${profile}`, '--window-size=1440,1000', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
const cleanup = () => {
  chrome.kill();
  try { rmSync(profile, { recursive: true, force: true }); } catch { /* gone */ }
};
try {
  const endpoint = await new Promise((resolve, reject) => {
    let err = '';
    chrome.stderr.on('data', (d) => {
      err += d;
      const m = /DevTools listening on (ws:\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    chrome.on('exit', () => reject(new Error('chromium exited: ' + err.slice(-400))));
  });
  const port = new URL(endpoint).port;
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const ws = new WebSocket(targets.find((t) => t.type === 'page').webSocketDebuggerUrl);
  await new Promise((r) => ws.addEventListener('open', r, { once: true }));
  let id = 0;
  const pending = new Map();
  ws.addEventListener('message', (e) => {
    const msg = JSON.parse(e.data);
    if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
  });
  const send = (method, params = {}) => new Promise((resolve) => {
    pending.set(++id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
  const started = Date.now();
  await send('Page.navigate', { url });
  for (;;) {
    const r = await send('Runtime.evaluate', {
      expression: `(() => { const b = document.querySelector('#run-curves[data-draw-ms]');
        return b ? JSON.stringify({ draw_ms: Number(b.dataset.drawMs), curve_requests: Number(b.dataset.curveRequests),
          lines: Number(b.dataset.lines) }) : null; })()`,
      returnByValue: true,
    });
    const v = r.result?.result?.value;
    if (v) { console.log(JSON.stringify({ ...JSON.parse(v), load_ms: Date.now() - started })); break; }
    if (Date.now() - started > 60000) throw new Error('the chart was not drawn within 60 s');
    await new Promise((res) => setTimeout(res, 20));
  }
  ws.close();
} finally {
  cleanup();
}
