import { loadOrCreateIdentity } from '../../identity.js'
import type { Command } from '../command.js'

export const idCommand: Command = {
  name: 'id',
  summary: 'Print this node\'s peer id, creating its identity in the data dir if it has none.',
  run: async ({ dataDir }) => {
    const identity = await loadOrCreateIdentity(dataDir)
    process.stdout.write(`${identity.peerId}\n`)
    if (identity.created) process.stderr.write(`created a new identity in ${dataDir}\n`)
    return 0
  }
}
