/**
 * The signed-in user's public claims and session timing. Never a token.
 */
import type { NextRequest } from "next/server";
import { sessionForDataRequest } from "@/lib/data-request";
import { json } from "@/lib/json-response";
import { toPublicSession } from "@/lib/session";

export async function GET(request: NextRequest): Promise<Response> {
  const session = await sessionForDataRequest(request);
  return session instanceof Response ? session : json(toPublicSession(session));
}
