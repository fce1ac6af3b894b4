import { readFile, writeFile } from 'node:fs/promises'
import { deleteNftTable, nftTableName, replaceNftTable } from './nft-table.js'
import { DmsError } from '../errors.js'
import { isIpv4, isPort } from '../../machines/net-values.js'

/** One forward: `protocol/port` on this host's addresses outside the VPN device → a member's `ip:port`. */
export interface Forward { protocol: 'tcp' | 'udp', port: number, to: { ip: string, port: number } }

/**
 * Published ports in their own nftables table (`ip dms_ports_<device>`):
 * destination NAT from any interface but the VPN device, and masquerade onto
 * it, so the member's service answers this node's VPN address and the reply
 * finds its way back. `apply()` replaces the whole set at once (one nft
 * transaction); `delete()` removes the table. A table left by a crash is
 * replaced when the next data plane starts. IPv4 forwarding is switched on
 * while forwards exist, and back off when they go if this turned it on.
 */
export interface PortForwards {
  readonly table: string
  apply: (forwards: Forward[]) => Promise<void>
  delete: () => Promise<void>
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward'

export async function createPortForwards (init: { device: string }): Promise<PortForwards> {
  if (!/^[\w.-]{1,15}$/.test(init.device)) throw new DmsError('CONFIG_INVALID', `bad device name ${JSON.stringify(init.device)}`)
  const table = nftTableName('dms_ports', init.device)
  let forwardingWasOff: boolean | undefined
  return {
    table,
    apply: async (forwards) => {
      if (forwards.length === 0) {
        await deleteNftTable('ip', table)
        await restoreForwarding()
        return
      }
      const rules = forwards.map((f) => {
        if (!isIpv4(f.to.ip) || !(f.protocol === 'tcp' || f.protocol === 'udp') || !isPort(f.port) || !isPort(f.to.port)) throw new DmsError('CONFIG_INVALID', `bad forward ${JSON.stringify(f)}`)
        // only traffic for this host itself: a forwarding host (a router, containers) keeps its transit traffic
        return `    iifname != "${init.device}" fib daddr type local ${f.protocol} dport ${f.port} dnat to ${f.to.ip}:${f.to.port}`
      })
      await replaceNftTable('ip', table, [
        '  chain prerouting {',
        '    type nat hook prerouting priority dstnat; policy accept;',
        ...rules,
        '  }',
        '  chain postrouting {',
        '    type nat hook postrouting priority srcnat; policy accept;',
        `    oifname "${init.device}" ct status dnat masquerade`,
        '  }'
      ])
      if (forwardingWasOff == null) {
        forwardingWasOff = (await readProc()).trim() === '0'
        if (forwardingWasOff) await writeProc('1')
      }
    },
    delete: async () => {
      await deleteNftTable('ip', table)
      await restoreForwarding()
    }
  }

  async function restoreForwarding (): Promise<void> {
    if (forwardingWasOff === true) await writeProc('0')
    forwardingWasOff = undefined
  }
  async function readProc (): Promise<string> {
    return await readFile(IP_FORWARD, 'utf8')
  }
  async function writeProc (value: string): Promise<void> {
    await writeFile(IP_FORWARD, value)
  }
}

/** Remove the table a crashed run may have left for `device` (start of every VPN run). */
export async function removeStaleForwards (device: string): Promise<void> {
  await deleteNftTable('ip', nftTableName('dms_ports', device))
}
