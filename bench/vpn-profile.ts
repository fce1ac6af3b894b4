// `npm run bench vpn-profile`: where a VPN packet's CPU goes, on each side. Two namespaces on a
// veth pair, a dms-net daemon in each under `node --cpu-prof`, one iperf3 TCP flow through the VPN
// (public network, and inside a private swarm); the samples taken while the flow ran are summed by
// what they were doing and divided by the packets each side's VPN device moved. Results in
// bench/results (and docs/benchmarks.md with --docs); docs/vpn.md explains them.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNamespace } from '../runtime/netdev/netns.js'
import type { Namespace } from '../runtime/netdev/netns.js'
import { createVethPair } from '../runtime/netdev/veth.js'
import { DEFAULT_VPN_MTU } from '../runtime/vpn/vpn-service.js'
import { dmsNet, startDaemon, waitRunning } from './support/vpn-daemons.js'
import type { Daemon } from './support/vpn-daemons.js'
import { iperf } from './support/iperf.js'
import { machineLine, writeSection } from './report.js'

interface CpuProfile { nodes: Array<{ id: number, callFrame: { functionName: string, url: string } }>, startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

/** What a sample was doing, from its function and script. */
function category (frame: { functionName: string, url: string }): string {
  const { functionName: fn, url } = frame
  if (fn === '(garbage collector)') return 'garbage collection'
  if (fn === '(idle)') return 'idle'
  if (fn === '(program)') return 'native, outside JS (syscalls, libuv, the addons)'
  if (/packet-pump|packet-receiver|vpn-frames|member-stream/.test(url)) return 'VPN packet pump (framing, routing, checks)'
  if (/xsalsa20|protector/.test(url)) return 'swarm key cipher (XSalsa20)'
  if (/libp2p-noise|@noble\/ciphers|chacha|crypto\/cipher/.test(url) || /chacha|poly1305/i.test(fn)) return 'Noise encryption (ChaCha20-Poly1305, OpenSSL with its JS)'
  // the socket write itself: the kernel's TCP send (and on a veth pair, part of the receiving side's stack)
  if (/^(writeBuffer|writev|writeGeneric|writevGeneric)$/.test(fn)) return 'socket writes (syscall and the kernel\'s TCP send)'
  if (fn === '_copyActual' || fn === 'concat') return 'copying chunks together (Buffer.concat)'
  if (/libp2p-yamux/.test(url)) return 'yamux'
  if (/tun-device/.test(url)) return 'TUN device'
  if (/^node:|internal\//.test(url)) return 'Node streams and sockets'
  if (/@libp2p\/utils|uint8arraylist|it-|@libp2p\/tcp|libp2p\/dist/.test(url)) return 'libp2p stream plumbing'
  return url === '' ? 'native, outside JS (syscalls, libuv, the addons)' : 'other JS'
}

/** CPU ms per category in the last `windowMs` before `endSkipMs` from the end of the profile. */
function breakdown (profile: CpuProfile, windowMs: number, endSkipMs: number, by: (frame: { functionName: string, url: string }) => string = category): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const times: number[] = []
  let t = profile.startTime
  for (const delta of profile.timeDeltas) { t += delta; times.push(t) }
  const to = profile.endTime - endSkipMs * 1000
  const from = to - windowMs * 1000
  const sums = new Map<string, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    if (times[i]! < from || times[i]! > to) continue
    const name = by(byId.get(profile.samples[i]!)!)
    sums.set(name, (sums.get(name) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000)
  }
  return sums
}

async function devicePackets (ns: Namespace, device: string): Promise<number> {
  const stats = JSON.parse(await ns.exec('ip', ['-s', '-j', 'link', 'show', device])) as Array<{ stats64: { rx: { packets: number }, tx: { packets: number } } }>
  return stats[0]!.stats64.rx.packets + stats[0]!.stats64.tx.packets
}

async function profiled (ns: Namespace, ip: string, port: number, dir: string, accept: string[], profileDir: string): Promise<Daemon> {
  return await startDaemon(ns, ip, port, dir, { accept, mtu: DEFAULT_VPN_MTU, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] })
}

export async function runVpnProfileBench (options: { seconds?: number } = {}): Promise<void> {
  if (process.getuid?.() !== 0) { process.stdout.write('vpn-profile bench skipped: needs root (namespaces, TUN devices)\n'); return }
  const seconds = options.seconds ?? 10
  const sections: string[] = []
  for (const flavour of [{ name: 'public network', port: 4001, subnet: '10.88.0', swarm: false }, { name: 'private swarm', port: 4002, subnet: '10.66.0', swarm: true }]) {
    const dir = await mkdtemp(join(tmpdir(), 'dms-bench-vpn-profile-'))
    const a = await createNamespace('dms-bench')
    const b = await createNamespace('dms-bench')
    try {
      await createVethPair({ name: 'veth-a', namespace: a.name, address: '10.77.0.1/24' }, { name: 'veth-b', namespace: b.name, address: '10.77.0.2/24' })
      const nodeA = await profiled(a, '10.77.0.1', flavour.port, join(dir, 'a'), [], join(dir, 'prof-a'))
      const nodeB = await profiled(b, '10.77.0.2', flavour.port, join(dir, 'b'), flavour.swarm ? [] : [nodeA.id], join(dir, 'prof-b'))
      if (flavour.swarm) {
        await dmsNet(nodeA, ['swarm', 'create', '--authorise', nodeB.id])
        await dmsNet(nodeB, ['swarm', 'join', '--owner', nodeA.address])
      }
      await dmsNet(nodeA, ['vpn', 'start', '--subnet', `${flavour.subnet}.0/24`, '--peers', flavour.swarm ? nodeB.id : nodeB.address])
      await waitRunning(nodeB)
      const target = `${flavour.subnet}.2`
      await iperf(a, b, target, 2)
      const device = `dmsvpn${flavour.port}`
      const packetsBefore = [await devicePackets(a, device), await devicePackets(b, device)]
      const mbits = await iperf(a, b, target, seconds)
      const packets = [(await devicePackets(a, device)) - packetsBefore[0]!, (await devicePackets(b, device)) - packetsBefore[1]!]
      const stoppedAt = Date.now()
      await Promise.all([nodeA.node.stop(), nodeB.node.stop()])
      const skipMs = Date.now() - stoppedAt + 300
      const lines = [`**${flavour.name}**: ${mbits.toFixed(0)} Mbit/s, one iperf3 flow for ${seconds} s, sender A → receiver B.`, '', '| CPU of | A (sends) ms | µs/packet | B (receives) ms | µs/packet |', '|---|---|---|---|---|']
      const sums: Array<Map<string, number>> = []
      const functions: Array<Map<string, number>> = []
      for (const side of ['prof-a', 'prof-b']) {
        const file = (await readdir(join(dir, side))).find((f) => f.endsWith('.cpuprofile'))!
        const profile = JSON.parse(await readFile(join(dir, side, file), 'utf8')) as CpuProfile
        sums.push(breakdown(profile, seconds * 1000, skipMs))
        functions.push(breakdown(profile, seconds * 1000, skipMs, ({ functionName, url }) => `${functionName === '' ? '(anonymous)' : functionName} ${url.split('/').slice(-2).join('/')}`))
      }
      const names = [...new Set([...sums[0]!.keys(), ...sums[1]!.keys()])].sort((x, y) => (sums[0]!.get(y) ?? 0) + (sums[1]!.get(y) ?? 0) - (sums[0]!.get(x) ?? 0) - (sums[1]!.get(x) ?? 0))
      const cell = (side: number, name: string): string => `${(sums[side]!.get(name) ?? 0).toFixed(0)} | ${(1000 * (sums[side]!.get(name) ?? 0) / packets[side]!).toFixed(2)}`
      for (const name of names) lines.push(`| ${name} | ${cell(0, name)} | ${cell(1, name)} |`)
      const busy = (side: number): number => [...sums[side]!].filter(([k]) => k !== 'idle').reduce((s, [, v]) => s + v, 0)
      lines.push(`| **busy (all but idle)** | ${busy(0).toFixed(0)} | ${(1000 * busy(0) / packets[0]!).toFixed(2)} | ${busy(1).toFixed(0)} | ${(1000 * busy(1) / packets[1]!).toFixed(2)} |`)
      lines.push('', `Packets through the VPN device in that time (both directions, data and ACKs; a super-packet counts once): A ${packets[0]}, B ${packets[1]}.`)
      // the functions that took most of each side's time, for whoever goes after the next microsecond
      for (const [side, name] of [[0, 'A'], [1, 'B']] as const) {
        const top = [...functions[side]!].filter(([key]) => !key.startsWith('(idle)')).sort((x, y) => y[1] - x[1]).slice(0, 8)
        lines.push('', `Most of ${name}'s time: ${top.map(([key, ms]) => `\`${key.trim()}\` ${ms.toFixed(0)} ms`).join(', ')}.`)
      }
      sections.push(lines.join('\n'))
      process.stdout.write(`\n${lines.join('\n')}\n`)
    } finally {
      await a.delete()
      await b.delete()
      await rm(dir, { recursive: true, force: true })
    }
  }
  const body = [
    `${machineLine()}. Two namespaces on a veth pair, a dms-net daemon in each run with \`node --cpu-prof\`; the samples of the ${seconds} s flow`,
    'summed by what they were doing (the script and function of the sampled frame), per side, and divided by the packets the side\'s VPN',
    'device moved. "Native, outside JS" is time in C++ below JS frames: syscalls on the TUN fd and the sockets, libuv, the addons.',
    '',
    ...sections.flatMap((s) => [s, ''])
  ].join('\n')
  await writeSection('VPN: where a packet\'s CPU goes', body)
}
