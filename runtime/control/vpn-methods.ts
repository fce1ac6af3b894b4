import type { Vpn } from '../vpn/vpn-service.js'
import type { PolicyRule } from '../vpn/vpn-rules.js'
import { textParam } from './params.js'
import type { ControlMethod } from './server.js'
import { DmsError } from '../errors.js'

/** Control methods of the VPN (`dms-net vpn ...`). */
export function vpnControlMethods (vpn: Vpn): Record<string, ControlMethod> {
  return {
    'vpn.start': async (params) => {
      if (!Array.isArray(params.peers)) throw new DmsError('BAD_REQUEST', 'peers must be a list')
      return await vpn.start(params.peers.map(String), { subnet: textParam(params, 'subnet'), ...(params.domain != null ? { domain: textParam(params, 'domain') } : {}) })
    },
    'vpn.add': async (params) => await vpn.addPeer(textParam(params, 'peer'), params.name != null ? { name: textParam(params, 'name') } : {}),
    'vpn.remove': async (params) => await vpn.removePeer(textParam(params, 'peer')),
    'vpn.stop': async () => await vpn.stop(),
    'vpn.status': () => vpn.status(),
    'vpn.dns.add': async (params) => await vpn.dns.add(textParam(params, 'name'), textParam(params, 'ip')),
    'vpn.dns.remove': async (params) => await vpn.dns.remove(textParam(params, 'name')),
    'vpn.dns.list': () => vpn.dns.list(),
    'vpn.ports.publish': async (params) => await vpn.publish({ ...portSlot(params), to: { ip: textParam(params, 'toIp'), port: Number(params.toPort) } }),
    'vpn.ports.unpublish': async (params) => await vpn.unpublish(portSlot(params)),
    'vpn.ports.list': () => vpn.ports(),
    'vpn.policy': async (params) => await vpn.rules.policy(params.on === true),
    'vpn.group.set': async (params) => await vpn.rules.setGroups(textParam(params, 'peer'), Array.isArray(params.groups) ? params.groups.map(String) : []),
    'vpn.rule.add': async (params) => await vpn.rules.add(params.rule as PolicyRule),
    'vpn.rule.remove': async (params) => await vpn.rules.remove(Number(params.index)),
    'vpn.rules': () => vpn.rules.show() ?? null
  }
}

/** The port, protocol and member of a publish/unpublish request (the service checks their values). */
function portSlot (params: Record<string, unknown>): { port: number, protocol: 'tcp' | 'udp', at?: string } {
  return { port: Number(params.port), protocol: params.protocol === 'udp' ? 'udp' : 'tcp', ...(params.at != null ? { at: textParam(params, 'at') } : {}) }
}
