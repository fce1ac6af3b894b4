import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createConnection } from 'node:net'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startControlServer } from '../../runtime/control/server.js'

/** Send raw lines to a control socket and collect one reply line per line sent. */
async function exchange (path: string, lines: string[]): Promise<Array<Record<string, unknown>>> {
  return await new Promise((resolve, reject) => {
    const socket = createConnection(path)
    let buffered = ''
    const replies: Array<Record<string, unknown>> = []
    socket.on('data', (chunk) => {
      buffered += chunk.toString()
      let newline: number
      while ((newline = buffered.indexOf('\n')) >= 0) {
        replies.push(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>)
        buffered = buffered.slice(newline + 1)
      }
      if (replies.length === lines.length) { socket.end(); resolve(replies) }
    })
    socket.on('error', reject)
    socket.on('connect', () => { socket.write(lines.map((line) => `${line}\n`).join('')) })
  })
}

test('hostile control lines get error replies; the daemon side keeps serving; the socket is 0600', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'dms-control-'))
  const server = await startControlServer({ dataDir, methods: { ping: () => 'pong' }, streams: {} })
  try {
    assert.is((await stat(server.path)).mode & 0o777, 0o600)
    const hostile = [
      '{"id":1,"method":"__proto__"}', '{"id":2,"method":"constructor"}', '{"id":3,"method":"toString"}', '{"id":4,"method":"hasOwnProperty"}',
      'null', '[]', '"x"', '{"id":"1","method":"ping"}', '{"id":5,"method":"ping","params":[1]}', '{not json'
    ]
    const replies = await exchange(server.path, hostile)
    assert.is(replies.length, hostile.length)
    assert.ok(replies.every((reply) => reply.ok === false), JSON.stringify(replies))
    assert.equal((await exchange(server.path, ['{"id":9,"method":"ping"}']))[0], { id: 9, ok: true, result: 'pong' })
  } finally {
    await server.close()
    await rm(dataDir, { recursive: true, force: true })
  }
})

test.run()
