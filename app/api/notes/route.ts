/**
 * The user's notes: listed and created by the API, on the user's behalf.
 */
import { forwardWithSession } from "@/lib/session-proxy";

export const GET = (request: Request) => forwardWithSession(request, "/notes");
export const POST = (request: Request) => forwardWithSession(request, "/notes");
