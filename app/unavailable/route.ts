/**
 * Where a page goes while the list of ended sessions cannot be read (see `getPageSession`): 503 with
 * `Retry-After`, the session cookie untouched, and a link back to the page asked for. A page cannot choose its
 * own status code; a route can.
 */
import type { NextRequest } from "next/server";
import { SERVICE_RETRY_AFTER_SECONDS } from "@/lib/http/json";
import { safeReturnTo } from "@/lib/http/return-to";
import { nonceFrom } from "@/lib/http/security-headers";
import { unavailablePage } from "@/lib/http/unavailable-page";

export const dynamic = "force-dynamic";

export function GET(request: NextRequest): Response {
  const tryAgain = safeReturnTo(request.nextUrl.searchParams.get("returnTo"));
  return unavailablePage(nonceFrom(request.headers), SERVICE_RETRY_AFTER_SECONDS, { why: "service", tryAgain });
}
