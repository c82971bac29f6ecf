/** `<prefix>_<ms>_<random>` as the earlier bridge made request ids (`evo_…`, `agent_…`). */
export function requestId(prefix: string, now: number, random: () => number): string {
  // The 9 base-36 digits of one draw, as 5 + 4: radix conversion of small integers is ~6× faster
  // than of one ~2^47 number (V8), and the digits are the same.
  const draw = Math.floor(random() * 36 ** 9);
  const high = Math.floor(draw / DIGITS_4);
  const low = draw - high * DIGITS_4;
  return `${prefix}_${now}_${high.toString(36).padStart(5, '0')}${low.toString(36).padStart(4, '0')}`;
}

const DIGITS_4 = 36 ** 4;

/** An RFC 4122 version-4 UUID from `random` (so tests with an injected source stay deterministic). */
export function uuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16));
  hex[12] = 4;
  hex[16] = ((hex[16] as number) & 0x3) | 0x8;
  const s = hex.map((n) => n.toString(16)).join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
