// `node --import ./test/support/record-imports.mjs …` with RECORD_IMPORTS_FILE=<path>: appends the URL
// of every module resolved under node_modules/@opentelemetry/ to that file, one a line (the test then
// knows which OpenTelemetry packages the process loaded).
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (file && result.url.includes('/node_modules/@opentelemetry/')) appendFileSync(file, result.url + '\\n');
  return result;
}`)}`,
  { data: { file: process.env.RECORD_IMPORTS_FILE } },
);
