import type { Command } from '../command.js'
import { nodeCommand } from './node.js'
import { idCommand } from './id.js'
import { statusCommand, peersCommand, dialCommand, listenCommand, sendCommand, publishJobCommand } from './client.js'
import { demoCommand } from './demo.js'
import { swarmCommand } from './swarm.js'
import { vpnCommand } from './vpn.js'

/** Every dms-net command, in the order `--help` lists them. */
export const commands: Command[] = [
  nodeCommand,
  idCommand,
  statusCommand,
  peersCommand,
  dialCommand,
  listenCommand,
  sendCommand,
  publishJobCommand,
  swarmCommand,
  vpnCommand,
  demoCommand
]
