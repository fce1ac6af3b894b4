import { createNamespace } from './netns.js'
import type { Namespace } from './netns.js'
import { createBridge } from './bridge.js'
import { createVethPair } from './veth.js'

/** Hosts on one virtual switch (for tests, the demo and benchmarks): a namespace per host, joined by veth pairs to a bridge in a switch namespace. */
export interface Lan {
  hosts: Array<{ ns: Namespace, ip: string }>
  /** Delete every namespace (and with them every link) this LAN made. */
  destroy: () => Promise<void>
}

/** `count` hosts at <prefix>.1 … <prefix>.count (/24), device `lan0` in each. Nothing outside the new namespaces is touched. */
export async function createLan (count: number, options: { prefix?: string } = {}): Promise<Lan> {
  const prefix = options.prefix ?? '10.77.0'
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
      const ip = `${prefix}.${i}`
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
