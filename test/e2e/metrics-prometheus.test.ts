// test-needs: prometheus
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TestNodes, passes } from '../support/nodes.js'
import { startCli } from '../support/cli.js'

const nodes = new TestNodes()

/** A free TCP port on 127.0.0.1. */
const freePort = async (): Promise<number> => await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => { const { port } = server.address() as { port: number }; server.close(() => { resolve(port) }) })
})

interface QueryResult { status: string, data: { result: Array<{ metric: Record<string, string>, value: [number, string] }> } }

test('a real Prometheus server scrapes a running daemon: the messenger counter follows the traffic', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dms-prom-'))
  const metricsPort = await freePort()
  const daemon = startCli(['node', '--data', join(dir, 'node'), '--json', '--metrics', `127.0.0.1:${metricsPort}`])
  let prometheus: ChildProcess | undefined
  try {
    const line = await daemon.waitFor(/"node\.running".*\n/, 30_000)
    const running = JSON.parse(line.split('\n').find((l) => l.includes('"node.running"'))!) as { peerId: string, addresses: string[] }
    const webPort = await freePort()
    await writeFile(join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s }',
      'scrape_configs:',
      '  - job_name: dms-net',
      `    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]`
    ].join('\n'))
    prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${webPort}`], { stdio: 'ignore' })
    const query = async (promql: string): Promise<QueryResult['data']['result']> => {
      const response = await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(promql)}`)
      const body = await response.json() as QueryResult
      assert.is(body.status, 'success')
      return body.data.result
    }
    // the target is up (Prometheus parsed the exposition), then a peer's traffic shows in the counter
    await passes(async () => { assert.equal((await query('up{job="dms-net"}')).map((r) => r.value[1]), ['1']) }, 30_000)
    const peer = await nodes.started()
    await peer.dial(running.addresses[0]!)
    for (let i = 0; i < 5; i++) await peer.request(running.peerId, 'no.such.type', { i }).catch(() => {}) // refused: still frames
    await passes(async () => {
      const frames = await query('sum(dms_messenger_frames_total{direction="in"})')
      assert.ok(Number(frames[0]?.value[1] ?? 0) >= 5, JSON.stringify(frames))
    }, 20_000)
    const errors = await query('dms_messenger_errors_total')
    assert.ok(errors.some((r) => r.metric.code != null), 'errors carry their code as a label')
    assert.ok((await query('process_resident_memory_bytes')).length === 1, 'the daemon\'s RSS is scraped')
  } finally {
    prometheus?.kill('SIGKILL')
    await daemon.stop()
    await nodes.cleanup()
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
