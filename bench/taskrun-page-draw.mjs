// Opens a page in Debian's headless Chromium over the DevTools protocol (real time, no virtual clock) and waits for
// the task-run page's curves to be drawn; prints the page's own figures as JSON: data-draw-ms (curves arrived →
// chart drawn), data-curve-requests, data-lines, and the load's total milliseconds.
// Usage: node --experimental-websocket bench/taskrun-page-draw.mjs URL
import { openChromium } from './chromium-cdp.mjs';

const url = process.argv[2];
const browser = await openChromium();
try {
  const { send } = browser;
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
} finally {
  browser.close();
}
