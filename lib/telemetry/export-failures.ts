/**
 * What the SDK reports when an export fails, as log lines: the first failure at once, then at most one line a
 * minute saying how many more there were. A collector that is down, or refuses the key, fails every batch; the log
 * must not grow with the traffic. Only the error's name and stable code or HTTP status are said: an exporter's
 * message can quote what the collector answered. Edge-safe; the clock is injectable.
 */
export const EXPORT_FAILURE_LOG_INTERVAL_MS = 60_000;

export function exportFailureLog(log: (line: string) => void, now: () => number = Date.now): (error: unknown) => void {
  let loggedAt = -Infinity;
  let unsaid = 0;
  return (error) => {
    if (now() - loggedAt < EXPORT_FAILURE_LOG_INTERVAL_MS) {
      unsaid += 1;
      return;
    }
    const more = unsaid > 0 ? ` (and ${unsaid} more since the last line)` : "";
    loggedAt = now();
    unsaid = 0;
    log(`an export to the collector failed: ${describeFailure(error)}${more}`);
  };
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return "unknown error";
  const { code } = error as { code?: unknown };
  const name = /^[A-Za-z]{1,64}$/.test(error.name) ? error.name : "Error";
  return typeof code === "number" || (typeof code === "string" && /^[A-Za-z0-9_]{1,64}$/.test(code)) ? `${name} ${code}` : name;
}
