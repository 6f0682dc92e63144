import next from "eslint-config-next/core-web-vitals";
import nextTypescript from "eslint-config-next/typescript";

/**
 * Code that the edge middleware may load: Web APIs, `jose`, `oauth4webapi`, `iron-session`, Auth.js, Next.js's edge modules, and the OpenTelemetry API and SDK (their browser builds send with `fetch`).
 * Node-only code lives in `lib/server/` (and in the services, which the app never imports).
 */
const EDGE_SAFE = ["middleware.ts", "lib/*.ts", "lib/{session,refresh,idp,api,http,client,telemetry}/**/*.ts"];

/** Every production module of lib/ keeps the dependency direction: it serves app/, and reaches the services over HTTP. */
const LIB_DIRECTION = [
  { group: ["@/lib/testing/**", "**/testing/**", "**/scripts/**"], message: "Production code imports no test helper." },
  { group: ["@/app/**", "@/services/**", "**/services/**", "**/e2e/**"], message: "lib/ never imports app/, services/ or e2e/." },
];

const config = [
  ...next,
  ...nextTypescript,
  {
    rules: {
      // Links to /auth/* start a protocol flow in a route handler: they must be full navigations, never
      // client-side transitions or prefetches, so they are plain <a> elements on purpose.
      "@next/next/no-html-link-for-pages": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      // A module graph without circles: a contract sits below its implementations, never beside them.
      "import/no-cycle": ["error", { ignoreExternal: true }],
    },
  },
  {
    files: EDGE_SAFE,
    ignores: ["**/*.test.ts"],
    rules: {
      "import/no-nodejs-modules": "error",
      "no-restricted-imports": [
        "error",
        {
          paths: [
            { name: "next/headers", message: "Edge-safe code reads cookies from the request; next/headers belongs in lib/server/." },
            { name: "better-sqlite3", message: "Node-only: keep it in lib/server/." },
            { name: "ioredis", message: "Node-only: keep it in lib/server/." },
          ],
          patterns: [
            { group: ["@/lib/server", "@/lib/server/**", "**/server/**", "./server", "../server"], message: "Edge-safe code never imports lib/server/ (Node-only)." },
            ...LIB_DIRECTION,
          ],
        },
      ],
    },
  },
  {
    files: ["lib/server/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: LIB_DIRECTION }] },
  },
  { ignores: [".next/**", ".data/**", ".bench/**", "node_modules/**", "test-results/**", "playwright-report/**", "next-env.d.ts"] },
];

export default config;
