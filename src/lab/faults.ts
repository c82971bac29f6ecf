import { z } from 'zod';
import {
  type FaultCommand,
  type FaultPatch,
  type FaultState,
  LAB_BACKENDS,
  type LabBackend,
  type LabFaults,
} from './types.js';

export function noFaults(): FaultState {
  return { down: false, latencyMs: 0, errorRate: 0, silent: false, status503: null };
}

/** The JSON body of `POST /faults/<backend>`; also validates programmatic patches. */
export const faultPatchSchema = z
  .object({
    down: z.boolean().optional(),
    latencyMs: z.number().finite().min(0).max(600_000).optional(),
    errorRate: z.number().finite().min(0).max(1).optional(),
    silent: z.boolean().optional(),
    status503: z
      .object({ retryAfterSeconds: z.number().int().min(0).max(86_400) })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();

/** mulberry32: a small, fast, seedable generator; enough for reproducible fault injection. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export type FaultListener = (backend: LabBackend, state: FaultState, previous: FaultState) => void;

/**
 * Holds the faults of every backend and their seeded error sequences. Setting `errorRate` restarts
 * that backend's sequence, so one configuration always fails the same requests.
 */
export class FaultTable {
  private readonly states = new Map<LabBackend, FaultState>();
  private readonly randoms = new Map<LabBackend, () => number>();
  private readonly listeners = new Set<FaultListener>();

  constructor(private readonly seed = 1) {
    for (const backend of LAB_BACKENDS) {
      this.states.set(backend, noFaults());
      this.reseed(backend);
    }
  }

  get(backend: LabBackend): FaultState {
    return this.states.get(backend) ?? noFaults();
  }

  all(): LabFaults {
    const result = {} as LabFaults;
    for (const backend of LAB_BACKENDS) result[backend] = cloneFault(this.get(backend));
    return result;
  }

  onChange(listener: FaultListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  apply(backend: LabBackend, fault: FaultPatch | FaultCommand): FaultState {
    const patch = typeof fault === 'string' ? commandToPatch(fault) : fault;
    const parsed = faultPatchSchema.safeParse(patch);
    if (!parsed.success) {
      throw new TypeError(`invalid fault for ${backend}: ${formatIssues(parsed.error)}`);
    }
    const previous = this.get(backend);
    const next: FaultState = { ...previous };
    const p = parsed.data;
    if (p.down !== undefined) next.down = p.down;
    if (p.latencyMs !== undefined) next.latencyMs = p.latencyMs;
    if (p.errorRate !== undefined) next.errorRate = p.errorRate;
    if (p.silent !== undefined) next.silent = p.silent;
    if (p.status503 !== undefined) next.status503 = p.status503 ? { ...p.status503 } : null;
    if (p.errorRate !== undefined) this.reseed(backend);
    this.states.set(backend, next);
    for (const listener of this.listeners) listener(backend, cloneFault(next), previous);
    return cloneFault(next);
  }

  clear(backend?: LabBackend): void {
    for (const name of backend ? [backend] : LAB_BACKENDS) {
      this.apply(name, noFaults());
    }
  }

  /** True when this request should fail, drawing from the backend's seeded sequence. */
  shouldFail(backend: LabBackend): boolean {
    const rate = this.get(backend).errorRate;
    if (rate <= 0) return false;
    const draw = this.randoms.get(backend)?.() ?? 1;
    return rate >= 1 || draw < rate;
  }

  private reseed(backend: LabBackend): void {
    this.randoms.set(backend, mulberry32(hashString(`${this.seed}:${backend}`)));
  }
}

export function cloneFault(state: FaultState): FaultState {
  return { ...state, status503: state.status503 ? { ...state.status503 } : null };
}

export function commandToPatch(command: FaultCommand): FaultPatch {
  switch (command) {
    case 'down':
      return { down: true };
    case 'up':
      return { down: false };
    case 'silent':
      return { silent: true };
    case 'unsilent':
      return { silent: false };
    case 'reset':
      return noFaults();
    default:
      throw new TypeError(`unknown fault command: ${String(command)}`);
  }
}

/**
 * Parses the textual fault commands of the CLI and docs: `down`, `up`, `silent`, `unsilent`, `reset`,
 * `latency <ms>`, `errorRate <0..1>`, `status503 <retryAfterSeconds>`, `status503 off`.
 */
export function parseFaultCommand(text: string): FaultPatch {
  const [word = '', arg, ...rest] = text.trim().split(/\s+/);
  if (rest.length > 0) throw new TypeError(`too many arguments in fault command: ${text}`);
  const number = (name: string): number => {
    const value = Number(arg);
    if (arg === undefined || arg === '' || !Number.isFinite(value)) {
      throw new TypeError(`${name} needs a number: ${text}`);
    }
    return value;
  };
  let patch: FaultPatch;
  switch (word) {
    case 'down':
    case 'up':
    case 'silent':
    case 'unsilent':
    case 'reset':
      if (arg !== undefined) throw new TypeError(`${word} takes no argument`);
      patch = commandToPatch(word);
      break;
    case 'latency':
      patch = { latencyMs: number('latency') };
      break;
    case 'errorRate':
      patch = { errorRate: number('errorRate') };
      break;
    case 'status503':
      patch = { status503: arg === 'off' ? null : { retryAfterSeconds: number('status503') } };
      break;
    default:
      throw new TypeError(`unknown fault command: ${text}`);
  }
  const parsed = faultPatchSchema.safeParse(patch);
  if (!parsed.success) throw new TypeError(`invalid fault command "${text}": ${formatIssues(parsed.error)}`);
  return parsed.data;
}

export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
