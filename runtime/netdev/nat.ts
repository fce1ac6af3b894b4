import { createNamespace } from './netns.js'
import type { Namespace } from './netns.js'
import { createBridge } from './bridge.js'
import { createVethPair } from './veth.js'

/**
 * A small internet in namespaces, for discovery tests, the demo and benchmarks:
 * a "wan" switch with public hosts on it, and homes, each a host behind its own
 * NAT router (nftables masquerade; unsolicited inbound dropped unless the home
 * forwards a port). Nothing outside the new namespaces is touched.
 *
 * Addresses: wan 11.77.0.0/24 (public hosts .1…, routers .101…), home i
 * 10.77.i.0/24 (router .1, host .2). The wan range is one libp2p treats as
 * public (the documentation ranges are on its private list), so AutoNAT and
 * DCUtR behave as they would on the internet; it exists only inside these
 * namespaces.
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
}

export const WAN_PREFIX = '11.77.0'

export async function createNatTopology (init: { publicHosts: number, homes: HomeInit[] }): Promise<NatTopology> {
  const made: Namespace[] = []
  const destroy = async (): Promise<void> => { await Promise.all(made.map(async (ns) => { await ns.delete() })) }
  const namespace = async (prefix: string): Promise<Namespace> => { const ns = await createNamespace(prefix); made.push(ns); return ns }
  try {
    const wan = await namespace('dms-wan')
    const bridge = await createBridge('br0', { namespace: wan.name })
    let port = 0
    const plug = async (ns: Namespace, device: string, address: string): Promise<void> => {
      port++
      await createVethPair({ name: device, namespace: ns.name, address }, { name: `p${port}`, namespace: wan.name })
      await bridge.attach(`p${port}`)
    }
    const publicHosts: NatTopology['publicHosts'] = []
    for (let i = 1; i <= init.publicHosts; i++) {
      const ns = await namespace('dms-pub')
      const ip = `${WAN_PREFIX}.${i}`
      await plug(ns, 'wan0', `${ip}/24`)
      publicHosts.push({ ns, ip })
    }
    const homes: NatTopology['homes'] = []
    for (const [index, home] of init.homes.entries()) {
      const n = index + 1
      const router = await namespace('dms-nat')
      const ns = await namespace('dms-home')
      const publicIp = `${WAN_PREFIX}.${100 + n}`
      const ip = `10.77.${n}.2`
      await plug(router, 'wan0', `${publicIp}/24`)
      await createVethPair({ name: 'lan0', namespace: router.name, address: `10.77.${n}.1/24` }, { name: 'eth0', namespace: ns.name, address: `${ip}/24` })
      await ns.exec('ip', ['route', 'add', 'default', 'via', `10.77.${n}.1`])
      await router.exec('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'])
      await router.exec('nft', ['-f', '-'], { input: natRules(ip, home.forwardPort) })
      homes.push({ ns, ip, router, publicIp, ...(home.forwardPort != null ? { forwardedPort: home.forwardPort } : {}) })
    }
    const setPublicLink = async (index: number, up: boolean): Promise<void> => {
      await publicHosts[index]!.ns.exec('ip', ['link', 'set', 'wan0', up ? 'up' : 'down'])
    }
    return { publicHosts, homes, setPublicLink, destroy }
  } catch (err) {
    await destroy()
    throw err
  }
}

/** A home router: masquerade out of wan0; inbound only for established flows (and the forwarded port). */
function natRules (host: string, forwardPort: number | undefined): string {
  return [
    'table ip home {',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat;',
    ...(forwardPort != null ? [`    iifname "wan0" tcp dport ${forwardPort} dnat to ${host}:${forwardPort}`] : []),
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat;',
    '    oifname "wan0" masquerade',
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
