/**
 * The process's list of ended sessions: the one piece of server-side state behind the stateless cookie.
 *
 * One store per process, chosen by configuration: Redis with `REDIS_URL`, shared by every instance;
 * otherwise an embedded SQLite file, `DATA_DIR/web/ended-sessions.sqlite`. Node runtime only: the
 * middleware must never import this module.
 */
import path from "node:path";
import { getConfig } from "@/lib/config";
import { sharedRedis } from "@/lib/server/redis";
import { createRedisEndedSessions } from "./redis";
import { createSqliteEndedSessions, openEndedSessionsFile } from "./sqlite";
import type { EndedSessions } from "./store";

// Next.js bundles this module into each route that uses it, so module state would be per route. The store is
// the process's one copy of the list (its SQLite file is opened once, and exclusively), so it lives on globalThis.
const STORE = Symbol.for("tessera.endedSessions");
type Registry = { [STORE]?: EndedSessions };

/** Opened on first use, not at import: `next build` loads the routes that use it. */
export function endedSessions(): EndedSessions {
  const registry = globalThis as Registry;
  registry[STORE] ??= openStore();
  return registry[STORE];
}

function openStore(): EndedSessions {
  const redis = sharedRedis();
  if (redis) return createRedisEndedSessions(redis);
  const { dataDir } = getConfig();
  return createSqliteEndedSessions(openEndedSessionsFile(path.join(dataDir, "web", "ended-sessions.sqlite")));
}
