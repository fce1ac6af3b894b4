/**
 * Turns the errors libp2p and Node raise into sentences a user can act on.
 * The original message is kept at the end for whoever debugs further.
 */
export function explainNetworkError (err: unknown): string {
  const e = err as { name?: string, code?: string, message?: string, errors?: unknown[] }
  const message = e?.message ?? String(err)
  const nested = Array.isArray(e?.errors) ? e.errors.map((inner) => (inner as Error)?.message ?? String(inner)).join('; ') : ''
  const text = `${message} ${nested}`
  if (e?.code === 'EADDRINUSE' || /EADDRINUSE/.test(text)) return `address already in use (${message})`
  if (e?.code === 'EADDRNOTAVAIL' || /EADDRNOTAVAIL/.test(text)) return `address not available on this machine (${message})`
  if (/ECONNREFUSED/.test(text)) return `connection refused: nothing listens there (${message})`
  if (e?.name === 'EncryptionFailedError' || /EncryptionFailed|ECONNRESET/.test(text)) {
    return `peer rejected the handshake: private network key mismatch, or not a dms-network node? (${message})`
  }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || /timed out|aborted/i.test(text)) return `timed out (${message})`
  if (e?.name === 'NoValidAddressesError' || /no valid addresses/i.test(text)) return `no known address for that peer (${message})`
  if (e?.name === 'DialError' && nested !== '') return `dial failed: ${nested}`
  return message
}
