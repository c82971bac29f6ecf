/** What {@link checkNumber} accepts. Every rule also requires a finite number. */
export interface NumberRule {
  /** > 0. */
  positive?: boolean;
  integer?: boolean;
  /** ≥ min. */
  min?: number;
  /** ≤ max. */
  max?: number;
  /** < below. */
  below?: number;
}

function describe(rule: NumberRule): string {
  const kind = rule.integer ? 'integer' : 'number';
  const bounds = [
    rule.positive ? '> 0' : undefined,
    rule.min !== undefined ? `≥ ${rule.min}` : undefined,
    rule.max !== undefined ? `≤ ${rule.max}` : undefined,
    rule.below !== undefined ? `< ${rule.below}` : undefined,
  ].filter(Boolean);
  return `a finite ${kind}${bounds.length ? ` ${bounds.join(' and ')}` : ''}`;
}

/** Returns `value` when it follows `rule`; otherwise throws a `RangeError` that names the option. */
export function checkNumber(name: string, value: unknown, rule: NumberRule = {}): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (rule.positive && !(value > 0)) ||
    (rule.integer && !Number.isInteger(value)) ||
    (rule.min !== undefined && value < rule.min) ||
    (rule.max !== undefined && value > rule.max) ||
    (rule.below !== undefined && value >= rule.below)
  ) {
    throw new RangeError(`${name} must be ${describe(rule)}, got ${String(value)}`);
  }
  return value;
}
