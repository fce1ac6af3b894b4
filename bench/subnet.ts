// `npm run bench subnet`: what the subnet services cost. DNS answer latency of a member's name server
// against a bare UDP echo on the same loopback (the floor), and the time of a metrics scrape of a node
// with many peers connected. Results go to bench/results/.
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import * as dnsPacket from 'dns-packet'
import { startDnsServer } from '../actors/vpn/dns-server.js'
import { TestNodes } from '../test/support/nodes.js'
import { machineLine, percentile, writeSection } from './report.js'

const QUERIES = 3000
const PEERS = 100

/** Round trips of `count` sequential datagrams to 127.0.0.1:port, in ms, sorted. */
async function roundTrips (port: number, packet: Uint8Array, count: number): Promise<number[]> {
  const socket: Socket = createSocket('udp4')
  const times: number[] = []
  await new Promise<void>((resolve) => { socket.bind(0, '127.0.0.1', resolve) })
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    await new Promise<void>((resolve) => { socket.once('message', () => { resolve() }); socket.send(packet, port, '127.0.0.1') })
    times.push(performance.now() - started)
  }
  socket.close()
  return times.sort((a, b) => a - b)
}

export async function runSubnetBench (): Promise<void> {
  const echo = createSocket('udp4')
  echo.on('message', (message, remote) => { echo.send(message, remote.port, remote.address) })
  await new Promise<void>((resolve) => { echo.bind(0, '127.0.0.1', resolve) })
  const echoPort = (echo.address()).port
  const dns = await startDnsServer({ ip: '127.0.0.1', port: 15353, lookup: (name) => name === 'web.dms' ? { ip: '10.88.0.2' } : 'unknown' })
  const query = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'web.dms' }] })
  // the rate limit is per source and the bench is one source: pace below it by measuring in rounds
  const base: number[] = []
  const named: number[] = []
  for (let round = 0; round < QUERIES / 300; round++) {
    base.push(...await roundTrips(echoPort, query, 300))
    named.push(...await roundTrips(15353, query, 300))
    await new Promise((resolve) => setTimeout(resolve, 1600))
  }
  base.sort((a, b) => a - b)
  named.sort((a, b) => a - b)
  await dns.close()
  echo.close()

  const nodes = new TestNodes()
  const scrapes: number[] = []
  try {
    const hub = await nodes.started()
    const address = hub.status().host.addresses[0]!
    for (let i = 0; i < PEERS; i++) await (await nodes.started()).dial(address)
    for (let i = 0; i < 200; i++) {
      const started = performance.now()
      await hub.metrics.text()
      scrapes.push(performance.now() - started)
    }
  } finally {
    await nodes.cleanup()
  }
  scrapes.sort((a, b) => a - b)
  const ms = (value: number): string => value.toFixed(3)
  const body = `Measured ${machineLine()}.

| what | p50 ms | p99 ms | ratio p50 |
| --- | --- | --- | --- |
| UDP echo on 127.0.0.1 (baseline) | ${ms(percentile(base, 0.5))} | ${ms(percentile(base, 0.99))} | 1.00× |
| DNS A query to a member's name server | ${ms(percentile(named, 0.5))} | ${ms(percentile(named, 0.99))} | ${(percentile(named, 0.5) / percentile(base, 0.5)).toFixed(2)}× |
| metrics scrape of a node with ${PEERS} peers | ${ms(percentile(scrapes, 0.5))} | ${ms(percentile(scrapes, 0.99))} | |

${QUERIES} sequential queries each (paced under the per-source rate limit); 200 scrapes.`
  process.stdout.write(`${body}\n`)
  await writeSection('Subnet services: DNS answers and metrics scrapes', body)
}
