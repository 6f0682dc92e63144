/**
 * Whether this instance can serve, for load balancers (`GET /readyz`): the IdP's discovery is loaded (sign-in and
 * every refresh need it), and the list of ended sessions answers (every session read needs it: the embedded file
 * opened by this process, or Redis reachable). The answer says ready or not, never why; the log says why.
 * Node runtime only.
 */
import { withDeadline } from "@/lib/http/deadline";
import { json } from "@/lib/http/json";
import { logError } from "@/lib/log";

export type ReadinessChecks = Record<string, () => Promise<unknown>>;

/** `check`, failing if it has not settled within `timeoutMs`; the timer goes as soon as it settles. */
const settled = (check: () => Promise<unknown>, timeoutMs: number) =>
  withDeadline(
    timeoutMs,
    (signal) =>
      new Promise((resolve, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason));
        check().then(resolve, reject);
      }),
  );

/** The names of the checks that failed or did not answer within `timeoutMs`, each check run once, all at once. */
export async function failedChecks(checks: ReadinessChecks, timeoutMs: number): Promise<string[]> {
  const failed = await Promise.all(
    Object.entries(checks).map(([name, check]) =>
      settled(check, timeoutMs).then(
        () => undefined,
        (error: unknown) => {
          logError("readiness", `not ready: ${name}`, error);
          return name;
        },
      ),
    ),
  );
  return failed.filter((name): name is string => name !== undefined);
}

/** 200 `{"status":"ready"}`, or 503 `{"status":"not_ready"}`: nothing an outsider could use. */
export async function readinessAnswer(checks: ReadinessChecks, timeoutMs: number): Promise<Response> {
  const failed = await failedChecks(checks, timeoutMs);
  return failed.length === 0 ? json({ status: "ready" }) : json({ status: "not_ready" }, 503);
}
