/**
 * Turns the errors libp2p and Node raise into sentences a user can act on.
 * The original message is kept at the end for whoever debugs further.
 */
export function explainNetworkError (err: unknown): string {
  const e = err as { name?: string, code?: string, message?: string, errors?: unknown[] }
  const message = e?.message ?? String(err)
  const nested = Array.isArray(e?.errors) ? e.errors.map((inner) => (inner as Error)?.message ?? String(inner)).join('; ') : ''
  const text = `${message} ${nested}`
  // listen errors: libp2p's text runs to many lines with a stack; say which address, and what to do
  const where = /(?:EADDRINUSE|EADDRNOTAVAIL)[^\n]*?((?:\d{1,3}\.){3}\d{1,3}:\d+|\[[0-9a-f:]+\]:\d+)/i.exec(text)?.[1]
  if (e?.code === 'EADDRINUSE' || /EADDRINUSE/.test(text)) return `address already in use${where != null ? `: ${where}` : ''} (another program listens there; choose another port, or port 0 for any free one)`
  if (e?.code === 'EADDRNOTAVAIL' || /EADDRNOTAVAIL/.test(text)) return `address not available on this machine${where != null ? `: ${where}` : ''} (listen on one of its own addresses, or 0.0.0.0)`
  if (/ECONNREFUSED/.test(text)) return `connection refused: nothing listens there (${message})`
  // the Noise handshake proved another key than the /p2p id names
  if (e?.name === 'UnexpectedPeerError' || /unexpected peer|does not match expected|expected remote peer/i.test(text)) {
    return `a different peer listens there than the /p2p id names (${message})`
  }
  // a reset during the handshake: the listener refused us (too many pending handshakes or dials from
  // here, or a private network whose key differs) or it speaks another protocol
  if (/ECONNRESET/.test(text)) {
    return `the peer reset the handshake: busy or rate-limiting us, another private network key, or not a dms-network node (${message})`
  }
  if (e?.name === 'EncryptionFailedError' || /EncryptionFailed/.test(text)) {
    return `handshake failed: another private network key, or not a dms-network node? (${message})`
  }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || /timed out|aborted/i.test(text)) return `timed out: no handshake within the dial timeout (${message})`
  if (e?.name === 'NoValidAddressesError' || /no valid addresses/i.test(text)) return `no known address for that peer (${message})`
  if (e?.name === 'DialError' && nested !== '') return `dial failed: ${nested}`
  return message
}

/** Whether libp2p or Node refused to listen because the port is taken (read where the foreign error enters). */
export function isAddressInUse (err: unknown): boolean {
  const e = err as { code?: string, message?: string, errors?: unknown[], cause?: unknown } | undefined
  if (e == null) return false
  if (e.code === 'EADDRINUSE' || /EADDRINUSE/.test(e.message ?? '')) return true
  return (Array.isArray(e.errors) && e.errors.some(isAddressInUse)) || (e.cause != null && e.cause !== err && isAddressInUse(e.cause))
}
