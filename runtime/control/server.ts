import { createServer, createConnection } from 'node:net'
import type { Server, Socket } from 'node:net'
import { chmod, unlink } from 'node:fs/promises'
import { controlSocketPath, MAX_CONTROL_LINE } from './protocol.js'
import type { ControlRequest, ControlResponse } from './protocol.js'
import { log } from '../../actors/log.js'
import { DmsError } from '../errors.js'
import { jsonText } from '../json-text.js'

/** A control method: takes the request params, returns JSON-able data, or throws. */
export type ControlMethod = (params: Record<string, unknown>) => unknown
/** A streaming method: calls `push` for each item until the returned function is called. */
export type ControlStream = (params: Record<string, unknown>, push: (item: unknown) => void) => () => void

export interface ControlServerInit {
  dataDir: string
  methods: Record<string, ControlMethod>
  streams?: Record<string, ControlStream>
}

/**
 * The local control socket (`DATA/control.sock`, mode 0600): JSON lines,
 * `{ id, method, params }` → `{ id, ok, result | error }`. Refuses to start
 * when another node already answers on it; removes a stale socket file.
 */
export async function startControlServer (init: ControlServerInit): Promise<{ path: string, close: () => Promise<void> }> {
  const path = controlSocketPath(init.dataDir)
  if (await answers(path)) throw new DmsError('DATA_DIR_LOCKED', `another node is already running with data dir ${init.dataDir} (its control socket ${path} answers)`)
  await unlink(path).catch(() => {}) // no socket file: nothing to remove
  // looked up in Maps: a method named `__proto__` or `constructor` is just unknown
  const methods = new Map(Object.entries(init.methods))
  const streams = new Map(Object.entries(init.streams ?? {}))
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => { sockets.delete(socket) })
    serve(socket, methods, streams)
  })
  // the socket file is created 0600 (umask), not chmod-ed after: no window in which others may connect
  const umask = process.umask(0o177)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path, () => { server.off('error', reject); resolve() })
    })
  } finally {
    process.umask(umask)
  }
  await chmod(path, 0o600)
  return {
    path,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
      await unlink(path).catch(() => {}) // no socket file: nothing to remove
    }
  }
}

/** Bytes of stream output a client may leave unread before it is disconnected. */
const MAX_UNREAD_BYTES = 8 << 20

function serve (socket: Socket, methods: Map<string, ControlMethod>, streams: Map<string, ControlStream>): void {
  let buffered = ''
  const stops: Array<() => void> = []
  socket.on('close', () => { for (const stop of stops) stop() })
  socket.on('error', () => {})
  const send = (response: ControlResponse): void => {
    if (socket.destroyed) return
    let text = jsonText(response)
    // a reply that cannot be printed still answers its request, so the client does not wait forever
    if (text.startsWith('{"unprintable"')) text = jsonText({ id: response.id, ok: false, error: { code: 'CONTROL_FAILED', message: `the reply could not be printed: ${text}` } })
    socket.write(`${text}\n`)
  }
  socket.on('data', (chunk) => {
    buffered += chunk.toString('utf8')
    if (buffered.length > MAX_CONTROL_LINE) {
      send({ id: 0, ok: false, error: { code: 'BAD_REQUEST', message: 'request line too long' } })
      socket.destroy()
      return
    }
    let newline: number
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      if (line.trim() !== '') handle(line)
    }
  })

  function handle (line: string): void {
    try {
      dispatch(line)
    } catch (err) {
      // no line, however odd, takes the daemon down
      send({ id: 0, ok: false, error: { code: 'CONTROL_FAILED', message: (err as Error)?.message ?? String(err) } })
    }
  }

  function dispatch (line: string): void {
    let request: ControlRequest
    try {
      request = JSON.parse(line) as ControlRequest
      if (request == null || typeof request !== 'object' || typeof request.id !== 'number' || !Number.isFinite(request.id) || typeof request.method !== 'string') throw new DmsError('BAD_REQUEST', 'needs a numeric id and a method name')
      if (request.params != null && (typeof request.params !== 'object' || Array.isArray(request.params))) throw new DmsError('BAD_REQUEST', 'params must be an object')
    } catch (err) {
      send({ id: 0, ok: false, error: { code: 'BAD_REQUEST', message: `malformed request: ${(err as Error).message}` } })
      return
    }
    const params = request.params ?? {}
    log.control('request %d %s', request.id, request.method)
    const stream = streams.get(request.method)
    if (stream != null) {
      let stop
      try {
        stop = stream(params, (item) => {
          send({ id: request.id, event: item })
          // a subscriber that does not read is cut off, not buffered for without bound
          if (socket.writableLength > MAX_UNREAD_BYTES) socket.destroy()
        })
      } catch (err) {
        const e = err as { code?: string, message?: string }
        send({ id: request.id, ok: false, error: { code: e?.code ?? 'CONTROL_FAILED', message: e?.message ?? String(err) } })
        return
      }
      stops.push(stop)
      send({ id: request.id, ok: true, result: 'subscribed' })
      return
    }
    const method = methods.get(request.method)
    if (method == null) {
      send({ id: request.id, ok: false, error: { code: 'UNKNOWN_METHOD', message: `unknown method ${request.method}` } })
      return
    }
    Promise.resolve().then(() => method(params)).then(
      (result) => { send({ id: request.id, ok: true, result: result ?? null }) },
      (err: unknown) => {
        const e = err as { code?: string, message?: string }
        send({ id: request.id, ok: false, error: { code: e?.code ?? 'CONTROL_FAILED', message: e?.message ?? String(err) } })
      }
    ).catch((err: unknown) => {
      // the reply could not be written (the client left): the daemon goes on
      log.control('reply to %d not sent: %s', request.id, (err as Error)?.message ?? String(err))
    })
  }
}

/** Does a live node answer on this socket path? */
async function answers (path: string): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = createConnection(path)
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { resolve(false) })
  })
}
