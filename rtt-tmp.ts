import './actors/polyfill.js'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { createNode } from './runtime/node.js'
import { componentsOf } from './runtime/node-components.js'
import { encodeValue, decodeValue } from './actors/wire/codec.js'
import { encodeFrame, FrameDecoder } from './actors/wire/frames.js'
import { Socket } from 'node:net'
let writes = 0
const orig = Socket.prototype.write
Socket.prototype.write = function (this: Socket, ...args: any[]) { writes++; return (orig as any).apply(this, args) } as any
const root = await mkdtemp(join(tmpdir(), 'rtt-'))
const a = createNode({ dataDir: join(root, 'a') }); const b = createNode({ dataDir: join(root, 'b') })
await a.start(); await b.start(); await a.dial(b.status().host.addresses[0]!)
b.handle('echo', (body) => body)
const la = componentsOf(a).hosts.libp2p()!; const lb = componentsOf(b).hosts.libp2p()!
await lb.handle('/echo/1', (stream) => { const d = new FrameDecoder(1 << 20); stream.addEventListener('message', (e) => { for (const f of d.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())) stream.send(encodeFrame(encodeValue(decodeValue(f)))) }) })
const echo = await la.dialProtocol(peerIdFromString(b.peerId), '/echo/1')
let answered: (() => void) | undefined
const d2 = new FrameDecoder(1 << 20)
echo.addEventListener('message', (e) => { for (const f of d2.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())) { decodeValue(f); answered?.() } })
const body = { i: 1, payload: 'x'.repeat(64) }
const N = Number(process.argv[3] ?? 5000)
const m = (a as any).messages.messengers.public
for (const mode of (process.argv[2] ?? 'bare,msgr').split(',')) {
  const t = performance.now(); writes = 0
  for (let i = 0; i < N; i++) {
    if (mode === 'bare2') await new Promise<void>((r) => { answered = r; echo.send(encodeFrame(encodeValue({ v: 1, id: 'AAAAAAAAAAAAAAAAAAAAAA', kind: 'req', type: 'echo', from: b.peerId, ts: Date.now(), body }))) })
    else if (mode === 'bare') await new Promise<void>((r) => { answered = r; echo.send(encodeFrame(encodeValue(body))) })
    else if (mode === 'dms') await a.request(b.peerId, 'echo', body)
    else await m.request(b.peerId, 'echo', body)
  }
  console.log(mode, ((performance.now() - t) / N * 1000).toFixed(1), 'us', 'writes/rtt', (writes / N).toFixed(2))
}
process.exit(0)
