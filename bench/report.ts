/**
 * The benchmark's results as data (JSON) and as the Markdown table printed at the end of a run.
 */
import type { CodecCosts } from "./codec";
import { roundRatios, type Comparison, type LoadSettings } from "./load";
import type { Memory } from "../scripts/processes";
import type { RefreshResult } from "./refresh";
import type { Sizes } from "./sizes";

export interface RatioResult extends Comparison {
  name: string;
  baseline: string;
  /** None for a row that explains another rather than meets a target. */
  target?: number;
  pass?: boolean;
}

export interface Report {
  mode: "full" | "smoke";
  date: string;
  commit: string;
  machine: { node: string; cpu: string; cpus: number; platform: string };
  load: LoadSettings;
  ratios: RatioResult[];
  refresh: RefreshResult;
  /** The same through nginx over two web instances sharing Redis, where the instances must coordinate each refresh. */
  clusterRefresh: RefreshResult;
  sizes: Sizes;
  /** Signed-in requests with a current token, and how many of them rewrote the session cookie. */
  cookieWrites: { requests: number; writes: number };
  memory: { throughput?: { start: Memory; end: Memory }; refresh?: { start: Memory; end: Memory } };
  codec: CodecCosts;
  seconds: number;
}

/** A typical Auth.js v5 build of the same app, measured on this kind of machine: the figures to beat. */
export const AUTHJS_REFERENCE = { sessionRouteRatio: 0.45, sessionRps: 138, noSessionRps: 306, decodeMicros: 700, encodeMicros: 500 } as const;

const verdict = (pass: boolean) => (pass ? "PASS" : "MISS");
const ms = (value: number) => value.toFixed(2);
const rps = (value: number) => value.toFixed(0);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const us = (value: number) => `${value.toFixed(1)} µs`;

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
}

function memoryLine(label: string, phase: { start: Memory; end: Memory } | undefined): string[] {
  if (!phase) return [label, "not available (no /proc)"];
  return [label, `${mb(phase.end.peak)} peak (VmHWM); ${mb(phase.start.rss)} when ready, ${mb(phase.end.rss)} at the end`];
}

const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;

function refreshRow(setup: string, r: RefreshResult): string[] {
  return [
    setup,
    `${r.requests} (${rps(r.rps)}/s)`,
    String(r.failedRequests),
    String(r.expiries),
    String(r.refreshGrants),
    String(r.refreshFailures),
    String(r.premature),
    String(r.missed),
    `${r.refreshesPerSession.min}/${r.refreshesPerSession.median}/${r.refreshesPerSession.max}`,
    verdict(r.ok),
  ];
}

export function toMarkdown(report: Report): string {
  const { load, refresh: r, sizes, codec } = report;
  const lines: string[] = [];
  lines.push(`# Tessera benchmark (${report.mode})`, "");
  lines.push(
    `${report.date}, commit ${report.commit}; Node ${report.machine.node}, ${report.machine.cpus} × ${report.machine.cpu}, ${report.machine.platform}. ` +
      `Production build; web, API and IdP on one machine with the load generator (autocannon, in-process). ` +
      `The two-instance rows run \`scripts/cluster.ts\` (nginx round-robin, Redis) on the same machine.`,
    "",
  );
  lines.push(
    `## Ratios`,
    "",
    `${load.connections} connections; ${load.rounds} rounds of ${load.seconds} s per side, interleaved (A B, B A, ...) after ${load.warmupSeconds} s of warm-up each; ` +
      `medians over rounds. Ratio = median req/s of A / median req/s of B; rounds = the lowest and highest A / B of one round.`,
    "",
  );
  lines.push(
    table(
      ["", "A: measured", "req/s", "p50 ms", "p99 ms", "B: baseline", "req/s", "p50 ms", "p99 ms", "ratio", "rounds", "target", ""],
      report.ratios.map((x) => [
        x.name,
        x.a.label,
        rps(x.a.rps),
        ms(x.a.p50),
        ms(x.a.p99),
        x.b.label,
        rps(x.b.rps),
        ms(x.b.p50),
        ms(x.b.p99),
        x.ratio.toFixed(2),
        spread(roundRatios(x)),
        x.target === undefined ? "—" : `≥ ${x.target}`,
        x.pass === undefined ? "context" : verdict(x.pass),
      ]),
    ),
    "",
  );
  lines.push(
    `## Silent refresh under load`,
    "",
    `${r.sessions} signed-in sessions, ${r.connections / r.sessions} connections each sharing its cookie jar, \`GET /api/notes\` for ${r.seconds} s; ` +
      `access tokens live ${r.accessTokenTtl} s. Behind nginx, requests alternate between the instances, which share Redis.`,
    "",
    table(
      ["", "requests", "failed", "expiries", "refresh grants (IdP)", "refresh failures (IdP)", "premature", "missed", "refreshes per session (min/median/max)", ""],
      [refreshRow("one web instance", r), refreshRow("two web instances behind nginx", report.clusterRefresh)],
    ),
    "",
  );
  lines.push(
    `## Sizes and memory`,
    "",
    table(
      ["", ""],
      [
        [
          "`Cookie` header of a signed-in browser",
          `${sizes.cookieHeaderBytes} bytes; the session ${sizes.sessionCookieBytes} bytes in ${sizes.sessionChunks} cookie(s) (${sizes.cookieNames.join(", ")})`,
        ],
        ["JavaScript of `/dashboard`", `${sizes.dashboardScripts} files, ${kb(sizes.dashboardJsBytes)} (${kb(sizes.dashboardJsGzipBytes)} gzip)`],
        [
          "Session cookie rewritten on steady-state responses",
          `${report.cookieWrites.writes} of ${report.cookieWrites.requests} (\`/api/notes\` and \`/dashboard\`, token current)`,
        ],
        memoryLine("web (`next-server`), ratio phases", report.memory.throughput),
        memoryLine("web (`next-server`), refresh phase", report.memory.refresh),
      ],
    ),
    "",
  );
  lines.push(
    `## Session cookie codec, per call`,
    "",
    `In-process, the same real session payload (${codec.tesseraLength} characters sealed; the JWE codec's ${codec.jweLength}; Auth.js's JWE ${codec.authjsLength}), ` +
      `${codec.iterations} calls × 3 interleaved repetitions, median.`,
    "",
    table(
      ["", "Tessera (`lib/session/codec.ts`, iron-session)", "Tessera's JWE codec before iron-session", "Auth.js v5 default, this run", "Auth.js v5 build, reference"],
      [
        ["read: `unsealData` / `open` / `decode`", us(codec.tesseraOpen), us(codec.jweOpen), us(codec.authjsDecode), `~${AUTHJS_REFERENCE.decodeMicros} µs`],
        ["write: `sealData` / `seal` / `encode`", us(codec.tesseraSeal), us(codec.jweSeal), us(codec.authjsEncode), `~${AUTHJS_REFERENCE.encodeMicros} µs`],
        ["cookie written", "only when the session changed", "only when the session changed", "—", "on every response"],
        [
          "session route vs no-session route",
          `${report.ratios[0]?.ratio.toFixed(2) ?? "—"} (ratio 1 above)`,
          "—",
          "—",
          `${AUTHJS_REFERENCE.sessionRouteRatio} (${AUTHJS_REFERENCE.sessionRps} vs ${AUTHJS_REFERENCE.noSessionRps} req/s)`,
        ],
      ],
    ),
    "",
    `Run took ${Math.round(report.seconds)} s.`,
  );
  return lines.join("\n") + "\n";
}
