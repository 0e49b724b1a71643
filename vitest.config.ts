import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    globalSetup: ['test/helpers/global-setup.ts'],
    // The end-to-end tests spawn the built CLI; two workers fit the 2-core machines.
    maxWorkers: 2,
    env: {NO_COLOR: '1', COLUMNS: '200'},
  },
})
