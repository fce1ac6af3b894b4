import { spawn } from 'node:child_process'
import type { Namespace } from './netns.js'
import { DmsError } from '../errors.js'

// A TCP echo across two namespaces, with nothing but Node: the demo's proof that
// packets cross the VPN, on machines without `ping`.

const SERVER = `
const [ip, port] = process.argv.slice(1)
const server = require('node:net').createServer((socket) => { socket.on('error', () => {}); socket.pipe(socket) })
server.listen(Number(port), ip, () => { process.stdout.write('ready\\n') })
setTimeout(() => process.exit(0), 60000).unref()
process.on('SIGTERM', () => process.exit(0))
`

const CLIENT = `
const [ip, port, rounds] = process.argv.slice(1)
const socket = require('node:net').connect(Number(port), ip)
const rtts = []
let sentAt = 0
const next = () => { sentAt = process.hrtime.bigint(); socket.write('dms-probe ' + rtts.length + '\\n') }
socket.setTimeout(5000, () => { process.stdout.write(JSON.stringify({ error: 'timed out', rtts })); process.exit(1) })
socket.on('error', (err) => { process.stdout.write(JSON.stringify({ error: err.message, rtts })); process.exit(1) })
socket.on('connect', next)
let buffered = ''
socket.on('data', (chunk) => {
  buffered += chunk
  if (!buffered.endsWith('\\n')) return
  if (buffered !== 'dms-probe ' + rtts.length + '\\n') { process.stdout.write(JSON.stringify({ error: 'wrong echo', rtts })); process.exit(1) }
  buffered = ''
  rtts.push(Number(process.hrtime.bigint() - sentAt) / 1e6)
  if (rtts.length >= Number(rounds)) { process.stdout.write(JSON.stringify({ rtts })); socket.end(); process.exit(0) }
  next()
})
`

/**
 * Echo `rounds` lines over one TCP connection from `client` to a server in
 * `server` listening on `ip:port`; resolves with the round-trip times in ms.
 * Rejects with what went wrong (no route, timeout, wrong echo).
 */
export async function tcpEchoProbe (server: Namespace, client: Namespace, ip: string, options: { port?: number, rounds?: number } = {}): Promise<number[]> {
  const port = String(options.port ?? 7007)
  const child = spawn('ip', ['netns', 'exec', server.name, process.execPath, '-e', SERVER, ip, port], { stdio: ['ignore', 'pipe', 'pipe'] })
  try {
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => { reject(new DmsError('NODE_UNREACHABLE', `the echo server on ${ip}:${port} did not start`)) }, 10_000)
      child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); if (out.includes('ready')) { clearTimeout(timer); resolve() } })
      child.once('exit', (code) => { clearTimeout(timer); reject(new DmsError('NODE_UNREACHABLE', `the echo server on ${ip}:${port} exited with ${code}`)) })
    })
    const out = await client.exec(process.execPath, ['-e', CLIENT, ip, port, String(options.rounds ?? 3)], { timeoutMs: 20_000 }).catch((err: Error) => /\{.*\}/s.exec(err.message)?.[0] ?? JSON.stringify({ error: err.message }))
    const result = JSON.parse(out) as { rtts: number[], error?: string }
    if (result.error != null) throw new DmsError('NODE_UNREACHABLE', `TCP echo to ${ip}:${port} failed after ${result.rtts?.length ?? 0} round(s): ${result.error}`)
    return result.rtts
  } finally {
    child.kill('SIGTERM')
  }
}
