// Live updates without a reload: the server's events (GET /api/rdagent/live/events) show a running sync's stage and
// progress in a small badge, and when a catalog table changes the visible list is drawn again (the page's own
// renderer, through the popstate event it already listens to). Self-contained: nothing else depends on it.
const CATALOG_PAGES = /^\/rdagent\/(factors|models|strategies|loops)\/?$/;

function badge() {
  let b = document.getElementById('live-badge');
  if (!b) {
    b = document.createElement('div');
    b.id = 'live-badge';
    b.setAttribute('role', 'status');
    b.style.cssText = 'position:fixed;right:1em;bottom:1em;padding:.4em .8em;border-radius:4px;'
      + 'background:#222;color:#fff;font:13px sans-serif;opacity:.85;display:none;z-index:10';
    document.body.append(b);
  }
  return b;
}

function showRun(run) {
  const b = badge();
  if (run.status === 'running') {
    b.textContent = `Syncing 同步中 #${run.id}: ${run.stage ?? ''} ${Math.round((run.progress ?? 0) * 100)}%`;
    b.style.display = 'block';
  } else {
    b.style.display = 'none';
  }
}

function refreshList() {
  // Never under the user's hands: a list being typed into or paged waits for the next change.
  if (!CATALOG_PAGES.test(location.pathname)) return;
  const active = document.activeElement;
  if (active && ['INPUT', 'SELECT', 'TEXTAREA'].includes(active.tagName)) return;
  // A sync the user started from this page is followed by its own panel, which draws the list again when the sync
  // ends; drawing the page now would replace that panel mid-way and lose its progress and result.
  if (document.querySelector('#sync-panel:not([data-phase=idle])')) return;
  window.dispatchEvent(new PopStateEvent('popstate'));
}

if (typeof EventSource !== 'undefined') {
  const events = new EventSource('/api/rdagent/live/events');
  events.addEventListener('sync', (e) => showRun(JSON.parse(e.data)));
  events.addEventListener('catalog', refreshList);
}
