import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createNamespace } from '../../runtime/netdev/netns.js'
import type { Namespace } from '../../runtime/netdev/netns.js'
import { createBridge } from '../../runtime/netdev/bridge.js'
import { createVethPair } from '../../runtime/netdev/veth.js'

/**
 * A small internet in namespaces, for discovery tests, the demo and benchmarks:
 * a "wan" switch with public hosts on it, and homes, each a host behind its own
 * NAT router (nftables masquerade; unsolicited inbound dropped unless the home
 * forwards a port). Nothing outside the new namespaces is touched.
 *
 * Addresses: public host i at (10+i).77.0.1 — each in its own /8, as AutoNAT
 * wants dial-backs from different networks — routers at 11.77.0.(100+n); all on
 * one switch, with on-link routes to each other's /8. Home n is 10.77.n.0/24
 * (router .1, host .2). These ranges are ones libp2p treats as public (the
 * documentation ranges are on its private list), so AutoNAT and DCUtR behave as
 * they would on the internet; they exist only inside these namespaces.
 */
export interface NatTopology {
  publicHosts: Array<{ ns: Namespace, ip: string }>
  homes: Array<{ ns: Namespace, ip: string, router: Namespace, publicIp: string, forwardedPort?: number }>
  /** Cut or restore a public host's link to the wan (a relay going away). */
  setPublicLink: (index: number, up: boolean) => Promise<void>
  destroy: () => Promise<void>
}

export interface HomeInit {
  /** Forward this TCP port on the router's public address to the home host (a home router's port forward). */
  forwardPort?: number
  /**
   * A NAT that picks a random public port for every connection (nftables `fully-random`,
   * a "symmetric" NAT): no address can be predicted for it, so no hole punch gets through.
   */
  symmetric?: boolean
  /**
   * The router answers unsolicited TCP with a reset instead of dropping it: Linux with no
   * firewall rule does, and OpenWrt's default REJECT on the wan zone.
   */
  resets?: boolean
  /**
   * One-way delay (ms) between the home router and the wan, each way, as the internet has:
   * a userspace wire (test/support/delay-link.py; this kernel has no netem) in its own
   * namespace. Punches whose timing matters are only tested truthfully with it.
   */
  delayMs?: number
}

/** The wan address of public host `index` (0-based): 11.77.0.1, 12.77.0.1, … */
export const publicHostIp = (index: number): string => `${11 + index}.77.0.1`
const ROUTER_PREFIX = '11.77.0'
const DELAY_LINK = fileURLToPath(new URL('delay-link.py', import.meta.url))

export async function createNatTopology (init: { publicHosts: number, homes: HomeInit[] }): Promise<NatTopology> {
  const made: Namespace[] = []
  const wires: ChildProcess[] = []
  const destroy = async (): Promise<void> => {
    for (const wire of wires) wire.kill('SIGKILL')
    await Promise.all(made.map(async (ns) => { await ns.delete() }))
  }
  const namespace = async (prefix: string): Promise<Namespace> => { const ns = await createNamespace(prefix); made.push(ns); return ns }
  try {
    const wan = await namespace('dms-wan')
    const bridge = await createBridge('br0', { namespace: wan.name })
    let port = 0
    const plug = async (ns: Namespace, device: string, address?: string): Promise<string> => {
      port++
      await createVethPair({ name: device, namespace: ns.name, ...(address != null ? { address } : {}) }, { name: `p${port}`, namespace: wan.name })
      await bridge.attach(`p${port}`)
      return `p${port}`
    }
    // every wan host reaches every public /8 directly on the switch
    const wanNets = Array.from({ length: Math.max(1, init.publicHosts) }, (_, i) => `${11 + i}.0.0.0/8`)
    const routeWan = async (ns: Namespace, own: string): Promise<void> => {
      for (const net of wanNets.filter((n) => n !== own)) await ns.exec('ip', ['route', 'add', net, 'dev', 'wan0'])
    }
    const publicHosts: NatTopology['publicHosts'] = []
    for (let i = 0; i < init.publicHosts; i++) {
      const ns = await namespace('dms-pub')
      const ip = publicHostIp(i)
      await plug(ns, 'wan0', `${ip}/24`)
      await routeWan(ns, `${11 + i}.0.0.0/8`)
      publicHosts.push({ ns, ip })
    }
    const homes: NatTopology['homes'] = []
    for (const [index, home] of init.homes.entries()) {
      const n = index + 1
      const router = await namespace('dms-nat')
      const ns = await namespace('dms-home')
      const publicIp = `${ROUTER_PREFIX}.${100 + n}`
      const ip = `10.77.${n}.2`
      if (home.delayMs != null) wires.push(await delayedUplink(router, publicIp, home.delayMs, { namespace, plug }))
      else await plug(router, 'wan0', `${publicIp}/24`)
      await routeWan(router, '11.0.0.0/8')
      await createVethPair({ name: 'lan0', namespace: router.name, address: `10.77.${n}.1/24` }, { name: 'eth0', namespace: ns.name, address: `${ip}/24` })
      await ns.exec('ip', ['route', 'add', 'default', 'via', `10.77.${n}.1`])
      await router.exec('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'])
      await router.exec('nft', ['-f', '-'], { input: natRules(ip, home) })
      homes.push({ ns, ip, router, publicIp, ...(home.forwardPort != null ? { forwardedPort: home.forwardPort } : {}) })
    }
    if (init.homes.some((home) => home.delayMs != null)) await knowEachOther(homes.map((home) => home.router))
    const setPublicLink = async (index: number, up: boolean): Promise<void> => {
      await publicHosts[index]!.ns.exec('ip', ['link', 'set', 'wan0', up ? 'up' : 'down'])
    }
    return { publicHosts, homes, setPublicLink, destroy }
  } catch (err) {
    await destroy()
    throw err
  }
}

/**
 * The home router's wan0, on the switch through a wire that delays every frame by `delayMs`
 * each way. The wire is a namespace holding the two ends (no addresses) and the process
 * that copies frames between them.
 */
async function delayedUplink (router: Namespace, publicIp: string, delayMs: number, topology: {
  namespace: (prefix: string) => Promise<Namespace>
  plug: (ns: Namespace, device: string, address?: string) => Promise<string>
}): Promise<ChildProcess> {
  const wire = await topology.namespace('dms-wire')
  await topology.plug(wire, 'wan0')
  await createVethPair({ name: 'down0', namespace: wire.name }, { name: 'wan0', namespace: router.name, address: `${publicIp}/24` })
  for (const device of ['wan0', 'down0']) await wire.exec('ip', ['link', 'set', device, 'promisc', 'on'])
  const child = spawn('ip', ['netns', 'exec', wire.name, 'python3', DELAY_LINK, 'wan0', 'down0', String(delayMs)], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => { resolve() })
    child.once('exit', (code) => { reject(new Error(`the delay wire exited with ${String(code)}`)) })
  })
  return child
}

/**
 * Routers on the internet know their next hop's link address; on the switch each would ask
 * by ARP first, which over delayed wires holds a first packet for a round trip and would
 * time a hole punch's SYNs for it. So the home routers know each other's from the start.
 */
async function knowEachOther (routers: Namespace[]): Promise<void> {
  const identities = await Promise.all(routers.map(async (router) => {
    const link = await router.exec('ip', ['-o', 'link', 'show', 'wan0'])
    const address = await router.exec('ip', ['-o', '-4', 'addr', 'show', 'wan0'])
    return { router, mac: /link\/ether ([0-9a-f:]+)/.exec(link)![1]!, ip: /inet ([\d.]+)/.exec(address)![1]! }
  }))
  for (const self of identities) {
    for (const other of identities.filter((o) => o !== self)) {
      await self.router.exec('ip', ['neigh', 'replace', other.ip, 'lladdr', other.mac, 'dev', 'wan0', 'nud', 'permanent'])
    }
  }
}

/**
 * A home router: masquerade out of wan0; inbound only for established flows (and the
 * forwarded port). Like most home routers' firewalls it drops unsolicited packets to
 * itself, or with `resets` answers unsolicited TCP with a reset.
 */
function natRules (host: string, home: HomeInit): string {
  const forwardPort = home.forwardPort
  return [
    'table ip home {',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat;',
    ...(forwardPort != null ? [`    iifname "wan0" tcp dport ${forwardPort} dnat to ${host}:${forwardPort}`] : []),
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat;',
    `    oifname "wan0" masquerade${home.symmetric === true ? ' fully-random' : ''}`,
    '  }',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    iifname "wan0" ct state established,related accept',
    ...(home.resets === true ? ['    iifname "wan0" meta l4proto tcp reject with tcp reset'] : []),
    '    iifname "wan0" drop',
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy drop;',
    '    ct state established,related accept',
    '    iifname "lan0" accept',
    '    ct status dnat accept',
    '  }',
    '}'
  ].join('\n')
}
