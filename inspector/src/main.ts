/**
 * The inspector page. `?ws=ws://127.0.0.1:PORT/` follows a live bridge; `?replay=1` plays back the
 * recording the launcher serves at /__inspector/replay.jsonl; `?stately=1` adds a button that
 * forwards the same events to Stately's hosted inspector (opt-in; nothing goes out otherwise);
 * `?inpage=1&lab=ws://…&llm=http://…/v1` runs the browser bridge in the page and inspects it there
 * (see inpage.ts).
 */
import type { InspectorMessage, RecordLine, StatelyMessage } from '../../src/inspector/protocol.js';
import { type Diagram, drawDiagram, valueText } from './diagram.js';
import { $, h, time } from './dom.js';
import { applyFault, renderHealth, renderMetrics } from './health-panel.js';
import { createLogPanel } from './log-panel.js';
import { type ActorView, Store } from './store.js';
import './styles.css';
import { errorMessage } from '../../machines/error-message.js';

const params = new URLSearchParams(location.search);
const store = new Store();
const log = createLogPanel(store);

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
      log.updateFilterOptions();
    }
    renderDiagrams();
    renderHealth(store);
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
  renderMetrics(store);
}
let lastLogRender = 0;
function renderLogThrottled() {
  if (performance.now() - lastLogRender < 200) {
    setTimeout(scheduleRender, 210);
    return;
  }
  lastLogRender = performance.now();
  log.render();
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
    log.render(true);
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
  $('log-filter').addEventListener('change', () => log.render(true));
  const pause = $('log-pause');
  pause.addEventListener('click', () => {
    const paused = log.togglePause();
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
  });
  $('log-list').addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLElement>('.log-entry');
    if (button) log.showDetail(Number(button.dataset.seq));
  });
  $('health-rows').addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLElement>('button.fault');
    if (button?.dataset.backend && button.dataset.fault)
      void applyFault(store, button.dataset.backend, button.dataset.fault);
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
