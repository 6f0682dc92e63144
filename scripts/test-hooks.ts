/**
 * Calling the dev IdP's and the API's test hooks from the runners that start them with their hooks on: the
 * end-to-end suite (its own servers, the interop and cluster stacks) and the benchmark. A hook answers only a
 * request that carries the run's `TEST_HOOKS_TOKEN` (services/shared/test-hooks-access.ts); the runner makes one
 * per run and hands it to the services through their environment. Without it, a hook answers 404, as if there were
 * none.
 */
import { randomBytes } from "node:crypto";
import { TEST_HOOKS_HEADER } from "../services/shared/test-hooks-access";

/**
 * This run's token: the one already in the environment (a Playwright worker inherits its runner's), else a new one,
 * put into `process.env` so that every process started from here on, worker or service, has the same.
 */
export function ensureTestHooksToken(): string {
  const existing = process.env.TEST_HOOKS_TOKEN?.trim();
  if (existing) return existing;
  const token = randomBytes(32).toString("base64url");
  process.env.TEST_HOOKS_TOKEN = token;
  return token;
}

/** The header every hook request carries. */
export function testHooksHeaders(): Record<string, string> {
  const token = process.env.TEST_HOOKS_TOKEN?.trim();
  if (!token) throw new Error("TEST_HOOKS_TOKEN is not set: the runner that starts the services makes it (ensureTestHooksToken)");
  return { [TEST_HOOKS_HEADER]: token };
}

/** `fetch` for the hook `path` (`stats?sub=...`) of the service at `origin`. */
export function fetchTestHook(origin: string | URL, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(testHooksHeaders())) headers.set(name, value);
  return fetch(new URL(`/__test/${path}`, origin), { ...init, headers });
}
