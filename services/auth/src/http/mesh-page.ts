import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MeshInstance } from '@authmesh/interceptor/proto';

/** One recent revocation and how many live instances have applied it. */
export interface RecentRevocation {
  sequence: number;
  kind: string;
  /** Unix seconds of the revocation. */
  at: number;
  reason: string;
  /** Live instances whose applied sequence reached this event. */
  confirmed: number;
  live: number;
}

/** What the page shows: the GetMeshStatus data plus the last revocations. */
export interface MeshSnapshot {
  instances: MeshInstance[];
  stream_last_sequence: number;
  recent: RecentRevocation[];
}

/**
 * The admin listener's handler: `GET /mesh` (a page that renders `/mesh.json` and refreshes itself
 * every second) and `GET /mesh.json`. Everything else is 404. The page builds its table with DOM text
 * nodes only (no innerHTML): instance labels and reasons come from NATS publishers.
 */
export function createMeshPageHandler(snapshot: () => Promise<MeshSnapshot>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || (path !== '/mesh' && path !== '/mesh.json')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (path === '/mesh') {
      res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy':
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
          'cache-control': 'no-store',
        })
        .end(MESH_PAGE);
      return;
    }
    snapshot().then(
      (s) => {
        res
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify(s));
      },
      () => {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"mesh status unavailable"}');
      },
    );
  };
}

const MESH_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>authmesh mesh status</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f3f3f3}
.stale,.lag{color:#b00;font-weight:bold}
</style></head>
<body>
<h1>authmesh mesh status</h1>
<p id="summary">loading…</p>
<div id="audiences"></div>
<h2>Last revocations</h2>
<table id="recent"><thead><tr><th>sequence</th><th>kind</th><th>at</th><th>reason</th><th>confirmed</th></tr></thead><tbody></tbody></table>
<script>
function cell(tr, text, cls) { const td = document.createElement('td'); td.textContent = String(text); if (cls) td.className = cls; tr.appendChild(td); }
function head(table, names) { const tr = table.createTHead().insertRow(); for (const n of names) { const th = document.createElement('th'); th.textContent = n; tr.appendChild(th); } }
async function refresh() {
  let s;
  try { s = await (await fetch('/mesh.json', { cache: 'no-store' })).json(); } catch { document.getElementById('summary').textContent = 'auth service unreachable'; return; }
  const last = Number(s.stream_last_sequence);
  document.getElementById('summary').textContent = s.instances.length + ' live instances; stream last sequence ' + last + '; updated ' + new Date().toLocaleTimeString();
  const groups = new Map();
  for (const i of s.instances) { const a = i.audience || '(none)'; if (!groups.has(a)) groups.set(a, []); groups.get(a).push(i); }
  const box = document.getElementById('audiences');
  box.replaceChildren();
  for (const [aud, list] of groups) {
    const h = document.createElement('h2'); h.textContent = 'audience ' + aud + ' (' + list.length + ')'; box.appendChild(h);
    const t = document.createElement('table'); t.className = 'instances'; t.dataset.audience = aud;
    head(t, ['instance', 'label', 'version', 'applied', 'lag', 'stale', 'last seen', 'identity']);
    const body = t.createTBody();
    for (const i of list) {
      const tr = body.insertRow(); const lag = Math.max(0, last - Number(i.applied_sequence));
      cell(tr, i.instance_id); cell(tr, i.label); cell(tr, i.version); cell(tr, i.applied_sequence);
      cell(tr, lag, lag > 0 ? 'lag' : ''); cell(tr, i.stale ? 'yes' : 'no', i.stale ? 'stale' : '');
      cell(tr, Math.max(0, Date.now() - Number(i.last_seen_unix_ms)) + ' ms ago');
      cell(tr, i.authenticated ? 'client ' + i.client_id : 'unauthenticated', i.authenticated ? '' : 'unauthenticated');
    }
    box.appendChild(t);
  }
  const rb = document.querySelector('#recent tbody'); rb.replaceChildren();
  for (const r of s.recent) {
    const tr = rb.insertRow();
    cell(tr, r.sequence); cell(tr, r.kind); cell(tr, new Date(r.at * 1000).toISOString()); cell(tr, r.reason);
    cell(tr, r.confirmed + ' / ' + r.live, r.confirmed < r.live ? 'lag' : '');
  }
}
refresh(); setInterval(refresh, 1000);
</script></body></html>
`;
