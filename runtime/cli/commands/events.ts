import type { Command } from '../command.js'
import { follow, output } from '../client-call.js'
import { eventLine } from '../format.js'
import { terminalWidth } from '../terminal.js'
import { NODE_EVENT_TYPES } from '../../events.js'
import type { NodeEvent } from '../../events.js'
import { UsageError } from '../command.js'

export const eventsCommand: Command = {
  name: 'events',
  summary: 'Stream the running node\'s events (connections, peers, jobs, swarm, VPN) until Ctrl-C.',
  help: [
    '  --type TYPE   only events of this type (repeatable), e.g. --type peer.connected --type job.received',
    '',
    'The event types are listed in docs/cli.md.'
  ].join('\n'),
  options: { type: { type: 'string', multiple: true } },
  run: async (parsed) => {
    const types = parsed.values.type as string[] | undefined
    const unknown = (types ?? []).filter((type) => !(NODE_EVENT_TYPES as readonly string[]).includes(type))
    // an unknown type would be accepted and then wait forever for an event that never comes
    if (unknown.length > 0) throw new UsageError(`--type ${unknown.join(', ')}: no such event (known: ${NODE_EVENT_TYPES.join(' ')})`)
    return await follow(parsed.dataDir, 'events', types != null ? { types } : {}, (item) => {
      output(parsed, { time: Date.now(), ...(item as object) }, () => eventLine(item as NodeEvent, process.stdout.isTTY === true ? terminalWidth() : Infinity))
    })
  }
}
