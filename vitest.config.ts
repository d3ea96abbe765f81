import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { ADMIN_KEY, DASHBOARD_ORIGIN } from "./test/fixtures/settings.js";

export default defineConfig({
  test: {
    projects: [
      {
        // The Node server and everything else: app.request() over memory and temp-dir stores, real processes on loopback.
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/cloudflare/**"],
          globalSetup: ["test/e2e/build.global.ts"],
          testTimeout: 15_000,
        },
      },
      {
        // The Worker inside workerd, with a local R2 bucket, configured by the example wrangler file users copy.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.example.toml" },
            miniflare: { bindings: { OPTA_ADMIN_KEY: ADMIN_KEY, OPTA_CORS_ORIGINS: DASHBOARD_ORIGIN } },
          }),
        ],
        test: { name: "worker", include: ["test/cloudflare/**/*.test.ts"], testTimeout: 15_000 },
      },
    ],
  },
});
