/**
 * Throughput and latency rounds with autocannon, and side-by-side comparisons: rounds of the path measured
 * (A) and of its baseline (B) alternate, so drift on a busy machine falls on both; the ratio is of medians.
 */
import autocannon from "autocannon";

export interface Target {
  label: string;
  url: string;
  headers: Record<string, string>;
}

export interface Round {
  /** Completed requests per second. */
  rps: number;
  requests: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
}

export interface Summary {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  rounds: Round[];
}

export interface Comparison {
  a: Summary;
  b: Summary;
  /** median(A) / median(B) of requests per second. */
  ratio: number;
}

export interface LoadSettings {
  connections: number;
  rounds: number;
  /** Seconds per round. */
  seconds: number;
  /** Seconds of unmeasured load on each target first. */
  warmupSeconds: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

/**
 * One round against `target`. Latencies are taken from every response at full precision (autocannon's
 * own histogram keeps whole milliseconds). Any error or non-2xx answer fails the benchmark: a rate of
 * failures is not a rate of work.
 */
export async function runRound(target: Target, seconds: number, connections: number): Promise<Round> {
  const latencies: number[] = [];
  const instance = autocannon({ url: target.url, headers: target.headers, connections, duration: seconds, timeout: 10 });
  instance.on("response", (_client: unknown, _status: number, _bytes: number, milliseconds: number) => latencies.push(milliseconds));
  const result = await instance;
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(
      `${target.label}: ${result.errors} errors, ${result.timeouts} timeouts, status codes ${JSON.stringify(result.statusCodeStats)}`,
    );
  }
  latencies.sort((x, y) => x - y);
  return { rps: result.requests.total / result.duration, requests: result.requests.total, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

/** A / B of each round's two halves, run back to back: how far this machine's noise moves the ratio. */
export function roundRatios({ a, b }: Comparison): number[] {
  return a.rounds.map((round, i) => round.rps / (b.rounds[i]?.rps ?? NaN));
}

function summarise(label: string, rounds: Round[]): Summary {
  return { label, rps: median(rounds.map((r) => r.rps)), p50: median(rounds.map((r) => r.p50)), p99: median(rounds.map((r) => r.p99)), rounds };
}

export async function compare(a: Target, b: Target, settings: LoadSettings, progress: (message: string) => void): Promise<Comparison> {
  const { connections, rounds, seconds, warmupSeconds } = settings;
  progress(`warm-up: ${a.label}, ${b.label}`);
  await runRound(a, warmupSeconds, connections);
  await runRound(b, warmupSeconds, connections);
  const roundsA: Round[] = [];
  const roundsB: Round[] = [];
  for (let i = 0; i < rounds; i += 1) {
    // A B, B A, A B ...: neither side always runs first, on a warmer or cooler machine.
    const order = i % 2 === 0 ? (["a", "b"] as const) : (["b", "a"] as const);
    for (const side of order) {
      const round = await runRound(side === "a" ? a : b, seconds, connections);
      (side === "a" ? roundsA : roundsB).push(round);
      progress(`round ${i + 1}/${rounds} ${side === "a" ? a.label : b.label}: ${round.rps.toFixed(0)} req/s, p50 ${round.p50.toFixed(2)} ms, p99 ${round.p99.toFixed(2)} ms`);
    }
  }
  const summaryA = summarise(a.label, roundsA);
  const summaryB = summarise(b.label, roundsB);
  return { a: summaryA, b: summaryB, ratio: summaryA.rps / summaryB.rps };
}
