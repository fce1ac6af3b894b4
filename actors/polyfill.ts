/**
 * libp2p 3 (through it-queue and friends) calls `Promise.withResolvers`, which
 * Node 20 lacks. This module must be evaluated before any libp2p module: every
 * entry point (runtime/index.ts, actors/libp2p-host.ts, bin/) imports it first.
 * Remove it when the project requires Node >= 22.
 */
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> () {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

export {}
