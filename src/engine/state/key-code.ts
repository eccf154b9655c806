/**
 * Engine keys as the engine's maps hold them (issue #19, a million waiting instances).
 *
 * A key is a string of 16 digits, KEY_BASE plus a counter. Held as a string, each key is an object
 * of its own on the heap: 7 of them per waiting instance, which V8's collector marks again and
 * again while a million instances are made. The counter alone, below 2^30, is a small integer
 * that V8 stores inline in a Map's table or an array, with no object at all. So the maps encode a
 * key as its counter when it is one of the engine's own, and keep any other string as it is: a
 * map may mix both, and gives strings back.
 */

/** Keys are KEY_BASE + a counter: Zeebe's partition-1 range. */
export const KEY_BASE = 2 ** 51

/** Counters from here up stay strings: below it, V8 holds the number inline (a small integer). */
const SMALL = 2 ** 30

/** A key as held: its counter (a small integer) or, for a key that is not an engine key, the string. */
export type KeyCode = number | string

/** The length of every engine key below KEY_BASE + 2^30 (KEY_BASE has 16 digits). */
const KEY_LENGTH = 16
const ZERO = 48
const NINE = 57

export function encodeKey(key: string): KeyCode {
  if (key.length !== KEY_LENGTH) return key
  // 16 plain digits, read as a number (exact below 2^53, and any 16 digits above that are far
  // outside the range kept): the key is then that number's decimal form
  let value = 0
  for (let i = 0; i < KEY_LENGTH; i++) {
    const c = key.charCodeAt(i)
    if (c < ZERO || c > NINE) return key
    value = value * 10 + (c - ZERO)
  }
  const counter = value - KEY_BASE
  return counter >= 0 && counter < SMALL ? counter : key
}

export function decodeKey(code: KeyCode): string {
  return typeof code === 'number' ? String(KEY_BASE + code) : code
}
