/**
 * Alive, for load balancers: the process answers. No session, no anti-forgery header, no details.
 */
import { json } from "@/lib/http/json";

export const dynamic = "force-dynamic";

export function GET(): Response {
  return json({ status: "ok" });
}
