// Mocha's spec reporter, plus one closing line `N passed, N failed` (", N skipped" when some were)
// that CI reads as the sum of every suite.
'use strict';
const Mocha = require('mocha');

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      process.nextTick(() => {
        process.stdout.write(`\n${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}\n`);
      });
    });
  }
}

module.exports = SpecWithSummary;
