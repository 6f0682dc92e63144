/**
 * The benchmark's baselines (`npm run bench`), in one place and apart from the product's own paths. Each is a
 * copy of a product path that leaves out the part being measured:
 *
 * - `/bench/notes` forwards a Bearer token the caller brings, outside the middleware: what `/api/notes` costs
 *   beyond it is the session;
 * - `/bench/dashboard` renders the dashboard without the middleware: what `/dashboard` costs beyond it is the
 *   middleware;
 * - `/bench/passthrough` renders the same page through the middleware, which returns at once: what running any
 *   middleware at all costs a page.
 *
 * They exist only with `BENCHMARK_ROUTES=1` (see `config.ts`, which refuses it in production off localhost);
 * otherwise `/bench/*` answers 404, and the middleware treats `/bench/passthrough` as any other page.
 * Edge-safe.
 */
import { getConfig } from "./config";

export const benchmarkRoutesOn = (): boolean => getConfig().benchmarkRoutes;

/** Whether the middleware is to let this request through untouched. */
export const isBenchmarkPassthrough = (pathname: string): boolean => pathname === "/bench/passthrough" && benchmarkRoutesOn();
