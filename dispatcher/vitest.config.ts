import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { defaultBindings } from "./test/fixtures.ts";

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      main: "./src/index.ts",
      wrangler: { configPath: "./wrangler.jsonc" },
      miniflare: { cf: false, bindings: defaultBindings(inject("receiverUrl")) },
    })),
  ],
  test: {
    globalSetup: ["./test/node/receiver.ts"],
    testTimeout: 15000,
    // Logs are asserted where they matter; the rest only shows for failing tests.
    silent: "passed-only",
  },
});
