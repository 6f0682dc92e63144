/**
 * The signed-in user's public claims and session timing. Never a token.
 */
import { json, unauthenticated } from "@/lib/json-response";
import { getSession } from "@/lib/server-session";
import { toPublicSession } from "@/lib/session";

export async function GET(): Promise<Response> {
  const session = await getSession();
  return session ? json(toPublicSession(session)) : unauthenticated();
}
