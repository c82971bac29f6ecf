import { eventLabel } from '../../src/diagram/mermaid.js';
/**
 * Draws a statechart from a machine definition (`machine.toJSON()`, as the relay sends it) as SVG:
 * states as boxes (compound states contain their children, parallel regions are stacked), every
 * outgoing transition listed in its state's box as `EVENT [guard] → TARGET` (delays as
 * `after(name)`, invokes as `done(id)` / `error(id)`), and arrows between the boxes. `setValue`
 * highlights the current state; `flash` marks the transition lines of an event just taken.
 */

export interface TransitionDef {
  target?: string[];
  guard?: string | { type: string };
  delay?: string | number;
  eventType: string;
}

export interface StateDef {
  id: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  initial?: { target?: (string | { id: string })[] };
  states?: Record<string, StateDef>;
  on?: Record<string, TransitionDef[]>;
  always?: TransitionDef[];
  invoke?: { id: string; src: string }[];
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const CHAR = 6.7; // 11px monospace
const TITLE_CHAR = 7.6;
const LINE = 14;
const HEADER = 22;
const PAD = 8;
const GAP = 30;
const MAX_COLS = 3;

function guardName(guard: TransitionDef['guard']): string | undefined {
  if (!guard) return undefined;
  return typeof guard === 'string' ? guard : guard.type;
}

interface Line {
  text: string;
  eventType: string;
}

interface Node {
  def: StateDef;
  /** Path below the root: `running.waiting`. */
  path: string;
  children: Node[];
  lines: Line[];
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Edge {
  from: Node;
  to: Node;
}

function el<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  text?: string,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function initialKey(def: StateDef): string | undefined {
  const first = def.initial?.target?.[0];
  const id = typeof first === 'string' ? first : first?.id;
  return id?.replace(/^#/, '').split('.').at(-1);
}

/** Children in breadth-first order from the initial state, so the diagram reads left to right. */
function orderedChildren(def: StateDef): StateDef[] {
  const children = Object.values(def.states ?? {});
  if (def.type === 'parallel') return children;
  const byId = new Map(children.map((c) => [c.id, c]));
  const start = initialKey(def);
  const order: StateDef[] = [];
  const queue = children.filter((c) => c.key === start);
  const seen = new Set(queue.map((c) => c.id));
  while (queue.length) {
    const next = queue.shift() as StateDef;
    order.push(next);
    const all = [...Object.values(next.on ?? {}).flat(), ...(next.always ?? [])];
    for (const t of all) {
      for (const target of t.target ?? []) {
        const child = byId.get(target.replace(/^#/, ''));
        if (child && !seen.has(child.id)) {
          seen.add(child.id);
          queue.push(child);
        }
      }
    }
  }
  for (const c of children) if (!seen.has(c.id)) order.push(c);
  return order;
}

export interface Diagram {
  readonly element: SVGSVGElement;
  /** Highlights the states of a snapshot `value`. */
  setValue(value: unknown): void;
  /** Briefly marks the transition lines of `eventType` in the states that were active. */
  flash(eventType: string): void;
}

/** The active state paths of a snapshot value: `{ running: 'waiting' }` → running, running.waiting. */
export function activePaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix ? `${prefix}.${value}` : value];
  if (!value || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    out.push(path, ...activePaths(child, path));
  }
  return out;
}

/** A short text for a snapshot value: `OPEN`, `running.waiting`, `availability.UP, prober.idle`. */
export function valueText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  const leaves = activePaths(value).filter(
    (path, _i, all) => !all.some((other) => other !== path && other.startsWith(`${path}.`)),
  );
  return leaves.join(', ');
}

export function drawDiagram(definition: StateDef, title: string): Diagram {
  const rootId = definition.id;
  const nodes = new Map<string, Node>();

  const build = (def: StateDef, path: string): Node => {
    const lines: Line[] = [];
    const transitions: TransitionDef[] = [...Object.values(def.on ?? {}).flat(), ...(def.always ?? [])];
    for (const t of transitions) {
      const targets = (t.target ?? []).map((target) => target.replace(/^#/, '').split('.').at(-1) ?? target);
      const guard = guardName(t.guard);
      const text = `${eventLabel(t.eventType, t.delay)}${guard ? ` [${guard}]` : ''} → ${targets.length ? targets.join(', ') : '↺'}`;
      lines.push({ text, eventType: t.eventType });
    }
    if (def.invoke?.length)
      lines.unshift({ text: `invoke ${def.invoke.map((i) => i.id).join(', ')}`, eventType: '' });
    const node: Node = {
      def,
      path,
      children: orderedChildren(def).map((child) => build(child, path ? `${path}.${child.key}` : child.key)),
      lines,
      x: 0,
      y: 0,
      w: 0,
      h: 0,
    };
    nodes.set(def.id, node);
    return node;
  };
  const root = build(definition, '');

  // Sizes, bottom-up; children are placed relative to their parent's origin.
  const measure = (node: Node, isRoot: boolean) => {
    for (const child of node.children) measure(child, false);
    const textW = Math.max(
      node.def.key.length * TITLE_CHAR + 2 * PAD,
      ...node.lines.map((line) => line.text.length * CHAR + 2 * PAD),
      96,
    );
    const linesH = node.lines.length * LINE;
    if (!node.children.length) {
      node.w = textW;
      node.h = HEADER + linesH + PAD;
      return;
    }
    const cols = node.def.type === 'parallel' ? 1 : Math.min(MAX_COLS, node.children.length);
    const top = isRoot ? 0 : HEADER + linesH + 4;
    const inset = isRoot ? 0 : PAD;
    let y = top;
    let width = 0;
    for (let row = 0; row * cols < node.children.length; row++) {
      const items = node.children.slice(row * cols, row * cols + cols);
      let x = inset;
      let rowH = 0;
      for (const child of items) {
        child.x = x;
        child.y = y;
        x += child.w + GAP;
        rowH = Math.max(rowH, child.h);
      }
      width = Math.max(width, x - GAP + inset);
      y += rowH + (node.def.type === 'parallel' ? PAD * 2 : GAP);
    }
    node.w = Math.max(width, textW);
    node.h = y - (node.def.type === 'parallel' ? PAD * 2 : GAP) + inset;
  };
  measure(root, true);

  // Absolute positions.
  const place = (node: Node, ox: number, oy: number) => {
    node.x += ox;
    node.y += oy;
    for (const child of node.children) place(child, node.x, node.y);
  };
  place(root, 0, 0);

  // Root-level transitions ("from any state") go below the diagram.
  const rootLines = root.lines;
  const footer = rootLines.length ? LINE * (rootLines.length + 1) : 0;
  const margin = 6;
  const width = Math.ceil(root.w + margin * 2);
  const height = Math.ceil(root.h + footer + margin * 2);

  const svg = el('svg', {
    viewBox: `${-margin} ${-margin} ${width} ${height}`,
    width,
    height,
    role: 'img',
    class: 'diagram',
  });
  svg.appendChild(el('title', {}, `Statechart of ${title} (${definition.id})`));
  const defs = el('defs');
  const marker = el('marker', {
    id: `arrow-${title.replace(/[^A-Za-z0-9_-]/g, '_')}`,
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto-start-reverse',
  });
  marker.appendChild(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }));
  defs.appendChild(marker);
  svg.appendChild(defs);
  const markerRef = `url(#${marker.id})`;

  // Arrows first, so boxes sit on top of them.
  const edges: Edge[] = [];
  const seen = new Set<string>();
  for (const node of nodes.values()) {
    if (node === root) continue;
    const transitions = [...Object.values(node.def.on ?? {}).flat(), ...(node.def.always ?? [])];
    for (const t of transitions) {
      for (const target of t.target ?? []) {
        const to = nodes.get(target.replace(/^#/, ''));
        if (!to || to === node || to === root) continue;
        const key = `${node.def.id}>${to.def.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        edges.push({ from: node, to });
      }
    }
  }
  const arrows = el('g', { class: 'arrows' });
  const clip = (n: Node, dx: number, dy: number) => {
    const hw = n.w / 2;
    const hh = n.h / 2;
    const scale = Math.min(dx === 0 ? Infinity : hw / Math.abs(dx), dy === 0 ? Infinity : hh / Math.abs(dy));
    return { x: n.x + hw + dx * scale, y: n.y + hh + dy * scale };
  };
  for (const edge of edges) {
    const a = { x: edge.from.x + edge.from.w / 2, y: edge.from.y + edge.from.h / 2 };
    const b = { x: edge.to.x + edge.to.w / 2, y: edge.to.y + edge.to.h / 2 };
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const length = Math.hypot(dx, dy) || 1;
    // Opposite directions between the same two states are drawn side by side.
    const both = seen.has(`${edge.to.def.id}>${edge.from.def.id}`);
    const offset = both ? 5 : 0;
    const nx = (-dy / length) * offset;
    const ny = (dx / length) * offset;
    const start = clip(edge.from, dx, dy);
    const end = clip(edge.to, -dx, -dy);
    arrows.appendChild(
      el('line', {
        x1: start.x + nx,
        y1: start.y + ny,
        x2: end.x + nx,
        y2: end.y + ny,
        class: 'arrow',
        'marker-end': markerRef,
      }),
    );
  }

  const boxes = el('g', { class: 'states' });
  const groups = new Map<string, SVGGElement>();
  const lineEls = new Map<string, { path: string; el: SVGTextElement; eventType: string }[]>();
  const draw = (node: Node) => {
    if (node !== root) {
      const g = el('g', {
        class: `state state-${node.def.type}`,
        'data-path': node.path,
        'data-key': node.def.key,
      });
      g.appendChild(el('rect', { x: node.x, y: node.y, width: node.w, height: node.h, rx: 7, class: 'box' }));
      if (node.def.type === 'final')
        g.appendChild(
          el('rect', {
            x: node.x + 3,
            y: node.y + 3,
            width: node.w - 6,
            height: node.h - 6,
            rx: 5,
            class: 'final-ring',
          }),
        );
      g.appendChild(el('text', { x: node.x + PAD, y: node.y + 15, class: 'state-name' }, node.def.key));
      const initial = node.def.id && nodes.get(node.def.id.split('.').slice(0, -1).join('.'));
      if (initial && initialKey(initial.def) === node.def.key && initial.def.type !== 'parallel') {
        g.appendChild(el('circle', { cx: node.x - 1, cy: node.y + 11, r: 3.5, class: 'initial-dot' }));
      }
      node.lines.forEach((line, index) => {
        const text = el(
          'text',
          { x: node.x + PAD, y: node.y + HEADER + 9 + index * LINE, class: 'transition' },
          line.text,
        );
        g.appendChild(text);
        const list = lineEls.get(node.path) ?? [];
        list.push({ path: node.path, el: text, eventType: line.eventType });
        lineEls.set(node.path, list);
      });
      groups.set(node.path, g);
      boxes.appendChild(g);
    }
    for (const child of node.children) draw(child);
  };
  draw(root);
  svg.appendChild(arrows);
  svg.appendChild(boxes);

  if (rootLines.length) {
    const y0 = root.h + LINE;
    svg.appendChild(el('text', { x: 0, y: y0, class: 'state-name' }, 'from any state:'));
    rootLines.forEach((line, index) => {
      const text = el('text', { x: 0, y: y0 + (index + 1) * LINE, class: 'transition' }, line.text);
      svg.appendChild(text);
      const list = lineEls.get('') ?? [];
      list.push({ path: '', el: text, eventType: line.eventType });
      lineEls.set('', list);
    });
  }

  let active: string[] = [];
  let flashTimer: ReturnType<typeof setTimeout> | undefined;
  const flashed: SVGTextElement[] = [];
  return {
    element: svg,
    setValue(value) {
      const next = activePaths(value);
      for (const path of active) groups.get(path)?.classList.remove('active');
      for (const path of next) groups.get(path)?.classList.add('active');
      active = next;
      svg.dataset.value = valueText(value);
      void rootId;
    },
    flash(eventType) {
      if (!eventType) return;
      for (const text of flashed.splice(0)) text.classList.remove('taken');
      for (const path of ['', ...active]) {
        for (const line of lineEls.get(path) ?? []) {
          if (line.eventType === eventType) {
            line.el.classList.add('taken');
            flashed.push(line.el);
          }
        }
      }
      if (flashTimer) clearTimeout(flashTimer);
      flashTimer = setTimeout(() => {
        for (const text of flashed.splice(0)) text.classList.remove('taken');
      }, 1_500);
    },
  };
}
