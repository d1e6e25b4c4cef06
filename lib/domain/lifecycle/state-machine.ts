/**
 * The shape every entity lifecycle follows (job and datafeed now; watch and cluster upgrade
 * mode next, DESIGN §3 "State machines"): a pure table with one cell per (event, state)
 * pair. A cell returns the entity's next value (version bumped, the fields the move
 * clears removed), returns the entity itself when the event changes nothing (an idempotent
 * redelivery), or throws the Elasticsearch error of a forbidden move. Use cases read,
 * transition and write the result with one conditional write keyed on the version they
 * read; they never spread state by hand.
 *
 * Every cell is written out (the mapped type below leaves none optional), so adding a
 * state or an event does not compile until each pair is decided, and a table-driven test
 * can list them all.
 */

/** An entity with a lifecycle: its state and the version its conditional writes check. */
export interface Stateful<S extends string> {
  state: S;
  version: number;
}

/** One cell: what `event` does to an entity in one state. */
export type Cell<T, E> = (entity: T, event: E) => T;

/** The full table: for each event type, a cell for each state. */
export type TransitionTable<S extends string, T extends Stateful<S>, E extends { type: string }> = {
  readonly [K in E['type']]: { readonly [F in S]: Cell<T, Extract<E, { type: K }>> };
};

/** A transition function built from a table. */
export type Transition<T, E> = (entity: T, event: E) => T;

/** Builds the transition function of a table. */
export function stateMachine<S extends string, T extends Stateful<S>, E extends { type: string }>(table: TransitionTable<S, T, E>): Transition<T, E> {
  return (entity, event) => {
    const row = table[event.type as E['type']] as Record<S, Cell<T, E>>;
    return row[entity.state](entity, event);
  };
}

/** A cell for an event that changes nothing in this state (the entity itself comes back, so nothing is written). */
export const unchanged = <T>(entity: T): T => entity;

/** A cell that refuses the event with an error built from the entity (Elasticsearch's error for that move). */
export const refuse =
  <T, E = unknown>(error: (entity: T, event: E) => Error): Cell<T, E> =>
  (entity, event) => {
    throw error(entity, event);
  };

/**
 * The next value of an entity: `patch` applied, `clear` fields removed, version + 1. The
 * only place a lifecycle bumps a version.
 */
export function moved<T extends { version: number }>(entity: T, patch: Partial<T>, clear: readonly (keyof T)[] = []): T {
  const next = { ...entity, ...patch, version: entity.version + 1 };
  for (const field of clear) delete next[field];
  return next;
}
