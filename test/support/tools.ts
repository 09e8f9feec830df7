/**
 * What a suite does when a tool it needs is missing: in CI (CI=true) that is a failure, never a
 * silent skip; on a user's machine the suite is skipped with a notice that cannot be missed.
 */
const warned = new Set<string>();

/**
 * Fails the suite in CI, else skips it with a loud notice (once per tool).
 * @param what the suites that need the tool, e.g. "chart tests"
 * @param why what is missing and how to install it
 */
export function missingTool(ctx: Mocha.Context, what: string, why: string): never {
  if (process.env.CI === 'true') throw new Error(`${what} need this in CI: ${why}`);
  if (!warned.has(why)) {
    warned.add(why);
    process.stderr.write(`\n${'!'.repeat(100)}\n!!! SKIPPING ${what.toUpperCase()}: ${why}\n${'!'.repeat(100)}\n\n`);
  }
  ctx.skip();
}
