/**
 * OpenTelemetry's active context, carried across `await`s by an `AsyncLocalStorage`: the Node runtime passes
 * `node:async_hooks`' class, the edge runtime the global one Next.js provides there. Edge-safe: it imports no
 * Node module itself.
 */
import { ROOT_CONTEXT, type Context, type ContextManager } from "@opentelemetry/api";

export interface ContextStorage {
  getStore(): Context | undefined;
  run<R>(store: Context, callback: () => R): R;
}

export class StorageContextManager implements ContextManager {
  constructor(private readonly storage: ContextStorage) {}

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(context, () => fn.call(thisArg, ...args));
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== "function") return target;
    const run = (thisArg: unknown, args: unknown[]) => this.with(context, () => (target as (...args: unknown[]) => unknown).apply(thisArg, args));
    return function (this: unknown, ...args: unknown[]) {
      return run(this, args);
    } as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    return this;
  }
}
