import type { AnyStateMachine } from 'xstate'

/** One state of a machine, flattened: `path` is dot-joined from the root (`live.running`). */
export interface ChartState {
  path: string
  key: string
  /** Parent path; '' for the root's children. */
  parent: string
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history'
  /** This state is its parent's initial state. */
  initial: boolean
}

export interface ChartTransition {
  source: string
  /** Target path; equals `source` for a self-transition, '' for an internal one (no target). */
  target: string
  /** The event, with XState's internal names made readable (`after 500ms`, `done: bringUp`). */
  event: string
  guard?: string
}

/** A machine as plain data: what the docs' charts and the local inspector page draw. */
export interface ChartModel {
  id: string
  states: ChartState[]
  transitions: ChartTransition[]
}

interface StateNodeLike {
  key: string
  type: ChartState['type']
  path: string[]
  states: Record<string, StateNodeLike>
  initial?: { target?: StateNodeLike[] }
  transitions: Map<string, Array<{ eventType: string, target?: StateNodeLike[], guard?: unknown }>>
  always?: Array<{ target?: StateNodeLike[], guard?: unknown }>
}

/** `xstate.after.500.peer.dialing` → `after 500ms`; `xstate.done.actor.0.vpn.starting` → `done: starting`. */
export function readableEvent (eventType: string, invokeSources: Map<string, string>): string {
  const after = /^xstate\.after\.(\d+)\./.exec(eventType)
  if (after != null) return `after ${after[1]}ms`
  const done = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType)
  if (done != null) return `${done[1] === 'done' ? 'done' : 'error'}: ${invokeSources.get(done[2]!) ?? done[2]}`
  return eventType
}

const guardName = (guard: unknown): string | undefined =>
  typeof guard === 'string' ? guard : typeof guard === 'object' && guard != null && 'type' in guard ? String((guard as { type: unknown }).type) : typeof guard === 'function' ? 'guard' : undefined

/** Flatten a machine's state tree and transitions into a ChartModel. Deterministic: same machine, same model. */
export function chartModel (machine: AnyStateMachine): ChartModel {
  const states: ChartState[] = []
  const transitions: ChartTransition[] = []
  const invokeSources = new Map<string, string>()
  const collectInvokes = (node: StateNodeLike & { invoke?: Array<{ id: string, src: unknown }> }): void => {
    for (const invoke of node.invoke ?? []) invokeSources.set(invoke.id, typeof invoke.src === 'string' ? invoke.src : invoke.id)
    for (const child of Object.values(node.states)) collectInvokes(child)
  }
  const root = machine.root as unknown as StateNodeLike
  collectInvokes(root)
  const walk = (node: StateNodeLike): void => {
    const path = node.path.join('.')
    const initialChild = node.initial?.target?.[0]?.key
    for (const child of Object.values(node.states)) {
      states.push({ path: child.path.join('.'), key: child.key, parent: path, type: child.type, initial: child.key === initialChild && node.type !== 'parallel' })
    }
    if (node !== root) {
      for (const [eventType, definitions] of node.transitions) {
        for (const definition of definitions) {
          const guard = guardName(definition.guard)
          const targets = definition.target ?? []
          const event = readableEvent(eventType, invokeSources)
          if (targets.length === 0) transitions.push({ source: path, target: '', event, ...(guard != null ? { guard } : {}) })
          for (const target of targets) transitions.push({ source: path, target: target.path.join('.'), event, ...(guard != null ? { guard } : {}) })
        }
      }
      for (const definition of node.always ?? []) {
        const guard = guardName(definition.guard)
        for (const target of definition.target ?? []) transitions.push({ source: path, target: target.path.join('.'), event: 'always', ...(guard != null ? { guard } : {}) })
      }
    }
    for (const child of Object.values(node.states)) walk(child)
  }
  walk(root)
  return { id: machine.id, states, transitions }
}

/** The model as a Mermaid `stateDiagram-v2` (GitHub renders it): nested states, initial arrows, labelled transitions. */
export function mermaid (model: ChartModel): string {
  const name = (path: string): string => path === '' ? '[*]' : path.replace(/[^A-Za-z0-9]/g, '_')
  const lines = ['stateDiagram-v2']
  const emit = (parent: string, depth: number): void => {
    const pad = '  '.repeat(depth)
    const children = model.states.filter((s) => s.parent === parent)
    for (const child of children) {
      if (child.initial) lines.push(`${pad}[*] --> ${name(child.path)}`)
      if (child.type === 'compound' || child.type === 'parallel') {
        lines.push(`${pad}state "${child.key}" as ${name(child.path)} {`)
        const grandchildren = model.states.filter((s) => s.parent === child.path)
        if (child.type === 'parallel') {
          grandchildren.forEach((region, i) => {
            if (i > 0) lines.push(`${pad}  --`)
            lines.push(`${pad}  state "${region.key}" as ${name(region.path)} {`)
            emit(region.path, depth + 2)
            lines.push(`${pad}  }`)
          })
        } else {
          emit(child.path, depth + 1)
        }
        lines.push(`${pad}}`)
      } else {
        lines.push(`${pad}state "${child.key}" as ${name(child.path)}`)
      }
      if (child.type === 'final') lines.push(`${pad}${name(child.path)} --> [*]`)
    }
  }
  emit('', 1)
  for (const t of model.transitions) {
    if (t.target === '') continue
    lines.push(`  ${name(t.source)} --> ${name(t.target)}: ${t.event.replace(/:/g, ' ')}${t.guard != null ? ` [${t.guard}]` : ''}`)
  }
  return lines.join('\n')
}
