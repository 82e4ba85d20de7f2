import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/golden/**/*.test.ts'],
          // Some unit tests start a process (tsx, eslint, yanglint, smilint): seconds each on a busy 2-core machine.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Namespace tests are CPU-bound on 2 cores; two files at once is the sweet spot.
          maxWorkers: 2,
        },
      },
      {
        // The appliance image under QEMU (npm run image:test): slow, not part of npm test.
        test: {
          name: 'image',
          include: ['test/image/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          maxWorkers: 1,
        },
      },
    ],
  },
});
