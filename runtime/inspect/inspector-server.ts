import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readFile } from 'node:fs/promises'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { WebSocketServer, WebSocket } from 'ws'
import { chartModel } from './chart-model.js'
import { machineCatalog } from './machine-catalog.js'
import { LiveSystem } from './live-system.js'
import type { LiveChange } from './live-system.js'
import type { SanitizedInspectionEvent } from './sanitized-inspector.js'
import { statelyActor, statelyDefinition, statelyLogEvent } from './stately-events.js'
import { DmsError } from '../errors.js'
import { jsonText } from '../json-text.js'

export interface InspectorServerInit {
  /** TCP port on 127.0.0.1; 0 picks a free one. @default 7700 */
  port?: number
  /** Log lines kept for late clients. @default 2000 */
  maxLog?: number
}

export interface InspectorServer {
  /** The local page with its access token, e.g. http://127.0.0.1:7700/?token=… */
  readonly url: string
  /** The bridge page for the Stately inspector, with the token (needs internet for stately.ai). */
  readonly statelyUrl: string
  /** `http://127.0.0.1:PORT`, without a path or token. */
  readonly origin: string
  /** The random token every request and WebSocket must carry as `?token=`. */
  readonly token: string
  /** An inspection observer for one node; `name` keeps actor ids of several nodes apart. */
  observer: (name: string) => (event: SanitizedInspectionEvent) => void
  /** That node stopped: its actors leave the page. */
  forget: (name: string) => void
  close: () => Promise<void>
}

const pagePath = new URL('./page.html', import.meta.url)

/** A `--inspect` value as a port; throws a usage message. */
const BATCH_MS = 100

/**
 * The inspector: an HTTP server bound to 127.0.0.1 only (never all interfaces,
 * never opens a browser) serving
 * - `/` a self-contained page (no internet needed): charts, live actors, event log, details;
 * - `/api/machines` the chart models, `/api/events` the live stream (server-sent events,
 *   an `init` view then batches of changes every 100 ms);
 * - `/stately` a bridge page embedding the Stately inspector, fed over a WebSocket at `/stately/ws`
 *   in @statelyai/inspect's event format.
 * It only ever sees sanitised events (see sanitized-inspector.ts).
 */
export async function startInspectorServer (init: InspectorServerInit = {}): Promise<InspectorServer> {
  const page = await readFile(pagePath, 'utf8')
  const system = new LiveSystem(init.maxLog ?? 2000)
  const machines = machineCatalog.map(({ machine, about }) => ({ ...chartModel(machine), about }))
  const definitions = new Map(machineCatalog.map(({ machine }) => [machine.id, statelyDefinition(machine)]))
  const streams = new Set<ServerResponse>()
  let pending: LiveChange[] = []
  let timer: NodeJS.Timeout | undefined

  const flush = (): void => {
    timer = undefined
    const batch = pending
    pending = []
    const data = `data: ${jsonText(batch)}\n\n`
    for (const res of streams) res.write(data)
  }
  const publish = (changes: LiveChange[]): void => {
    if (changes.length === 0) return
    if (streams.size > 0) {
      pending.push(...changes)
      timer ??= setTimeout(flush, BATCH_MS)
    }
    relay(changes)
  }

  const server = createServer((req, res) => { route(req, res) })
  const stately = new WebSocketServer({ noServer: true })
  const relay = (changes: LiveChange[]): void => {
    if (stately.clients.size === 0) return
    for (const change of changes) {
      if (change.kind !== 'log') continue
      const actor = system.actors.get(change.entry.actor)
      const message = change.entry.kind === 'actor' && actor != null ? statelyActor(actor, definitions) : statelyLogEvent(change.entry, actor)
      if (message == null) continue
      const text = jsonText(message)
      for (const client of stately.clients) if (client.readyState === WebSocket.OPEN) client.send(text)
    }
  }
  stately.on('connection', (socket) => {
    // a new inspector first learns every live actor as it is now
    for (const actor of system.actors.values()) socket.send(jsonText(statelyActor(actor, definitions)))
  })
  server.on('upgrade', (req, socket, head) => {
    // a WebSocket is not bound by the same-origin policy: any web page could open one without these checks
    if (pathOf(req) !== '/stately/ws' || refusal(req) != null) { socket.destroy(); return }
    stately.handleUpgrade(req, socket, head, (ws) => { stately.emit('connection', ws, req) })
  })

  const token = randomBytes(18).toString('base64url')
  let port = 0
  const hosts = (): Set<string> => new Set([`127.0.0.1:${port}`, `localhost:${port}`])
  /** Why a request may not see the inspector: a foreign Host (DNS rebinding), a foreign Origin (another web page), no token. */
  function refusal (req: IncomingMessage): string | undefined {
    if (!hosts().has(req.headers.host ?? '')) return 'unknown host'
    const origin = req.headers.origin
    if (origin != null && ![...hosts()].some((host) => origin === `http://${host}`)) return 'foreign origin'
    const given = Buffer.from(new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? '')
    const expected = Buffer.from(token)
    if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected)) return 'missing or wrong token'
    return undefined
  }

  function route (req: IncomingMessage, res: ServerResponse): void {
    const path = pathOf(req)
    if (req.method !== 'GET') { res.writeHead(405).end(); return }
    const refused = refusal(req)
    if (refused != null) { res.writeHead(403, { 'content-type': 'text/plain' }).end(`forbidden: ${refused} (open the URL the node printed at start)`); return }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page)
    } else if (path === '/api/machines') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(machines))
    } else if (path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
      res.write(`event: init\ndata: ${jsonText({ actors: [...system.actors.values()], log: system.log.slice(-500) })}\n\n`)
      streams.add(res)
      req.on('close', () => { streams.delete(res) })
    } else if (path === '/stately') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(statelyBridgePage())
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new DmsError(err.code === 'EADDRINUSE' ? 'ADDRESS_IN_USE' : 'INSPECTOR_FAILED', err.code === 'EADDRINUSE' ? `inspector port ${init.port ?? 7700} on 127.0.0.1 is in use (choose another: --inspect PORT)` : err.message))
    })
    server.listen(init.port ?? 7700, '127.0.0.1', () => { resolve() })
  })
  const address = server.address()
  port = typeof address === 'object' && address != null ? address.port : init.port ?? 7700
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    statelyUrl: `http://127.0.0.1:${port}/stately?token=${token}`,
    origin: `http://127.0.0.1:${port}`,
    token,
    observer: (name) => (event) => { publish(system.apply(name, event)) },
    forget: (name) => { publish(system.forget(name)) },
    close: async () => {
      if (timer != null) clearTimeout(timer)
      for (const res of streams) res.end()
      for (const client of stately.clients) client.terminate()
      stately.close()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}

const pathOf = (req: IncomingMessage): string => (req.url ?? '/').split('?')[0]!

/** Embeds the Stately inspector and forwards our WebSocket's events into it once it says it is connected. */
function statelyBridgePage (): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>dms-network — Stately inspector</title>
<style>html,body,iframe{margin:0;height:100%;width:100%;border:0}</style></head><body>
<iframe id="inspector" src="https://stately.ai/inspect"></iframe>
<script>
const frame = document.getElementById('inspector'); const waiting = []; let connected = false
addEventListener('message', (e) => { if (e.data && e.data.type === '@statelyai.connected') { connected = true; for (const m of waiting.splice(0)) frame.contentWindow.postMessage(m, '*') } })
const ws = new WebSocket('ws://' + location.host + '/stately/ws' + location.search)
ws.onmessage = (e) => { const m = JSON.parse(e.data); if (connected) frame.contentWindow.postMessage(m, '*'); else waiting.push(m) }
</script></body></html>`
}
