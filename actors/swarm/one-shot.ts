import type { Stream } from '@libp2p/interface'
import { FrameDecoder, encodeFrame } from '../wire/frames.js'
import { encodeValue, decodeValue } from '../wire/codec.js'
import { DmsError } from '../errors.js'

/** Largest swarm key message; a grant is well under 2 KiB. */
export const MAX_SWARM_MESSAGE = 16 * 1024

/** Read exactly one length-prefixed msgpack value from a stream, within `timeoutMs`. */
export async function readOne (stream: Stream, timeoutMs: number): Promise<unknown> {
  const decoder = new FrameDecoder(MAX_SWARM_MESSAGE)
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { finish(); reject(new DmsError('TIMEOUT', `no answer within ${timeoutMs} ms`)) }, timeoutMs)
    const onMessage = (event: { data: Uint8Array | { subarray: () => Uint8Array } }): void => {
      try {
        const [frame] = decoder.push(event.data instanceof Uint8Array ? event.data : event.data.subarray())
        if (frame != null) { finish(); resolve(decodeValue(frame)) }
      } catch (err) {
        finish()
        reject(err)
      }
    }
    const onClose = (): void => { finish(); reject(new DmsError('SWARM_FAILED', 'the stream closed before an answer')) }
    function finish (): void {
      clearTimeout(timer)
      stream.removeEventListener('message', onMessage as never)
      stream.removeEventListener('close', onClose)
    }
    stream.addEventListener('message', onMessage as never)
    stream.addEventListener('close', onClose)
  })
}

export function writeOne (stream: Stream, value: unknown): void {
  stream.send(encodeFrame(encodeValue(value)))
}
