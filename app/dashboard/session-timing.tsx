"use client";

import { useEffect, useState } from "react";
import { bffFetch } from "@/lib/client/bff-fetch";
import { endedReason, SessionEnded } from "./session-ended";

interface Timing {
  accessTokenExpiresAt: number;
  sessionExpiresAt: number;
}

function remaining(untilMs: number, nowMs: number): string {
  const seconds = Math.max(0, Math.round((untilMs - nowMs) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

/**
 * A live countdown of the access token and the session. When the access token runs out, it asks
 * `/api/me` again: the middleware refreshes the token on that request, and the countdown restarts.
 */
export function SessionTiming(initial: Timing) {
  const [timing, setTiming] = useState(initial);
  // Server and browser render at different instants: the countdowns below tolerate the one-second mismatch.
  const [now, setNow] = useState(() => Date.now());
  // Once a data request says the session is over: why, if it said.
  const [ended, setEnded] = useState<{ reason?: string } | undefined>(undefined);

  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);

  const tokenLapsed = now >= timing.accessTokenExpiresAt;
  useEffect(() => {
    if (!tokenLapsed || ended) return;
    const controller = new AbortController();
    bffFetch("/api/me", { signal: controller.signal })
      .then(async (response) => {
        if (response.status === 401) return setEnded({ reason: await endedReason(response) });
        if (!response.ok) return;
        const me = (await response.json()) as { accessTokenExpiresAt: string; sessionExpiresAt: string };
        setTiming({ accessTokenExpiresAt: Date.parse(me.accessTokenExpiresAt), sessionExpiresAt: Date.parse(me.sessionExpiresAt) });
      })
      .catch(() => undefined);
    return () => controller.abort();
  }, [tokenLapsed, ended]);

  if (ended) return <SessionEnded reason={ended.reason} className="text-sm text-amber-800" />;
  return (
    <dl className="grid grid-cols-2 gap-4 rounded-lg border border-slate-200 bg-white p-4 text-sm">
      <div>
        <dt className="text-slate-500">Access token renews in</dt>
        <dd className="font-mono text-lg" data-testid="access-token-countdown" suppressHydrationWarning>
          {remaining(timing.accessTokenExpiresAt, now)}
        </dd>
      </div>
      <div>
        <dt className="text-slate-500">Session ends in</dt>
        <dd className="font-mono text-lg" data-testid="session-countdown" suppressHydrationWarning>
          {remaining(timing.sessionExpiresAt, now)}
        </dd>
      </div>
    </dl>
  );
}
