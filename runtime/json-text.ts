/**
 * JSON for every sink a peer's data reaches (the control socket, `events`, `jobs`,
 * `receive`, JSON logs, the inspector). The decoder lets only plain values in, but
 * a sink must not be the place where one odd value kills the daemon: a BigInt
 * prints as a decimal string, a cycle or a throwing getter as a note.
 */
export function jsonText (value: unknown, space?: number): string {
  try {
    // undefined (a msgpack value too) has no JSON text of its own
    return JSON.stringify(value, plainValue, space) ?? 'null'
  } catch (err) {
    return JSON.stringify({ unprintable: (err as Error)?.message ?? String(err) })
  }
}

function plainValue (_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}
