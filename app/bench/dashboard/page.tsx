/**
 * Benchmark baseline for `/dashboard`: the same page, which the middleware matcher leaves out. What
 * `/dashboard` costs beyond this is the middleware. Served only with BENCHMARK_ROUTES=1.
 */
import { notFound } from "next/navigation";
import { benchmarkRoutesOn } from "@/lib/benchmark";
import Dashboard from "../../dashboard/page";

// The flag is read per request: a build made without the benchmark's environment must not bake in a 404.
export const dynamic = "force-dynamic";

export default function BenchDashboard() {
  if (!benchmarkRoutesOn()) notFound();
  return <Dashboard />;
}
