/**
 * The signed-in user's public claims and session timing. Never a token.
 */
import type { NextRequest } from "next/server";
import { authorizeDataRequest } from "@/lib/server/data-route";
import { json } from "@/lib/http/json";
import { toPublicSession } from "@/lib/session/session";

export async function GET(request: NextRequest): Promise<Response> {
  const session = await authorizeDataRequest(request);
  return session instanceof Response ? session : json(toPublicSession(session));
}
