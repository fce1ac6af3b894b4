/** The private swarm: `createSwarm(node)` before `node.start()`. See docs/swarm.md. */
export { createSwarm, Swarm } from './swarm-service.js'
export type { SwarmInit, SwarmStatus } from './swarm-service.js'
export { parseSwarmKey, formatSwarmKey, readSwarmKeyFile, writeSwarmKeyFile, generateSwarmKey, fingerprint, SwarmKeyError } from './key-file.js'
export type { SwarmKeyEncoding } from './key-file.js'
export { privateNetwork } from '../../actors/private-network/protector.js'
export { swarmOwnerMachine } from '../../machines/swarm-owner.js'
export { swarmMemberMachine } from '../../machines/swarm-member.js'
