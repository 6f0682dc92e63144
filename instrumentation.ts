/**
 * Runs once as each server process starts, before it answers any request: the web instance's start-up checks
 * (`lib/server/start-up.ts`). `NEXT_RUNTIME` is set by Next.js itself, at build time, and keeps the Node-only
 * checks out of the edge bundle.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startInstance } = await import("@/lib/server/start-up");
  startInstance();
}
