import { describe, expect, it } from "vitest";
import { createJsonLogger } from "./logger";

describe("createJsonLogger", () => {
  it("writes one JSON object per line with level, event and fields", () => {
    const lines: string[] = [];
    const log = createJsonLogger((line) => lines.push(line));
    log.info("request", { method: "GET", status: 200 });
    log.warn("slow", { text: "two\nlines" });
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => !line.includes("\n"))).toBe(true);
    expect(JSON.parse(lines[0] ?? "")).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: "info",
      event: "request",
      method: "GET",
      status: 200,
    });
    expect(JSON.parse(lines[1] ?? "")).toMatchObject({ level: "warn", text: "two\nlines" });
  });

  it("keeps the name, message and cause of errors, which JSON.stringify would drop", () => {
    const lines: string[] = [];
    createJsonLogger((line) => lines.push(line)).error("failed", {
      error: new Error("outer", { cause: new TypeError("inner") }),
    });
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      level: "error",
      error: { name: "Error", message: "outer", cause: { name: "TypeError", message: "inner" } },
    });
  });
});
