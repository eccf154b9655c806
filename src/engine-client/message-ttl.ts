/**
 * How long the engine keeps a published message for a process that does not wait for it yet,
 * side by side so the three lifetimes are chosen against each other.
 */

/** A hand-off from one process to another (a cut requested, a fix change): the other process starts within the hour. */
export const HANDOFF_MESSAGE_TTL_MS = 3_600_000

/** A cut's answer (acknowledgement, confirmation, decision): it waits for the process to reach its receive task. */
export const CUT_MESSAGE_TTL_MS = 2 * 24 * 3_600_000

/** A step of a change sent from the API: the instance it names waits for it already. */
export const CHANGE_MESSAGE_TTL_MS = 60_000
