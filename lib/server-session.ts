/**
 * The session as Server Components, route handlers and Server Actions see it. Node runtime only.
 *
 * It only reads: refreshing is the middleware's job, so nothing here ever calls the IdP.
 */
import { cookies } from "next/headers";
import { readSession } from "./sealed-session";
import type { Session } from "./session";

export async function getSession(): Promise<Session | null> {
  return readSession((await cookies()).getAll());
}
