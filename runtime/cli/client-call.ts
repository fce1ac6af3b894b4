import { ControlClient } from '../control/client.js'
import type { Parsed } from './command.js'
import { jsonText } from '../json-text.js'

/** Run one call against the node that owns `dataDir` (NODE_UNREACHABLE when it does not answer within `timeoutMs`). */
export async function call<T> (dataDir: string, method: string, params: Record<string, unknown> = {}, timeoutMs?: number): Promise<T> {
  const client = await ControlClient.connect(dataDir)
  try {
    return await client.call<T>(method, params, timeoutMs)
  } finally {
    client.close()
  }
}

/**
 * Subscribe to a streaming method and run until the node goes away or the
 * user interrupts (Ctrl-C exits 0). Resolves with the exit code; `onSubscribed`
 * runs once the node has taken the subscription.
 */
export async function follow (dataDir: string, method: string, params: Record<string, unknown>, onItem: (item: unknown) => void, onSubscribed?: () => void): Promise<number> {
  const client = await ControlClient.connect(dataDir)
  return await new Promise<number>((resolve, reject) => {
    const stop = (code: number): void => { client.close(); resolve(code) }
    process.once('SIGINT', () => { stop(0) })
    process.once('SIGTERM', () => { stop(0) })
    client.onClose(() => { process.stderr.write('dms-net: the node stopped\n'); resolve(1) })
    client.subscribe(method, onItem, params).then(() => { onSubscribed?.() }, (err: unknown) => { client.close(); reject(err) })
  })
}

export const print = (text: string): void => { process.stdout.write(`${text}\n`) }

/** Print `value` as JSON with --json, else the human text. */
export function output (parsed: Pick<Parsed, 'json'>, value: unknown, text: () => string): void {
  print(parsed.json ? jsonText(value) : text())
}
