// Asks one DNS server one question over UDP (or TCP with --tcp) and prints {"rcode","answers"} as JSON;
// `--garbage N` first sends N malformed datagrams. Runs inside a test namespace.
// argv: <server ip> <port> <name> <type> [--tcp] [--garbage N] [--flood N]
import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import * as dnsPacket from 'dns-packet'

const [server, portText, name, type] = process.argv.slice(2) as [string, string, string, string]
const port = Number(portText)
const flag = (key: string): number => { const i = process.argv.indexOf(key); return i < 0 ? 0 : Number(process.argv[i + 1]) }
const query = dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: type as 'A', name }] })

async function udp (): Promise<Buffer> {
  const socket = createSocket('udp4')
  for (let i = 0; i < flag('--garbage'); i++) socket.send(Buffer.from([i, 1, 2, 3, 0xff, 0xff, 0, 1, 0, 0, 0, 0, 9, 9, 9]), port, server)
  // a flood of well-formed queries from this one source address, in batches the kernel's receive buffer
  // holds (so the server really sees them, at ~20x its per-source rate): it cuts them, and answers again later
  for (let sent = 0; sent < flag('--flood'); sent += 50) {
    for (let i = 0; i < 50; i++) socket.send(query, port, server)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  if (flag('--flood') > 0) await new Promise((resolve) => setTimeout(resolve, 2500))
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.close(); reject(new Error('no answer in 3 s')) }, 3000)
    socket.on('message', (reply) => {
      if (reply.readUInt16BE(0) !== 4242 || flag('--flood') > 0 && !sent) return
      clearTimeout(timer); socket.close(); resolve(reply)
    })
    let sent = false
    socket.send(query, port, server, () => { sent = true })
  })
}

async function tcp (): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, server)
    let got = Buffer.alloc(0)
    socket.setTimeout(3000, () => { socket.destroy(); reject(new Error('no answer in 3 s')) })
    socket.on('error', reject)
    socket.on('connect', () => { const frame = Buffer.alloc(2 + query.length); frame.writeUInt16BE(query.length, 0); query.copy(frame, 2); socket.write(frame) })
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk])
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) { socket.end(); resolve(got.subarray(2, 2 + got.readUInt16BE(0))) }
    })
  })
}

const reply = dnsPacket.decode(process.argv.includes('--tcp') ? await tcp() : await udp()) as dnsPacket.DecodedPacket & { rcode: string }
const answers = (reply.answers ?? []).map((a) => ({ name: a.name, type: a.type, data: (a as { data?: unknown }).data }))
process.stdout.write(JSON.stringify({ rcode: reply.rcode, answers }) + '\n')
