/**
 * Benchmark reference: the `/bench/dashboard` page, with the middleware matched but returning at once, so
 * that what Next.js charges for running any middleware on a page is measured on its own. Served only with
 * BENCHMARK_ROUTES=1 (the page it renders checks).
 */
import BenchDashboard from "../dashboard/page";

// Next.js reads this field statically from each page: it cannot be re-exported.
export const dynamic = "force-dynamic";

export default BenchDashboard;
