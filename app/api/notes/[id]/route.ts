/**
 * Deletes one of the user's notes. The id must look like one the API issues, so nothing but a plain
 * id segment (no `..`, slashes or encoded tricks) ever reaches the upstream URL.
 */
import type { NextRequest } from "next/server";
import { jsonError } from "@/lib/http/json";
import { forwardWithSession } from "@/lib/server/data-route";

const NOTE_ID = /^[A-Za-z0-9-]{1,64}$/;

export async function DELETE(request: NextRequest, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  if (!NOTE_ID.test(id)) return jsonError(404, "not_found", "No such note.");
  return forwardWithSession(request, `/notes/${id}`, "/api/notes/[id]");
}
