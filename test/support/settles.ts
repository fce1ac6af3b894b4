/** Resolves as `promise` does if it settles within `ms`; otherwise rejects, saying it hung. */
export async function within<T> (ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`still pending after ${ms} ms`)) }, ms) })
  try { return await Promise.race([promise, hung]) } finally { clearTimeout(timer) }
}

/** The error code `promise` rejects with, or undefined when it resolves. */
export const errorCodeOf = async (promise: Promise<unknown>): Promise<string | undefined> =>
  await promise.then(() => undefined, (err: NodeJS.ErrnoException) => err.code)
