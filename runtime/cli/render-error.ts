import { jsonText } from '../json-text.js'

/**
 * One sentence for the terminal: the first line of the message, no stack
 * (DEBUG set shows the stack too).
 */
export function renderError (err: unknown): string {
  const message = (err as Error)?.message ?? String(err)
  const line = message.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? String(err)
  if (process.env.DEBUG != null && process.env.DEBUG !== '' && (err as Error)?.stack != null) return `${line}\n${(err as Error).stack!}`
  return line
}

/** The error of a `--json` command, for stderr: `{"error":{"code":"NOT_CONNECTED","message":"…"}}`. */
export function errorJson (err: unknown, fallbackCode: string): string {
  const code = (err as { code?: unknown })?.code
  const message = ((err as Error)?.message ?? String(err)).split('\n').map((l) => l.trim()).find((l) => l !== '') ?? ''
  return jsonText({ error: { code: typeof code === 'string' ? code : fallbackCode, message } })
}
