/**
 * The inspector page. `?ws=ws://127.0.0.1:PORT/` follows a live bridge; `?replay=1` plays back the
 * recording the launcher serves at /__inspector/replay.jsonl; `?stately=1` adds a button that
 * forwards the same events to Stately's hosted inspector (opt-in; nothing goes out otherwise);
 * `?inpage=1&lab=ws://…&llm=http://…/v1` runs the browser bridge in the page and inspects it there
 * (see inpage.ts).
 */
import type { InspectorMessage, RecordLine, StatelyMessage } from '../../src/inspector/protocol.js';
import { type Diagram, drawDiagram, valueText } from './diagram.js';
import { type ActorView, Store } from './store.js';
import './styles.css';
import { errorMessage } from '../../machines/error-message.js';

const params = new URLSearchParams(location.search);
const store = new Store();

// ------------------------------------------------------------------ DOM helpers

type Child = Node | string | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const time = (t: number) => {
  const d = new Date(t);
  return `${d.toLocaleTimeString('en-GB', { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
};
const SVG_NS = 'http://www.w3.org/2000/svg';

// ------------------------------------------------------------------ diagrams

interface Card {
  element: HTMLElement;
  diagram: Diagram | undefined;
  stateLabel: HTMLElement;
  revision: number;
}
const cards = new Map<string, Card>();
// The bridge, then the breakers (the dashboard), then the backends' machines, then retries.
const ROLE_ORDER = { bridge: 0, breaker: 1, backend: 2, retry: 3, actor: 4 } as const;

function sortKey(view: ActorView): string {
  const backend = view.backend ?? '';
  return `${ROLE_ORDER[view.role]}|${backend}|${view.name}|${view.sessionId.padStart(8, '0')}`;
}

function renderDiagrams() {
  const container = $('diagrams');
  const wanted = [...store.actors.values()]
    .filter((view) => view.definition)
    .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
  const keep = new Set(wanted.map((view) => view.sessionId));
  for (const [id, card] of cards) {
    if (!keep.has(id)) {
      card.element.remove();
      cards.delete(id);
    }
  }
  let previous: HTMLElement | null = null;
  for (const view of wanted) {
    let card = cards.get(view.sessionId);
    if (!card) {
      const stateLabel = h('span', { class: 'current' });
      const headingId = `card-${view.sessionId}`;
      const element = h(
        'article',
        {
          class: `card role-${view.role}`,
          'data-actor': view.name,
          'data-role': view.role,
          'aria-labelledby': headingId,
          tabindex: 0,
        },
        h(
          'h3',
          { id: headingId },
          h('span', { class: 'name' }, view.name),
          h('span', { class: 'role' }, view.role),
          stateLabel,
        ),
      );
      const diagram = view.definition ? drawDiagram(view.definition, view.name) : undefined;
      if (diagram) element.append(h('div', { class: 'canvas' }, diagram.element));
      card = { element, diagram, stateLabel, revision: -1 };
      cards.set(view.sessionId, card);
    }
    if (previous ? previous.nextSibling !== card.element : container.firstChild !== card.element) {
      if (previous) previous.after(card.element);
      else container.prepend(card.element);
    }
    previous = card.element;
    if (card.revision !== view.revision) {
      card.revision = view.revision;
      if (card.diagram && view.lastEvent) card.diagram.flash(view.lastEvent);
      card.diagram?.setValue(view.snapshot.value);
      const text = view.done
        ? `${valueText(view.snapshot.value)} (${view.snapshot.status})`
        : valueText(view.snapshot.value);
      card.stateLabel.textContent = text;
      card.element.dataset.value = valueText(view.snapshot.value);
      card.element.dataset.status = view.snapshot.status ?? 'active';
      card.element.classList.toggle('done', view.done);
    }
  }
}

// ------------------------------------------------------------------ health

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

async function applyFault(backend: string, fault: string) {
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
function renderHealth() {
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

function renderMetrics() {
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

// ------------------------------------------------------------------ event log

let logPaused = false;
let selectedSeq = -1;
let logRendered = -1;
const LOG_ROWS = 200;

function renderLog(force = false) {
  if (logPaused && !force) return;
  const filter = ($('log-filter') as HTMLSelectElement).value;
  const key = `${store.logRevision}|${filter}`;
  if (!force && String(logRendered) === key) return;
  logRendered = key as unknown as number;
  const rows: HTMLElement[] = [];
  for (let i = store.log.length - 1; i >= 0 && rows.length < LOG_ROWS; i--) {
    const entry = store.log[i];
    if (!entry || (filter && entry.actor !== filter)) continue;
    const button = h(
      'button',
      {
        type: 'button',
        class: 'log-entry',
        'data-seq': entry.seq,
        'aria-pressed': entry.seq === selectedSeq ? 'true' : 'false',
      },
      h('span', { class: 'when' }, time(entry.at)),
      h('span', { class: 'who' }, entry.actor),
      h('span', { class: 'what' }, entry.eventType || '(init)'),
      h('span', { class: 'to' }, `→ ${valueText(entry.snapshot.value)}`),
    );
    rows.push(h('li', {}, button));
  }
  $('log-list').replaceChildren(...rows);
  $('log-count').textContent =
    `${store.log.length} events${store.dropped ? `, ${store.dropped} dropped under load` : ''}`;
}

function updateFilterOptions() {
  const select = $('log-filter') as HTMLSelectElement;
  const names = [...new Set([...store.actors.values()].map((a) => a.name))].sort();
  const current = select.value;
  const existing = [...select.options].map((o) => o.value).slice(1);
  if (existing.join('|') === names.join('|')) return;
  select.replaceChildren(
    h('option', { value: '' }, 'all actors'),
    ...names.map((n) => h('option', { value: n }, n)),
  );
  select.value = names.includes(current) ? current : '';
}

function showDetail(seq: number) {
  selectedSeq = seq;
  const entry = store.log.find((e) => e.seq === seq);
  const pre = $('detail');
  if (!entry) {
    pre.textContent = 'That event has left the log.';
    return;
  }
  pre.textContent = JSON.stringify(
    {
      actor: entry.actor,
      at: new Date(entry.at).toISOString(),
      event: entry.event,
      snapshot: entry.snapshot,
    },
    null,
    2,
  );
  for (const el of document.querySelectorAll('.log-entry[aria-pressed="true"]'))
    el.setAttribute('aria-pressed', 'false');
  document.querySelector(`.log-entry[data-seq="${seq}"]`)?.setAttribute('aria-pressed', 'true');
}

// ------------------------------------------------------------------ render loop

let scheduled = false;
let lastStructure = -1;
function scheduleRender() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    if (lastStructure !== store.structure) {
      lastStructure = store.structure;
      updateFilterOptions();
    }
    renderDiagrams();
    renderHealth();
    renderMetricsThrottled();
    renderLogThrottled();
    document.body.dataset.ready = store.actors.size > 0 ? 'true' : 'false';
  });
}
let lastMetricsRender = 0;
let metricsDirty = true;
function renderMetricsThrottled() {
  if (!metricsDirty && performance.now() - lastMetricsRender < 1_000) return;
  if (performance.now() - lastMetricsRender < 250) {
    setTimeout(scheduleRender, 260);
    return;
  }
  metricsDirty = false;
  lastMetricsRender = performance.now();
  renderMetrics();
}
let lastLogRender = 0;
function renderLogThrottled() {
  if (performance.now() - lastLogRender < 200) {
    setTimeout(scheduleRender, 210);
    return;
  }
  lastLogRender = performance.now();
  renderLog();
}

// ------------------------------------------------------------------ Stately (opt-in)

let stately: { send(message: StatelyMessage): void } | undefined;
function forwardToStately(messages: InspectorMessage[]) {
  if (!stately) return;
  for (const m of messages) if (m.type.startsWith('@xstate.')) stately.send(m as StatelyMessage);
}
async function startStately() {
  const { createBrowserInspector } = await import('@statelyai/inspect');
  const inspector = createBrowserInspector({ autoStart: false });
  inspector.start();
  const adapter = inspector.adapter as unknown as { send(event: unknown): void };
  stately = { send: (message) => adapter.send(message) };
  for (const view of store.actors.values()) {
    stately.send({
      type: '@xstate.actor',
      name: view.name,
      sessionId: view.sessionId,
      parentId: view.parentId,
      systemId: undefined,
      role: view.role,
      rootId: undefined,
      definition: view.definition ? JSON.stringify(view.definition) : undefined,
      snapshot: view.snapshot,
      createdAt: String(view.updatedAt),
      id: null,
      _version: '0.7.2',
    });
  }
  $('stately').setAttribute('aria-pressed', 'true');
}

// ------------------------------------------------------------------ live connection

function applyAll(messages: InspectorMessage[]) {
  for (const message of messages) {
    if (message.type === 'hello' && message.replay) store.reset();
    store.apply(message);
    if (message.type === 'metrics') metricsDirty = true;
  }
  forwardToStately(messages);
  scheduleRender();
}

function connect(url: string) {
  const status = $('conn');
  let delay = 500;
  const open = () => {
    status.textContent = 'connecting…';
    status.dataset.state = 'connecting';
    const ws = new WebSocket(url);
    ws.addEventListener('open', () => {
      delay = 500;
      status.textContent = `live · ${new URL(url).host}`;
      status.dataset.state = 'open';
    });
    ws.addEventListener('message', (event) => {
      try {
        const data = JSON.parse(String(event.data)) as InspectorMessage | InspectorMessage[];
        applyAll(Array.isArray(data) ? data : [data]);
      } catch {
        // Not ours: ignore.
      }
    });
    ws.addEventListener('close', () => {
      status.textContent = `disconnected · retrying in ${Math.round(delay / 1000)} s`;
      status.dataset.state = 'closed';
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 5_000);
    });
  };
  open();
}

// ------------------------------------------------------------------ in-page bridge

async function startInPageMode() {
  const status = $('conn');
  status.textContent = 'starting the in-page bridge…';
  status.dataset.state = 'connecting';
  try {
    // Loaded only in this mode: the live and replay pages do not carry the bridge.
    const { startInPage } = await import('./inpage.js');
    await startInPage(params, applyAll);
    status.textContent = 'in-page bridge · WebMCP';
    status.dataset.state = 'open';
  } catch (error) {
    status.textContent = `in-page bridge failed: ${errorMessage(error)}`;
    status.dataset.state = 'closed';
  }
}

// ------------------------------------------------------------------ replay

interface Replay {
  lines: RecordLine[];
  index: number; // messages applied: [0, index)
  playing: boolean;
  speed: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

async function startReplay() {
  const status = $('conn');
  status.textContent = 'loading recording…';
  const text = await (await fetch('/__inspector/replay.jsonl')).text();
  const lines: RecordLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    try {
      const line = JSON.parse(raw) as RecordLine;
      if (line && typeof line.t === 'number' && line.message) lines.push(line);
    } catch {
      // A torn last line of a recording still being written: skip it.
    }
  }
  const replay: Replay = { lines, index: 0, playing: false, speed: 1, timer: undefined };
  const bar = $('replay');
  bar.hidden = false;
  const range = $('replay-range') as HTMLInputElement;
  range.max = String(lines.length);
  const label = $('replay-time');
  const start = lines[0]?.t ?? 0;
  status.textContent = `replay · ${lines.length} messages`;
  status.dataset.state = 'replay';

  const seek = (target: number) => {
    target = Math.max(0, Math.min(lines.length, target));
    if (target < replay.index) {
      store.reset();
      replay.index = 0;
    }
    const batch: InspectorMessage[] = [];
    for (; replay.index < target; replay.index++) {
      const line = lines[replay.index];
      if (line) batch.push(line.message);
    }
    for (const message of batch) {
      store.apply(message);
    }
    metricsDirty = true;
    range.value = String(replay.index);
    const current = lines[Math.max(0, replay.index - 1)];
    label.textContent = current
      ? `+${((current.t - start) / 1000).toFixed(2)} s · ${time(current.t)} · ${replay.index}/${lines.length}`
      : `0/${lines.length}`;
    renderLog(true);
    scheduleRender();
  };
  const stepTo = (direction: 1 | -1) => {
    // A step goes to the next (or previous) state change: a snapshot or health message.
    let i = replay.index + (direction === 1 ? 0 : -2);
    while (i >= 0 && i < lines.length) {
      const type = lines[i]?.message.type;
      if (type === '@xstate.snapshot' || type === 'health') break;
      i += direction;
    }
    seek(direction === 1 ? i + 1 : Math.max(0, i + 1));
  };
  const tick = () => {
    if (!replay.playing) return;
    if (replay.index >= lines.length) {
      setPlaying(false);
      return;
    }
    const now = lines[replay.index]?.t ?? 0;
    let next = replay.index + 1;
    while (next < lines.length && (lines[next]?.t ?? 0) <= now) next++;
    seek(next);
    const wait = next < lines.length ? ((lines[next]?.t ?? now) - now) / replay.speed : 0;
    replay.timer = setTimeout(tick, Math.min(Math.max(wait, 16), 2_000));
  };
  const play = $('replay-play');
  const setPlaying = (playing: boolean) => {
    replay.playing = playing;
    play.textContent = playing ? 'Pause' : 'Play';
    play.setAttribute('aria-pressed', String(playing));
    if (replay.timer) clearTimeout(replay.timer);
    if (playing) {
      if (replay.index >= lines.length) seek(0);
      tick();
    }
  };
  play.addEventListener('click', () => setPlaying(!replay.playing));
  $('replay-back').addEventListener('click', () => {
    setPlaying(false);
    stepTo(-1);
  });
  $('replay-forward').addEventListener('click', () => {
    setPlaying(false);
    stepTo(1);
  });
  range.addEventListener('input', () => {
    setPlaying(false);
    seek(Number(range.value));
  });
  ($('replay-speed') as HTMLSelectElement).addEventListener('change', (event) => {
    replay.speed = Number((event.target as HTMLSelectElement).value) || 1;
  });
  // Start with the actors and their first snapshots, so the diagrams are there to scrub through.
  let firstState = lines.findIndex((line) => line.message.type === 'health');
  if (firstState < 0) firstState = Math.min(lines.length, 1);
  seek(firstState + 1);
}

// ------------------------------------------------------------------ wiring

function init() {
  // The snapshot pane scrolls: make it reachable from the keyboard.
  $('detail').tabIndex = 0;
  $('log-filter').addEventListener('change', () => renderLog(true));
  const pause = $('log-pause');
  pause.addEventListener('click', () => {
    logPaused = !logPaused;
    pause.textContent = logPaused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(logPaused));
    if (!logPaused) renderLog(true);
  });
  $('log-list').addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLElement>('.log-entry');
    if (button) showDetail(Number(button.dataset.seq));
  });
  $('health-rows').addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLElement>('button.fault');
    if (button?.dataset.backend && button.dataset.fault)
      void applyFault(button.dataset.backend, button.dataset.fault);
  });
  if (params.get('stately') === '1') {
    const button = $('stately');
    button.hidden = false;
    button.addEventListener('click', () => void startStately());
  }
  setInterval(() => {
    metricsDirty = true;
    scheduleRender();
  }, 1_000);

  const ws = params.get('ws');
  if (params.get('replay') === '1') void startReplay();
  else if (params.get('inpage') === '1') void startInPageMode();
  else if (ws && /^wss?:\/\//.test(ws)) connect(ws);
  else {
    $('conn').textContent = 'no source: open with ?ws=ws://127.0.0.1:PORT/ or npm run inspector -- --url …';
    $('conn').dataset.state = 'idle';
  }
}

init();
