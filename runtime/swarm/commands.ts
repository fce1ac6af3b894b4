import type { AnyActorRef } from 'xstate'
import type { SwarmCommandCode } from '../../machines/swarm-member.js'

export interface CommandOutcome { ok: boolean, error?: string, code?: SwarmCommandCode }

/**
 * Send a command that carries an `id` and wait for the machine's
 * `swarm.command.done` with that id. The machine decides when the command runs
 * (its queue), so the caller waits on its outcome, not on a state name.
 */
export async function awaitCommand (actor: AnyActorRef, command: { type: string, id: string } & Record<string, unknown>, timeoutMs: number): Promise<CommandOutcome> {
  return await new Promise<CommandOutcome>((resolve) => {
    const timer = setTimeout(() => { finish({ ok: false, error: `${command.type} did not finish within ${timeoutMs} ms` }) }, timeoutMs)
    const subscription = actor.on('swarm.command.done', (event: CommandOutcome & { id: string }) => {
      if (event.id === command.id) finish({ ok: event.ok, ...(event.error != null ? { error: event.error } : {}), ...(event.code != null ? { code: event.code } : {}) })
    })
    function finish (outcome: CommandOutcome): void {
      clearTimeout(timer)
      subscription.unsubscribe()
      resolve(outcome)
    }
    actor.send(command)
  })
}
