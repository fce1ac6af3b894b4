import type { Command } from '../command.js'
import { output } from '../client-call.js'

export const idCommand: Command = {
  name: 'id',
  summary: 'Print this node\'s peer id, creating its identity in the data dir if it has none.',
  run: async (parsed) => {
    const { loadOrCreateIdentity } = await import('../../identity.js')
    const identity = await loadOrCreateIdentity(parsed.dataDir)
    output(parsed, { peerId: identity.peerId, created: identity.created, dataDir: parsed.dataDir }, () => identity.peerId)
    if (identity.created && !parsed.json) process.stderr.write(`created a new identity in ${parsed.dataDir}\n`)
    return 0
  }
}
