/** The message type every node answers with its wall clock (`{ now: ms since the epoch }`): netcheck's clock skew. */
export const CLOCK_TYPE = 'net.clock'

export const answerClock = (): { now: number } => ({ now: Date.now() })

export interface ClockSkew {
  peer: string
  /** The peer's clock minus ours, in ms (positive: the peer is ahead); absent when it did not say. */
  skewMs?: number
  rttMs?: number
  error?: string
}

type Request = (peer: string, type: string, body: unknown, options: { timeoutMs: number }) => Promise<unknown>

/**
 * Ask each peer for its clock, in parallel, and compare with ours at the
 * middle of the round trip (NTP's estimate; off by at most half the RTT).
 * Peers of versions without the message answer UNKNOWN_TYPE, shown as such.
 */
export async function measureClockSkew (request: Request, peers: string[], timeoutMs = 2000): Promise<ClockSkew[]> {
  return await Promise.all(peers.map(async (peer): Promise<ClockSkew> => {
    const sent = Date.now()
    try {
      const reply = await request(peer, CLOCK_TYPE, {}, { timeoutMs }) as { now?: unknown }
      const received = Date.now()
      if (typeof reply?.now !== 'number' || !Number.isFinite(reply.now)) return { peer, error: 'answered without a time' }
      return { peer, skewMs: Math.round(reply.now - (sent + received) / 2), rttMs: received - sent }
    } catch (err) {
      return { peer, error: (err as Error).message.slice(0, 200) }
    }
  }))
}
