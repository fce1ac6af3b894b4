// test-needs: ip ping
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { eventually } from '../support/nodes.js'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createNamespace, listNamespaces } from '../../runtime/netdev/netns.js'
import type { Namespace } from '../../runtime/netdev/netns.js'

const script = fileURLToPath(new URL('../support/vpn-node.ts', import.meta.url))
const isRoot = process.getuid?.() === 0

async function member (ns: Namespace, key: string, listen: string, ip: string, routes: Array<[string, string, string]>): Promise<{ child: ChildProcess, output: () => string }> {
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', script, key, listen, ip, JSON.stringify(routes)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout!.on('data', (chunk) => { output += chunk })
  const deadline = Date.now() + 20_000
  while (!output.includes('ready')) {
    if (Date.now() > deadline || child.exitCode != null) throw new Error(`vpn member did not start: ${output}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { child, output: () => output }
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode != null) return
  child.kill('SIGTERM')
  await new Promise((resolve) => { const t = setTimeout(() => { child.kill('SIGKILL'); resolve(undefined) }, 5000); child.once('exit', () => { clearTimeout(t); resolve(undefined) }) })
}

test('two namespaces, real TUN devices, IP over libp2p: ping crosses; a spoofed source is dropped', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  const a = await createNamespace('dms-vpn')
  const b = await createNamespace('dms-vpn')
  const children: ChildProcess[] = []
  try {
    // a veth pair made inside the namespaces, never in the host's
    await a.exec('ip', ['link', 'add', 'veth-a', 'type', 'veth', 'peer', 'name', 'veth-b', 'netns', b.name])
    await a.exec('ip', ['addr', 'add', '10.77.0.1/24', 'dev', 'veth-a'])
    await a.exec('ip', ['link', 'set', 'veth-a', 'up'])
    await b.exec('ip', ['addr', 'add', '10.77.0.2/24', 'dev', 'veth-b'])
    await b.exec('ip', ['link', 'set', 'veth-b', 'up'])
    const keyA = await generateKeyPair('Ed25519')
    const keyB = await generateKeyPair('Ed25519')
    const idA = peerIdFromPrivateKey(keyA).toString()
    const idB = peerIdFromPrivateKey(keyB).toString()
    const hex = (key: typeof keyA): string => Buffer.from(privateKeyToProtobuf(key)).toString('hex')
    // b has an address outside the VPN; hostile a routes it into the tunnel (its own code, its own table)
    await b.exec('ip', ['addr', 'add', '10.66.0.2/32', 'dev', 'lo'])
    const memberA = await member(a, hex(keyA), '/ip4/10.77.0.1/tcp/4001', '10.88.0.1', [['10.66.0.2', idB, '/ip4/10.77.0.2/tcp/4001'], ['10.88.0.2', idB, '/ip4/10.77.0.2/tcp/4001']])
    children.push(memberA.child)
    const memberB = await member(b, hex(keyB), '/ip4/10.77.0.2/tcp/4001', '10.88.0.2', [['10.88.0.1', idA, '/ip4/10.77.0.1/tcp/4001']])
    children.push(memberB.child)

    const ping = await a.exec('ping', ['-c', '5', '-i', '0.2', '-W', '2', '10.88.0.2'], { timeoutMs: 20_000 }).catch((err: Error) => err.message)
    assert.match(ping, /5 packets transmitted, [45] received/)

    // a packet from an address that is not a's VPN IP is dropped by b
    await a.exec('ip', ['addr', 'add', '10.88.0.99/24', 'dev', 'dmsvpn0'])
    const spoofed = await a.exec('ping', ['-c', '3', '-i', '0.2', '-W', '1', '-I', '10.88.0.99', '10.88.0.2'], { timeoutMs: 20_000 }).catch((err: Error) => err.message)
    assert.match(spoofed, /3 packets transmitted, 0 received/)

    // a packet to one of b's non-VPN addresses is dropped by b, whatever a's table says
    await a.exec('ip', ['route', 'add', '10.66.0.2/32', 'dev', 'dmsvpn0'])
    const sideways = await a.exec('ping', ['-c', '3', '-i', '0.2', '-W', '1', '-I', '10.88.0.1', '10.66.0.2'], { timeoutMs: 20_000 }).catch((err: Error) => err.message)
    assert.match(sideways, /3 packets transmitted, 0 received/)

    // packets that arrive after b's device closed (a VPN stopping while traffic flows) are dropped and
    // counted; before, the write to the closed device threw in a stream listener and killed the node
    memberB.child.kill('SIGUSR2')
    await eventually('b closed its device', () => memberB.output().includes('device closed'), 5000)
    await a.exec('ping', ['-c', '3', '-i', '0.2', '-W', '1', '10.88.0.2'], { timeoutMs: 20_000 }).catch(() => '')
    assert.is(memberB.child.exitCode, null, `b still runs: ${memberB.output().slice(-400)}`)
    await stop(memberB.child)
    const stats = JSON.parse(memberB.output().split('stats ')[1]!.split('\n')[0]!) as { packetsIn: number, drops: { spoofed: number, notForUs: number, deviceClosed: number } }
    assert.ok(stats.drops.deviceClosed >= 1, `b dropped ${stats.drops.deviceClosed} packets for its closed device`)
    assert.ok(stats.drops.notForUs >= 3, `b dropped ${stats.drops.notForUs} packets not for its VPN IP`)
    assert.ok(stats.packetsIn >= 4, `b received ${stats.packetsIn} packets`)
    assert.ok(stats.drops.spoofed >= 3, `b dropped ${stats.drops.spoofed} spoofed packets`)
  } finally {
    await Promise.all(children.map(stop))
    await a.delete()
    await b.delete()
  }
  const left = await listNamespaces()
  assert.not.ok(left.includes(a.name) || left.includes(b.name), 'namespaces removed')
})

test.run()
