/**
 * The user's notes: listed and created by the API, on the user's behalf.
 */
import type { NextRequest } from "next/server";
import { forwardWithSession } from "@/lib/server/data-route";

export const GET = (request: NextRequest) => forwardWithSession(request, "/notes", "/api/notes");
export const POST = (request: NextRequest) => forwardWithSession(request, "/notes", "/api/notes");
