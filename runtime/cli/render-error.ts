import { jsonText } from '../json-text.js'

/**
 * One sentence for the terminal: the first line of the message, no stack
 * (DEBUG set shows the stack too).
 */
export function renderError (err: unknown): string {
  const line = firstLine(err)
  if (process.env.DEBUG != null && process.env.DEBUG !== '' && (err as Error)?.stack != null) return `${line}\n${(err as Error).stack!}`
  return line
}

/** The error of a `--json` command, for stderr: `{"error":{"code":"NOT_CONNECTED","message":"…"}}`. */
export function errorJson (err: unknown, fallbackCode: string): string {
  const code = (err as { code?: unknown })?.code
  return jsonText({ error: { code: typeof code === 'string' ? code : fallbackCode, message: firstLine(err) } })
}

/** The message's first line, cut: a bad value quoted in it (a 100 kB argument) must not flood the terminal. */
function firstLine (err: unknown): string {
  const message = (err as Error)?.message ?? String(err)
  const line = message.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? String(err)
  return line.length > 400 ? `${line.slice(0, 400)}… (${line.length} characters)` : line
}
