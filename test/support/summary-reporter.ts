// Prints one plain closing line, "tests: N passed, N failed, N skipped", for CI logs,
// after the first error of each test that passed only on its retry (vitest.config.ts):
// what made it fail once is the clue to the race behind it.
import type { Reporter, TestModule } from 'vitest/node' with { 'resolution-mode': 'import' };

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const retried: string[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') counts.passed++;
        else if (result.state === 'failed') counts.failed++;
        else counts.skipped++;
        const firstError = result.state === 'passed' ? result.errors?.[0] : undefined;
        if (firstError !== undefined) retried.push(`retried: ${module.moduleId.split('/').pop()} > ${test.fullName}: ${firstError.message.split('\n')[0]}`);
      }
      if (module.state() === 'failed' && module.children.size === 0) counts.failed++;
    }
    for (const line of retried) process.stdout.write(`\n${line}`);
    process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
