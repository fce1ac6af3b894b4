import type { Vpn } from '../vpn/vpn-service.js'
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
    'vpn.dns.list': () => vpn.dns.list()
  }
}
