import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL(".", import.meta.url)) } },
  test: {
    include: ["middleware.test.ts", "lib/**/*.test.ts", "app/**/*.test.ts", "services/**/*.test.ts", "scripts/**/*.test.ts"],
    environment: "node",
  },
});
