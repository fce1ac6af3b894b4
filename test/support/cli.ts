import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const cliPath = fileURLToPath(new URL('../../bin/dms-net.js', import.meta.url))

export interface CliResult { code: number, stdout: string, stderr: string }

/** Run `dms-net ...args` to completion. */
export async function runCli (args: string[], timeoutMs = 30_000): Promise<CliResult> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error == null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr })
    })
  })
}

/** A `dms-net node` daemon in the background (optionally in a namespace); resolves once it prints its control socket. */
export { spawnNode as startDaemon } from '../../runtime/cli/spawn-node.js'
