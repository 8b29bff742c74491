/**
 * Runs at most `concurrency` async tasks at once, the rest in arrival order.
 * Ten thousand files dropped together become ten thousand queued claims, not
 * ten thousand open files.
 */
export interface Limiter {
  <T>(task: () => Promise<T>): Promise<T>;
  /** Resolves when nothing is running or queued. */
  idle(): Promise<void>;
}

export function createLimiter(concurrency: number): Limiter {
  let active = 0;
  const queue: Array<() => void> = [];
  let idleWaiters: Array<() => void> = [];

  const next = () => {
    if (active >= concurrency) return;
    const run = queue.shift();
    if (run) {
      active += 1;
      run();
    } else if (active === 0) {
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
    }
  };

  const limit = (<T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        task()
          .then(resolve, reject)
          .finally(() => {
            active -= 1;
            next();
          });
      });
      next();
    })) as Limiter;
  limit.idle = () =>
    active === 0 && queue.length === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          idleWaiters.push(resolve);
        });
  return limit;
}
