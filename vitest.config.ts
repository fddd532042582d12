import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/setup/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // 2 cores: interop tests run real-time ffmpeg and Chromium; two files at a time keeps them honest.
    maxWorkers: 2,
    teardownTimeout: 10_000,
  },
});
