// autocannon ships no types: these cover the part of its programmatic API the benchmark uses.
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  namespace autocannon {
    /** One connection. Its `headers` event carries the parsed response head (`headers`: raw name/value pairs). */
    interface Client extends EventEmitter {
      setHeaders(headers: Record<string, string>): void;
    }

    interface Options {
      url: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      /** Seconds. */
      timeout?: number;
      headers?: Record<string, string>;
      setupClient?: (client: Client) => void;
    }

    interface Result {
      /** Seconds. */
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      statusCodeStats: Record<string, { count: number }>;
      requests: { total: number };
    }

    /** Emits `response` (client, status, bytes, milliseconds) per answer; resolves when the run ends. */
    interface Instance extends EventEmitter, PromiseLike<Result> {}
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}
