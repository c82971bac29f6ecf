/** `<prefix>_<ms>_<random>` as the earlier bridge made request ids (`evo_…`, `agent_…`). */
export function requestId(prefix: string, now: number, random: () => number): string {
  const suffix = Math.floor(random() * 36 ** 9)
    .toString(36)
    .padStart(9, '0');
  return `${prefix}_${now}_${suffix}`;
}

/** An RFC 4122 version-4 UUID from `random` (so tests with an injected source stay deterministic). */
export function uuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16));
  hex[12] = 4;
  hex[16] = ((hex[16] as number) & 0x3) | 0x8;
  const s = hex.map((n) => n.toString(16)).join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
