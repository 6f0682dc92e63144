import { createContextKey, ROOT_CONTEXT } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { AsyncLocalStorageContextManager } from "./context-manager";

const KEY = createContextKey("test");
const contextWith = (value: string) => ROOT_CONTEXT.setValue(KEY, value);

describe("AsyncLocalStorageContextManager", () => {
  it("is the root context outside any with()", () => {
    expect(new AsyncLocalStorageContextManager().enable().active()).toBe(ROOT_CONTEXT);
  });

  it("keeps the context across awaits and timers inside with(), and restores the outer one after", async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    const outer = contextWith("outer");
    const inner = contextWith("inner");
    const seen: unknown[] = [];
    await manager.with(outer, async () => {
      await manager.with(inner, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        seen.push(manager.active().getValue(KEY));
      });
      seen.push(manager.active().getValue(KEY));
    });
    seen.push(manager.active().getValue(KEY));
    expect(seen).toEqual(["inner", "outer", undefined]);
  });

  it("keeps two concurrent contexts apart", async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    const read = (value: string, delay: number) =>
      manager.with(contextWith(value), async () => {
        await new Promise((resolve) => setTimeout(resolve, delay));
        return manager.active().getValue(KEY);
      });
    expect(await Promise.all([read("a", 5), read("b", 1)])).toEqual(["a", "b"]);
  });

  it("passes this and the arguments through with(), and returns what the function returns", () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    const target = { base: 40 };
    const result = manager.with(contextWith("x"), function (this: typeof target, a: number, b: number) {
      return this.base + a + b;
    }, target, 1, 1);
    expect(result).toBe(42);
  });

  it("binds a function to a context, wherever it is called later", () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    const bound = manager.bind(contextWith("bound"), (suffix: string) => `${String(manager.active().getValue(KEY))}${suffix}`);
    expect(manager.with(contextWith("caller"), () => bound("!"))).toBe("bound!");
    const notAFunction = { a: 1 };
    expect(manager.bind(contextWith("x"), notAFunction)).toBe(notAFunction);
  });

  it("forgets the active context when disabled", () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    manager.with(contextWith("x"), () => {
      manager.disable();
      expect(manager.active()).toBe(ROOT_CONTEXT);
    });
  });
});
