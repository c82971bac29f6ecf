/*
 * The lab counts HTTP requests whose client disconnected before the answer (a cancelled call), in
 * `stats()` and in the control API's GET /stats: a cancellation test can see the request was dropped.
 */
import { afterEach, expect, test } from 'vitest';
import { type Lab, startLab } from '../src/lab/index.js';
import { until } from './bridge-fixtures.js';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

test('an LM Studio request abandoned by its client counts as aborted; answered and reset ones do not', async () => {
  lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  const models = `${lab.urls.lmStudio}/models`;
  expect((await fetch(models)).status).toBe(200);

  lab.fault('lmStudio', { silent: true });
  const controller = new AbortController();
  const call = fetch(models, { signal: controller.signal }).catch((error: Error) => error.name);
  const current = lab;
  await until(() => current.stats().lmStudio.hung === 1, 5_000, 'request held');
  controller.abort();
  expect(await call).toBe('AbortError');
  await until(() => current.stats().lmStudio.aborted === 1, 5_000, 'abort seen');

  lab.fault('lmStudio', { silent: false, down: true }); // the lab's own resets are not client aborts
  await fetch(models).catch(() => {});
  lab.clear('lmStudio');
  expect((await fetch(models)).status).toBe(200);
  expect(lab.stats().lmStudio.aborted).toBe(1);

  const stats = await fetch(`${lab.urls.control}/stats`, {
    headers: { authorization: `Bearer ${lab.token}` },
  });
  expect(((await stats.json()) as { lmStudio: { aborted: number } }).lmStudio.aborted).toBe(1);
});
