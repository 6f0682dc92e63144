import { isValidElement } from "react";
import { describe, expect, it, vi } from "vitest";
import Dashboard from "../../dashboard/page";

const config = vi.hoisted(() => ({ benchmarkRoutes: false }));
vi.mock("@/lib/config", () => ({ getConfig: () => config }));

const { default: BenchDashboard } = await import("./page");

describe("/bench/dashboard", () => {
  it("is not found unless BENCHMARK_ROUTES is on", () => {
    config.benchmarkRoutes = false;
    expect(() => BenchDashboard()).toThrow(/NEXT_HTTP_ERROR_FALLBACK;404/);
  });

  it("renders the dashboard page itself when on", () => {
    config.benchmarkRoutes = true;
    const element = BenchDashboard();
    expect(isValidElement(element) && element.type).toBe(Dashboard);
  });
});
