import type { Swarm } from '../swarm/swarm-service.js'
import { textParam } from './params.js'
import type { ControlMethod } from './server.js'

/** Control methods of the private swarm (`dms-net swarm ...`). */
export function swarmControlMethods (swarm: Swarm): Record<string, ControlMethod> {
  return {
    'swarm.create': async (params) => await swarm.create(Array.isArray(params.authorised) ? params.authorised.map(String) : []),
    'swarm.authorise': async (params) => await swarm.authorise(textParam(params, 'peer')),
    'swarm.revoke': async (params) => await swarm.revoke(textParam(params, 'peer')),
    'swarm.join': async (params) => await swarm.join(textParam(params, 'owner')),
    'swarm.leave': async () => await swarm.leave(),
    'swarm.rotate': async () => await swarm.rotate(),
    'swarm.dissolve': async () => await swarm.dissolve(),
    'swarm.status': () => swarm.status()
  }
}
