// One client with no identity holds idle TCP sockets open to a node (from 127.0.0.2, renewing each
// one the node closes) while honest nodes on 127.0.0.1 dial it again and again, on the public host
// and on a private host. The upgrade slots one address may hold are capped, and a socket that says
// nothing is closed after the upgrade deadline: honest dials keep succeeding.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { TestNodes } from '../support/nodes.js'
import type { DmsNode } from '../../runtime/node.js'
import type { NetworkKind } from '../../runtime/events.js'
import { privateNetwork } from '../../actors/private-network/protector.js'
import { componentsOf } from '../../runtime/node-components.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })

/** Hold `count` idle sockets to `port` from 127.0.0.2, opening a new one whenever one closes, until `stop()`. */
function idleSockets (port: number, count: number): { stop: () => void, opened: () => number } {
  const sockets = new Set<Socket>()
  let stopped = false
  let opened = 0
  const open = (): void => {
    if (stopped) return
    opened++
    const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' })
    sockets.add(socket)
    socket.on('error', () => {})
    // renewed a little later, so a node that refuses at once is not spun against
    socket.on('close', () => { sockets.delete(socket); setTimeout(open, 20) })
  }
  for (let i = 0; i < count; i++) open()
  return { stop: () => { stopped = true; for (const socket of sockets) socket.destroy() }, opened: () => opened }
}

const portOf = (address: string): number => Number(/\/tcp\/(\d+)/.exec(address)![1])

async function honestDials (dialers: DmsNode[], target: string, rounds: number, network: NetworkKind, targetPeer: string): Promise<{ ok: number, errors: string[] }> {
  let ok = 0
  const errors: string[] = []
  for (let round = 0; round < rounds; round++) {
    await Promise.all(dialers.map(async (dialer) => {
      try {
        await dialer.dial(target, { network })
        ok++
      } catch (err) {
        errors.push((err as Error).message)
      }
      await dialer.disconnect(targetPeer)
    }))
  }
  return { ok, errors }
}

test('64 idle sockets from one address: honest dials to the public host keep succeeding', async () => {
  const host = await nodes.started({ listen: ['/ip4/127.0.0.1/tcp/0'] })
  const dialers = await Promise.all([1, 2, 3, 4].map(async () => await nodes.started()))
  const address = host.status().host.addresses[0]!
  const attack = idleSockets(portOf(address), 64)
  try {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const { ok, errors } = await honestDials(dialers, address, 10, 'public', host.peerId)
    process.stdout.write(`    public host: ${ok}/40 honest dials held, attacker opened ${attack.opened()} sockets\n`)
    assert.ok(ok >= 36, `${ok}/40: ${errors.slice(0, 3).join(' | ')}`)
    for (const error of errors) assert.not.match(error, /key mismatch/)
  } finally {
    attack.stop()
  }
  assert.is(host.status().host.state, 'running')
})

test('the same against a private host: members keep connecting, and a silent socket is dropped within the nonce deadline', async () => {
  const key = new Uint8Array(randomBytes(32))
  const owner = await nodes.started()
  const members = await Promise.all([1, 2, 3, 4].map(async () => await nodes.started()))
  for (const node of [owner, ...members]) componentsOf(node).hosts.setPrivateProtector(() => privateNetwork({ key }))
  const [ownerPrivate] = await componentsOf(owner).hosts.startPrivateHost()
  await Promise.all(members.map(async (member) => await componentsOf(member).hosts.startPrivateHost()))
  // one silent socket is closed by the node, not held for libp2p's 10 s default
  const silentClosed = await new Promise<number>((resolve) => {
    const started = Date.now()
    const socket = connect({ host: '127.0.0.1', port: portOf(ownerPrivate!) })
    socket.on('error', () => {})
    socket.on('close', () => { resolve(Date.now() - started) })
    setTimeout(() => { socket.destroy(); resolve(Infinity) }, 9000)
  })
  assert.ok(silentClosed < 6000, `a silent socket held its slot for ${silentClosed} ms`)
  const attack = idleSockets(portOf(ownerPrivate!), 64)
  try {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const { ok, errors } = await honestDials(members, ownerPrivate!, 10, 'private', owner.peerId)
    process.stdout.write(`    private host: ${ok}/40 honest dials held, attacker opened ${attack.opened()} sockets\n`)
    assert.ok(ok >= 36, `${ok}/40: ${errors.slice(0, 3).join(' | ')}`)
  } finally {
    attack.stop()
  }
})

test.run()
