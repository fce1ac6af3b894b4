/** Most characters of a remote peer's text shown to an operator. */
export const MAX_REMOTE_TEXT = 200

/**
 * Text that came from a remote peer, made safe for a terminal or a log line:
 * control characters (newlines, ANSI escapes) escaped, and cut to `max` characters.
 */
export function safeText (value: unknown, max = MAX_REMOTE_TEXT): string {
  const text = typeof value === 'string' ? value : String(value)
  // eslint-disable-next-line no-control-regex
  const escaped = text.slice(0, max * 2).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped
}
