import { access, constants, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLan } from '../../netdev/lan.js'
import type { Lan } from '../../netdev/lan.js'
import { run } from '../../netdev/run.js'
import { tcpEchoProbe } from '../../netdev/tcp-probe.js'
import { ControlClient } from '../../control/client.js'
import type { VpnStatus } from '../../vpn/vpn-service.js'
import { spawnNode } from '../spawn-node.js'
import type { SpawnedNode } from '../spawn-node.js'
import { until } from './context.js'
import type { DemoStep } from './context.js'

/** Why this machine cannot show the VPN, or undefined when it can. */
async function vpnUnavailable (): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'the VPN needs root (TUN devices, network namespaces): run the demo as root to see it'
  if (!(await access('/dev/net/tun', constants.R_OK | constants.W_OK).then(() => true, () => false))) return 'this machine has no /dev/net/tun'
  if (!(await run('ip', ['netns', 'list']).then(() => true, () => false))) return 'iproute2 (`ip`) with network namespaces is not available'
  return undefined
}

async function vpnCall (dataDir: string, method: string, params: Record<string, unknown> = {}): Promise<VpnStatus> {
  const client = await ControlClient.connect(dataDir)
  try { return await client.call<VpnStatus>(method, params) } finally { client.close() }
}

/**
 * The VPN's story, with real devices: dave and erin run as their own processes
 * in their own network namespaces (joined by a virtual switch), dave starts a
 * VPN for erin, and a TCP echo crosses it (the project's own probe: no `ping`
 * needed). Everything made is removed.
 */
export const vpnSteps: DemoStep[] = [
  {
    title: 'VPN: dave and erin, each in a network namespace; dave starts a VPN; TCP crosses it; names resolve',
    run: async ({ note }) => {
      const unavailable = await vpnUnavailable()
      if (unavailable != null) return `skip: ${unavailable}`
      let lan: Lan | undefined
      const nodes: SpawnedNode[] = []
      const root = await mkdtemp(join(tmpdir(), 'dms-demo-vpn-'))
      try {
        lan = await createLan(2, { prefix: '10.77.9' })
        const [daveHost, erinHost] = lan.hosts as [Lan['hosts'][0], Lan['hosts'][0]]
        const dave = await spawnNode(['--data', join(root, 'dave'), '--listen', `/ip4/${daveHost.ip}/tcp/4001`], { namespace: daveHost.ns.name })
        nodes.push(dave)
        const erin = await spawnNode(['--data', join(root, 'erin'), '--listen', `/ip4/${erinHost.ip}/tcp/4001`, '--vpn-accept', dave.peerId], { namespace: erinHost.ns.name })
        nodes.push(erin)
        note(`dave and erin run in namespaces ${daveHost.ns.name} and ${erinHost.ns.name}, on a virtual switch`)
        const started = await vpnCall(join(root, 'dave'), 'vpn.start', { subnet: '10.88.9.0/24', peers: [`/ip4/${erinHost.ip}/tcp/4001/p2p/${erin.peerId}`] })
        note(`dave leads VPN ${started.vpnId?.slice(0, 8)}…: ${started.routes.map((r) => `${r.ip} → ${r.self ? 'dave' : 'erin'}`).join(', ')} (table v${started.version}, signed by dave)`)
        let erinStatus: VpnStatus | undefined
        const poll = setInterval(() => { void vpnCall(join(root, 'erin'), 'vpn.status').then((s) => { erinStatus = s }, () => {}) }, 100)
        try {
          await until('erin in the VPN', () => erinStatus?.state === 'running', 15_000)
        } finally {
          clearInterval(poll)
        }
        note(`erin accepted the signed table and brought up ${erinStatus!.device} with ${erinStatus!.ip}`)
        const rtts = await tcpEchoProbe(daveHost.ns, erinHost.ns, started.ip!)
        const average = (rtts.reduce((a, b) => a + b, 0) / rtts.length).toFixed(2)
        note(`erin: TCP echo to ${started.ip}:7007 → ${rtts.length}/3 round trips, avg ${average} ms (TCP in TUN packets over a libp2p stream)`)
        // names in the subnet: dave names himself in the signed table; erin's own name server answers it
        await vpnCall(join(root, 'dave'), 'vpn.dns.add', { name: 'dave', ip: started.ip })
        const erinIp = erinStatus!.ip!
        const resolve = `const r = new (require('node:dns').promises.Resolver)(); r.setServers(['${erinIp}']); r.resolve4('dave.dms').then((a) => console.log(a.join(',')))`
        let resolved = ''
        // erin takes the new table version within moments: ask until it answers (bounded)
        for (const deadline = Date.now() + 10_000; resolved !== started.ip && Date.now() < deadline;) {
          resolved = (await erinHost.ns.exec(process.execPath, ['-e', resolve]).catch(() => '')).trim()
        }
        if (resolved !== started.ip) throw new Error(`erin's name server did not answer dave.dms with ${started.ip!} (got ${JSON.stringify(resolved)})`)
        note(`erin asks its own name server (${erinIp}:53): dave.dms → ${resolved} (the name travels in the signed table)`)
        const traffic = (await vpnCall(join(root, 'dave'), 'vpn.status')).traffic
        await vpnCall(join(root, 'dave'), 'vpn.stop')
        return `${rtts.length}/3 TCP echoes across the VPN; dave's data plane: ${traffic.packetsIn} packets in, ${traffic.packetsOut} out`
      } catch (err) {
        // what the two daemons said is the best clue
        for (const [name, node] of [['dave', nodes[0]], ['erin', nodes[1]]] as const) {
          if (node != null) note(`${name}'s last lines:\n${node.output().trim().split('\n').slice(-8).join('\n')}`)
        }
        throw err
      } finally {
        await Promise.all(nodes.map(async (node) => await node.stop()))
        await lan?.destroy()
        await rm(root, { recursive: true, force: true })
      }
    }
  }
]
