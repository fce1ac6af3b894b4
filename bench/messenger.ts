import '../actors/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Stream } from '@libp2p/interface'
import { createNode } from '../runtime/node.js'
import type { DmsNode } from '../runtime/node.js'
import { componentsOf } from '../runtime/node-components.js'
import { encodeValue, decodeValue, encodeEnvelope } from '../actors/wire/codec.js'
import { RandomIds } from '../actors/messenger/random-ids.js'
import { FrameDecoder, encodeFrame } from '../actors/wire/frames.js'
import { writeSection, percentile, machineLine } from './report.js'

const BARE = '/bench/bare/1.0.0'
const BARE_ECHO = '/bench/bare-echo/1.0.0'

export interface MessengerBenchResults {
  throughput: Array<{ size: number, messages: number, messengerMBps: number, bareMBps: number, ratio: number }>
  /** `bare*`: the body alone on a bare stream; `sameFrames*`: the messenger's own frames (the envelope) on a bare stream. */
  rtt: { messengerP50: number, messengerP99: number, bareP50: number, bareP99: number, ratioP50: number, sameFramesP50: number, sameFramesP99: number, sameFramesRatioP50: number }
}

const libp2pOf = (node: DmsNode) => componentsOf(node).hosts.libp2p('public')!

async function writeFrame (stream: Stream, frame: Uint8Array): Promise<void> {
  if (stream.send(frame)) return
  await new Promise<void>((resolve) => {
    const done = (): void => { stream.removeEventListener('drain', done); stream.removeEventListener('close', done); resolve() }
    stream.addEventListener('drain', done)
    stream.addEventListener('close', done)
  })
}

/** Frames arriving on a stream, decoded, handed to `onValue`. */
function readFrames (stream: Stream, onValue: (value: unknown) => void): void {
  const decoder = new FrameDecoder(16 << 20)
  stream.addEventListener('message', (event) => {
    for (const frame of decoder.push(event.data instanceof Uint8Array ? event.data : event.data.subarray())) onValue(decodeValue(frame))
  })
}

async function timeUntil (count: () => number, target: number, send: () => Promise<void>): Promise<number> {
  const started = performance.now()
  await send()
  while (count() < target) await new Promise((resolve) => setImmediate(resolve))
  return (performance.now() - started) / 1000
}

export async function runMessengerBench (options: { write?: boolean } = {}): Promise<MessengerBenchResults> {
  const root = await mkdtemp(join(tmpdir(), 'dms-bench-'))
  const a = createNode({ dataDir: join(root, 'a') })
  const b = createNode({ dataDir: join(root, 'b') })
  try {
    await a.start()
    await b.start()
    await a.dial(b.status().host.addresses[0]!)
    const bPeer = peerIdFromString(b.peerId)
    let bareReceived = 0
    let messengerReceived = 0
    await libp2pOf(b).handle(BARE, (stream) => { readFrames(stream, () => { bareReceived++ }) })
    await libp2pOf(b).handle(BARE_ECHO, (stream) => { readFrames(stream, (value) => { stream.send(encodeFrame(encodeValue(value))) }) })
    b.handle('bench.data', () => { messengerReceived++ })
    b.handle('bench.echo', (body) => body)

    const throughput: MessengerBenchResults['throughput'] = []
    for (const [size, messages] of [[1024, 20_000], [64 * 1024, 3000]] as const) {
      const payload = new Uint8Array(size).fill(1)
      const bare = await libp2pOf(a).dialProtocol(bPeer, BARE)
      const bestOf = async (run: () => Promise<number>): Promise<number> => Math.min(await run(), await run(), await run())
      const bareSeconds = await bestOf(async () => {
        bareReceived = 0
        return await timeUntil(() => bareReceived, messages, async () => {
          for (let seq = 0; seq < messages; seq++) await writeFrame(bare, encodeFrame(encodeValue({ seq, payload })))
        })
      })
      const messengerSeconds = await bestOf(async () => {
        messengerReceived = 0
        return await timeUntil(() => messengerReceived, messages, async () => {
          for (let seq = 0; seq < messages; seq++) await a.send(b.peerId, 'bench.data', { seq, payload })
        })
      })
      const mb = size * messages / 1e6
      throughput.push({ size, messages, messengerMBps: mb / messengerSeconds, bareMBps: mb / bareSeconds, ratio: bareSeconds / messengerSeconds })
      await bare.close()
    }

    const rounds = 2000
    const echo = await libp2pOf(a).dialProtocol(bPeer, BARE_ECHO)
    let answered: (() => void) | undefined
    readFrames(echo, () => { answered?.() })
    const bareTimes: number[] = []
    const sameFramesTimes: number[] = []
    const messengerTimes: number[] = []
    const ids = new RandomIds()
    for (let i = 0; i < rounds + 200; i++) {
      const body = { i, payload: 'x'.repeat(64) }
      let started = performance.now()
      await new Promise<void>((resolve) => { answered = resolve; echo.send(encodeFrame(encodeValue(body))) })
      if (i >= 200) bareTimes.push(performance.now() - started)
      // the bytes a request puts on the wire: the envelope around the body (the echo sends the same size back)
      started = performance.now()
      await new Promise<void>((resolve) => { answered = resolve; echo.send(encodeFrame(encodeEnvelope({ v: 1, id: ids.next(), kind: 'req', type: 'bench.echo', from: '', ts: Date.now(), body }))) })
      if (i >= 200) sameFramesTimes.push(performance.now() - started)
      started = performance.now()
      await a.request(b.peerId, 'bench.echo', body)
      if (i >= 200) messengerTimes.push(performance.now() - started)
    }
    bareTimes.sort((x, y) => x - y)
    sameFramesTimes.sort((x, y) => x - y)
    messengerTimes.sort((x, y) => x - y)
    const rtt = {
      messengerP50: percentile(messengerTimes, 0.5),
      messengerP99: percentile(messengerTimes, 0.99),
      bareP50: percentile(bareTimes, 0.5),
      bareP99: percentile(bareTimes, 0.99),
      ratioP50: percentile(messengerTimes, 0.5) / percentile(bareTimes, 0.5),
      sameFramesP50: percentile(sameFramesTimes, 0.5),
      sameFramesP99: percentile(sameFramesTimes, 0.99),
      sameFramesRatioP50: percentile(messengerTimes, 0.5) / percentile(sameFramesTimes, 0.5)
    }
    const results = { throughput, rtt }
    const lines = [
      `Two nodes in one process on 127.0.0.1 (noise + yamux), ${machineLine()}. Baseline: a bare libp2p stream carrying the same`,
      'msgpackr-encoded `{ seq, payload }` frames (length-prefixed, drain-aware) on the same connection. Best of 3 runs for throughput;',
      `round trip over ${rounds} requests after 200 warm-up rounds. Targets: throughput ≥ 0.95× bare at both sizes, p50 round trip ≤ 1.15× a bare stream with the same frames.`,
      '',
      '| measure | messenger | bare stream | ratio |',
      '| --- | --- | --- | --- |',
      ...throughput.map((t) => `| throughput, ${t.size / 1024} KiB messages (${t.messages}) | ${t.messengerMBps.toFixed(0)} MB/s | ${t.bareMBps.toFixed(0)} MB/s | ${t.ratio.toFixed(2)}× |`),
      `| round trip p50, bare stream with the body alone | ${rtt.messengerP50.toFixed(3)} ms | ${rtt.bareP50.toFixed(3)} ms | ${rtt.ratioP50.toFixed(2)}× |`,
      `| round trip p99, bare stream with the body alone | ${rtt.messengerP99.toFixed(3)} ms | ${rtt.bareP99.toFixed(3)} ms | ${(rtt.messengerP99 / rtt.bareP99).toFixed(2)}× |`,
      `| round trip p50, bare stream with the messenger's frames | ${rtt.messengerP50.toFixed(3)} ms | ${rtt.sameFramesP50.toFixed(3)} ms | ${rtt.sameFramesRatioP50.toFixed(2)}× |`,
      `| round trip p99, bare stream with the messenger's frames | ${rtt.messengerP99.toFixed(3)} ms | ${rtt.sameFramesP99.toFixed(3)} ms | ${(rtt.messengerP99 / rtt.sameFramesP99).toFixed(2)}× |`,
      '',
      'Two round-trip baselines, measured in turn within each round: the body alone (`{ i, payload }`, 64 bytes of payload), and',
      'the messenger\'s own frames on the bare stream (the same envelope around the same body: v, id, kind, type, ts), so that the',
      'second ratio is the messenger\'s processing alone and the first adds the envelope\'s bytes.'
    ]
    process.stdout.write(`\nMessenger\n${lines.slice(4).join('\n')}\n`)
    if (options.write !== false) await writeSection('Messenger', lines.join('\n'))
    return results
  } finally {
    await a.stop()
    await b.stop()
    await rm(root, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await runMessengerBench()
