import { execFile } from 'node:child_process'

/** Run a network tool with an argument array (never a shell string); reject with its stderr in the message. */
export async function run (command: string, args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile(command, args, { timeout: options.timeoutMs ?? 10_000 }, (error, stdout, stderr) => {
      if (error != null) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || stdout.trim() || error.message}`))
      else resolve(stdout)
    })
  })
}
