/** The inspector page's health table and metrics (breaker timelines, retries). Imports: dom, store. */
import { $, h, SVG_NS, time } from './dom.js';
import type { Store } from './store.js';

const FAULTS: { id: string; label: string; title: string; body?: Record<string, unknown> }[] = [
  { id: 'down', label: 'Down', title: 'Take the backend down', body: { down: true } },
  {
    id: 'up',
    label: 'Up',
    title: 'Bring the backend up',
    body: { down: false, silent: false, status503: null },
  },
  { id: 'latency', label: '+2 s', title: 'Add 2 s of latency', body: { latencyMs: 2_000 } },
  {
    id: '503',
    label: '503',
    title: 'Answer 503 Service Unavailable',
    body: { status503: { retryAfterSeconds: 2 } },
  },
  { id: 'silent', label: 'Silent', title: 'Stop answering (sockets stay open)', body: { silent: true } },
  { id: 'reset', label: 'Reset', title: 'Clear every fault' },
];

/** Applies one of `FAULTS` to a lab backend through the lab's control API. */
export async function applyFault(store: Store, backend: string, fault: string) {
  const lab = store.lab;
  if (!lab) return;
  const spec = FAULTS.find((f) => f.id === fault);
  const url = fault === 'reset' ? `${lab.url}/reset/${backend}` : `${lab.url}/faults/${backend}`;
  const status = $('lab-status');
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${lab.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(spec?.body ?? {}),
    });
    status.textContent = response.ok
      ? `${backend}: ${spec?.label ?? fault} applied`
      : `${backend}: lab answered ${response.status}`;
  } catch (error) {
    status.textContent = `${backend}: lab unreachable (${(error as Error).message})`;
  }
}

function sparkline(points: { t: number; v: number | null }[]): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 90 22');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('aria-hidden', 'true');
  const values = points.map((p) => p.v).filter((v): v is number => v !== null);
  if (values.length) {
    const max = Math.max(...values, 1);
    const step = points.length > 1 ? 90 / (points.length - 1) : 0;
    const d = points
      .map((p, i) => (p.v === null ? null : `${(i * step).toFixed(1)},${(20 - (p.v / max) * 18).toFixed(1)}`))
      .filter(Boolean)
      .join(' ');
    const line = document.createElementNS(SVG_NS, 'polyline');
    line.setAttribute('points', d);
    svg.append(line);
  }
  return svg;
}

let healthRevision = -1;
/** The health table (with the lab's fault buttons): redrawn only when the report changed. */
export function renderHealth(store: Store) {
  const key = `${store.healthAt}|${store.lab ? 1 : 0}|${store.health?.checkedAt}`;
  if (String(healthRevision) === key) return;
  healthRevision = key as unknown as number;
  const report = store.health;
  const overall = $('overall');
  overall.textContent = report ? report.status.toUpperCase() : '…';
  overall.className = `badge status-${report?.status ?? 'unknown'}`;
  overall.dataset.status = report?.status ?? '';
  const body = $('health-rows');
  body.replaceChildren();
  if (!report) return;
  for (const [name, line] of Object.entries(report.backends)) {
    const points = store.latency.get(name) ?? [];
    const row = h(
      'tr',
      {
        'data-backend': name,
        'data-status': line.status,
        'data-breaker': line.breaker,
        'data-state': line.state,
        ...(line.recoveringUntil ? { 'data-recovering-until': line.recoveringUntil } : {}),
      },
      h(
        'th',
        { scope: 'row' },
        name,
        line.critical ? h('span', { class: 'critical', title: 'critical backend' }, ' ★') : null,
      ),
      h(
        'td',
        {},
        h('span', { class: `badge status-${line.status}` }, line.status),
        // A pending slow recovery: healthy again, reported `pass` once it stays so until this time.
        line.recoveringUntil
          ? h(
              'span',
              { class: 'badge recovering', title: `pass at ${line.recoveringUntil} if it stays healthy` },
              ' recovering',
            )
          : null,
      ),
      h('td', { class: 'mono' }, line.state),
      h('td', {}, h('span', { class: `badge breaker-${line.breaker}` }, line.breaker)),
      h('td', { class: 'num' }, String(line.consecutiveFailures)),
      h(
        'td',
        { class: 'num' },
        line.latencyMs === null ? '–' : `${Math.round(line.latencyMs)} ms`,
        sparkline(points),
      ),
    );
    body.append(row);
    if (line.lastError) {
      body.append(
        h(
          'tr',
          { class: 'error-row' },
          h('td', { colspan: 6, title: line.lastError }, `last error: ${line.lastError}`),
        ),
      );
    }
    if (store.lab?.backends.includes(name)) {
      const buttons = FAULTS.map((f) =>
        h(
          'button',
          {
            type: 'button',
            class: `fault fault-${f.id}`,
            'data-backend': name,
            'data-fault': f.id,
            title: `${f.title} (${name})`,
            'aria-label': `${f.title}: ${name}`,
          },
          f.label,
        ),
      );
      body.append(
        h(
          'tr',
          { class: 'fault-row' },
          h('td', { colspan: 6 }, h('span', { class: 'muted' }, 'lab: '), ...buttons),
        ),
      );
    }
  }
}

/** The breakers' timelines and the retry counters. */
export function renderMetrics(store: Store) {
  const metrics = store.metrics;
  const box = $('metrics');
  if (!metrics) {
    box.replaceChildren(h('p', { class: 'muted' }, 'No metrics yet.'));
    return;
  }
  const now = Math.max(
    store.now,
    ...Object.values(metrics.breakers).flatMap((b) => b.transitions.map((t) => t.at)),
  );
  const rows: HTMLElement[] = [];
  for (const [name, breaker] of Object.entries(metrics.breakers)) {
    const start = Math.min(now - 60_000, breaker.transitions[0]?.at ?? now);
    const span = Math.max(1, now - start);
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 200 10');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('class', 'timeline');
    svg.setAttribute('role', 'img');
    const segments: { from: number; to: number; state: string; reason: string }[] = [];
    let cursor = start;
    let state = breaker.transitions[0]?.from ?? breaker.state;
    let reason = '';
    for (const t of breaker.transitions) {
      if (t.at > cursor) segments.push({ from: cursor, to: t.at, state, reason });
      cursor = Math.max(cursor, t.at);
      state = t.to;
      reason = t.reason;
    }
    segments.push({ from: cursor, to: now, state, reason });
    for (const s of segments) {
      const rect = document.createElementNS(SVG_NS, 'rect');
      rect.setAttribute('x', String(((s.from - start) / span) * 200));
      rect.setAttribute('width', String(Math.max(0.6, ((s.to - s.from) / span) * 200)));
      rect.setAttribute('y', '0');
      rect.setAttribute('height', '10');
      rect.setAttribute('class', `seg-${s.state}`);
      const title = document.createElementNS(SVG_NS, 'title');
      title.textContent = `${s.state} from ${time(s.from)}${s.reason ? ` (${s.reason})` : ''}`;
      rect.append(title);
      svg.append(rect);
    }
    svg.setAttribute('aria-label', `${name} breaker: ${segments.map((s) => s.state).join(' → ')}`);
    rows.push(
      h(
        'div',
        { class: 'timeline-row', 'data-breaker': name },
        h('span', { class: 'tl-name' }, name),
        svg,
        h(
          'span',
          { class: 'tl-stats', title: 'trips / rejected calls / failures' },
          `${breaker.tripsCount} trips · ${breaker.rejectedCalls} rejected`,
        ),
      ),
    );
  }
  const r = metrics.retries;
  const ops = Object.entries(r.operations)
    .map(([op, m]) => `${op}: ${m.attempts} attempts, ${m.successes} ok, ${m.failures} failed`)
    .join(' · ');
  rows.push(
    h(
      'p',
      { class: 'retries' },
      h('strong', {}, 'Retries '),
      `${r.totalRetries} retries · ${r.successfulRetries} recovered · ${r.failedRetries} failed · success rate ${r.successRate === null ? '–' : `${Math.round(r.successRate * 100)} %`}`,
      ops ? h('br') : null,
      ops ? h('span', { class: 'muted' }, ops) : null,
    ),
  );
  box.replaceChildren(...rows);
}
