/** docs/grafana-dashboard.json for the tests: its path and its PromQL expressions. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../e2e/helpers.js';

export const DASHBOARD = join(ROOT, 'docs/grafana-dashboard.json');

export interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
}

/** Every PromQL expression of the dashboard (panels and template variables). */
export function dashboardQueries(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: Panel[];
    templating: { list: Array<{ query: { query: string } }> };
  };
  return [
    ...dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
    ...dashboard.templating.list.map((variable) => variable.query.query),
  ];
}
