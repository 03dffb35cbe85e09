// The factors page in headless Chromium: opens URL, waits for the first page of rows to be drawn, then sorts by a
// column and searches by name the way a user does (a click on the header, typing in the search box) and times each
// until the new rows are drawn. Prints JSON: first_draw_ms (navigation start → rows and total drawn, the page's own
// clock), sort_ms and search_ms (the action → rows redrawn), rows, total.
// Usage: node --experimental-websocket bench/factors-page-draw.mjs URL SORT_COLUMN SEARCH_TEXT
import { openChromium } from './chromium-cdp.mjs';

const [url, sortColumn, searchText] = process.argv.slice(2);
const browser = await openChromium();
try {
  await browser.send('Page.navigate', { url });
  // Until the page is there, the expression answers null; then it waits in the page for the rows.
  let first = null;
  const started = Date.now();
  while (first === null) {
    first = await browser.evaluate(`(() => {
      if (!document.querySelector('#catalog')) return null;
      return new Promise((resolve) => {
        const done = () => document.querySelector('#total[data-total]')
          && document.querySelectorAll('#catalog tbody tr').length > 0;
        const finish = () => resolve({ first_draw_ms: Math.round(performance.now() * 10) / 10,
          rows: document.querySelectorAll('#catalog tbody tr').length,
          total: Number(document.querySelector('#total').dataset.total) });
        if (done()) { finish(); return; }
        new MutationObserver((_, o) => { if (done()) { o.disconnect(); finish(); } })
          .observe(document.body, { subtree: true, childList: true, attributes: true });
      });
    })()`);
    if (first === null) {
      if (Date.now() - started > 60000) throw new Error('the factors page did not open within 60 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  // An action's time: from the user's input to the table drawn again with the answer (aria-busy set and cleared).
  const timed = (act) => browser.evaluate(`new Promise((resolve) => {
    const table = document.querySelector('#catalog');
    let busy = false;
    const o = new MutationObserver(() => {
      if (table.hasAttribute('aria-busy')) { busy = true; return; }
      if (busy) { o.disconnect(); resolve(Math.round((performance.now() - t0) * 10) / 10); }
    });
    o.observe(table, { attributes: true, attributeFilter: ['aria-busy'] });
    const t0 = performance.now();
    (${act})();
  })`);
  const sortMs = await timed(`() => document.querySelector('#catalog th button[data-sort=${sortColumn}]').click()`);
  // The page waits 300 ms after the last key before it asks (debounce); that wait is counted, as the user waits it.
  const searchMs = await timed(`() => { const s = document.querySelector('#search');
    s.value = ${JSON.stringify(searchText)}; s.dispatchEvent(new Event('input', { bubbles: true })); }`);
  console.log(JSON.stringify({ ...first, sort_ms: sortMs, search_ms: searchMs }));
} finally {
  browser.close();
}
