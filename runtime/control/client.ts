import { createConnection } from 'node:net'
import type { Socket } from 'node:net'
import { controlSocketPath } from './protocol.js'
import type { ControlResponse } from './protocol.js'
import { DmsError, isDmsErrorCode } from '../errors.js'

/** A connection to a running node's control socket. */
export class ControlClient {
  private nextId = 1
  private buffered = ''
  private readonly waiting = new Map<number, (response: ControlResponse) => void>()
  private readonly streams = new Map<number, (item: unknown) => void>()
  private readonly closeListeners: Array<() => void> = []
  private closing = false

  private constructor (private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buffered += chunk.toString('utf8')
      let newline: number
      while ((newline = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, newline)
        this.buffered = this.buffered.slice(newline + 1)
        const response = JSON.parse(line) as ControlResponse
        if ('event' in response) this.streams.get(response.id)?.(response.event)
        else { this.waiting.get(response.id)?.(response); this.waiting.delete(response.id) }
      }
    })
    socket.on('close', () => {
      for (const listener of this.closeListeners) listener()
      for (const resolve of this.waiting.values()) resolve({ id: 0, ok: false, error: { code: 'NODE_UNREACHABLE', message: 'the node closed the control connection' } })
      this.waiting.clear()
    })
  }

  /** Connect to the node running with `dataDir`; fails with NODE_UNREACHABLE and a hint when none runs. */
  static async connect (dataDir: string): Promise<ControlClient> {
    const path = controlSocketPath(dataDir)
    return await new Promise((resolve, reject) => {
      const socket = createConnection(path)
      socket.once('connect', () => { resolve(new ControlClient(socket)) })
      socket.once('error', (err: NodeJS.ErrnoException) => {
        // the data dir (0700) or its socket (0600) is another user's: whether a node runs there cannot be told
        if (err.code === 'EACCES' || err.code === 'EPERM') {
          reject(new DmsError('NODE_UNREACHABLE', `permission denied on the control socket ${path}: data dir ${dataDir} belongs to another user (run as that user, or with sudo)`))
          return
        }
        reject(new DmsError('NODE_UNREACHABLE', `no node is running for data dir ${dataDir} (start one with: dms-net node --data ${dataDir})`))
      })
    })
  }

  /** One call; a node that does not answer within `timeoutMs` (stopped with SIGSTOP, overloaded) fails it with NODE_UNREACHABLE. */
  async call<T = unknown> (method: string, params: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    const id = this.nextId++
    let timer: NodeJS.Timeout | undefined
    const response = await new Promise<ControlResponse>((resolve) => {
      this.waiting.set(id, resolve)
      timer = setTimeout(() => {
        this.waiting.delete(id)
        resolve({ id, ok: false, error: { code: 'NODE_UNREACHABLE', message: `the node did not answer ${method} within ${Math.round(timeoutMs / 1000)} s (stopped or overloaded?)` } })
      }, timeoutMs)
      this.socket.write(`${JSON.stringify({ id, method, params })}\n`)
    })
    clearTimeout(timer)
    if ('event' in response) throw new DmsError('CONTROL_FAILED', 'unexpected event')
    // the node's own code when it is one of ours; a newer node's unknown code still reads as a failed call
    if (!response.ok) throw new DmsError(isDmsErrorCode(response.error.code) ? response.error.code : 'CONTROL_FAILED', response.error.message)
    return response.result as T
  }

  /** Subscribe to a streaming method; items arrive until `close()`. */
  async subscribe (method: string, onItem: (item: unknown) => void, params: Record<string, unknown> = {}): Promise<void> {
    const id = this.nextId
    this.streams.set(id, onItem)
    await this.call(method, params)
  }

  /** Called when the node closes the connection (not when `close()` does). */
  onClose (listener: () => void): void {
    this.closeListeners.push(() => { if (!this.closing) listener() })
  }

  close (): void {
    this.closing = true
    this.socket.destroy()
  }
}
