/**
 * The HTTP face of the resource server, as an ordered list of steps; everything it depends on is passed in.
 *
 * 1. Trace and measure every request when telemetry is on (`http/request-telemetry.ts`); log it (method, path, status,
 *    time, subject).
 * 2. `GET /healthz`: alive; `GET /readyz`: ready (the issuer's keys found, the revocation list answering), no details.
 * 3. `GET /me`: the verified token's subject, scopes and expiry, and no more.
 * 4. The notes routes (`routes/notes.ts`) and the revocation list's routes (`routes/revocations.ts`).
 * 5. Anything else: 404 JSON; a fault: 500 JSON, with the detail in the log only.
 */
import { Hono } from "hono";
import { privateJson } from "./http/answers";
import { authenticate, type ApiEnv, type AuthenticateOptions } from "./http/authenticate";
import { requestTelemetry } from "./http/request-telemetry";
import { measuring } from "./telemetry/signals";
import { tracing } from "./telemetry/tracing";
import type { NotesStore } from "./notes-store";
import { notesRoutes } from "./routes/notes";
import { revocationRoutes, type RevocationRoutesOptions } from "./routes/revocations";

export interface ApiOptions extends AuthenticateOptions, Omit<RevocationRoutesOptions, "authenticated" | "now"> {
  notes: NotesStore;
  /** Resolves when the API can verify and check tokens; rejects, saying why for the log, when it cannot. */
  readiness?: () => Promise<unknown>;
  /** Epoch milliseconds. */
  now?: () => number;
}

export function createApi(options: ApiOptions): Hono<ApiEnv> {
  const { notes, log, readiness = async () => {}, now = Date.now } = options;
  const app = new Hono<ApiEnv>();
  const authenticated = authenticate(options);

  // Only when telemetry has started (before the app is made): off, a request does not pass one more step.
  if (tracing() || measuring()) app.use(requestTelemetry);
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    log.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
      sub: c.get("token")?.sub,
    });
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  // For load balancers: ready or not, never why; the log says why.
  app.get("/readyz", async () => {
    try {
      await readiness();
      return privateJson({ status: "ready" });
    } catch (error) {
      log.error("not_ready", { error });
      return privateJson({ status: "not_ready" }, 503);
    }
  });

  // What the contract promises and no more: the token's identifiers (jti, sid) are the revocation list's business.
  app.get("/me", authenticated, (c) => {
    const { sub, scopes, exp } = c.get("token");
    return privateJson({ sub, scopes, exp });
  });

  notesRoutes(app, { notes, authenticated });
  revocationRoutes(app, { ...options, authenticated, now });

  app.notFound((c) => c.json({ error: "not_found" }, 404));

  app.onError((error, c) => {
    log.error("server_error", { method: c.req.method, path: c.req.path, error, stack: error.stack });
    return privateJson({ error: "server_error" }, 500);
  });

  return app;
}
