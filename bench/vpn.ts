import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createNamespace } from '../runtime/netdev/netns.js'
import type { Namespace } from '../runtime/netdev/netns.js'
import { createVethPair } from '../runtime/netdev/veth.js'
import { configureLink, deleteLink } from '../runtime/netdev/link.js'
import { run } from '../runtime/netdev/run.js'
import { dmsNet, startDaemon, waitRunning } from './support/vpn-daemons.js'
import { writeSection, machineLine } from './report.js'
import { iperf } from './support/iperf.js'
import { DEFAULT_VPN_MTU } from '../runtime/vpn/vpn-service.js'

const bareForwarder = fileURLToPath(new URL('./support/bare-forwarder.ts', import.meta.url))
const NODE_CIPHER = { DMS_NET_NOISE_CIPHER: 'node' }
const BEFORE = { ...NODE_CIPHER, DMS_NET_TCP_WRITES: 'parts' }
const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** A process inside a namespace, resolved once it prints `marker`. */
async function spawnIn (ns: Namespace, command: string[], marker: RegExp, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess, output: () => string }> {
  const child = spawn('ip', ['netns', 'exec', ns.name, ...command], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let output = ''
  child.stdout!.on('data', (chunk) => { output += chunk })
  child.stderr!.on('data', (chunk) => { output += chunk })
  const deadline = Date.now() + 30_000
  while (!marker.test(output)) {
    if (Date.now() > deadline || child.exitCode != null) throw new Error(`${command.join(' ')} did not start:\n${output}`)
    await sleep(50)
  }
  return { child, output: () => output }
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) return
  child.kill('SIGTERM')
  await new Promise((resolve) => { const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(undefined) }, 5000); child.once('exit', () => { clearTimeout(timer); resolve(undefined) }) })
}

const wgKeys = (): { privateKey: string, publicKey: string } => {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  const b64 = (jwkValue: string): string => Buffer.from(jwkValue, 'base64url').toString('base64')
  return { privateKey: b64(privateKey.export({ format: 'jwk' }).d!), publicKey: b64(publicKey.export({ format: 'jwk' }).x!) }
}

/** wireguard-go between the namespaces (userspace; the kernel here has no WireGuard module): 10.99.0.1 ↔ 10.99.0.2. */
async function startWireguard (a: Namespace, b: Namespace, dir: string): Promise<void> {
  const keys = [wgKeys(), wgKeys()]
  const sides = [[a, '10.77.0.1', '10.99.0.1'], [b, '10.77.0.2', '10.99.0.2']] as const
  for (const [i, [ns, , tunnelIp]] of sides.entries()) {
    const other = sides[1 - i]!
    // the control socket /var/run/wireguard/<name>.sock is shared by all namespaces: one name per side
    const device = `wgbench${i}`
    const keyFile = join(dir, `wg${i}.key`)
    await writeFile(keyFile, keys[i]!.privateKey, { mode: 0o600 })
    // wireguard-go daemonises and the daemon keeps the pipes open: wait for the launcher's exit, not for the pipes
    // (with stdio 'ignore' the launcher fails)
    const launcher = spawn('ip', ['netns', 'exec', ns.name, 'wireguard-go', device], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' } })
    let said = ''
    launcher.stdout!.on('data', (chunk) => { said += chunk })
    launcher.stderr!.on('data', (chunk) => { said += chunk })
    const code = await new Promise<number | null>((resolve) => { launcher.once('exit', resolve) })
    launcher.stdout!.destroy()
    launcher.stderr!.destroy()
    if (code !== 0) throw new Error(`wireguard-go ${device} exited with ${code}: ${said.slice(-300)}`)
    await ns.exec('wg', ['set', device, 'listen-port', '51820', 'private-key', keyFile, 'peer', keys[1 - i]!.publicKey, 'allowed-ips', `${other[2]}/32`, 'endpoint', `${other[1]}:51820`])
    await configureLink(device, { namespace: ns.name, address: `${tunnelIp}/24`, mtu: 1420 })
  }
}

async function startBareForwarders (a: Namespace, b: Namespace): Promise<ChildProcess[]> {
  const keys = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')]
  const ids = keys.map((key) => peerIdFromPrivateKey(key).toString())
  const swarmKey = randomBytes(32).toString('hex')
  const hex = (i: number): string => Buffer.from(privateKeyToProtobuf(keys[i]!)).toString('hex')
  const b2 = await spawnIn(b, [process.execPath, '--import', 'tsx', bareForwarder, hex(1), '/ip4/10.77.0.2/tcp/4100', '10.98.0.2/24', `/ip4/10.77.0.1/tcp/4100/p2p/${ids[0]!}`, swarmKey, 'no'], /ready/)
  const a2 = await spawnIn(a, [process.execPath, '--import', 'tsx', bareForwarder, hex(0), '/ip4/10.77.0.1/tcp/4100', '10.98.0.1/24', `/ip4/10.77.0.2/tcp/4100/p2p/${ids[1]!}`, swarmKey, 'yes'], /ready/)
  return [a2.child, b2.child]
}

/**
 * iperf3 TCP throughput between two namespaces joined by a veth pair: raw veth
 * (the limit), wireguard-go, a bare TUN-over-libp2p forwarder (the baseline),
 * and the dms VPN on the public network and inside a private swarm (same
 * transport as the bare forwarder). Rounds alternate the paths; medians.
 */
export async function runVpnBench (options: { seconds?: number, rounds?: number, write?: boolean } = {}): Promise<Record<string, number>> {
  if (process.getuid?.() !== 0) { process.stdout.write('vpn bench skipped: needs root (namespaces, TUN devices)\n'); return {} }
  for (const tool of ['iperf3', 'wireguard-go', 'wg']) {
    await run('sh', ['-c', `command -v ${tool}`]).catch(() => { throw new Error(`the vpn bench needs ${tool} (apt-get install iperf3 wireguard-go wireguard-tools)`) })
  }
  const seconds = options.seconds ?? 5
  const rounds = options.rounds ?? 5
  const dir = await mkdtemp(join(tmpdir(), 'dms-bench-vpn-'))
  const a = await createNamespace('dms-bench')
  const b = await createNamespace('dms-bench')
  const children: ChildProcess[] = []
  // the VPN at its default MTU on both networks, and at the bare forwarder's MTU (same transport settings)
  // and each network without TUN offloads (whole packets, as before /dms/vpn/2.0.0): the step's gain in the same run
  const flavours = [
    { path: 'vpnPublic', port: 4001, subnet: '10.88.0', mtu: DEFAULT_VPN_MTU, swarm: false, flags: [] },
    { path: 'vpnPrivate', port: 4002, subnet: '10.66.0', mtu: DEFAULT_VPN_MTU, swarm: true, flags: [] },
    { path: 'vpnPrivate1400', port: 4003, subnet: '10.67.0', mtu: 1400, swarm: true, flags: ['--vpn-no-offload'] },
    { path: 'vpnPublicWhole', port: 4004, subnet: '10.68.0', mtu: DEFAULT_VPN_MTU, swarm: false, flags: ['--vpn-no-offload'] },
    { path: 'vpnPrivateWhole', port: 4005, subnet: '10.69.0', mtu: DEFAULT_VPN_MTU, swarm: true, flags: ['--vpn-no-offload'] },
    // the steps "Noise's cipher in native/aead.cc" and "one writev per batch", undone by the switches that rule them out
    { path: 'vpnPublicNodeCipher', port: 4006, subnet: '10.70.0', mtu: DEFAULT_VPN_MTU, swarm: false, flags: [], env: NODE_CIPHER },
    { path: 'vpnPrivateNodeCipher', port: 4007, subnet: '10.71.0', mtu: DEFAULT_VPN_MTU, swarm: true, flags: [], env: NODE_CIPHER },
    { path: 'vpnPublicBefore', port: 4008, subnet: '10.72.0', mtu: DEFAULT_VPN_MTU, swarm: false, flags: [], env: BEFORE },
    { path: 'vpnPrivateBefore', port: 4009, subnet: '10.73.0', mtu: DEFAULT_VPN_MTU, swarm: true, flags: [], env: BEFORE }
  ]
  const results: Record<string, number[]> = { veth: [], wireguardGo: [], bare: [], ...Object.fromEntries(flavours.map((f) => [f.path, []])) }
  try {
    await createVethPair({ name: 'veth-a', namespace: a.name, address: '10.77.0.1/24' }, { name: 'veth-b', namespace: b.name, address: '10.77.0.2/24' })
    await startWireguard(a, b, dir)
    children.push(...await startBareForwarders(a, b))
    // one pair of nodes per VPN flavour, all up for the whole run
    for (const flavour of flavours) {
      const options = { mtu: flavour.mtu, flags: flavour.flags, env: flavour.env }
      const nodeA = await startDaemon(a, '10.77.0.1', flavour.port, join(dir, `${flavour.path}-a`), options)
      const nodeB = await startDaemon(b, '10.77.0.2', flavour.port, join(dir, `${flavour.path}-b`), { ...options, accept: flavour.swarm ? [] : [nodeA.id] })
      children.push(nodeA.node.child, nodeB.node.child)
      if (flavour.swarm) {
        await dmsNet(nodeA, ['swarm', 'create', '--authorise', nodeB.id])
        await dmsNet(nodeB, ['swarm', 'join', '--owner', nodeA.address])
      }
      await dmsNet(nodeA, ['vpn', 'start', '--subnet', `${flavour.subnet}.0/24`, '--peers', flavour.swarm ? nodeB.id : nodeB.address])
      await waitRunning(nodeB)
    }

    // warm-up, not counted: the first runs through a fresh tunnel are slower (JIT, TCP and Yamux windows growing)
    for (const ip of ['10.99.0.2', '10.98.0.2', ...flavours.map((flavour) => `${flavour.subnet}.2`)]) await iperf(a, b, ip, 2)
    // every measured run comes right after a 1 s run on the same path: each path is measured warm, whatever
    // ran before it
    const warm = async (ip: string): Promise<number> => { await iperf(a, b, ip, 1); return await iperf(a, b, ip, seconds) }
    for (let round = 1; round <= rounds; round++) {
      results.veth!.push(await warm('10.77.0.2'))
      results.wireguardGo!.push(await warm('10.99.0.2'))
      results.bare!.push(await warm('10.98.0.2'))
      for (const flavour of flavours) results[flavour.path]!.push(await warm(`${flavour.subnet}.2`))
      process.stdout.write(`round ${round}: ${Object.entries(results).map(([path, values]) => `${path} ${values.at(-1)!.toFixed(0)}`).join(', ')} Mbit/s\n`)
    }
  } finally {
    await Promise.all(children.map(stop))
    for (const [i, ns] of [a, b].entries()) {
      // wireguard-go daemonised itself: deleting its device ends it (and removes its control socket);
      // whatever is still left in the namespace is killed before the namespace goes
      await deleteLink(`wgbench${i}`, { namespace: ns.name }).catch(() => {})
      await sleep(200)
      await rm(`/var/run/wireguard/wgbench${i}.sock`, { force: true })
      const pids = (await run('ip', ['netns', 'pids', ns.name]).catch(() => '')).split('\n').filter((pid) => pid !== '')
      for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL') } catch {} }
      await ns.delete()
    }
    await rm(dir, { recursive: true, force: true })
  }
  const { lines, medians } = vpnReport(results, seconds, rounds)
  process.stdout.write(`${lines.join('\n')}\n`)
  if (options.write !== false) await writeSection('VPN throughput (iperf3 between two namespaces)', lines.join('\n'))
  return medians
}

/** The report of one run: `results` holds each path's Mbit/s, round by round. */
export function vpnReport (results: Record<string, number[]>, seconds: number, rounds: number): { lines: string[], medians: Record<string, number> } {
  const m = Object.fromEntries(Object.entries(results).map(([path, values]) => [path, median(values)]))
  // on a shared machine whole rounds run fast or slow together: a round's ratio is steadier than a ratio of medians
  const roundRatio = (path: string, baseline: string): string => `${median(results[path]!.map((v, i) => v / results[baseline]![i]!)).toFixed(2)}×`
  const ratio = (x: number, y: number): string => `${(x / y).toFixed(2)}×`
  const lines = [
    `${machineLine()}; iperf3 TCP, ${seconds} s per run, ${rounds} rounds alternating the paths after a 2 s warm-up run of each; each measured run`,
    'comes right after a 1 s run on the same path; medians (Mbit/s).',
    '',
    '| path | MTU | Mbit/s | VPN (private swarm, default MTU) vs this |',
    '|---|---|---|---|',
    `| raw veth pair (the limit) | 1500 | ${m.veth!.toFixed(0)} | ${ratio(m.vpnPrivate!, m.veth!)} |`,
    `| wireguard-go (userspace WireGuard) | 1420 | ${m.wireguardGo!.toFixed(0)} | ${ratio(m.vpnPrivate!, m.wireguardGo!)} |`,
    `| bare TUN-over-libp2p forwarder (noise + yamux + pnet) | 1400 | ${m.bare!.toFixed(0)} | ${ratio(m.vpnPrivate!, m.bare!)} |`,
    `| dms VPN, public network (noise + yamux) | ${DEFAULT_VPN_MTU} | ${m.vpnPublic!.toFixed(0)} | ${ratio(m.vpnPrivate!, m.vpnPublic!)} |`,
    `| **dms VPN, private swarm (noise + yamux + pnet)** | ${DEFAULT_VPN_MTU} | **${m.vpnPrivate!.toFixed(0)}** | 1.00× |`,
    `| dms VPN, public network, no TUN offloads (whole packets) | ${DEFAULT_VPN_MTU} | ${m.vpnPublicWhole!.toFixed(0)} | ${ratio(m.vpnPrivate!, m.vpnPublicWhole!)} |`,
    `| dms VPN, private swarm, no TUN offloads (whole packets) | ${DEFAULT_VPN_MTU} | ${m.vpnPrivateWhole!.toFixed(0)} | ${ratio(m.vpnPrivate!, m.vpnPrivateWhole!)} |`,
    `| dms VPN, public network, Node's cipher in Noise | ${DEFAULT_VPN_MTU} | ${m.vpnPublicNodeCipher!.toFixed(0)} | ${ratio(m.vpnPrivate!, m.vpnPublicNodeCipher!)} |`,
    `| dms VPN, private swarm, Node's cipher in Noise | ${DEFAULT_VPN_MTU} | ${m.vpnPrivateNodeCipher!.toFixed(0)} | ${ratio(m.vpnPrivate!, m.vpnPrivateNodeCipher!)} |`,
    `| dms VPN, public network, before both steps (Node's cipher, a write per part) | ${DEFAULT_VPN_MTU} | ${m.vpnPublicBefore!.toFixed(0)} | ${ratio(m.vpnPrivate!, m.vpnPublicBefore!)} |`,
    `| dms VPN, private swarm, before both steps | ${DEFAULT_VPN_MTU} | ${m.vpnPrivateBefore!.toFixed(0)} | ${ratio(m.vpnPrivate!, m.vpnPrivateBefore!)} |`,
    `| dms VPN, private swarm, the bare forwarder's settings (no offloads) | 1400 | ${m.vpnPrivate1400!.toFixed(0)} | ${ratio(m.vpnPrivate!, m.vpnPrivate1400!)} |`,
    '',
    `Targets of issue 26, "≥ 5× wireguard-go on the public network, ≥ 3× in a private swarm": public ${ratio(m.vpnPublic!, m.wireguardGo!)}, private swarm ${ratio(m.vpnPrivate!, m.wireguardGo!)} (medians); `
      + `the median of each round's own ratio (the two paths measured back to back): public ${roundRatio('vpnPublic', 'wireguardGo')}, private swarm ${roundRatio('vpnPrivate', 'wireguardGo')}.`,
    `The step "TUN offloads" (TCP super-packets, /dms/vpn/2.0.0) against whole packets, the median of each round's ratio: public ${roundRatio('vpnPublic', 'vpnPublicWhole')}, private swarm ${roundRatio('vpnPrivate', 'vpnPrivateWhole')}.`,
    `The step "Noise's ChaCha20-Poly1305 in native/aead.cc" (against Node's cipher, both with one writev per batch), the median of each round's ratio: public ${roundRatio('vpnPublic', 'vpnPublicNodeCipher')}, private swarm ${roundRatio('vpnPrivate', 'vpnPrivateNodeCipher')}.`,
    `The step "one writev per batch on the TCP socket" (both with Node's cipher): public ${roundRatio('vpnPublicNodeCipher', 'vpnPublicBefore')}, private swarm ${roundRatio('vpnPrivateNodeCipher', 'vpnPrivateBefore')}; both steps together: public ${roundRatio('vpnPublic', 'vpnPublicBefore')}, private swarm ${roundRatio('vpnPrivate', 'vpnPrivateBefore')}.`,
    `Target "≥ 0.9× the bare forwarder with the same transport settings" (private swarm, MTU 1400): ${ratio(m.vpnPrivate1400!, m.bare!)}.`,
    'Every path is CPU-bound: both VPN processes, iperf3 and the kernel share the cores, so rounds vary by ±20%.',
    `Every round: ${Object.entries(results).map(([path, values]) => `${path} ${values.map((v) => v.toFixed(0)).join('/')}`).join('; ')}.`
  ]
  return { lines, medians: m }
}
