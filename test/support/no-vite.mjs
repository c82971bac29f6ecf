// `node --import ./test/support/no-vite.mjs …`: makes `vite` (and `tsx`'s absence aside, nothing
// else) unresolvable, as in an installed package, where vite is not a dependency.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === 'vite' || specifier.startsWith('vite/')) {
    const error = new Error("Cannot find package 'vite' (hidden by test/support/no-vite.mjs)");
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`)}`,
);
