import { createNamespace } from '../../runtime/netdev/netns.js'
import type { Namespace } from '../../runtime/netdev/netns.js'
import { createBridge } from '../../runtime/netdev/bridge.js'
import { createVethPair } from '../../runtime/netdev/veth.js'

/** Test hosts on one switch: a namespace per host, joined by veth pairs to a bridge in a switch namespace. */
export interface Lan {
  hosts: Array<{ ns: Namespace, ip: string }>
  /** Delete every namespace (and with them every link) this LAN made. */
  destroy: () => Promise<void>
}

/** `count` hosts at 10.77.0.1 … 10.77.0.count (/24), device `lan0` in each. */
export async function createLan (count: number): Promise<Lan> {
  const made: Namespace[] = []
  const destroy = async (): Promise<void> => { await Promise.all(made.map(async (ns) => { await ns.delete() })) }
  try {
    const switchNs = await createNamespace('dms-sw')
    made.push(switchNs)
    const bridge = await createBridge('br0', { namespace: switchNs.name })
    const hosts: Lan['hosts'] = []
    for (let i = 1; i <= count; i++) {
      const ns = await createNamespace('dms-host')
      made.push(ns)
      const ip = `10.77.0.${i}`
      await createVethPair({ name: 'lan0', namespace: ns.name, address: `${ip}/24` }, { name: `port${i}`, namespace: switchNs.name })
      await bridge.attach(`port${i}`)
      hosts.push({ ns, ip })
    }
    return { hosts, destroy }
  } catch (err) {
    await destroy()
    throw err
  }
}
