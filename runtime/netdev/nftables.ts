import { run } from './run.js'
import { DmsError } from '../errors.js'

/**
 * A VPN firewall in its own nftables table (`inet <name>`): traffic arriving on
 * the VPN device is accepted only from member IPs (a named set), everything
 * else from that device is dropped. Other devices are not affected.
 */
export interface VpnFirewall {
  readonly table: string
  /** Replace the allowed source IPs. */
  allow: (ips: string[]) => Promise<void>
  /** Packets dropped so far. */
  drops: () => Promise<number>
  delete: () => Promise<void>
}

export interface VpnFirewallInit {
  /** The VPN's TUN device. */
  device: string
  /** Source IPs to accept at first. */
  allowed: string[]
  /** Table name. @default `dms_vpn_<device>` */
  table?: string
  /** Run inside this network namespace. @default the caller's own */
  namespace?: string
}

const nameOk = (name: string): boolean => /^[A-Za-z0-9_]{1,32}$/.test(name)
const ipOk = (ip: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip)

export async function createVpnFirewall (init: VpnFirewallInit): Promise<VpnFirewall> {
  const table = init.table ?? `dms_vpn_${init.device.replace(/[^A-Za-z0-9_]/g, '_')}`
  if (!nameOk(table)) throw new DmsError('CONFIG_INVALID', `bad nftables table name ${JSON.stringify(table)}`)
  if (!/^[\w.-]{1,15}$/.test(init.device)) throw new DmsError('CONFIG_INVALID', `bad device name ${JSON.stringify(init.device)}`)
  // each word is its own argument: nothing is parsed by a shell
  const nft = async (...args: string[]): Promise<string> =>
    await (init.namespace != null ? run('ip', ['netns', 'exec', init.namespace, 'nft', ...args]) : run('nft', args))
  const setElements = async (ips: string[]): Promise<void> => {
    const bad = ips.find((ip) => !ipOk(ip))
    if (bad != null) throw new DmsError('CONFIG_INVALID', `bad IPv4 address ${JSON.stringify(bad)}`)
    await nft('flush', 'set', 'inet', table, 'members')
    if (ips.length > 0) await nft('add', 'element', 'inet', table, 'members', `{ ${ips.join(', ')} }`)
  }
  await nft('add', 'table', 'inet', table)
  const firewall: VpnFirewall = {
    table,
    allow: setElements,
    drops: async () => Number(/counter packets (\d+)/.exec(await nft('list', 'chain', 'inet', table, 'input'))?.[1] ?? 0),
    delete: async () => { await nft('delete', 'table', 'inet', table).catch(() => {}) } // no table: nothing to delete
  }
  try {
    await nft('add', 'set', 'inet', table, 'members', '{ type ipv4_addr; }')
    await nft('add', 'chain', 'inet', table, 'input', '{ type filter hook input priority 0; policy accept; }')
    await nft('add', 'rule', 'inet', table, 'input', 'iifname', init.device, 'ip', 'saddr', '!=', '@members', 'counter', 'drop')
    // members reach this node, never through it: nothing from the VPN device is forwarded (to the LAN or elsewhere)
    await nft('add', 'chain', 'inet', table, 'forward', '{ type filter hook forward priority 0; policy accept; }')
    // except the replies of a published port's flows (runtime/netdev/port-forward.ts), which the node itself set up
    await nft('add', 'rule', 'inet', table, 'forward', 'iifname', init.device, 'ct', 'direction', 'reply', 'ct', 'status', 'dnat', 'accept')
    await nft('add', 'rule', 'inet', table, 'forward', 'iifname', init.device, 'counter', 'drop')
    await setElements(init.allowed)
  } catch (err) {
    await firewall.delete()
    throw err
  }
  return firewall
}
