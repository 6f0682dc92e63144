"use client";

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { bffFetch } from "@/lib/client/bff-fetch";
import { endedReason, SessionEnded } from "./session-ended";

interface Note {
  id: string;
  text: string;
  createdAt: string;
}

type Status = { kind: "loading" } | { kind: "ready" } | { kind: "signed-out"; reason?: string } | { kind: "error"; message: string };

async function errorMessage(response: Response): Promise<string> {
  const body = (await response.json().catch(() => null)) as { message?: unknown } | null;
  return typeof body?.message === "string" ? body.message : `The request failed (${response.status}).`;
}

export function Notes() {
  const [notes, setNotes] = useState<Note[]>([]);
  const [status, setStatus] = useState<Status>({ kind: "loading" });
  const [draft, setDraft] = useState("");

  const settle = useCallback(async (response: Response): Promise<boolean> => {
    if (response.status === 401) {
      setStatus({ kind: "signed-out", reason: await endedReason(response) });
      return false;
    }
    if (!response.ok) {
      setStatus({ kind: "error", message: await errorMessage(response) });
      return false;
    }
    setStatus({ kind: "ready" });
    return true;
  }, []);

  const [version, setVersion] = useState(0);
  const reload = () => setVersion((v) => v + 1);

  useEffect(() => {
    const controller = new AbortController();
    bffFetch("/api/notes", { signal: controller.signal })
      .then(async (response) => {
        if (await settle(response)) setNotes(((await response.json()) as { notes: Note[] }).notes);
      })
      .catch(() => {
        if (!controller.signal.aborted) setStatus({ kind: "error", message: "The app could not be reached." });
      });
    return () => controller.abort();
  }, [settle, version]);

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const text = draft.trim();
    if (!text) return;
    const response = await bffFetch("/api/notes", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
    });
    if (await settle(response)) {
      setDraft("");
      reload();
    }
  }

  async function remove(id: string) {
    if (await settle(await bffFetch(`/api/notes/${encodeURIComponent(id)}`, { method: "DELETE" }))) reload();
  }

  if (status.kind === "signed-out") return <SessionEnded reason={status.reason} className="rounded-lg border border-amber-300 bg-amber-50 p-4 text-amber-900" />;

  return (
    <div className="space-y-4">
      <h2 className="text-xl font-semibold">Your notes</h2>
      <form onSubmit={add} className="flex gap-2">
        <label htmlFor="new-note" className="sr-only">
          New note
        </label>
        <input
          id="new-note"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          maxLength={1000}
          placeholder="Write a note"
          className="flex-1 rounded-lg border border-slate-300 px-3 py-2 focus:border-indigo-500 focus:outline-none"
        />
        {/* Disabled until the notes have loaded: before hydration, a click would submit the form natively. */}
        <button
          type="submit"
          disabled={status.kind === "loading"}
          className="rounded-lg bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500 disabled:cursor-wait disabled:opacity-60"
        >
          Add note
        </button>
      </form>
      {status.kind === "error" && (
        <p role="alert" className="text-red-700">
          {status.message}
        </p>
      )}
      {status.kind === "loading" ? (
        <p className="text-slate-500">Loading notes…</p>
      ) : notes.length === 0 ? (
        <p className="text-slate-500" data-testid="no-notes">
          No notes yet.
        </p>
      ) : (
        <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" aria-label="Notes">
          {notes.map((note) => (
            <li key={note.id} className="flex items-center justify-between gap-4 px-4 py-3">
              <span className="break-words">{note.text}</span>
              <button
                type="button"
                onClick={() => remove(note.id)}
                className="text-sm text-slate-500 hover:text-red-600"
                aria-label={`Delete note: ${note.text}`}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
