// Debian's headless Chromium driven over the DevTools protocol with the real clock (no virtual time): the benchmarks
// of the web UI's pages open one page with it and read the figures the page or an in-page script measures.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Starts Chromium with a fresh profile; returns { send(method, params), evaluate(expression), close() }. */
export async function openChromium() {
  const profile = mkdtempSync(join(tmpdir(), 'rdbridge-chromium-'));
  const chrome = spawn('/usr/bin/chromium', ['--headless', '--no-sandbox', '--disable-gpu',
    '--remote-debugging-port=0', `--user-data-dir=${profile}`, '--window-size=1440,1000', 'about:blank'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  const close = () => {
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
    /** An expression's value in the page; a promise is awaited. */
    const evaluate = async (expression) => {
      const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
      if (r.result?.exceptionDetails) throw new Error(JSON.stringify(r.result.exceptionDetails).slice(0, 400));
      return r.result?.result?.value;
    };
    return { send, evaluate, close: () => { ws.close(); close(); } };
  } catch (e) {
    close();
    throw e;
  }
}
