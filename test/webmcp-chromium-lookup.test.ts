/** test/support/chromium: skip locally with the install hint, fail under CI. */
import { describe, expect, it } from 'vitest';
import { chromiumOrSkip } from './support/chromium.js';

describe('chromiumOrSkip', () => {
  const none = ['/nonexistent/chromium'];

  it('skips locally with a message saying how to install Chromium', () => {
    const lookup = chromiumOrSkip({}, none);
    expect(lookup.path).toBeUndefined();
    expect(lookup.skipReason).toContain('apt-get install -y chromium');
  });

  it('throws instead of skipping when CI is set', () => {
    expect(() => chromiumOrSkip({ CI: 'true' }, none)).toThrow(/apt-get install -y chromium[\s\S]*CI is set/);
  });

  it('prefers CHROMIUM_PATH when it exists', () => {
    expect(chromiumOrSkip({ CHROMIUM_PATH: process.execPath }, none)).toEqual({
      path: process.execPath,
      skipReason: undefined,
    });
  });
});
