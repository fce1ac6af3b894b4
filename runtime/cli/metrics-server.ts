import { createServer } from 'node:http'
import { isIP } from 'node:net'
import { UsageError } from './command.js'
import { DmsError } from '../errors.js'
import type { NodeMetrics } from '../metrics.js'

export interface MetricsAddress { host: string, port: number }

/**
 * `--metrics [HOST:]PORT`: where the daemon serves Prometheus metrics. Only a
 * loopback address: the metrics name peers and traffic, and a scraper on
 * another machine reaches them through an SSH tunnel or a local agent.
 */
export function metricsAddress (value: string): MetricsAddress {
  const match = /^(?:(\[::1\]|[\w.-]+):)?(\d{1,5})$/.exec(value)
  const port = Number(match?.[2])
  if (match == null || port > 65535) throw new UsageError(`--metrics takes [HOST:]PORT, e.g. 127.0.0.1:9464 (got ${JSON.stringify(value)})`)
  const host = (match[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '')
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))
  if (!loopback) throw new UsageError(`--metrics serves on a loopback address only (127.0.0.1, ::1 or localhost), not ${JSON.stringify(host)}`)
  return { host, port }
}

/** Serve `GET /metrics` in Prometheus text format; everything else is 404 (405 for other methods). */
export async function startMetricsServer (address: MetricsAddress, metrics: NodeMetrics): Promise<{ url: string, close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET' }).end(); return }
    // a page in a local browser that rebinds its own name to 127.0.0.1 sends its name: refused
    if (!/^(127(\.\d{1,3}){3}|localhost|\[::1\])(:\d+)?$/i.test(req.headers.host ?? '')) { res.writeHead(421, { 'content-type': 'text/plain' }).end('the metrics answer only to a loopback Host\n'); return }
    if (req.url?.split('?')[0] !== '/metrics') { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n'); return }
    metrics.text().then(
      (text) => { res.writeHead(200, { 'content-type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : text) },
      (err: unknown) => { res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`) })
  })
  server.headersTimeout = 5000
  server.requestTimeout = 10_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? new DmsError('ADDRESS_IN_USE', `--metrics ${address.host}:${address.port}: another program listens there`)
        : new DmsError('CONFIG_INVALID', `--metrics ${address.host}:${address.port}: ${err.code ?? err.message}`))
    })
    server.listen(address.port, address.host, resolve)
  })
  const bound = server.address()
  const port = typeof bound === 'object' && bound != null ? bound.port : address.port
  const host = address.host.includes(':') ? `[${address.host}]` : address.host
  return {
    url: `http://${host}:${port}/metrics`,
    close: async () => { server.closeAllConnections(); await new Promise<void>((resolve) => { server.close(() => { resolve() }) }) }
  }
}
