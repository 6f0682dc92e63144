/**
 * The active OpenTelemetry context, carried across `await`s by Node's `AsyncLocalStorage`: what makes a span
 * started in a route handler the child of its request's span. A small stand-in for the SDK's own
 * (`@opentelemetry/context-async-hooks`), which the API does not depend on; it binds functions, not event emitters.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ROOT_CONTEXT, type Context, type ContextManager } from "@opentelemetry/api";

export class AsyncLocalStorageContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#storage.run(context, () => fn.apply(thisArg, args));
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== "function") return target;
    const run = (fn: () => unknown) => this.with(context, fn);
    // A function expression, so that the bound function keeps the `this` it is called with.
    return function (this: unknown, ...args: unknown[]) {
      return run(() => (target as (...args: unknown[]) => unknown).apply(this, args));
    } as T;
  }

  enable(): this {
    return this;
  }

  /** Forgets the active context; `with` works again afterwards. */
  disable(): this {
    this.#storage.disable();
    return this;
  }
}
