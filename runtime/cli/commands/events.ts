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
    `event types: ${NODE_EVENT_TYPES.join(' ')}`
  ].join('\n'),
  options: { type: { type: 'string', multiple: true } },
  run: async (parsed) => {
    const types = parsed.values.type as string[] | undefined
    const unknown = (types ?? []).filter((type) => !(NODE_EVENT_TYPES as readonly string[]).includes(type))
    // an unknown type would be accepted and then wait forever for an event that never comes
    if (unknown.length > 0) {
      // the whole list would not fit one line: the types of the same kind (peer.*), or where the list is
      const kind = unknown[0]!.split('.')[0]
      const near = NODE_EVENT_TYPES.filter((type) => type.split('.')[0] === kind)
      throw new UsageError(`--type ${unknown.join(', ').slice(0, 80)}: no such event (${near.length > 0 ? `${kind}.*: ${near.join(' ')}; ` : ''}all: dms-net events --help)`)
    }
    return await follow(parsed.dataDir, 'events', types != null ? { types } : {}, (item) => {
      output(parsed, { time: Date.now(), ...(item as object) }, () => eventLine(item as NodeEvent, process.stdout.isTTY === true ? terminalWidth() : Infinity))
    })
  }
}
