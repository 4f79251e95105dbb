import { configDefaults, defineConfig } from 'vitest/config';

/** Run on their own, after everything else: their measurements need the machine to themselves. */
const ALONE = ['test/bench.test.ts'];

export default defineConfig({
  test: {
    // Native addons and GStreamer's threads: one process per test file, never worker threads
    // (worker_threads support has its own explicit test).
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // A stopgap, reported in the closing note: under a loaded 2-core machine a few
    // tests still lose a rare race. One was found on 2026-12-02 (an ICE transport left
    // `checking` for good, native/ice_state_sync.cc), which may have been the WHIP
    // session that never connected in 1 of ~2,500. A failing test is run once more,
    // and the summary names it with the error of its failed attempt; a test that
    // fails twice fails the run. Remove once the runs show no retries.
    retry: 1,
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Two groups, run one after the other: the suite (two files at a time), then the benchmark alone.
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...ALONE], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, sequence: { groupOrder: 1 }, poolOptions: { forks: { maxForks: 1, minForks: 1 } } },
      },
    ],
  },
});
