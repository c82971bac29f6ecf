/** The inspector page's event log: the newest rows, a filter by actor, pause, one event's detail. Imports: dom, store, diagram. */
import { valueText } from './diagram.js';
import { $, h, time } from './dom.js';
import type { Store } from './store.js';

const LOG_ROWS = 200;

/** The event log panel over `store`. */
export function createLogPanel(store: Store) {
  let logPaused = false;
  let selectedSeq = -1;
  let logRendered = -1;

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

  return {
    /** Redraws the log (unless paused; `force` redraws even then, and even when nothing changed). */
    render: renderLog,
    updateFilterOptions,
    showDetail,
    /** Pauses or resumes the log; returns whether it is paused now. */
    togglePause(): boolean {
      logPaused = !logPaused;
      if (!logPaused) renderLog(true);
      return logPaused;
    },
  };
}
