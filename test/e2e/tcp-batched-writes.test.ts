import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { Uint8ArrayList } from 'uint8arraylist'
import type { MultiaddrConnection } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { batchWrites } from '../../actors/tcp-batched-writes.js'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import type { DmsLibp2p } from '../../actors/libp2p-node.js'

type SendData = (data: Uint8ArrayList) => { sentBytes: number, canSendMore: boolean }

/** A real socket pair on 127.0.0.1, the client side dressed as @libp2p/tcp's connection with its writes batched. */
async function socketPair (): Promise<{ server: Server, client: Socket, accepted: Socket, sendData: SendData, close: () => void }> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  const acceptedP = once(server, 'connection')
  const client = connect(port, '127.0.0.1')
  await once(client, 'connect')
  const [accepted] = await acceptedP as [Socket]
  const connection = { socket: client, sendData: () => { throw new Error('the unbatched sendData ran') } }
  batchWrites(connection as unknown as MultiaddrConnection)
  return { server, client, accepted, sendData: connection.sendData as unknown as SendData, close: () => { client.destroy(); accepted.destroy(); server.close() } }
}

/** A seeded generator, so that a failing case can be run again. */
function random (seed: number): (below: number) => number {
  let state = seed >>> 0
  return (below) => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return state % below
  }
}

test('generated: 150 batches of random parts each leave in one writev, and the peer reads exactly the bytes in order', async () => {
  const pair = await socketPair()
  try {
    // the socket's own write paths: _writev for several buffered parts, _write for one at a time
    type Internals = { _writev: (chunks: unknown[], cb: unknown) => void, _write: (chunk: unknown, encoding: unknown, cb: unknown) => void }
    const internals = pair.client as unknown as Internals
    const writes: number[] = []
    let singleWrites = 0
    const [writev, write] = [internals._writev.bind(pair.client), internals._write.bind(pair.client)]
    internals._writev = (chunks, cb) => { writes.push(chunks.length); writev(chunks, cb) }
    internals._write = (chunk, encoding, cb) => { singleWrites++; write(chunk, encoding, cb) }
    const received = createHash('sha256')
    let receivedBytes = 0
    pair.accepted.on('data', (chunk: Buffer) => { received.update(chunk); receivedBytes += chunk.byteLength })
    const sent = createHash('sha256')
    let sentBytes = 0
    const next = random(26)
    for (let batch = 0; batch < 150; batch++) {
      // Noise's shape (a 2-byte length, then a record) and odd sizes, empty parts too
      const parts = Array.from({ length: 2 + next(6) }, (_, i) => randomBytes(i % 2 === 0 ? 2 : i === 1 ? 1 + next(66000) : next(3) === 0 ? 0 : next(66000)))
      const list = new Uint8ArrayList(...parts)
      for (const part of parts) sent.update(part)
      sentBytes += list.byteLength
      const result = pair.sendData(list)
      assert.is(result.sentBytes, list.byteLength, 'the whole batch is taken')
      if (!result.canSendMore) await once(pair.client, 'drain')
    }
    const deadline = Date.now() + 10_000
    while (receivedBytes < sentBytes && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.is(receivedBytes, sentBytes)
    assert.is(received.digest('hex'), sent.digest('hex'), 'the same bytes in the same order')
    // each batch was corked: its non-empty parts went to the kernel together, never a 2-byte write alone
    assert.ok(writes.length > 0 && writes.length <= 150, `${writes.length} writev calls for 150 batches`)
    assert.ok(writes.every((chunks) => chunks >= 2), 'no batch was cut into single writes')
    assert.is(singleWrites, 0, 'no part went to the kernel on its own')
  } finally {
    pair.close()
  }
})

test('backpressure: a peer that stops reading makes canSendMore false, and drain comes once it reads again', async () => {
  const pair = await socketPair()
  try {
    pair.accepted.pause()
    const batch = (): Uint8ArrayList => new Uint8ArrayList(randomBytes(2), randomBytes(65535))
    let sent = 0
    let blocked = false
    // bounded: the kernel's buffers hold a few MiB at most
    for (let i = 0; i < 2000 && !blocked; i++) {
      const result = pair.sendData(batch())
      sent += result.sentBytes
      blocked = !result.canSendMore
    }
    assert.ok(blocked, 'the socket said stop')
    assert.ok(pair.client.writableLength > 0, 'what the kernel did not take waits in the socket')
    let received = 0
    pair.accepted.on('data', (chunk: Buffer) => { received += chunk.byteLength })
    const drained = once(pair.client, 'drain')
    pair.accepted.resume()
    await drained
    const deadline = Date.now() + 10_000
    while (received < sent && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.is(received, sent)
  } finally {
    pair.close()
  }
})

test('a host that batches and one that writes part by part talk both ways (the wire is the same)', async () => {
  const hosts: DmsLibp2p[] = []
  const before = process.env.DMS_NET_TCP_WRITES
  const restore = (): void => { if (before === undefined) delete process.env.DMS_NET_TCP_WRITES; else process.env.DMS_NET_TCP_WRITES = before }
  try {
    hosts.push(await createLibp2pNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] }))
    process.env.DMS_NET_TCP_WRITES = 'parts'
    hosts.push(await createLibp2pNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] }))
    restore()
    const [a, b] = hosts as [DmsLibp2p, DmsLibp2p]
    await Promise.all([a.start(), b.start()])
    // each side echoes what it reads
    for (const host of hosts) {
      await host.handle('/test/echo/1', async (stream) => {
        stream.addEventListener('message', (event) => { stream.send(event.data) })
        stream.addEventListener('remoteCloseWrite', () => { void stream.close() })
      })
    }
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const stream = await from.dialProtocol(to.getMultiaddrs()[0]!, '/test/echo/1')
      const next = random(from === a ? 1 : 2)
      const messages = Array.from({ length: 40 }, () => randomBytes(1 + next(100_000)))
      const expected = Buffer.concat(messages)
      const echoed: Uint8Array[] = []
      let echoedBytes = 0
      stream.addEventListener('message', (event) => { const bytes = event.data.subarray(); echoed.push(bytes); echoedBytes += bytes.byteLength })
      for (const message of messages) {
        if (!stream.send(message)) await once(stream as unknown as EventTarget, 'drain')
      }
      const deadline = Date.now() + 15_000
      while (echoedBytes < expected.byteLength && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
      assert.ok(Buffer.concat(echoed).equals(expected), `${from === a ? 'batching → part by part' : 'part by part → batching'}: every byte echoed in order`)
      await stream.close()
    }
  } finally {
    restore()
    await Promise.all(hosts.map(async (host) => { await host.stop() }))
  }
})

test.run()
