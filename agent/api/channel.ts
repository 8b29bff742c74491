/**
 * Bounded async iterators for subscriptions. A subscriber that reads slowly
 * (or not at all) must neither stall the agent nor grow its memory: the
 * socket write awaits the client, so unread values pile up here, and here
 * they are capped.
 *
 * - `latestByKey`: a newer value replaces an unread older one with the same
 *   key (job updates: a slow client gets each job's latest state, not every
 *   progress tick). At most `maxKeys` keys wait; beyond that the oldest is
 *   dropped.
 * - `boundedQueue`: values in order (log lines); beyond `max` the oldest are
 *   dropped and the drop is reported through `onDrop` so the reader can be
 *   told.
 */

export interface Channel<T> extends AsyncIterableIterator<T> {
  /** Ends the iterator; pending reads resolve as done. */
  close(): void;
}

interface Store<K, T> {
  put(key: K, value: T): void;
  take(): T | undefined;
  readonly size: number;
}

function channel<K, T>(store: Store<K, T>, onClose: () => void): Channel<T> & { push(key: K, value: T): void } {
  let closed = false;
  let waiting: ((result: IteratorResult<T>) => void) | null = null;

  const close = () => {
    if (closed) return;
    closed = true;
    onClose();
    waiting?.({ done: true, value: undefined });
    waiting = null;
  };

  return {
    push(key, value) {
      if (closed) return;
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ done: false, value });
        return;
      }
      store.put(key, value);
    },
    next() {
      const value = store.take();
      if (value !== undefined) return Promise.resolve({ done: false, value });
      if (closed) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => (waiting = resolve));
    },
    return() {
      close();
      return Promise.resolve({ done: true, value: undefined });
    },
    throw(error?: unknown) {
      close();
      return Promise.reject(error);
    },
    close,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export function latestByKey<T>(maxKeys: number, onClose: () => void) {
  const pending = new Map<string, T>();
  return channel<string, T>(
    {
      put(key, value) {
        // Map.set on a waiting key keeps its place, so a busy job cannot push others back.
        pending.set(key, value);
        if (pending.size > maxKeys) pending.delete(pending.keys().next().value!);
      },
      take() {
        const first = pending.entries().next();
        if (first.done) return undefined;
        pending.delete(first.value[0]);
        return first.value[1];
      },
      get size() {
        return pending.size;
      },
    },
    onClose,
  );
}

export function boundedQueue<T>(max: number, onDrop: (dropped: number) => T, onClose: () => void) {
  const queue: T[] = [];
  let dropped = 0;
  return channel<null, T>(
    {
      put(_key, value) {
        queue.push(value);
        if (queue.length > max) {
          queue.shift();
          dropped++;
        }
      },
      take() {
        if (dropped > 0) {
          const notice = onDrop(dropped);
          dropped = 0;
          return notice;
        }
        return queue.shift();
      },
      get size() {
        return queue.length;
      },
    },
    onClose,
  );
}
