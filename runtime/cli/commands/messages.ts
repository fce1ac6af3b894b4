import type { Command } from '../command.js'
import { call, follow, output, print } from '../client-call.js'
import { countArg, jsonArg, typeArg } from '../arguments.js'
import { peerArg } from '../peer-arg.js'
import { shortId } from '../format.js'
import { safeText } from '../../../actors/messenger/safe-text.js'
import type { ReceivedMessage } from '../../control/message-inbox.js'
import { jsonText } from '../../json-text.js'

export const sendCommand: Command = {
  name: 'send',
  args: 'PEER TYPE JSON',
  summary: 'Send a typed message (body given as JSON) to a peer.',
  help: [
    '  --request       wait for the reply and print it (or the refusal, exit 1);',
    '                  without it the message is one-way: "sent" means the stream took it',
    '  --timeout MS    reply timeout with --request (default 10000)',
    '',
    'example: dms-net send 12D3KooW... chat.message \'{"text":"hi"}\'',
    '         (the peer sees it with: dms-net receive chat.message)'
  ].join('\n'),
  options: { request: { type: 'boolean' }, timeout: { type: 'string' } },
  positionals: { required: ['PEER', 'TYPE', 'JSON'] },
  run: async (parsed) => {
    const [peerText, typeText, json] = parsed.positionals as [string, string, string]
    const type = typeArg(typeText)
    const body = jsonArg('the message body', json)
    const peer = await peerArg(parsed.dataDir, peerText)
    const timeoutMs = countArg('timeout', parsed.values.timeout)
    if (parsed.values.request === true) {
      const reply = await call(parsed.dataDir, 'request', { peer, type, body, ...(timeoutMs != null ? { timeoutMs } : {}) })
      print(jsonText(reply))
    } else {
      await call(parsed.dataDir, 'send', { peer, type, body })
      output(parsed, { sent: true, peer, type }, () => `sent ${type} to ${peer}`)
    }
    return 0
  }
}

export const receiveCommand: Command = {
  name: 'receive',
  args: 'TYPE...',
  summary: 'Print typed messages of these types as they arrive (and answer requests with --reply).',
  help: [
    '  --reply JSON   answer requests of these types with this body (without it they are refused with NO_REPLY)',
    '',
    'example: dms-net receive chat.message',
    '         dms-net receive job.status --reply \'{"state":"running"}\' --json'
  ].join('\n'),
  options: { reply: { type: 'string' } },
  positionals: { required: ['TYPE'], rest: true },
  run: async (parsed) => {
    const types = parsed.positionals.map(typeArg)
    const reply = typeof parsed.values.reply === 'string' ? { reply: jsonArg('--reply', parsed.values.reply) } : {}
    return await follow(parsed.dataDir, 'receive', { types, ...reply }, (item) => {
      const m = item as ReceivedMessage
      output(parsed, m, () => `${new Date().toISOString().slice(11, 19)} ${m.type} ${m.kind === 'req' ? `request${m.replied === true ? ' (replied)' : ' (refused: no --reply)'} ` : ''}from ${shortId(m.from)}: ${safeText(jsonText(m.body), 2000)}`)
    }, () => { process.stderr.write(`receiving ${types.join(', ')} — Ctrl-C to stop\n`) })
  }
}
