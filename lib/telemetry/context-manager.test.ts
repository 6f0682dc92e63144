import { AsyncLocalStorage } from "node:async_hooks";
import { createContextKey, ROOT_CONTEXT, type Context } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { StorageContextManager } from "./context-manager";

const KEY = createContextKey("test key");
const withValue = (value: string) => ROOT_CONTEXT.setValue(KEY, value);
const valueIn = (context: Context) => context.getValue(KEY);
/** A turn of the event loop: what a fetch or a Redis call puts between two lines of a request. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const manager = () => new StorageContextManager(new AsyncLocalStorage<Context>());

describe("StorageContextManager.active", () => {
  it("is the root context outside any `with`", () => {
    expect(manager().active()).toBe(ROOT_CONTEXT);
  });
});

describe("StorageContextManager.with", () => {
  it("makes the context active inside, and the root context active again after", () => {
    const contexts = manager();
    const inside = withValue("a");
    expect(contexts.with(inside, () => contexts.active())).toBe(inside);
    expect(contexts.active()).toBe(ROOT_CONTEXT);
  });

  it("keeps the context active across awaits, and each concurrent call its own", async () => {
    const contexts = manager();
    const run = (value: string) =>
      contexts.with(withValue(value), async () => {
        const seen = [valueIn(contexts.active())];
        await nextTurn();
        seen.push(valueIn(contexts.active()));
        await Promise.resolve();
        seen.push(valueIn(contexts.active()));
        return seen;
      });
    const [a, b] = await Promise.all([run("a"), run("b")]);
    expect(a).toEqual(["a", "a", "a"]);
    expect(b).toEqual(["b", "b", "b"]);
    expect(contexts.active()).toBe(ROOT_CONTEXT);
  });

  it("restores the outer context when a nested one ends", () => {
    const contexts = manager();
    const seen = contexts.with(withValue("outer"), () => {
      const inner = contexts.with(withValue("inner"), () => valueIn(contexts.active()));
      return [inner, valueIn(contexts.active())];
    });
    expect(seen).toEqual(["inner", "outer"]);
  });

  it("calls the function with the given this and arguments, and returns what it returns", () => {
    const contexts = manager();
    const target = { factor: 3 };
    const result = contexts.with(
      withValue("a"),
      function (this: typeof target, x: number, y: number) {
        return this.factor * (x + y);
      },
      target,
      1,
      2,
    );
    expect(result).toBe(9);
  });

  it("restores the outer context when the function throws", () => {
    const contexts = manager();
    expect(() =>
      contexts.with(withValue("a"), () => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(contexts.active()).toBe(ROOT_CONTEXT);
  });
});

describe("StorageContextManager.bind", () => {
  it("binds a function to the context, whenever and wherever it is called later", async () => {
    const contexts = manager();
    const bound = contexts.bind(withValue("bound"), () => valueIn(contexts.active()));
    expect(bound()).toBe("bound");
    await nextTurn();
    expect(contexts.with(withValue("other"), () => bound())).toBe("bound");
    expect(contexts.active()).toBe(ROOT_CONTEXT);
  });

  it("passes this and the arguments through to the bound function", () => {
    const contexts = manager();
    const target = {
      base: 10,
      add(this: { base: number }, x: number) {
        return [this.base + x, valueIn(contexts.active())];
      },
    };
    target.add = contexts.bind(withValue("bound"), target.add);
    expect(target.add(5)).toEqual([15, "bound"]);
  });

  it("passes anything that is not a function through as it is", () => {
    const contexts = manager();
    const object = { a: 1 };
    expect(contexts.bind(withValue("a"), object)).toBe(object);
    expect(contexts.bind(withValue("a"), "text")).toBe("text");
    expect(contexts.bind(withValue("a"), undefined)).toBeUndefined();
  });
});

describe("StorageContextManager.enable and disable", () => {
  it("return the manager, for chaining, as the API expects", () => {
    const contexts = manager();
    expect(contexts.enable()).toBe(contexts);
    expect(contexts.disable()).toBe(contexts);
  });
});
