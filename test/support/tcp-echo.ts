// A TCP echo for the published-port tests, run inside a test namespace.
// `server HOST PORT`: echoes every byte, prints `listening`. `client HOST PORT BYTES`: sends BYTES random
// bytes, checks they come back whole and equal, prints `echoed BYTES` (exit 1 with the reason otherwise).
import { connect, createServer } from 'node:net'
import { randomBytes } from 'node:crypto'

const [mode, host, portText, bytesText] = process.argv.slice(2) as [string, string, string, string]
const port = Number(portText)
if (mode === 'server') {
  createServer((socket) => { socket.pipe(socket); socket.on('error', () => { socket.destroy() }) }).listen(port, host, () => { process.stdout.write('listening\n') })
} else {
  const sent = randomBytes(Number(bytesText))
  let got = Buffer.alloc(0)
  const socket = connect({ host, port, timeout: 5000 })
  const fail = (why: string): void => { process.stdout.write(`failed ${why}\n`); process.exit(1) }
  socket.on('timeout', () => { fail('timeout') })
  socket.on('error', (err: NodeJS.ErrnoException) => { fail(err.code ?? err.message) })
  socket.on('connect', () => { socket.write(sent) })
  socket.on('data', (chunk: Buffer) => {
    got = Buffer.concat([got, chunk])
    if (got.length < sent.length) return
    if (!got.equals(sent)) fail('bytes differ')
    process.stdout.write(`echoed ${got.length}\n`)
    process.exit(0)
  })
}
