import type { Command } from '../command.js'
import { output } from '../client-call.js'
import { packageVersion } from '../../version.js'

export const versionCommand: Command = {
  name: 'version',
  summary: 'Print the dms-network version (also: dms-net --version).',
  run: async (parsed) => {
    output(parsed, { version: packageVersion, node: process.version }, () => `dms-net ${packageVersion} (node ${process.version})`)
    return 0
  }
}
