import type { TestNodes } from './nodes.js'
import { createSwarm } from '../../runtime/swarm/swarm-service.js'
import type { Swarm } from '../../runtime/swarm/swarm-service.js'
import type { DmsNode } from '../../runtime/node.js'

/** A started test node with a swarm (rejoin window 2 s); `dataDir` to come back as a node that ran before. */
export async function swarmNode (nodes: TestNodes, dataDir?: string): Promise<{ node: DmsNode, swarm: Swarm }> {
  const node = await nodes.create(dataDir != null ? { dataDir } : {})
  const swarm = createSwarm(node, { rejoinWindowMs: 2000 })
  await node.start()
  return { node, swarm }
}
