// test-runner: solo (the 2 GiB transfer uses both cores)
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { preSharedKey } from '@libp2p/pnet'
import { randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { bulkChunk, expandSeed } from '../support/bulk-pattern.js'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import type { DmsLibp2p, ProtectorFactory } from '../../actors/libp2p-node.js'
import { privateNetwork } from '../../actors/private-network/protector.js'
import { formatSwarmKey, generateSwarmKey } from '../../runtime/swarm/key-file.js'

const nodes: DmsLibp2p[] = []
test.after.each(async () => { await Promise.allSettled(nodes.splice(0).map(async (n) => { await n.stop() })) })

async function node (protector?: ProtectorFactory): Promise<DmsLibp2p> {
  const created = await createLibp2pNode({ privateKey: await generateKeyPair('Ed25519'), dialTimeoutMs: 2000, ...(protector != null ? { connectionProtector: protector } : {}) })
  await created.start()
  nodes.push(created)
  return created
}

const ours = (key: Uint8Array): ProtectorFactory => privateNetwork({ key })
const pnets = (key: Uint8Array): ProtectorFactory => preSharedKey({ psk: formatSwarmKey(key) }) as unknown as ProtectorFactory

async function connects (from: DmsLibp2p, to: DmsLibp2p): Promise<boolean> {
  try {
    await from.dial(to.getMultiaddrs()[0]!)
    return (await from.services.ping.ping(to.peerId)) >= 0
  } catch {
    return false
  }
}

test('our protector talks to itself and to @libp2p/pnet, in both directions', async () => {
  const key = generateSwarmKey()
  const a = await node(ours(key))
  const b = await node(ours(key))
  const p = await node(pnets(key))
  assert.ok(await connects(a, b), 'ours → ours')
  assert.ok(await connects(a, p), 'ours → pnet')
  const q = await node(ours(key))
  assert.ok(await connects(p, q), 'pnet → ours')
})

test('without the key, or with another key, nobody connects in either direction', async () => {
  const key = generateSwarmKey()
  const member = await node(ours(key))
  const outsider = await node()
  const wrong = await node(ours(generateSwarmKey()))
  for (const [from, to, what] of [[outsider, member, 'public → private'], [member, outsider, 'private → public'], [wrong, member, 'wrong key → private'], [member, wrong, 'private → wrong key']] as const) {
    assert.not.ok(await connects(from, to), what)
    assert.is(from.getConnections(to.peerId).length, 0, `${what}: no connection remains`)
  }
})

test('2 GB through one private-network connection (receiver in its own process), every byte checked', async () => {
  const key = generateSwarmKey()
  const total = 2 * 1024 ** 3
  const chunkSize = 256 * 1024
  const seedHex = randomBytes(16).toString('hex')
  const seed = expandSeed(seedHex, chunkSize)
  const receiver = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../support/bulk-receiver.ts', import.meta.url)),
    Buffer.from(key).toString('hex'), String(total), String(chunkSize), seedHex], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    let output = ''
    receiver.stdout.on('data', (chunk) => { output += chunk })
    const line = async (prefix: string, timeoutMs: number): Promise<string> => {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        const found = output.split('\n').find((l) => l.startsWith(prefix))
        if (found != null) return found.slice(prefix.length)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error(`receiver did not print "${prefix}" in time: ${output}`)
    }
    const address = multiaddr(await line('listening ', 20_000))
    const a = await node(ours(key))
    const stream = await a.dialProtocol(address, '/dms/test/bulk/1.0.0')
    const started = Date.now()
    for (let index = 0; index * chunkSize < total && stream.status === 'open'; index++) {
      if (!stream.send(bulkChunk(seed, index))) {
        await new Promise<void>((resolve) => {
          const go = (): void => { stream.removeEventListener('drain', go); stream.removeEventListener('close', go); resolve() }
          stream.addEventListener('drain', go)
          stream.addEventListener('close', go)
        })
      }
      if (Date.now() - started > 150_000) throw new Error('bounded: gave up after 150 s')
    }
    const result = JSON.parse(await line('result ', 60_000)) as { received: number, mismatchAt: number, error?: string }
    const seconds = (Date.now() - started) / 1000
    assert.is(result.error, undefined)
    assert.is(result.received, total)
    assert.is(result.mismatchAt, -1, `first wrong byte at ${result.mismatchAt}`)
    console.log(`    2 GiB in ${seconds.toFixed(1)} s = ${(total / 1e6 / seconds).toFixed(0)} MB/s through one private-network connection`)
  } finally {
    receiver.kill('SIGKILL')
  }
})

test.run()
