/** Checks and helpers for the options of one send or request: its timeout and its abort signal. */
import { MessageError } from './messenger-types.js'

/** The error of a call its caller aborted. */
export function abortError (signal: AbortSignal): MessageError {
  const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : ''
  return new MessageError('ABORTED', `aborted by the caller${reason}`)
}

export function throwIfAborted (signal?: AbortSignal): void {
  if (signal?.aborted === true) throw abortError(signal)
}

/** `work`, or ABORTED as soon as `signal` aborts (the work itself goes on; its outcome is dropped). */
export async function abortable<T> (work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal == null) return await work
  throwIfAborted(signal)
  let abort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => { abort = () => { reject(abortError(signal)) }; signal.addEventListener('abort', abort, { once: true }) })
  // after an abort the work's outcome is dropped: the caller has its ABORTED
  work.catch(() => {})
  try {
    return await Promise.race([work, aborted])
  } finally {
    signal.removeEventListener('abort', abort!)
  }
}

/** Node's timers take at most 2^31-1 ms; a longer (or non-numeric) timeout would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

export function checkTimeout (timeoutMs: unknown): void {
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new MessageError('INVALID', `timeoutMs must be a number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, not ${String(timeoutMs)}`)
  }
}
