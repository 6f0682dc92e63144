import type { NextConfig } from "next";
import { DATA_ROUTE_CSP, STATIC_SECURITY_HEADERS } from "./lib/http/security-headers";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  // Per-request headers (the pages' CSP with its nonce, HSTS) come from the middleware; these hold for every
  // file, and for the data routes, which mostly bypass the middleware (see lib/session/fresh-hint.ts).
  headers: async () => [
    { source: "/:path*", headers: [...STATIC_SECURITY_HEADERS] },
    { source: "/api/:path*", headers: [{ key: "Content-Security-Policy", value: DATA_ROUTE_CSP }] },
  ],
};

export default nextConfig;
