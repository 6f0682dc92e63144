import { describe, expect, it } from "vitest";
import { EXPORT_FAILURE_LOG_INTERVAL_MS, exportFailureLog } from "./export-failures";

class OTLPExporterError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = "OTLPExporterError";
  }
}

function logged(now: { ms: number }) {
  const lines: string[] = [];
  return { lines, report: exportFailureLog((line) => lines.push(line), () => now.ms) };
}

describe("exportFailureLog", () => {
  it("says the first failure at once, by the error's name and status, never its message", () => {
    const now = { ms: 1_000 };
    const { lines, report } = logged(now);
    report(new OTLPExporterError("Unauthorized: key sk-SECRET-KEY is not valid", 401));
    expect(lines).toEqual(["an export to the collector failed: OTLPExporterError 401"]);
    expect(lines.join()).not.toContain("SECRET");
  });

  it("says at most one line a minute however many exports fail, with how many went unsaid", () => {
    const now = { ms: 0 };
    const { lines, report } = logged(now);
    for (let batch = 0; batch < 500; batch += 1) {
      report(new OTLPExporterError("refused", 401));
      now.ms += 100;
    }
    // 500 failures over 50 s: the first line only.
    expect(lines).toHaveLength(1);
    now.ms = EXPORT_FAILURE_LOG_INTERVAL_MS;
    report(new Error("socket hang up"));
    expect(lines).toEqual(["an export to the collector failed: OTLPExporterError 401", "an export to the collector failed: Error (and 499 more since the last line)"]);
  });

  it("names a string code only when it is a plain word, and anything not an Error as unknown", () => {
    const now = { ms: 0 };
    const { lines, report } = logged(now);
    report(Object.assign(new Error("x"), { code: "ECONNREFUSED" }));
    now.ms += EXPORT_FAILURE_LOG_INTERVAL_MS;
    report(Object.assign(new Error("x"), { code: "token=abc def" }));
    now.ms += EXPORT_FAILURE_LOG_INTERVAL_MS;
    report("a string");
    expect(lines).toEqual([
      "an export to the collector failed: Error ECONNREFUSED",
      "an export to the collector failed: Error",
      "an export to the collector failed: unknown error",
    ]);
  });
});
