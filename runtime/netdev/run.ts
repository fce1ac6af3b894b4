import { execFile } from 'node:child_process'
import { DmsError } from '../errors.js'

export interface RunOptions {
  timeoutMs?: number
  /** Written to the command's standard input (e.g. an nftables ruleset for `nft -f -`). */
  input?: string
}

/** Run a network tool with an argument array (never a shell string); reject with its stderr in the message. */
export async function run (command: string, args: string[], options: RunOptions = {}): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: options.timeoutMs ?? 10_000 }, (error, stdout, stderr) => {
      if (error != null) reject(new DmsError('COMMAND_FAILED', `${command} ${args.join(' ')} failed: ${stderr.trim() || stdout.trim() || error.message}`))
      else resolve(stdout)
    })
    if (options.input != null) {
      // a command that exits before reading its input must not crash us with EPIPE
      child.stdin?.on('error', () => {})
      child.stdin?.end(options.input)
    }
  })
}
