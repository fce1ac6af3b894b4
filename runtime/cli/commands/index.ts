import type { Command } from '../command.js'
import { nodeCommand } from './node.js'
import { idCommand } from './id.js'
import { statusCommand, peersCommand, dialCommand, disconnectCommand, pingCommand, listenCommand } from './client.js'
import { sendCommand, receiveCommand } from './messages.js'
import { publishJobCommand, jobsCommand } from './jobs.js'
import { eventsCommand } from './events.js'
import { demoCommand } from './demo.js'
import { swarmCommand } from './swarm.js'
import { vpnCommand } from './vpn.js'
import { versionCommand } from './version.js'
import { completionCommand } from './completion.js'

/** Every dms-net command, in the order `--help` lists them. Each loads what it runs only when it runs. */
export const commands: Command[] = [
  nodeCommand,
  idCommand,
  statusCommand,
  peersCommand,
  dialCommand,
  disconnectCommand,
  pingCommand,
  listenCommand,
  sendCommand,
  receiveCommand,
  publishJobCommand,
  jobsCommand,
  eventsCommand,
  swarmCommand,
  vpnCommand,
  demoCommand,
  versionCommand,
  completionCommand
]
