import type { Vpn } from '../vpn/vpn-service.js'
import { textParam } from './params.js'
import type { ControlMethod } from './server.js'

/** Control methods of the VPN (`dms-net vpn ...`). */
export function vpnControlMethods (vpn: Vpn): Record<string, ControlMethod> {
  return {
    'vpn.start': async (params) => {
      if (!Array.isArray(params.peers)) throw Object.assign(new Error('peers must be a list'), { code: 'BAD_REQUEST' })
      return await vpn.start(params.peers.map(String), { subnet: textParam(params, 'subnet') })
    },
    'vpn.add': async (params) => await vpn.addPeer(textParam(params, 'peer')),
    'vpn.remove': async (params) => await vpn.removePeer(textParam(params, 'peer')),
    'vpn.stop': async () => await vpn.stop(),
    'vpn.status': () => vpn.status()
  }
}
