/**
 * Wraps an async generator so that `cleanup` runs exactly once however iteration ends — including when the caller
 * returns before the first `next()`, where a generator's own `finally` would never run (its body never started).
 * Handlers that acquire a resource before returning their stream (a consumer-group membership) need this.
 */
export function withCleanup<T>(generator: AsyncGenerator<T>, cleanup: () => Promise<void>): AsyncGenerator<T> {
  let done: Promise<void> | undefined;
  const once = () => (done ??= cleanup());
  const wrapped: AsyncGenerator<T> = {
    async next(...args: [] | [unknown]) {
      const r = await generator.next(...args).catch(async (err: unknown) => {
        await once();
        throw err;
      });
      if (r.done === true) await once();
      return r;
    },
    async return(value?: unknown) {
      try {
        return await generator.return(value);
      } finally {
        await once();
      }
    },
    async throw(err?: unknown) {
      try {
        return await generator.throw(err);
      } finally {
        await once();
      }
    },
    [Symbol.asyncIterator]() {
      return wrapped;
    },
    [Symbol.asyncDispose]: async () => {
      await wrapped.return(undefined);
    },
  };
  return wrapped;
}
