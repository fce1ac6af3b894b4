import type { Swarm } from '../swarm/swarm-service.js'
import type { ControlMethod } from './server.js'

const text = (params: Record<string, unknown>, name: string): string => {
  const value = params[name]
  if (typeof value !== 'string' || value === '') throw Object.assign(new Error(`${name} is required`), { code: 'BAD_REQUEST' })
  return value
}

/** Control methods of the private swarm (`dms-net swarm ...`). */
export function swarmControlMethods (swarm: Swarm): Record<string, ControlMethod> {
  return {
    'swarm.create': async (params) => await swarm.create(Array.isArray(params.authorised) ? params.authorised.map(String) : []),
    'swarm.authorise': async (params) => await swarm.authorise(text(params, 'peer')),
    'swarm.revoke': async (params) => await swarm.revoke(text(params, 'peer')),
    'swarm.join': async (params) => await swarm.join(text(params, 'owner')),
    'swarm.leave': async () => await swarm.leave(),
    'swarm.rotate': async () => await swarm.rotate(),
    'swarm.status': () => swarm.status()
  }
}
