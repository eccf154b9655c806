/**
 * The engine tests of the areas that change the most records in the most ways (migration,
 * modification, compensation, messages and timers, batch operations), run again on durable
 * engines whose checkpoints are compared with the live state every 5 ms and at the end
 * (test/support/checkpoint-audit.ts). A record a command changed without a checkpoint writing it
 * would be lost by a restart: it fails the file. Every engine test runs this way with
 * RACCORD_TEST_CHECKPOINT_AUDIT=1.
 */
import '../engine/migration.test'
import '../engine/modification.test'
import '../engine/compensation.test'
import '../engine/messages-timers.test'
import '../engine/runtime-instructions.test'

process.env.RACCORD_TEST_CHECKPOINT_AUDIT = '1'
