import type { Command } from '../command.js'
import { nodeCommand } from './node.js'
import { idCommand } from './id.js'
import { pingCommand } from './ping.js'
import { aliasCommand } from './alias.js'
import { netcheckCommand } from './netcheck.js'
import { configCommand } from './config.js'
import { statusCommand, peersCommand, dialCommand, disconnectCommand, listenCommand } from './client.js'
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
  netcheckCommand,
  peersCommand,
  dialCommand,
  disconnectCommand,
  pingCommand,
  listenCommand,
  aliasCommand,
  sendCommand,
  receiveCommand,
  publishJobCommand,
  jobsCommand,
  eventsCommand,
  swarmCommand,
  vpnCommand,
  configCommand,
  demoCommand,
  versionCommand,
  completionCommand
]
