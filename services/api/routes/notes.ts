/**
 * `GET /notes`, `POST /notes`, `DELETE /notes/:id`: the caller's own notes only, by the token's subject.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { invalidRequest, mediaTypeOf, privateEmpty, privateJson } from "../http/answers";
import { requireScope, type ApiEnv } from "../http/authenticate";
import type { NotesStore } from "../notes-store";

export const MAX_BODY_BYTES = 16 * 1024;
export const MAX_NOTE_LENGTH = 1000;

export function notesRoutes(app: Hono<ApiEnv>, { notes, authenticated }: { notes: NotesStore; authenticated: MiddlewareHandler<ApiEnv> }): void {
  app.get("/notes", authenticated, requireScope("notes:read"), (c) => privateJson({ notes: notes.list(c.get("token").sub) }));

  app.post(
    "/notes",
    authenticated,
    requireScope("notes:write"),
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => invalidRequest(`body exceeds ${MAX_BODY_BYTES} bytes`) }),
    async (c) => {
      if (mediaTypeOf(c.req.header("Content-Type")) !== "application/json") {
        return invalidRequest("Content-Type must be application/json");
      }
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return invalidRequest("body is not valid JSON");
      }
      const text = typeof body === "object" && body !== null ? (body as Record<string, unknown>).text : undefined;
      if (typeof text !== "string") return invalidRequest("text must be a string");
      const trimmed = text.trim();
      const length = [...trimmed].length;
      if (length < 1 || length > MAX_NOTE_LENGTH) {
        return invalidRequest(`text must be 1 to ${MAX_NOTE_LENGTH} characters after trimming`);
      }
      return privateJson({ note: notes.create(c.get("token").sub, trimmed) }, 201);
    },
  );

  app.delete("/notes/:id", authenticated, requireScope("notes:write"), (c) =>
    notes.delete(c.get("token").sub, c.req.param("id")) ? privateEmpty(204) : privateJson({ error: "not_found" }, 404),
  );
}
