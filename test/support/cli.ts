import { spawn, execFile } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
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

/** A `dms-net node` daemon in the background; resolves once it prints its control socket. */
export async function startDaemon (args: string[], options: { namespace?: string } = {}): Promise<{ child: ChildProcess, output: () => string, stop: () => Promise<number | null> }> {
  const command = [process.execPath, cliPath, 'node', ...args]
  // `ip netns exec` execs the command, so the child is the node process itself
  const child = options.namespace != null
    ? spawn('ip', ['netns', 'exec', options.namespace, ...command], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk) => { output += chunk })
  child.stderr!.on('data', (chunk) => { output += chunk })
  const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`daemon did not start:\n${output}`)) }, 20_000)
    const check = (): void => { if (output.includes('control socket') || output.includes('"control":')) { clearTimeout(timer); resolve() } }
    child.stdout!.on('data', check)
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`daemon exited with ${code}:\n${output}`)) })
  })
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode == null) child.kill('SIGTERM')
      return await exited
    }
  }
}
